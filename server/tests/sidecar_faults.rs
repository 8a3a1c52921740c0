//! A serving sidecar while its Neo4j is frozen (SIGSTOP): fresh requests end at their
//! deadlines with an error, snapshot requests and health checks keep answering, and once Neo4j
//! runs again fresh requests succeed on the same driver. Its own test process, so its own
//! test-kit Neo4j, which no other test sees frozen.

use neotrav_testkit::served;

use std::process::{Child, Command};
use std::time::{Duration, Instant};

use neotrav_neo4j::testkit;
use neotrav_server::AppState;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::{Value, json};

/// A JVM stopped with SIGSTOP until this is dropped, on every way out of the test, panics
/// included. Should the test process die without unwinding (SIGKILL), a watchdog shell it
/// started sends the SIGCONT instead.
struct Frozen {
    pid: Pid,
    watchdog: Option<Child>,
}

impl Frozen {
    fn freeze(pid: u32) -> Frozen {
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        assert!(
            String::from_utf8_lossy(&cmdline).contains("dev.neotrav.neo4j.Launcher"),
            "pid {pid} is not the test kit's Neo4j"
        );
        let watchdog = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "while kill -0 {} 2>/dev/null; do sleep 0.2; done; kill -CONT {pid}",
                std::process::id()
            ))
            .spawn()
            .ok();
        let frozen = Frozen {
            pid: Pid::from_raw(pid as i32),
            watchdog,
        };
        kill(frozen.pid, Signal::SIGSTOP).expect("SIGSTOP the test kit's Neo4j");
        frozen
    }
}

impl Drop for Frozen {
    fn drop(&mut self) {
        let _ = kill(self.pid, Signal::SIGCONT);
        if let Some(mut watchdog) = self.watchdog.take() {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
    }
}

/// Each fresh request's deadline, and the server's limit on one Neo4j call.
const DEADLINE: Duration = Duration::from_millis(1500);
const NEO4J_TIMEOUT: Duration = Duration::from_millis(2500);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_neo4j_fails_fresh_requests_at_their_deadline_and_snapshot_requests_keep_answering()
 {
    let db = testkit::clean_graph().await;
    let served::Live {
        dir: _dir,
        path,
        root,
    } = served::live(&db, &[]).await;

    // 8 shared slots, so 2 for fresh requests.
    let state = AppState::new(path, Some(db.server.graph()), None)
        .unwrap()
        .with_capacity(8, 1024)
        .with_neo4j_timeout(NEO4J_TIMEOUT);
    let base = served::in_process(state).await;
    let client = reqwest::Client::new();
    let post = |path: &'static str, body: Value| {
        let (client, base) = (client.clone(), base.clone());
        async move {
            let started = Instant::now();
            let r = client
                .post(format!("{base}{path}"))
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap(), started.elapsed())
        }
    };
    let count = |consistency: &str, deadline: Duration| {
        json!({"start": root, "uniqueness": "NODE_GLOBAL", "consistency": consistency,
               "return": "count", "budget": {"deadlineMs": deadline.as_millis() as u64}})
    };
    // Root invalidated: every fresh request reads it from Neo4j.
    let (status, _, _) = post("/v1/invalidate", json!({"ids": [root]})).await;
    assert_eq!(status, 200);
    let (status, body, _) = post("/v1/traverse", count("fresh", DEADLINE)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["count"], 4, "{body}");

    let frozen = Frozen::freeze(db.server.pid);
    let started = Instant::now();
    // More fresh requests than the fresh slots (2) and than all slots (8).
    let fresh: Vec<_> = (0..12)
        .map(|_| tokio::spawn(post("/v1/traverse", count("fresh", DEADLINE))))
        .collect();
    // Meanwhile snapshot requests and health checks answer.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (mut snapshot_slowest, mut health_slowest, mut asked) = (Duration::ZERO, Duration::ZERO, 0);
    while started.elapsed() < DEADLINE - Duration::from_millis(200) {
        let (status, body, took) = post("/v1/traverse", count("snapshot", DEADLINE)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["count"], 4);
        snapshot_slowest = snapshot_slowest.max(took);
        let t = Instant::now();
        let r = client.get(format!("{base}/healthz")).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        health_slowest = health_slowest.max(t.elapsed());
        asked += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(asked >= 5, "{asked}");
    eprintln!(
        "while frozen: {asked} snapshot requests, slowest {snapshot_slowest:?}; slowest /healthz \
         {health_slowest:?}"
    );
    assert!(
        snapshot_slowest < Duration::from_millis(500),
        "{snapshot_slowest:?}"
    );
    assert!(
        health_slowest < Duration::from_millis(50),
        "{health_slowest:?}"
    );
    // Every fresh request ends at its deadline, with an error in the one shape.
    for task in fresh {
        let (status, body, took) = task.await.unwrap();
        assert_eq!(status, 504, "{body}");
        assert_eq!(body["error"]["code"], "neo4j_timeout", "{body}");
        assert!(body["error"]["message"].is_string(), "{body}");
        assert!(
            took >= DEADLINE - Duration::from_millis(100)
                && took < DEADLINE + Duration::from_millis(700),
            "ended after {took:?}, its deadline is {DEADLINE:?}"
        );
    }
    // A request with a longer deadline is cut by the server's limit on one call.
    let (status, body, took) = post("/v1/traverse", count("fresh", Duration::from_secs(60))).await;
    assert_eq!(status, 504, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("--neo4j-timeout"), "{message}");
    assert!(
        took >= NEO4J_TIMEOUT - Duration::from_millis(100)
            && took < NEO4J_TIMEOUT + Duration::from_millis(700),
        "{took:?}"
    );
    eprintln!("frozen for {:?}", started.elapsed());

    drop(frozen);
    // Neo4j runs again: fresh requests succeed on the same driver, whose connections were cut
    // mid-call (each is drained and reset, or discarded, before reuse).
    let thawed = Instant::now();
    loop {
        let (status, body, _) = post("/v1/traverse", count("fresh", DEADLINE)).await;
        if status == 200 {
            assert_eq!(body["count"], 4, "{body}");
            break;
        }
        eprintln!(
            "{:?} after SIGCONT: {status} {}",
            thawed.elapsed(),
            body["error"]["message"]
        );
        assert!(
            thawed.elapsed() < Duration::from_secs(30),
            "fresh requests still fail 30 s after SIGCONT: {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!("fresh requests answer {:?} after SIGCONT", thawed.elapsed());
    let again: Vec<_> = (0..6)
        .map(|_| {
            tokio::spawn(post(
                "/v1/traverse",
                count("fresh", Duration::from_secs(10)),
            ))
        })
        .collect();
    for task in again {
        let (status, body, _) = task.await.unwrap();
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["count"], 4, "{body}");
    }
}

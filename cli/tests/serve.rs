//! `neotrav serve` as a process: it answers, `neotrav query` and `neotrav path --url` talk to
//! it, it stops cleanly on SIGTERM, it refuses a corrupt snapshot or a bad snapshot directory
//! at start, and it watches the served file for writes in place. What the sidecar does
//! in-process is tested in `server/tests/`.

use std::time::{Duration, Instant};

use neotrav_testkit::files::{flipped_copy, layout, overwrite_in_place};
use neotrav_testkit::{run, served, small, text};
use serde_json::{Value, json};

#[test]
fn neotrav_serve_answers_and_stops_cleanly_on_sigterm() {
    use std::process::Command;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("small.snap");
    small::write(&path, 0);
    let mut server = served::spawn(
        &path,
        &[
            "--idle-timeout",
            "30s",
            "--header-timeout",
            "20s",
            "--max-connections",
            "64",
        ],
    );
    let url = server.url.clone();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let body: Value = runtime.block_on(async {
        reqwest::Client::new()
            .post(format!("{url}/v1/neighbors"))
            .json(&json!({"node": 0}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    assert_eq!(body["nodes"], json!([1, 2]));

    // `neotrav query` and `neotrav path --url` talk to it.
    let spec = dir.path().join("count.json");
    std::fs::write(
        &spec,
        r#"{"start": 0, "uniqueness": "NODE_GLOBAL", "return": "count"}"#,
    )
    .unwrap();
    let out = run(["query", "--url", &url, "--spec", spec.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("count: 9"));
    let out = run(["path", "--url", &url, "--from", "3", "--to", "5", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["length"], 4);
    let out = run(["path", "--url", &url, "--from", "3", "--to", "424242"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("unknown_node"),
        "{}",
        text(&out.stderr)
    );

    // An idle connection and one with half a head do not hold the shutdown up.
    let addr = url.trim_start_matches("http://");
    let _idle = std::net::TcpStream::connect(addr).unwrap();
    let mut half = std::net::TcpStream::connect(addr).unwrap();
    std::io::Write::write_all(&mut half, b"GET /healthz HTTP/1.1\r\nHo").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(100));
    let status = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let killed = std::time::Instant::now();
    let exit = loop {
        if let Some(exit) = server.child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            killed.elapsed() < std::time::Duration::from_secs(5),
            "still running 5 s after SIGTERM"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert!(exit.success(), "{exit:?}");
    assert_eq!(server.lines.next().unwrap().unwrap(), "stopped");
}

#[test]
fn neotrav_serve_refuses_a_corrupt_snapshot_and_a_bad_snapshot_dir() {
    let l = layout();
    let bad = l.dir.join("bad.snap");
    let section = flipped_copy(&l.served, &bad);
    let out = run([
        "serve",
        "--no-neo4j",
        "--listen",
        "127.0.0.1:0",
        "--snapshot",
        bad.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&section) && stderr.contains("corrupt"),
        "{stderr}"
    );
    let out = run([
        "serve",
        "--no-neo4j",
        "--listen",
        "127.0.0.1:0",
        "--snapshot",
        l.served.to_str().unwrap(),
        "--snapshot-dir",
        l.dir.join("no-such-dir").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("--snapshot-dir"), "{stderr}");
}

#[test]
fn neotrav_serve_watches_the_served_file_for_writes_in_place() {
    use std::process::Command;

    let l = layout();
    let original = std::fs::read(&l.served).unwrap();
    let mut server = served::spawn(&l.served, &[]);
    let url = server.url.clone();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let ready = |url: &str| {
        runtime.block_on(async {
            let r = reqwest::get(format!("{url}/readyz")).await.unwrap();
            let status = r.status().as_u16();
            (status, r.text().await.unwrap())
        })
    };
    let wait_for = |what: &str, check: &dyn Fn((u16, String)) -> bool| {
        let started = Instant::now();
        while !check(ready(&url)) {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "waited too long for {what}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    assert_eq!(ready(&url).0, 200);
    overwrite_in_place(&l.served, &original[..original.len() / 2]);
    wait_for("snapshot_modified", &|(status, body)| {
        status == 503 && body.contains("snapshot_modified")
    });
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "the server is alive"
    );
    std::thread::sleep(Duration::from_millis(1600)); // the automatic reload fails
    assert!(ready(&url).1.contains("snapshot_modified"));
    overwrite_in_place(&l.served, &original);
    wait_for("the recovery", &|(status, _)| status == 200);
    let _ = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status();
    assert!(server.child.wait().unwrap().success());
}

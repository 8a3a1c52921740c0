//! Reloads no request can turn against the sidecar (issue 14): paths outside the snapshot
//! directory, files that are not snapshots or are corrupt, FIFOs and devices, bodies without a
//! content type, stale failures, and a served file changed in place. Every answer is in the one
//! error shape, holds no byte of the file, and the old snapshot keeps serving.

use neotrav_testkit::files::{SECRET, flipped_copy, layout, overwrite_in_place};
use neotrav_testkit::router::{Answer, Method, Payload, call};
use neotrav_testkit::small;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use neotrav_server::{AppState, router};
use serde_json::{Value, json};

const TOKEN: &str = "reload-token";

/// How long a request may take: past it the test fails rather than hangs (a reload that used
/// to block in `open()` on a FIFO would).
const ANSWER_WITHIN: Duration = Duration::from_secs(10);

/// The sidecar's router, called in-process.
struct Server {
    app: Router,
}

impl Server {
    fn new(state: Arc<AppState>) -> Server {
        Server { app: router(state) }
    }

    /// [`call`] within [`ANSWER_WITHIN`], with the token if `token`.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Payload,
        token: bool,
        headers: &[(&str, &str)],
    ) -> Answer {
        let bearer = format!("Bearer {TOKEN}");
        let mut all = headers.to_vec();
        if token {
            all.push(("authorization", &bearer));
        }
        tokio::time::timeout(ANSWER_WITHIN, call(&self.app, method, path, body, &all))
            .await
            .unwrap_or_else(|_| panic!("{path} did not answer within {ANSWER_WITHIN:?}"))
    }

    /// POSTs a raw body to the reload endpoint, with an optional content type.
    async fn reload_raw(&self, body: &str, content_type: Option<&str>) -> (u16, Value, String) {
        let content_type: Vec<(&str, &str)> = content_type
            .map(|t| ("content-type", t))
            .into_iter()
            .collect();
        let a = self
            .call(
                Method::POST,
                "/v1/snapshot/reload",
                Payload::Raw(body.to_string()),
                true,
                &content_type,
            )
            .await;
        (a.status.as_u16(), a.json(), a.text())
    }

    async fn reload(&self, path: &str) -> (u16, Value, String) {
        self.reload_raw(
            &json!({ "path": path }).to_string(),
            Some("application/json"),
        )
        .await
    }

    async fn get(&self, path: &str, token: bool) -> (u16, String) {
        let a = self
            .call(Method::GET, path, Payload::Empty, token, &[])
            .await;
        (a.status.as_u16(), a.text())
    }

    /// `/readyz`: its status, and its error if it is one (JSON; "ready" is not).
    async fn ready(&self) -> (u16, Value) {
        let (status, text) = self.get("/readyz", false).await;
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn info(&self) -> Value {
        let (status, text) = self.get("/v1/snapshot", true).await;
        assert_eq!(status, 200, "{text}");
        serde_json::from_str(&text).unwrap()
    }

    /// POSTs `body` as JSON to `path`, with the token.
    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let a = self
            .call(Method::POST, path, Payload::Json(body), true, &[])
            .await;
        (a.status.as_u16(), a.json())
    }

    /// The node count reached from node 0: 9 for `small` and 14 for `small` with 5 extra.
    async fn count(&self) -> (u16, Value) {
        let (status, body) = self
            .post(
                "/v1/traverse",
                json!({"start": 0, "uniqueness": "NODE_GLOBAL", "return": "count"}),
            )
            .await;
        (
            status,
            if status == 200 {
                body["count"].clone()
            } else {
                body
            },
        )
    }
}

/// The error shape: `{"error": {"code", "message", ...}}` and nothing else at the top.
fn assert_error_shape(body: &Value, code: &str, text: &str) {
    assert_eq!(body["error"]["code"], code, "{text}");
    assert!(body["error"]["message"].is_string(), "{text}");
    assert_eq!(body.as_object().map(|o| o.len()), Some(1), "{text}");
}

/// No byte of the secret files, in any form the old messages used.
fn assert_no_secret(text: &str) {
    for needle in ["root:", "SECRET", "72, 6f, 6f, 74", "0x726f6f74", "[72"] {
        assert!(!text.contains(needle), "{needle:?} leaked in {text}");
    }
}

fn mkfifo(path: &Path) {
    let made = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(made.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_reload_path_is_refused_in_the_error_shape_and_the_old_snapshot_keeps_serving() {
    let l = layout();
    let state = AppState::new(l.served.clone(), None, Some(TOKEN.into())).unwrap();
    assert_eq!(
        state.snapshot_dir(),
        l.dir.canonicalize().unwrap(),
        "the default snapshot directory is the served file's"
    );
    let s = Server::new(Arc::new(state));
    let dir = &l.dir;

    // Files inside the snapshot directory that are not snapshots, or not whole ones.
    std::fs::write(dir.join("empty.snap"), b"").unwrap();
    std::fs::write(dir.join("secret.snap"), SECRET.repeat(8)).unwrap();
    let good = std::fs::read(dir.join("next.snap")).unwrap();
    std::fs::write(dir.join("truncated.snap"), &good[..good.len() / 2]).unwrap();
    let section = flipped_copy(&dir.join("next.snap"), &dir.join("flipped.snap"));
    mkfifo(&dir.join("fifo.snap"));
    std::os::unix::fs::symlink(l.outside.join("shadow"), dir.join("link-out")).unwrap();
    std::os::unix::fs::symlink(l.outside.join("valid.snap"), dir.join("link-out.snap")).unwrap();
    std::os::unix::fs::symlink(l.outside.join("nothing"), dir.join("dangling-out")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.join("zero")).unwrap();
    std::os::unix::fs::symlink(dir.join("next.snap"), dir.join("sub/link-in.snap")).unwrap();

    let outside = |name: &str| l.outside.join(name).to_str().unwrap().to_string();
    let refused_outside: Vec<String> = vec![
        "/etc/shadow".into(),
        "/etc/passwd".into(),
        "/proc/self/environ".into(),
        "/dev/zero".into(),
        "/nonexistent/file.snap".into(),
        outside("shadow"),
        outside("valid.snap"), // a valid snapshot, but outside
        outside("nothing"),
        "../outside/shadow".into(),
        "../outside/valid.snap".into(),
        "../outside/nothing".into(),
        "sub/../../outside/shadow".into(),
        "./../outside/nothing/deeper".into(),
        "link-out".into(),
        "link-out.snap".into(),
        "dangling-out".into(),
        "zero".into(),
        "/".into(),
        "..".into(),
    ];
    let mut messages = std::collections::BTreeSet::new();
    for path in &refused_outside {
        let (status, body, text) = s.reload(path).await;
        assert_eq!(status, 403, "{path}: {text}");
        assert_error_shape(&body, "path_not_allowed", &text);
        assert_no_secret(&text);
        let message = body["error"]["message"].as_str().unwrap().to_string();
        assert!(message.contains("--snapshot-dir"), "{message}");
        messages.insert(message);
        // Not an attempt: readiness is untouched, the old snapshot serves.
        assert_eq!(s.ready().await.0, 200, "{path}");
        assert_eq!(s.count().await, (200, json!(9)), "{path}");
    }
    assert_eq!(
        messages.len(),
        1,
        "one message whether or not the file outside exists: {messages:?}"
    );

    // Inside the directory, but not servable: 422 with the fault's class, no file bytes.
    let flipped_abs = dir.join("flipped.snap").to_str().unwrap().to_string();
    let failing: [(&str, &str, Option<&str>); 11] = [
        ("missing.snap", "not_found", None),
        ("sub/missing.snap", "not_found", None),
        ("nodir/missing.snap", "not_found", None),
        ("sub", "not_a_regular_file", None),
        (".", "not_a_regular_file", None),
        ("fifo.snap", "not_a_regular_file", None),
        ("empty.snap", "not_a_snapshot", None),
        ("secret.snap", "not_a_snapshot", None),
        ("truncated.snap", "wrong_length", None),
        ("flipped.snap", "corrupt", Some(section.as_str())),
        (flipped_abs.as_str(), "corrupt", Some(section.as_str())),
    ];
    let mut failures = 0;
    for (path, fault, section) in failing {
        let started = Instant::now();
        let (status, body, text) = s.reload(path).await;
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{path} took {:?}",
            started.elapsed()
        );
        assert_eq!(status, 422, "{path}: {text}");
        assert_error_shape(&body, "reload_failed", &text);
        assert_eq!(body["error"]["details"]["fault"], fault, "{path}: {text}");
        if let Some(section) = section {
            assert_eq!(body["error"]["details"]["section"], section, "{text}");
            assert!(text.contains(section), "{text}");
        }
        assert_no_secret(&text);
        assert!(!text.contains("0x"), "no checksums or bytes: {text}");
        failures += 1;

        // The old snapshot serves; /readyz says that the last reload failed and when, and
        // nothing more; the detail is behind the token.
        assert_eq!(s.count().await, (200, json!(9)), "{path}");
        let (status, ready) = s.ready().await;
        assert_eq!(status, 503, "{path}");
        assert_eq!(ready["error"]["code"], "reload_failed");
        assert!(ready["error"]["details"]["failedAt"].is_string(), "{ready}");
        let shown = ready.to_string();
        if path.len() > 4 {
            assert!(!shown.contains(path), "{shown}");
        }
        assert!(!shown.contains(fault), "{shown}");
        let info = s.info().await;
        assert_eq!(
            info["lastReloadFailure"]["error"]["details"]["fault"],
            fault
        );
        assert_eq!(info["generation"], 1);
    }

    // A valid file, by relative path, by absolute path, and through a link inside: 200, and
    // /readyz is ready again.
    for (i, path) in [
        "next.snap".to_string(),
        dir.join("small.snap").to_str().unwrap().to_string(),
        "sub/link-in.snap".to_string(),
    ]
    .iter()
    .enumerate()
    {
        let (status, body, text) = s.reload(path).await;
        assert_eq!(status, 200, "{path}: {text}");
        assert_eq!(body["generation"], i as u64 + 2);
        assert!(body.get("lastReloadFailure").is_none(), "{text}");
        assert_eq!(s.ready().await.0, 200);
    }
    assert_eq!(s.count().await, (200, json!(14)));
    let (_, metrics) = s.get("/metrics", true).await;
    assert!(
        metrics.contains(&format!("neotrav_reload_failures_total {failures}")),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_inside_the_snapshot_directory_are_refused_before_they_are_opened() {
    let l = layout();
    let state = AppState::new(l.served.clone(), None, Some(TOKEN.into()))
        .unwrap()
        .with_snapshot_dir(Path::new("/dev"))
        .unwrap();
    let s = Server::new(Arc::new(state));
    for path in ["zero", "/dev/null", "/dev/urandom", "random"] {
        let started = Instant::now();
        let (status, body, text) = s.reload(path).await;
        assert!(started.elapsed() < Duration::from_secs(5), "{path}");
        assert_eq!(status, 422, "{path}: {text}");
        assert_error_shape(&body, "reload_failed", &text);
        assert_eq!(body["error"]["details"]["fault"], "not_a_regular_file");
        assert!(text.contains("a character device"), "{text}");
        assert_eq!(s.count().await, (200, json!(9)));
    }
    // The served file is outside /dev now: re-reading it (no path) is still allowed.
    let (status, _, text) = s.reload_raw("", None).await;
    assert_eq!(status, 200, "{text}");
    // A path to it is not.
    let (status, _, text) = s.reload(l.served.to_str().unwrap()).await;
    assert_eq!(status, 403, "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_bodies_are_read_as_json_whatever_the_content_type() {
    let l = layout();
    let state = AppState::new(l.served.clone(), None, Some(TOKEN.into())).unwrap();
    let s = Server::new(Arc::new(state));

    // JSON without a content type loads the file it names (it used to re-read the old one).
    let (status, body, text) = s.reload_raw(r#"{"path": "next.snap"}"#, None).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(body["generation"], 2);
    assert_eq!(body["nodes"], 14);
    assert_eq!(s.count().await, (200, json!(14)));
    let (status, body, text) = s
        .reload_raw(
            r#"{"path": "small.snap"}"#,
            Some("application/json; charset=utf-8"),
        )
        .await;
    assert_eq!((status, body["nodes"].clone()), (200, json!(9)), "{text}");

    // An empty body, or `{}`, re-reads the served file, with any content type or none.
    for (body, content_type) in [
        ("", None),
        ("", Some("application/json")),
        ("  \n", Some("text/plain")),
        ("{}", None),
        ("{}", Some("application/json")),
    ] {
        let before = s.info().await["generation"].as_u64().unwrap();
        let (status, answer, text) = s.reload_raw(body, content_type).await;
        assert_eq!(status, 200, "{body:?} {content_type:?}: {text}");
        assert_eq!(answer["generation"], before + 1);
        assert_eq!(answer["nodes"], 9);
    }

    // Anything else is an error, in the one shape.
    for (body, content_type, status, code) in [
        (
            r#"{"path": "next.snap"}"#,
            Some("text/plain"),
            415,
            "unsupported_media_type",
        ),
        (
            "path=next.snap",
            Some("application/x-www-form-urlencoded"),
            415,
            "unsupported_media_type",
        ),
        ("{not json", None, 400, "bad_request"),
        ("{not json", Some("application/json"), 400, "bad_request"),
        (r#"{"pth": "next.snap"}"#, None, 400, "bad_request"),
        (r#"{"path": 7}"#, None, 400, "bad_request"),
        (r#"["next.snap"]"#, None, 400, "bad_request"),
        (
            r#"{"path": "next.snap", "export": true}"#,
            None,
            400,
            "bad_request",
        ),
        (r#"{"export": true}"#, None, 409, "no_export"),
    ] {
        let (got, answer, text) = s.reload_raw(body, content_type).await;
        assert_eq!(got, status, "{body:?} {content_type:?}: {text}");
        assert_error_shape(&answer, code, &text);
        assert_eq!(s.count().await, (200, json!(9)));
        assert_eq!(
            s.ready().await.0,
            200,
            "a refused request is not a failed reload"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fifo_reload_answers_at_once_and_cannot_fail_late_over_a_newer_success() {
    let l = layout();
    let fifo = l.dir.join("fifo.snap");
    mkfifo(&fifo);
    let state = AppState::new(l.served.clone(), None, Some(TOKEN.into())).unwrap();
    let s = Arc::new(Server::new(Arc::new(state)));

    // The FIFO reload used to hang in open(); fire it without waiting, as the tester did.
    let pending = {
        let s = s.clone();
        tokio::spawn(async move { s.reload("fifo.snap").await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (status, _, text) = s.reload("next.snap").await;
    assert_eq!(status, 200, "{text}");
    // A writer comes to the FIFO: the old hung open would now return and fail late.
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        // Non-blocking: with no reader left this fails (ENXIO), which is the point.
        if let Ok(mut w) = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(0o4000) // O_NONBLOCK
            .open(&fifo)
        {
            let _ = w.write_all(&SECRET.repeat(8));
        }
    });
    writer.join().unwrap();
    let (status, body, text) = tokio::time::timeout(Duration::from_secs(5), pending)
        .await
        .expect("the FIFO reload answered")
        .unwrap();
    assert_eq!(status, 422, "{text}");
    assert_eq!(body["error"]["details"]["fault"], "not_a_regular_file");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        s.ready().await.0,
        200,
        "the newer reload succeeded; an older failure must not turn /readyz to 503"
    );
    assert_eq!(s.count().await, (200, json!(14)));
}

/// The nodes of [`big_snapshot`].
const BIG_NODES: u64 = 1_000_000;

/// A snapshot big enough that verifying it takes a while in a debug build.
fn big_snapshot(path: &Path) {
    let tree = neotrav_datasets::generate::tree::Tree::new(BIG_NODES, 4, 7).unwrap();
    neotrav_datasets::to_snapshot::write(&tree, path, &neotrav_snapshot::NoProgress).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_the_newest_reload_and_swaps_are_one_at_a_time() {
    let l = layout();
    big_snapshot(&l.dir.join("big.snap"));
    let section = flipped_copy(&l.dir.join("big.snap"), &l.dir.join("big-bad.snap"));
    let state = AppState::new(l.served.clone(), None, Some(TOKEN.into())).unwrap();
    let s = Arc::new(Server::new(Arc::new(state)));

    let timed = |path: &'static str| {
        let s = s.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let answer = s.reload(path).await;
            (answer, started, Instant::now())
        })
    };

    // An older slow failure (the corrupt big file: verify hashes every other section before
    // the flipped one) and a newer fast success: the success is the newest outcome.
    let slow = timed("big-bad.snap");
    tokio::time::sleep(Duration::from_millis(50)).await;
    let fast = timed("next.snap");
    let ((status, body, text), slow_started, slow_done) = slow.await.unwrap();
    assert_eq!(status, 422, "{text}");
    assert_eq!(body["error"]["details"]["section"], section.as_str());
    let ((status, _, text), fast_started, fast_done) = fast.await.unwrap();
    assert_eq!(status, 200, "{text}");
    // What the ordering needs: the newer reload was asked for while the older one still ran
    // (a duration threshold failed on a quick machine that had still overlapped them).
    assert!(
        fast_started < slow_done,
        "verifying the big file took only {:?}, less than the 50 ms head start: too quick to \
         test the ordering",
        slow_done - slow_started
    );
    // One swap at a time: the newer reload waited for the older one.
    assert!(fast_done >= slow_done, "the newer reload finished first");
    assert_eq!(s.ready().await.0, 200, "the newest reload succeeded");
    assert!(s.info().await.get("lastReloadFailure").is_none());
    assert_eq!(s.count().await, (200, json!(14)));

    // An older slow success and a newer fast failure: the failure is the newest outcome, and
    // the older file is served (no newer one swapped before it).
    let slow = timed("big.snap");
    tokio::time::sleep(Duration::from_millis(50)).await;
    let fast = timed("missing.snap");
    let ((status, body, text), _, _) = slow.await.unwrap();
    assert_eq!(status, 200, "{text}");
    assert_eq!(body["nodes"], BIG_NODES);
    let ((status, _, text), _, _) = fast.await.unwrap();
    assert_eq!(status, 422, "{text}");
    assert_eq!(s.ready().await.0, 503, "the newest reload failed");
    let info = s.info().await;
    assert_eq!(info["nodes"], BIG_NODES);
    assert_eq!(
        info["lastReloadFailure"]["error"]["details"]["fault"],
        "not_found"
    );
}

/// Polls until `check` holds (every 5 ms, at most 10 s).
async fn until<F: std::future::Future<Output = bool>>(what: &str, mut check: impl FnMut() -> F) {
    let started = Instant::now();
    while !check().await {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "waited too long for {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_served_file_changed_in_place_gets_503_snapshot_modified_until_a_verified_reload() {
    let l = layout();
    let state = Arc::new(AppState::new(l.served.clone(), None, Some(TOKEN.into())).unwrap());
    let _watch = state.watch(Duration::from_millis(100));
    let s = Server::new(state);
    assert_eq!(s.count().await, (200, json!(9)));
    let original = std::fs::read(&l.served).unwrap();

    // Another valid snapshot of the same size, written over the served one: detected, 503,
    // then reloaded by itself once it stays the same.
    tokio::time::sleep(Duration::from_millis(20)).await; // a later creation time and mtime
    let other = l.dir.join("other.snap");
    small::write(&other, 0);
    let same_size = std::fs::read(&other).unwrap();
    assert_eq!(same_size.len(), original.len());
    assert_ne!(same_size, original);
    overwrite_in_place(&l.served, &same_size);
    until("503 snapshot_modified", || async {
        let (status, body) = s.ready().await;
        status == 503 && body["error"]["code"] == "snapshot_modified"
    })
    .await;
    until("the automatic reload", || async {
        s.ready().await.0 == 200
    })
    .await;
    let info = s.info().await;
    assert_eq!(info["generation"], 2);
    assert!(info.get("modified").is_none(), "{info}");
    assert_eq!(s.count().await, (200, json!(9)));

    // A truncated copy: no request reads the mapping (no SIGBUS), the automatic reload fails
    // (recorded), and the server keeps answering.
    overwrite_in_place(&l.served, &original[..original.len() / 2]);
    until("503 snapshot_modified", || async {
        s.ready().await.1["error"]["code"] == "snapshot_modified"
    })
    .await;
    let (status, body) = s.count().await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "snapshot_modified");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("rename"),
        "{body}"
    );
    for route in ["/v1/neighbors", "/v1/shortest-path"] {
        let (status, body) = s.post(route, json!({"node": 0, "from": 3, "to": 5})).await;
        assert_eq!(status, 503, "{route}");
        assert_eq!(body["error"]["code"], "snapshot_modified", "{route}");
    }
    until("the failed automatic reload", || async {
        s.info().await["lastReloadFailure"]["error"]["details"]["fault"] == "wrong_length"
    })
    .await;
    let info = s.info().await;
    assert_eq!(info["modified"], true, "{info}");
    assert_eq!(info["generation"], 2);
    assert_eq!(s.get("/healthz", false).await.0, 200);
    // A manual reload of the truncated file fails too and changes nothing.
    let (status, _, text) = s.reload_raw("", None).await;
    assert_eq!(status, 422, "{text}");
    assert_eq!(s.count().await.0, 503);

    // A valid rewrite (in place again): reloaded by itself, served again.
    overwrite_in_place(&l.served, &same_size);
    until("the recovery", || async { s.ready().await.0 == 200 }).await;
    assert_eq!(s.count().await, (200, json!(9)));
    let info = s.info().await;
    assert_eq!(info["generation"], 3);
    assert!(info.get("lastReloadFailure").is_none(), "{info}");

    // Replaced by rename (a new inode): harmless; the old mapping serves until a reload.
    let renamed = l.dir.join("renamed.snap.tmp");
    small::write(&renamed, 5);
    std::fs::rename(&renamed, &l.served).unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(s.ready().await.0, 200);
    assert_eq!(s.count().await, (200, json!(9)));
    assert_eq!(s.info().await["generation"], 3);
    let (status, body, text) = s.reload_raw("", None).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(body["generation"], 4);
    assert_eq!(s.count().await, (200, json!(14)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_open_verifies_unless_told_not_to() {
    let l = layout();
    let bad = l.dir.join("bad.snap");
    let section = flipped_copy(&l.served, &bad);
    let err = AppState::new(bad.clone(), None, None)
        .err()
        .expect("a corrupt snapshot is not served");
    assert_eq!(err.class(), "corrupt");
    assert!(err.to_string().contains(&section), "{err}");
    assert!(AppState::open(bad, None, None, false).is_ok());
    mkfifo(&l.dir.join("fifo.snap"));
    let err = AppState::new(l.dir.join("fifo.snap"), None, None)
        .err()
        .expect("a FIFO is not served");
    assert_eq!(err.class(), "not_a_regular_file");
}

#[test]
fn the_openapi_document_lists_every_status_reload_and_readyz_answer() {
    use utoipa::OpenApi;
    let doc: Value = serde_json::to_value(neotrav_server::ApiDoc::openapi()).unwrap();
    let statuses = |path: &str, method: &str| -> Vec<String> {
        let mut s: Vec<String> = doc["paths"][path][method]["responses"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        s.sort();
        s
    };
    assert_eq!(
        statuses("/v1/snapshot/reload", "post"),
        [
            "200", "400", "401", "403", "409", "413", "415", "422", "500"
        ]
    );
    assert_eq!(statuses("/readyz", "get"), ["200", "503"]);
    let info = &doc["components"]["schemas"]["SnapshotInfo"]["properties"];
    assert!(info["lastReloadFailure"].is_object() && info["modified"].is_object());
}

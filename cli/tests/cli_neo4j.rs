//! `neotrav neo4j start|stop|status` against the real bundled Neo4j, end to end through the
//! binary: the happy path and every error the CLI promises to explain.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Output;

use neotrav_testkit::neo4j::free_port;
use neotrav_testkit::text;

const PASSWORD: &str = "cli-test-password";

/// `neotrav ARGS --home HOME` with `password` as `NEO4J_PASSWORD`, and no
/// `NEOTRAV_NEO4J_HOME` from the environment the tests run in.
fn neotrav(home: &Path, password: &str, args: &[&str]) -> Output {
    neotrav_testkit::neotrav()
        .args(args)
        .arg("--home")
        .arg(home)
        .env("NEO4J_PASSWORD", password)
        .env_remove("NEOTRAV_NEO4J_HOME")
        .output()
        .expect("the neotrav binary runs")
}

fn pid_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| s.rsplit_once(')').unwrap().1.trim_start().starts_with('Z'))
            .unwrap_or(true)
}

/// Stops the server of a home if a test fails half-way, so no JVM outlives the test run.
struct StopOnDrop(PathBuf);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        let _ = neotrav(
            &self.0,
            PASSWORD,
            &["neo4j", "stop", "--force", "--timeout", "30"],
        );
    }
}

/// One scenario, in order, because each step depends on the server the last one left.
#[test]
fn start_status_stop_and_their_errors() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let _guard = StopOnDrop(home.clone());
    let port = free_port().unwrap().to_string();
    let small = ["--heap", "1g", "--pagecache", "256m"];

    // Start: prints the Bolt URI on stdout once a query is answered.
    let mut args = vec!["neo4j", "start", "--bolt-port", &port];
    args.extend(small);
    let out = neotrav(&home, PASSWORD, &args);
    assert!(out.status.success(), "start failed: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), format!("bolt://127.0.0.1:{port}"));

    // A second start on the same home says so instead of failing obscurely.
    let out = neotrav(&home, PASSWORD, &args);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("already running"),
        "{}",
        text(&out.stderr)
    );

    // Status names the versions of Neo4j, APOC and GDS.
    let out = neotrav(&home, PASSWORD, &["neo4j", "status", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let pid = status["running"]["pid"].as_u64().unwrap() as u32;
    assert!(pid_alive(pid));
    assert_eq!(
        status["running"]["bolt_port"].as_u64().unwrap().to_string(),
        port
    );
    assert!(
        status["versions"]["neo4j"]
            .as_str()
            .unwrap()
            .starts_with("5.26.")
    );
    assert_eq!(status["versions"]["edition"].as_str().unwrap(), "community");
    assert!(
        status["versions"]["apoc"]
            .as_str()
            .unwrap()
            .starts_with("5.26.")
    );
    assert!(
        status["versions"]["gds"]
            .as_str()
            .unwrap()
            .starts_with("2.13.")
    );
    let out = neotrav(&home, PASSWORD, &["neo4j", "status"]);
    assert!(
        text(&out.stdout).contains("Neo4j is running"),
        "{}",
        text(&out.stdout)
    );

    // With the wrong password, status still says it runs and explains the versions it can't read,
    // without echoing either password.
    let out = neotrav(&home, "not-the-password", &["neo4j", "status"]);
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    assert!(stdout.contains("refused the password"), "{stdout}");
    assert!(!stdout.contains("not-the-password") && !stdout.contains(PASSWORD));

    // Stop: SIGTERM, wait, report; the JVM is gone afterwards.
    let out = neotrav(&home, PASSWORD, &["neo4j", "stop"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("stopped Neo4j"),
        "{}",
        text(&out.stdout)
    );
    assert!(!pid_alive(pid), "the JVM (pid {pid}) outlived stop");

    let out = neotrav(&home, PASSWORD, &["neo4j", "status"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stdout).contains("not running"));
    let out = neotrav(&home, PASSWORD, &["neo4j", "stop"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no Neo4j is running"),
        "{}",
        text(&out.stderr)
    );

    // Restarting the same home with another password: refused, explained, and stopped again.
    let out = neotrav(&home, "another-password", &args);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("refused the password"), "{stderr}");
    assert!(stderr.contains("NEO4J_PASSWORD"), "{stderr}");
    assert!(!stderr.contains("another-password"), "{stderr}");
    let out = neotrav(&home, PASSWORD, &["neo4j", "status"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "the refused server was left running"
    );
}

#[test]
fn a_taken_port_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let out = neotrav(
        dir.path(),
        PASSWORD,
        &["neo4j", "start", "--bolt-port", &port],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("port {port}")) && stderr.contains("--bolt-port"),
        "{stderr}"
    );
}

#[test]
fn missing_java_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let out = neotrav_testkit::neotrav()
        .args([
            "neo4j",
            "start",
            "--bolt-port",
            &free_port().unwrap().to_string(),
            "--home",
        ])
        .arg(dir.path())
        .env("JAVA_HOME", dir.path().join("no-java-here"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("Java was not found") && stderr.contains("JAVA_HOME"),
        "{stderr}"
    );
}

#[test]
fn bad_flags_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    for (flag, value, expect) in [
        ("--heap", "12x", "optional unit k, m or g"),
        ("--pagecache", "lots", "expected a whole number"),
        ("--bolt-port", "0", "--bolt-port"),
        ("--bolt-port", "70000", "--bolt-port"),
    ] {
        let out = neotrav(dir.path(), PASSWORD, &["neo4j", "start", flag, value]);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}");
        let stderr = text(&out.stderr);
        assert!(stderr.contains(expect), "{flag} {value}: {stderr}");
    }
    let out = neotrav(
        dir.path(),
        "short",
        &[
            "neo4j",
            "start",
            "--bolt-port",
            &free_port().unwrap().to_string(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("at least 8 characters"),
        "{}",
        text(&out.stderr)
    );
}

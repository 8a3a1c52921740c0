//! Neo4j killed in the middle of an export: a clear error, and the previous snapshot at the
//! output path untouched. This test binary has the test kit's Neo4j to itself (one server per
//! test process), so it may kill it.

use std::sync::Arc;
use std::time::Duration;

use neotrav_datasets::generate::tree::Tree;
use neotrav_datasets::load::{self, LoadOptions};
use neotrav_neo4j::export::{self, ExportOptions, Origin};
use neotrav_neo4j::testkit;
use neotrav_snapshot::{NoProgress, Progress};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// Kills the server once the export has read its first pages.
struct KillAfter {
    pid: u32,
    after: u64,
    seen: std::sync::atomic::AtomicU64,
}

impl Progress for KillAfter {
    fn phase(&self, _: &str, _: Option<u64>) {}
    fn advance(&self, n: u64) {
        let before = self.seen.fetch_add(n, std::sync::atomic::Ordering::SeqCst);
        if before < self.after && before + n >= self.after {
            kill(Pid::from_raw(self.pid as i32), Signal::SIGKILL).expect("kill the JVM");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn neo4j_killed_mid_export_fails_cleanly_and_keeps_the_old_file() {
    let db = testkit::clean_graph().await;
    let tree = Arc::new(Tree::new(60_000, 4, 9).unwrap());
    load::load(&db.graph, tree, &LoadOptions::default(), &NoProgress)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tree.snap");
    std::fs::write(&out, b"the previous snapshot").unwrap();
    let options = ExportOptions {
        page_size: 500,
        concurrency: 2,
        ..ExportOptions::default()
    };
    let progress = KillAfter {
        pid: db.server.pid,
        after: 5_000,
        seen: Default::default(),
    };
    let result = tokio::time::timeout(
        Duration::from_secs(120),
        export::export(&db.graph, &Origin::default(), &options, &out, &progress),
    )
    .await
    .expect("the export gives up instead of hanging");
    let err = result.expect_err("an export whose server died must fail");
    let text = err.to_string();
    assert!(text.contains("from Neo4j failed"), "{text}");
    assert_eq!(std::fs::read(&out).unwrap(), b"the previous snapshot");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(left.len(), 1, "no temporary file is left behind");
}

//! What the sidecar's tests share: `neotrav serve` run as a process, and a small live graph in
//! the test kit's Neo4j exported to a snapshot.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use neo4rs::query;
use neotrav_neo4j::export::{self, ExportOptions, Origin};
use neotrav_neo4j::testkit::{CleanGraph, rows};
use neotrav_snapshot::NoProgress;

/// A running `neotrav serve`, killed when dropped unless the test ended it.
pub struct Served {
    /// The process (the test may signal it and wait for it).
    pub child: Child,
    /// Its base URL, as it printed it.
    pub url: String,
    /// Its stdout after the first line.
    pub lines: std::io::Lines<BufReader<std::process::ChildStdout>>,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `program args... serve --no-neo4j --listen 127.0.0.1:0 ARGS --snapshot SNAPSHOT` (with
/// `program` the binary itself, or a wrapper such as `prlimit` that execs it), with `env`, and
/// waits for its "serving ... on URL" line.
pub fn spawn_with(
    wrapper: &[&str],
    snapshot: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> Served {
    let bin = crate::neotrav_path();
    let mut command = match wrapper.split_first() {
        Some((program, rest)) => {
            let mut c = Command::new(program);
            c.args(rest).arg(&bin);
            c
        }
        None => Command::new(bin),
    };
    command
        .args(["serve", "--no-neo4j", "--listen", "127.0.0.1:0"])
        .args(args)
        .arg("--snapshot")
        .arg(snapshot)
        .envs(env.iter().copied())
        .stdout(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first.rsplit(' ').next().unwrap().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{first}");
    Served { child, url, lines }
}

/// [`spawn_with`] without a wrapper or environment.
pub fn spawn(snapshot: &Path, args: &[&str]) -> Served {
    spawn_with(&[], snapshot, args, &[])
}

/// Serves `state` on a free loopback port, through the sidecar's accept loop with its default
/// bounds; returns its base URL.
pub async fn in_process(state: neotrav_server::AppState) -> String {
    serve_router(neotrav_server::router(std::sync::Arc::new(state))).await
}

/// Serves `app` (the sidecar's router, or any other) on a free loopback port through the
/// sidecar's accept loop with its default bounds; returns its base URL.
pub async fn serve_router(app: axum::Router) -> String {
    use neotrav_server::{ServeOptions, serve};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        serve(
            listener,
            app,
            ServeOptions::default(),
            std::future::pending(),
        )
        .await
        .unwrap();
    });
    base
}

/// A live graph exported to a snapshot: `(:Root)-[:CHILD_A]->(:A)-[:CHILD_A]->(:A)` and
/// `(:Root)-[:CHILD_B]->(:B {flag: true})`, with `properties` exported.
pub struct Live {
    /// Holds the snapshot.
    pub dir: tempfile::TempDir,
    /// The snapshot.
    pub path: PathBuf,
    /// The Root node's id.
    pub root: u64,
}

/// Exports the graph in `db` to `path`, with the key properties `(label, key)`.
pub async fn export_graph(db: &CleanGraph, properties: &[(&str, &str)], path: &Path) {
    let origin = Origin {
        address: db.server.uri.clone(),
        database: String::new(),
    };
    let options = ExportOptions {
        properties: properties
            .iter()
            .map(|&(l, k)| (l.to_string(), k.to_string()))
            .collect(),
        ..ExportOptions::default()
    };
    export::export(&db.graph, &origin, &options, path, &NoProgress)
        .await
        .unwrap();
}

/// Writes the live graph into `db` and exports it.
pub async fn live(db: &CleanGraph, properties: &[(&str, &str)]) -> Live {
    rows(
        &db.graph,
        query(
            "CREATE (r:Root)-[:CHILD_A]->(:A)-[:CHILD_A]->(:A), (r)-[:CHILD_B]->(:B {flag: true})",
        ),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("live.snap");
    export_graph(db, properties, &path).await;
    let root = rows(&db.graph, query("MATCH (r:Root) RETURN id(r) AS id"))
        .await
        .unwrap()[0]
        .get::<i64>("id")
        .unwrap() as u64;
    Live { dir, path, root }
}

//! The test kit: a real Neo4j for integration tests, never a mock.
//!
//! - [`neo4j`] returns the test process's one bundled Neo4j (Neo4j 5.26 Community with APOC and
//!   GDS), starting it on first use on a free port with a fresh home under the system temp
//!   folder. The JVM is tied to the test process: it halts the moment the process ends, however
//!   it ends, so no JVM outlives a test run.
//! - [`clean_graph`] gives a test the database to itself, emptied: no nodes, relationships,
//!   indexes, constraints or GDS graphs. Community edition has one user database, so tests that
//!   need a clean graph take turns; tests that only read server-level facts do not need to.
//!
//! `neo4rs` must not share a [`Graph`] across tokio runtimes, and every `#[tokio::test]` has its
//! own, so each call of [`TestNeo4j::graph`] or [`clean_graph`] makes a new driver.
//!
//! ```no_run
//! # async fn example() {
//! let db = neotrav_neo4j::testkit::clean_graph().await;
//! db.graph.run(neo4rs::query("CREATE (:A)")).await.unwrap();
//! # }
//! ```

use std::fs;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use neo4rs::{Graph, Query, Row, query};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::bundled::{self, Bundle, MemorySize, Password, ServerConfig};

/// The test process's Neo4j.
#[derive(Debug)]
pub struct TestNeo4j {
    /// Its Bolt URI, on 127.0.0.1.
    pub uri: String,
    /// The user to connect as.
    pub user: String,
    /// The user's password.
    pub password: Password,
    /// Its home directory (configuration, data, logs).
    pub home: PathBuf,
    /// The JVM's process id.
    pub pid: u32,
}

impl TestNeo4j {
    /// A new driver for this server, for the calling runtime.
    pub fn graph(&self) -> Graph {
        bundled::connect(&self.uri, &self.user, &self.password).expect("driver config is valid")
    }
}

static SERVER: OnceLock<Result<TestNeo4j, String>> = OnceLock::new();

/// The process's Neo4j, started on first use.
///
/// # Panics
///
/// When the server cannot be built or started: the test that asked fails with the reason (Java
/// or Maven missing, Maven Central unreachable, start timed out with the log's last lines).
pub fn neo4j() -> &'static TestNeo4j {
    let server = SERVER.get_or_init(|| {
        // Starting needs an async runtime of its own: callers are usually inside another
        // (a #[tokio::test]) where blocking on a new one is not allowed.
        std::thread::spawn(start_server)
            .join()
            .unwrap_or_else(|_| Err("the thread starting Neo4j panicked".to_string()))
    });
    match server {
        Ok(server) => server,
        Err(e) => panic!("the test kit could not start the bundled Neo4j: {e}"),
    }
}

fn start_server() -> Result<TestNeo4j, String> {
    let bundle = Bundle::locate(None).map_err(|e| e.to_string())?;
    let artifacts = bundle
        .ensure_built(&mut |msg| eprintln!("testkit: {msg}"))
        .map_err(|e| e.to_string())?;
    let root = std::env::temp_dir().join("neotrav-testkit");
    remove_stale_homes(&root);
    let home = root.join(std::process::id().to_string());
    let _ = fs::remove_dir_all(&home);
    let password = Password::new("neotrav-testkit");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    // A free port can be taken between the probe and Neo4j's bind; try a few.
    let mut last_error = String::new();
    for _ in 0..3 {
        let config = ServerConfig {
            home: home.clone(),
            bolt_port: free_port().map_err(|e| format!("finding a free port: {e}"))?,
            heap: MemorySize::gib(1),
            pagecache: MemorySize::mib(512),
            password: password.clone(),
            startup_timeout: Duration::from_secs(180),
            transaction_timeout: None,
            tie_to_this_process: true,
        };
        match runtime.block_on(bundled::start(&artifacts, &config)) {
            Ok(server) => {
                eprintln!(
                    "testkit: Neo4j {} started in {:.1} s (pid {})",
                    server.state.bolt_uri,
                    server.startup.as_secs_f64(),
                    server.state.pid
                );
                // The child handle is dropped unreaped: the JVM halts when this process ends.
                return Ok(TestNeo4j {
                    uri: server.state.bolt_uri.clone(),
                    user: bundled::DEFAULT_USER.to_string(),
                    password,
                    home,
                    pid: server.state.pid,
                });
            }
            Err(e @ bundled::BundleError::PortTaken { .. }) => last_error = e.to_string(),
            Err(e) => return Err(e.to_string()),
        }
    }
    Err(last_error)
}

/// Removes the homes of earlier test processes that are gone.
fn remove_stale_homes(root: &std::path::Path) {
    let Ok(entries) = fs::read_dir(root) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        if !PathBuf::from(format!("/proc/{pid}")).exists() {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

pub use crate::bundled::free_port;

/// Runs a query that may write and collects its rows ([`crate::cypher::rows`] outside a read
/// transaction): what tests use to set up a graph.
pub async fn rows(graph: &Graph, q: Query) -> Result<Vec<Row>, neo4rs::Error> {
    crate::cypher::rows(graph, q, false).await
}

/// Runs a query that returns exactly one row and returns it.
///
/// # Panics
///
/// When the query fails or does not return exactly one row: a test assertion.
pub async fn single(graph: &Graph, q: Query) -> Row {
    let mut all = rows(graph, q)
        .await
        .unwrap_or_else(|e| panic!("query failed: {e}"));
    assert_eq!(all.len(), 1, "expected exactly one row");
    all.pop().expect("one row")
}

/// The database, emptied, for one test at a time. Dropping it lets the next test in.
pub struct CleanGraph {
    /// A driver connected to the emptied database.
    pub graph: Graph,
    /// The server it runs on.
    pub server: &'static TestNeo4j,
    _turn: OwnedMutexGuard<()>,
}

fn turn() -> Arc<Mutex<()>> {
    static TURN: OnceLock<Arc<Mutex<()>>> = OnceLock::new();
    TURN.get_or_init(|| Arc::new(Mutex::new(()))).clone()
}

/// Waits for this test's turn at the database, then empties it: all nodes and relationships,
/// indexes and constraints (but the built-in token lookup indexes), and GDS graphs.
///
/// # Panics
///
/// When the server cannot be started or emptied.
pub async fn clean_graph() -> CleanGraph {
    let server = neo4j();
    let turn = turn().lock_owned().await;
    let graph = server.graph();
    wipe(&graph)
        .await
        .unwrap_or_else(|e| panic!("emptying the test database failed: {e}"));
    CleanGraph {
        graph,
        server,
        _turn: turn,
    }
}

async fn wipe(graph: &Graph) -> Result<(), neo4rs::Error> {
    graph
        .run(query(
            "MATCH (n) CALL { WITH n DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS",
        ))
        .await?;
    // Constraints first: dropping one also drops the index behind it.
    drop_all(
        graph,
        "CONSTRAINT",
        "SHOW CONSTRAINTS YIELD name RETURN name",
    )
    .await?;
    drop_all(
        graph,
        "INDEX",
        "SHOW INDEXES YIELD name, type WHERE type <> 'LOOKUP' RETURN name",
    )
    .await?;
    // Pulled, not run: Neo4j skips a read-only query whose result is discarded.
    rows(
        graph,
        query(
            "CALL gds.graph.list() YIELD graphName \
             CALL gds.graph.drop(graphName, false) YIELD graphName AS dropped \
             RETURN count(dropped)",
        ),
    )
    .await?;
    Ok(())
}

/// Drops every schema object of `kind` (`CONSTRAINT` or `INDEX`) that `listing` names.
async fn drop_all(graph: &Graph, kind: &str, listing: &str) -> Result<(), neo4rs::Error> {
    for row in rows(graph, query(listing)).await? {
        let name: String = row.get("name")?;
        let name = crate::cypher::quote("schema name", &name)
            .map_err(|e| neo4rs::Error::UnexpectedMessage(e.to_string()))?;
        let drop = format!("DROP {kind} {name} IF EXISTS");
        graph.run(query(&drop)).await?;
    }
    Ok(())
}

//! The loader: a generated dataset into a live Neo4j.
//!
//! Constraints and indexes first (from the dataset's [`Schema`]), then batched `UNWIND` over
//! several connections while the generator runs on a thread of its own:
//!
//! - nodes, grouped by label set, `batch_size` per query:
//!   `UNWIND $rows AS r CREATE (n:A:B {k1: r[0], k2: r[1]}) RETURN collect(r[2]), collect(id(n))`,
//!   which also returns the Neo4j id of every generator id;
//! - then relationships, grouped by type, matched by Neo4j id (a constant-time seek, no index):
//!   `UNWIND $rows AS r MATCH (a) WHERE id(a) = r[0] MATCH (b) WHERE id(b) = r[1] CREATE (a)-[:T]->(b)`.
//!
//! Every query is an auto-commit transaction of one batch. Node batches run `connections` at a
//! time; relationship batches one at a time, because concurrent ones deadlock on shared hub nodes
//! (measured on the Discogs-shaped graph: every `IS` batch ends at the same 16 genres).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use neo4rs::{BoltNull, BoltType, Graph, query};
use neotrav_neo4j::cypher::{BadIdentifier, quote, rows};
use neotrav_snapshot::Progress;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::generate::{Dataset, GraphSink, Node, Relationship, Schema, SinkError, Value};

/// How to load.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Nodes or relationships per query (one transaction each).
    pub batch_size: usize,
    /// Node queries in flight at once, each on its own connection (relationship queries run
    /// one at a time).
    pub connections: usize,
    /// Delete everything in the database first (data, constraints and indexes).
    pub replace: bool,
}

impl Default for LoadOptions {
    fn default() -> LoadOptions {
        LoadOptions {
            batch_size: 10_000,
            connections: 4,
            replace: false,
        }
    }
}

/// What a load did.
#[derive(Debug, Clone)]
pub struct LoadReport {
    /// Nodes created.
    pub nodes: u64,
    /// Relationships created.
    pub relationships: u64,
    /// Time to empty the database and create constraints and indexes.
    pub schema: Duration,
    /// Time to create the nodes.
    pub node_time: Duration,
    /// Time to create the relationships.
    pub relationship_time: Duration,
}

impl LoadReport {
    /// Total time.
    pub fn elapsed(&self) -> Duration {
        self.schema + self.node_time + self.relationship_time
    }
}

/// Why a load failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The database holds data and `replace` was not asked for.
    #[error(
        "the database already holds {nodes} nodes; load into an empty database, or pass \
         --replace to delete everything in it first"
    )]
    NotEmpty {
        /// Nodes found.
        nodes: u64,
    },
    /// A query failed.
    #[error("{what} failed: {source}")]
    Neo4j {
        /// What was being done.
        what: String,
        /// The driver's error.
        #[source]
        source: neo4rs::Error,
    },
    /// Neo4j answered something the loader did not expect.
    #[error("{0}")]
    Unexpected(String),
    /// A name from the schema cannot be put in a query.
    #[error(transparent)]
    Identifier(#[from] BadIdentifier),
}

fn neo(what: impl Into<String>) -> impl FnOnce(neo4rs::Error) -> LoadError {
    let what = what.into();
    move |source| LoadError::Neo4j { what, source }
}

/// Loads `dataset` into the database `graph` is connected to.
pub async fn load(
    graph: &Graph,
    dataset: Arc<dyn Dataset>,
    options: &LoadOptions,
    progress: &dyn Progress,
) -> Result<LoadReport, LoadError> {
    let started = Instant::now();
    let existing = count(graph, "MATCH (n) RETURN count(n) AS c").await?;
    if existing > 0 {
        if !options.replace {
            return Err(LoadError::NotEmpty { nodes: existing });
        }
        progress.phase("emptying the database", None);
        wipe(graph).await?;
    }
    let schema = dataset.schema();
    progress.phase("creating constraints and indexes", None);
    create_schema(graph, &schema).await?;
    let schema_time = started.elapsed();

    let (tx, mut rx) = mpsc::channel::<Batch>(4);
    let batch_size = options.batch_size.max(1);
    let generator = {
        let dataset = dataset.clone();
        tokio::task::spawn_blocking(move || {
            let mut sink = BatchSink::new(&dataset.schema(), batch_size, tx);
            dataset.generate(&mut sink)?;
            sink.finish()
        })
    };

    let node_count = dataset.node_count();
    let mut ids: Vec<i64> = vec![-1; node_count as usize];
    let mut running: JoinSet<Result<Done, LoadError>> = JoinSet::new();
    let mut limit = options.connections.max(1);
    let mut node_time = Duration::ZERO;
    let mut rel_started = None;
    let mut relationships = 0u64;
    progress.phase("creating nodes", Some(node_count));
    let nodes_started = Instant::now();
    let consumed = async {
        while let Some(batch) = rx.recv().await {
            while running.len() >= limit {
                let done = running.join_next().await.expect("a task runs");
                record(done, &mut ids, &mut relationships, progress)?;
            }
            match batch {
                Batch::Nodes(batch) => {
                    let graph = graph.clone();
                    running.spawn(async move { batch.run(&graph).await });
                }
                Batch::NodesDone => {
                    while let Some(done) = running.join_next().await {
                        record(done, &mut ids, &mut relationships, progress)?;
                    }
                    if let Some(missing) = ids.iter().position(|&id| id < 0) {
                        return Err(LoadError::Unexpected(format!(
                            "Neo4j returned no id for generated node {missing}"
                        )));
                    }
                    node_time = nodes_started.elapsed();
                    // Relationships one batch at a time: concurrent batches that share hub
                    // nodes (every IS batch ends at the same Genre nodes) deadlock in Neo4j's
                    // lock manager. The generator and the parameter encoding still overlap
                    // with the running batch.
                    limit = 1;
                    progress.phase(
                        "creating relationships",
                        Some(dataset.relationship_count_hint()),
                    );
                    rel_started = Some(Instant::now());
                }
                Batch::Rels {
                    rel_type,
                    mut pairs,
                } => {
                    // In store order: neighbouring writes touch the same pages.
                    pairs.sort_unstable_by_key(|&(s, e)| (ids[s as usize], ids[e as usize]));
                    let rows: Vec<BoltType> = pairs
                        .iter()
                        .map(|&(s, e)| BoltType::from(vec![ids[s as usize], ids[e as usize]]))
                        .collect();
                    let graph = graph.clone();
                    let q = format!(
                        "UNWIND $rows AS r MATCH (a) WHERE id(a) = r[0] \
                         MATCH (b) WHERE id(b) = r[1] CREATE (a)-[:{}]->(b) RETURN count(*) AS c",
                        quote("relationship type", rel_type)?
                    );
                    let expected = rows.len() as u64;
                    running.spawn(async move {
                        let what = format!("creating {expected} {rel_type} relationships");
                        let got = rows_of(&graph, query(&q).param("rows", rows), &what).await?;
                        let c: i64 = got
                            .first()
                            .and_then(|r| r.get("c").ok())
                            .unwrap_or_default();
                        if c as u64 != expected {
                            return Err(LoadError::Unexpected(format!(
                                "{what}: Neo4j created {c}"
                            )));
                        }
                        Ok(Done::Rels(expected))
                    });
                }
            }
        }
        while let Some(done) = running.join_next().await {
            record(done, &mut ids, &mut relationships, progress)?;
        }
        Ok(())
    }
    .await;
    // The generator stops when the channel closes; its error matters only if ours is fine.
    drop(rx);
    let generated = generator.await.expect("generators do not panic");
    consumed?;
    generated.map_err(|e| LoadError::Unexpected(format!("the generator failed: {e}")))?;
    Ok(LoadReport {
        nodes: node_count,
        relationships,
        schema: schema_time,
        node_time,
        relationship_time: rel_started.map(|t| t.elapsed()).unwrap_or_default(),
    })
}

fn record(
    done: Result<Result<Done, LoadError>, tokio::task::JoinError>,
    ids: &mut [i64],
    relationships: &mut u64,
    progress: &dyn Progress,
) -> Result<(), LoadError> {
    match done.expect("load tasks do not panic")? {
        Done::Nodes { gids, neo4j } => {
            progress.advance(gids.len() as u64);
            for (g, id) in gids.into_iter().zip(neo4j) {
                ids[g as usize] = id;
            }
        }
        Done::Rels(n) => {
            progress.advance(n);
            *relationships += n;
        }
    }
    Ok(())
}

enum Done {
    Nodes { gids: Vec<i64>, neo4j: Vec<i64> },
    Rels(u64),
}

async fn rows_of(
    graph: &Graph,
    q: neo4rs::Query,
    what: &str,
) -> Result<Vec<neo4rs::Row>, LoadError> {
    rows(graph, q, false).await.map_err(neo(what))
}

async fn count(graph: &Graph, q: &str) -> Result<u64, LoadError> {
    let got = rows_of(graph, query(q), "counting nodes").await?;
    let c: i64 = got
        .first()
        .and_then(|r| r.get("c").ok())
        .unwrap_or_default();
    Ok(c.max(0) as u64)
}

/// Deletes all data, then every constraint and index but the built-in token lookup indexes.
pub async fn wipe(graph: &Graph) -> Result<(), LoadError> {
    // Relationships first, in bounded transactions: a hub's relationships in one node's
    // DETACH DELETE could otherwise exceed the transaction memory.
    for q in [
        "MATCH ()-[r]->() CALL (r) { DELETE r } IN TRANSACTIONS OF 50000 ROWS",
        "MATCH (n) CALL (n) { DELETE n } IN TRANSACTIONS OF 50000 ROWS",
    ] {
        rows_of(graph, query(q), "emptying the database").await?;
    }
    // Constraints first: dropping one also drops the index behind it.
    for (kind, listing) in [
        ("CONSTRAINT", "SHOW CONSTRAINTS YIELD name RETURN name"),
        (
            "INDEX",
            "SHOW INDEXES YIELD name, type WHERE type <> 'LOOKUP' RETURN name",
        ),
    ] {
        for row in rows_of(graph, query(listing), "listing the schema").await? {
            let name: String = row
                .get("name")
                .map_err(|e| LoadError::Unexpected(format!("listing the schema: {e}")))?;
            let drop = format!("DROP {kind} {} IF EXISTS", quote("schema name", &name)?);
            rows_of(graph, query(&drop), &format!("dropping {name}")).await?;
        }
    }
    Ok(())
}

/// Creates the dataset's uniqueness constraints and indexes, and waits until they are online.
pub async fn create_schema(graph: &Graph, schema: &Schema) -> Result<(), LoadError> {
    for p in &schema.properties {
        let label = quote("label", p.label)?;
        let key = quote("property key", p.key)?;
        let q = if p.unique {
            format!("CREATE CONSTRAINT IF NOT EXISTS FOR (n:{label}) REQUIRE n.{key} IS UNIQUE")
        } else if p.indexed {
            format!("CREATE INDEX IF NOT EXISTS FOR (n:{label}) ON (n.{key})")
        } else {
            continue;
        };
        rows_of(
            graph,
            query(&q),
            &format!("creating the schema for {}.{}", p.label, p.key),
        )
        .await?;
    }
    rows_of(
        graph,
        query("CALL db.awaitIndexes(600)"),
        "waiting for indexes",
    )
    .await?;
    Ok(())
}

enum Batch {
    Nodes(NodeBatch),
    NodesDone,
    Rels {
        rel_type: &'static str,
        pairs: Vec<(u64, u64)>,
    },
}

struct NodeBatch {
    query: Arc<String>,
    rows: Vec<BoltType>,
}

impl NodeBatch {
    async fn run(self, graph: &Graph) -> Result<Done, LoadError> {
        let n = self.rows.len();
        let what = format!("creating {n} nodes");
        let got = rows_of(graph, query(&self.query).param("rows", self.rows), &what).await?;
        let row = got
            .first()
            .ok_or_else(|| LoadError::Unexpected(format!("{what}: no result row")))?;
        let gids: Vec<i64> = row
            .get("g")
            .map_err(|e| LoadError::Unexpected(format!("{what}: {e}")))?;
        let neo4j: Vec<i64> = row
            .get("ids")
            .map_err(|e| LoadError::Unexpected(format!("{what}: {e}")))?;
        if gids.len() != n || neo4j.len() != n {
            return Err(LoadError::Unexpected(format!(
                "{what}: Neo4j created {}",
                neo4j.len()
            )));
        }
        Ok(Done::Nodes { gids, neo4j })
    }
}

/// One label set's pending rows.
struct Pending {
    keys: Vec<&'static str>,
    query: Arc<String>,
    rows: Vec<BoltType>,
}

/// Turns the generator's stream into batches for the channel.
struct BatchSink {
    schema: Schema,
    batch_size: usize,
    tx: mpsc::Sender<Batch>,
    nodes: HashMap<Vec<&'static str>, Pending>,
    nodes_done: bool,
    rels: HashMap<&'static str, Vec<(u64, u64)>>,
}

/// The consumer stopped (it failed, and says why).
#[derive(Debug, thiserror::Error)]
#[error("the loader stopped")]
struct Stopped;

impl BatchSink {
    fn new(schema: &Schema, batch_size: usize, tx: mpsc::Sender<Batch>) -> BatchSink {
        BatchSink {
            schema: schema.clone(),
            batch_size,
            tx,
            nodes: HashMap::new(),
            nodes_done: false,
            rels: HashMap::new(),
        }
    }

    fn send(&self, batch: Batch) -> Result<(), SinkError> {
        self.tx
            .blocking_send(batch)
            .map_err(|_| SinkError(Box::new(Stopped)))
    }

    fn pending(&mut self, labels: &[&'static str]) -> Result<&mut Pending, SinkError> {
        if !self.nodes.contains_key(labels) {
            let mut keys: Vec<&'static str> = self
                .schema
                .properties
                .iter()
                .filter(|p| labels.contains(&p.label))
                .map(|p| p.key)
                .collect();
            keys.sort_unstable();
            keys.dedup();
            let bad = |e: BadIdentifier| SinkError(Box::new(e));
            let label_list = labels
                .iter()
                .map(|l| quote("label", l))
                .collect::<Result<Vec<_>, _>>()
                .map_err(bad)?
                .join(":");
            let props = keys
                .iter()
                .enumerate()
                .map(|(i, k)| Ok(format!("{}: r[{i}]", quote("property key", k)?)))
                .collect::<Result<Vec<_>, BadIdentifier>>()
                .map_err(bad)?
                .join(", ");
            let query = format!(
                "UNWIND $rows AS r CREATE (n:{label_list} {{{props}}}) \
                 RETURN collect(r[{}]) AS g, collect(id(n)) AS ids",
                keys.len()
            );
            self.nodes.insert(
                labels.to_vec(),
                Pending {
                    keys,
                    query: Arc::new(query),
                    rows: Vec::new(),
                },
            );
        }
        Ok(self.nodes.get_mut(labels).expect("just inserted"))
    }

    fn flush_nodes(&mut self) -> Result<(), SinkError> {
        let mut batches = Vec::new();
        for pending in self.nodes.values_mut() {
            if !pending.rows.is_empty() {
                batches.push(Batch::Nodes(NodeBatch {
                    query: pending.query.clone(),
                    rows: std::mem::take(&mut pending.rows),
                }));
            }
        }
        for batch in batches {
            self.send(batch)?;
        }
        self.nodes_done = true;
        self.send(Batch::NodesDone)
    }

    fn finish(mut self) -> Result<(), SinkError> {
        if !self.nodes_done {
            self.flush_nodes()?;
        }
        let mut rels: Vec<_> = self.rels.drain().collect();
        rels.sort_by_key(|(t, _)| *t);
        for (rel_type, pairs) in rels {
            if !pairs.is_empty() {
                self.send(Batch::Rels { rel_type, pairs })?;
            }
        }
        Ok(())
    }
}

fn bolt(value: &Value) -> BoltType {
    match value {
        Value::Int(i) => BoltType::from(*i),
        Value::Float(f) => BoltType::from(*f),
        Value::Bool(b) => BoltType::from(*b),
        Value::Str(s) => BoltType::from(s.as_str()),
        Value::StrList(list) => BoltType::from(list.clone()),
    }
}

impl GraphSink for BatchSink {
    fn node(&mut self, node: &Node<'_>) -> Result<(), SinkError> {
        let batch_size = self.batch_size;
        let pending = self.pending(node.labels)?;
        let mut row: Vec<BoltType> = Vec::with_capacity(pending.keys.len() + 1);
        for key in &pending.keys {
            row.push(
                node.properties
                    .iter()
                    .find(|(k, _)| k == key)
                    .map(|(_, v)| bolt(v))
                    .unwrap_or(BoltType::Null(BoltNull)),
            );
        }
        row.push(BoltType::from(node.id as i64));
        pending.rows.push(BoltType::from(row));
        if pending.rows.len() >= batch_size {
            let batch = Batch::Nodes(NodeBatch {
                query: pending.query.clone(),
                rows: std::mem::take(&mut pending.rows),
            });
            self.send(batch)?;
        }
        Ok(())
    }

    fn relationship(&mut self, rel: Relationship) -> Result<(), SinkError> {
        if !self.nodes_done {
            self.flush_nodes()?;
        }
        let pairs = self.rels.entry(rel.rel_type).or_default();
        pairs.push((rel.start, rel.end));
        if pairs.len() >= self.batch_size {
            let pairs = std::mem::take(pairs);
            self.send(Batch::Rels {
                rel_type: rel.rel_type,
                pairs,
            })?;
        }
        Ok(())
    }
}

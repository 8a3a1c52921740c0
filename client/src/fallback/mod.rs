//! The Cypher fallback (feature `cypher-fallback`): the same questions asked of Neo4j through
//! APOC and Cypher, for when the sidecar is unreachable.
//!
//! A [`Fallback`] answers a [`TraverseRequest`] with `apoc.path.expandConfig` (its `where` as a
//! Cypher `WHERE` on each path's end node, its `return` form as Cypher aggregation), a
//! [`NeighborsRequest`] through [`NeighborsRequest::to_traversal`], and a
//! [`ShortestPathRequest`] with Cypher's `shortestPath` / `allShortestPaths`. Answers have the
//! sidecar's shapes, with [`Stats::answered_by`] set to [`AnsweredBy::CypherFallback`]. Every
//! query runs in a read transaction (Bolt access mode `r`), so Neo4j refuses any write.
//!
//! Give one to [`ClientBuilder::fallback`](crate::ClientBuilder::fallback) and the client uses it
//! when the sidecar cannot be reached; or call it directly.
//!
//! ```no_run
//! # async fn run() -> Result<(), neotrav_client::ClientError> {
//! use neotrav_client::fallback::Fallback;
//! use neotrav_wire::{ReturnForm, TraverseRequest, Uniqueness};
//!
//! let fallback = Fallback::connect("127.0.0.1:7687", "neo4j", "password")?;
//! let mut request = TraverseRequest::from_start(0u64);
//! request.relationship_filter = Some("CHILD_A>|CHILD_B>".into());
//! request.uniqueness = Uniqueness::NodeGlobal;
//! request.return_form = ReturnForm::Count;
//! let response = fallback.traverse(&request).await?;
//! println!("{:?}", response.answer);
//! # Ok(()) }
//! ```
//!
//! # How close the answers are
//!
//! The engine matches `apoc.path.expandConfig` (see `traverser/README.md`), so where APOC's
//! answer does not depend on the order the store returns relationships, the fallback's answer
//! equals the sidecar's (on a graph unchanged since the snapshot): the same end-node set, count,
//! groups and path set. `client/tests/fallback.rs` checks this on random graphs. The
//! differences:
//!
//! - **Order.** `nodes` come in the order APOC first reached them and `paths` in APOC's order;
//!   the engine's order within a level can differ. Compare them as sets. Groups are ordered as
//!   the engine orders them (numbers, booleans, strings, then `null`).
//! - **Order-dependent requests are refused** (a [`ClientError::Unsupported`] naming the
//!   field), because the fallback would pick different nodes: `uniqueness` `NODE_LEVEL`,
//!   `RELATIONSHIP_LEVEL` and `RELATIONSHIP_GLOBAL`, and depth-first `NODE_GLOBAL` whenever
//!   depth matters (a `maxLevel`, a `minLevel` above 1, a sequence or multi-step filter).
//!   [`Fallback::allow_order_dependent`] lets them through, answered by APOC.
//! - **Routes under `NODE_GLOBAL`.** Each node is reached by one path, and which route (which
//!   of two parallel relationships, which parent at the same depth) follows the relationship
//!   order, the snapshot's or the store's: the nodes agree, their paths can differ.
//! - **`limit`** is honoured (at most that many paths pass `where`, as in the engine), but
//!   which paths come first follows the store's order, so the answer is a subset of the
//!   unlimited one that can differ from the sidecar's subset.
//! - **Not expressible, refused:** `expandByLabel` (APOC has no per-label expansion), `*` in a
//!   filter (APOC ignores it or reads a type named `*`), backtick-quoted names in a filter (APOC
//!   reads `<`/`>` inside them as directions), node lists given by key or label (as the sidecar
//!   refuses them), and shortest-path filters that mix directions or use `,` sequences.
//! - **Budgets.** `budget.maxDepth` caps `maxLevel`; `budget.deadlineMs` bounds the whole
//!   fallback call (past it the call fails, even with `onExceed: partial`, since APOC cannot
//!   hand back a partial answer); `budget.maxVisited` is not enforced (APOC cannot count
//!   visits), so `stats.nodesVisited` is 0.
//! - **Consistency.** The fallback reads the live graph, whatever `consistency` says, and reads
//!   any property key, exported into the snapshot or not. A shortest path (not `all`) may be a
//!   different path of the same length. A path from a node to itself has length 0, as in the
//!   engine (Cypher refuses to ask).
//! - Strings compare by Neo4j's UTF-16 order, which differs from the engine's only outside the
//!   Basic Multilingual Plane.

//!
//! # Modules
//!
//! - [`translate`]: requests into Cypher text and parameters, and the checks that refuse what
//!   cannot be answered as the sidecar would; pure, testable without Neo4j;
//! - [`answers`]: rows back into the sidecar's answer shapes, and APOC's reference answers the
//!   differential suites compare the engine with.

use std::time::{Duration, Instant};

use neo4rs::{Graph, Query, Row};
use serde_json::json;

use crate::ClientError;
use crate::wire::{
    Answer, AnsweredBy, NeighborsRequest, NodeSelector, Path, ReturnForm, ShortestPathRequest,
    ShortestPathResponse, Stats, TraverseRequest, TraverseResponse,
};

pub mod answers;
pub mod translate;

pub use answers::{apoc_groups, apoc_paths};
use answers::{bad_row, group, path};
use translate::{
    Rows, ShortestPattern, check_traversal, cypher_scalar, direct_id, expand_query, query, quote,
};

/// Answers requests with Cypher and APOC on a Neo4j server, in read transactions.
///
/// Clones share the driver's connection pool.
#[derive(Clone)]
pub struct Fallback {
    graph: Graph,
    allow_order_dependent: bool,
}

impl std::fmt::Debug for Fallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fallback")
            .field("allow_order_dependent", &self.allow_order_dependent)
            .finish_non_exhaustive()
    }
}

impl Fallback {
    /// A fallback over a connected driver. Its queries run as read transactions; give it a
    /// read-only user where the server allows one.
    pub fn new(graph: Graph) -> Fallback {
        Fallback {
            graph,
            allow_order_dependent: false,
        }
    }

    /// A driver for Neo4j at `uri` (`host:port` or `bolt://host:port`); it connects on first
    /// use, so a server that is down fails the first query, not this.
    pub fn connect(uri: &str, user: &str, password: &str) -> Result<Fallback, ClientError> {
        use neotrav_neo4j::connect::{Connection, Password};
        let graph = Connection::new(uri, user, Password::new(password))
            .graph()
            .map_err(|e| ClientError::Fallback {
                message: e.to_string(),
            })?;
        Ok(Fallback::new(graph))
    }

    /// Whether to answer requests whose answer depends on the store's relationship order (see
    /// the [module documentation](self)); refused by default.
    pub fn allow_order_dependent(mut self, allow: bool) -> Fallback {
        self.allow_order_dependent = allow;
        self
    }

    /// Answers a traversal with `apoc.path.expandConfig`.
    pub async fn traverse(&self, r: &TraverseRequest) -> Result<TraverseResponse, ClientError> {
        check_traversal(r, self.allow_order_dependent)?;
        let started = Instant::now();
        let mut trips = Trips::default();
        let work = async {
            let starts = resolve_starts(&self.graph, r, &mut trips).await?;
            expand(&self.graph, r, &starts, &mut trips).await
        };
        let answer = within_deadline(r.budget.deadline_ms, work).await?;
        Ok(TraverseResponse {
            answer,
            partial: false,
            stats: trips.stats(started),
        })
    }

    /// Runs a Cypher statement on Neo4j in a read transaction
    /// ([`neotrav_neo4j::forward::forward`]), as `POST /v1/cypher` would forward it: answered
    /// by Neo4j, `forwarded_because` saying the sidecar was unreachable, values in the plain
    /// encoding. Element ids are Neo4j's.
    pub async fn cypher(
        &self,
        r: &neotrav_wire::cypher::CypherRequest,
    ) -> Result<neotrav_wire::cypher::CypherResponse, ClientError> {
        use neotrav_wire::cypher::{
            CypherAnsweredBy, CypherData, CypherResponse, CypherStats, Encoding, Value,
        };
        let started = Instant::now();
        let failed = |e: neotrav_neo4j::forward::ForwardError| ClientError::Fallback {
            message: e.to_string(),
        };
        let params = r
            .parameters
            .iter()
            .map(|(k, v)| {
                Value::from_parameter(v)
                    .map(|v| (k.clone(), v))
                    .map_err(|e| ClientError::Fallback {
                        message: format!("parameter ${k}: {e}"),
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let work = async {
            let database_id = neotrav_neo4j::forward::database_id(&self.graph)
                .await
                .map_err(failed)?
                .unwrap_or_default();
            neotrav_neo4j::forward::forward(&self.graph, &database_id, &r.statement, &params)
                .await
                .map_err(failed)
        };
        let deadline = r.budget.as_ref().and_then(|b| b.deadline_ms);
        let answer = within_deadline(deadline, work).await?;
        Ok(CypherResponse {
            data: CypherData {
                values: answer
                    .rows
                    .iter()
                    .map(|row| row.iter().map(|v| v.encode(Encoding::Plain)).collect())
                    .collect(),
                fields: answer.fields,
            },
            answered_by: CypherAnsweredBy::Neo4j,
            forwarded_because: Some(
                "the sidecar was unreachable: the client's Cypher fallback ran it on Neo4j".into(),
            ),
            bookmarks: Vec::new(),
            counters: None,
            stats: CypherStats {
                rows: answer.rows.len() as u64,
                elapsed_us: u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
                warnings: Vec::new(),
            },
            plan: None,
        })
    }

    /// Answers a one-hop request as the traversal [`NeighborsRequest::to_traversal`] gives.
    pub async fn neighbors(&self, r: &NeighborsRequest) -> Result<TraverseResponse, ClientError> {
        self.traverse(&r.to_traversal()).await
    }

    /// Answers a shortest-path request with Cypher's `shortestPath` or `allShortestPaths`.
    pub async fn shortest_path(
        &self,
        r: &ShortestPathRequest,
    ) -> Result<ShortestPathResponse, ClientError> {
        let pattern = ShortestPattern::new(r)?;
        let started = Instant::now();
        let mut trips = Trips::default();
        let work = async {
            let from = single_node(&self.graph, "from", &r.from, &mut trips).await?;
            let to = single_node(&self.graph, "to", &r.to, &mut trips).await?;
            if from == to {
                return Ok(vec![Path {
                    nodes: vec![from],
                    relationships: Vec::new(),
                    types: Vec::new(),
                }]);
            }
            let Some(q) = pattern.query(from, to) else {
                return Ok(Vec::new());
            };
            trips.rows(&self.graph, q).await?.iter().map(path).collect()
        };
        let paths = within_deadline(r.budget.deadline_ms, work).await?;
        Ok(ShortestPathResponse {
            length: paths.first().map(|p| p.relationships.len() as u32),
            paths,
            partial: false,
            stats: trips.stats(started),
        })
    }
}

/// Cypher round trips and their time.
#[derive(Default)]
struct Trips {
    count: u64,
    time: Duration,
}

impl Trips {
    async fn rows(&mut self, graph: &Graph, q: Query) -> Result<Vec<Row>, ClientError> {
        let started = Instant::now();
        let out = read_rows(graph, q).await;
        self.count += 1;
        self.time += started.elapsed();
        out
    }

    fn stats(&self, started: Instant) -> Stats {
        Stats {
            cypher_round_trips: self.count,
            cypher_ms: self.time.as_secs_f64() * 1e3,
            elapsed_ms: started.elapsed().as_secs_f64() * 1e3,
            answered_by: AnsweredBy::CypherFallback,
            ..Stats::default()
        }
    }
}

/// Runs a query in a read transaction and collects its rows.
pub(crate) async fn read_rows(graph: &Graph, q: Query) -> Result<Vec<Row>, ClientError> {
    neotrav_neo4j::cypher::rows(graph, q, true)
        .await
        .map_err(|e| neo4j_error(&e))
}

fn neo4j_error(e: &neo4rs::Error) -> ClientError {
    ClientError::Fallback {
        message: e.to_string(),
    }
}

async fn within_deadline<T>(
    deadline_ms: Option<u64>,
    work: impl Future<Output = Result<T, ClientError>>,
) -> Result<T, ClientError> {
    match deadline_ms {
        None => work.await,
        Some(ms) => tokio::time::timeout(Duration::from_millis(ms), work)
            .await
            .unwrap_or_else(|_| {
                Err(ClientError::Fallback {
                    message: format!("budget.deadlineMs: not answered within {ms} ms"),
                })
            }),
    }
}

pub(crate) fn unsupported(field: &str, message: impl Into<String>) -> ClientError {
    ClientError::Unsupported {
        field: field.to_string(),
        message: message.into(),
    }
}

/// The answer for a checked request from resolved starts.
async fn expand(
    graph: &Graph,
    r: &TraverseRequest,
    starts: &[u64],
    trips: &mut Trips,
) -> Result<Answer, ClientError> {
    let rows = match r.return_form {
        ReturnForm::Nodes => Rows::Ends,
        ReturnForm::Paths => Rows::Paths,
        ReturnForm::Count => Rows::Count,
        ReturnForm::GroupBy { .. } => Rows::Values,
    };
    let (text, params) = expand_query(r, starts, rows)?;
    let found = trips.rows(graph, query(&text, params)).await?;
    Ok(match rows {
        Rows::Paths => Answer::Paths(found.iter().map(path).collect::<Result<_, _>>()?),
        Rows::Ends => {
            let mut seen = std::collections::HashSet::new();
            let mut out = Vec::new();
            for row in &found {
                let id: i64 = row.get("id").map_err(|e| bad_row("id", &e))?;
                if seen.insert(id) {
                    out.push(id as u64);
                }
            }
            Answer::Nodes(out)
        }
        Rows::Count => {
            let c: i64 = found
                .first()
                .ok_or_else(|| bad_row("c", &"no row"))?
                .get("c")
                .map_err(|e| bad_row("c", &e))?;
            Answer::Count(c as u64)
        }
        Rows::Values => Answer::Groups(group(&found)?),
    })
}

/// The node ids of the selectors, each in request order (key and label selectors in id
/// order), in one query for ids and one per key or label selector; an unknown id fails.
async fn nodes_of(
    graph: &Graph,
    field: &str,
    selectors: &[NodeSelector],
    trips: &mut Trips,
) -> Result<Vec<Vec<u64>>, ClientError> {
    let mut out = Vec::with_capacity(selectors.len());
    let mut direct = Vec::new();
    for (i, s) in selectors.iter().enumerate() {
        let field = format!("{field}[{i}]");
        match direct_id(&field, s)? {
            Some(id) => {
                direct.push(id);
                out.push(vec![id]);
            }
            None => {
                let (text, params) = match s {
                    NodeSelector::Key { label, key, value } => (
                        format!(
                            "MATCH (n:{}) WHERE n[$key] = $value RETURN id(n) AS id ORDER BY id",
                            quote(&format!("{field}.label"), label)?
                        ),
                        json!({"key": key, "value": cypher_scalar(value)}),
                    ),
                    _ => {
                        let NodeSelector::Label { label } = s else {
                            unreachable!("ids are direct")
                        };
                        (
                            format!(
                                "MATCH (n:{}) RETURN id(n) AS id ORDER BY id",
                                quote(&format!("{field}.label"), label)?
                            ),
                            json!({}),
                        )
                    }
                };
                let rows = trips.rows(graph, query(&text, params)).await?;
                let ids = rows
                    .iter()
                    .map(|r| r.get::<i64>("id").map(|x| x as u64))
                    .collect::<Result<_, _>>()
                    .map_err(|e| bad_row("id", &e))?;
                out.push(ids);
            }
        }
    }
    if !direct.is_empty() {
        let q = query(
            "UNWIND $ids AS i OPTIONAL MATCH (n) WHERE id(n) = i \
             WITH i, n WHERE n IS NULL RETURN i LIMIT 1",
            json!({ "ids": direct }),
        );
        if let Some(row) = trips.rows(graph, q).await?.first() {
            let i: i64 = row.get("i").map_err(|e| bad_row("i", &e))?;
            return Err(ClientError::Fallback {
                message: format!("{field}: there is no node {i}"),
            });
        }
    }
    Ok(out)
}

async fn resolve_starts(
    graph: &Graph,
    r: &TraverseRequest,
    trips: &mut Trips,
) -> Result<Vec<u64>, ClientError> {
    Ok(nodes_of(graph, "start", r.start.as_slice(), trips)
        .await?
        .into_iter()
        .flatten()
        .collect())
}

async fn single_node(
    graph: &Graph,
    field: &str,
    s: &NodeSelector,
    trips: &mut Trips,
) -> Result<u64, ClientError> {
    let found = nodes_of(graph, field, std::slice::from_ref(s), trips).await?;
    match found.first().map(Vec::as_slice) {
        Some([one]) => Ok(*one),
        Some(more) => Err(unsupported(
            field,
            format!("names {} nodes, not one", more.len()),
        )),
        None => Err(unsupported(field, "names no node")),
    }
}

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
//! use neotrav_client::wire::{ReturnForm, TraverseRequest, Uniqueness};
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

use std::time::{Duration, Instant};

use neo4rs::{BoltList, BoltMap, BoltString, BoltType, Graph, Query, Row};
use serde_json::{Map, Value, json};

use crate::ClientError;
use crate::wire::{
    Answer, AnsweredBy, Groups, NeighborsRequest, NodeSelector, OneOrMany, Op, Path, Predicate,
    ReturnForm, Scalar, ShortestPathRequest, ShortestPathResponse, Stats, TraverseRequest,
    TraverseResponse, Uniqueness,
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
        let graph = Graph::new(uri, user, password).map_err(|e| neo4j_error(&e))?;
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
pub async fn read_rows(graph: &Graph, q: Query) -> Result<Vec<Row>, ClientError> {
    let mut stream = graph.execute_read(q).await.map_err(|e| neo4j_error(&e))?;
    let mut out = Vec::new();
    while let Some(row) = stream.next().await.map_err(|e| neo4j_error(&e))? {
        out.push(row);
    }
    Ok(out)
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

fn unsupported(field: &str, message: impl Into<String>) -> ClientError {
    ClientError::Unsupported {
        field: field.to_string(),
        message: message.into(),
    }
}

/// A JSON value as a Bolt parameter.
///
/// ```
/// use neotrav_client::fallback::bolt;
///
/// let p = bolt(&serde_json::json!({"ids": [1, 2], "name": "x", "ratio": 0.5}));
/// assert!(matches!(p, neo4rs::BoltType::Map(_)));
/// ```
pub fn bolt(v: &Value) -> BoltType {
    match v {
        Value::Null => BoltType::Null(neo4rs::BoltNull),
        Value::Bool(b) => BoltType::from(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => BoltType::from(i),
            None => BoltType::from(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => BoltType::String(BoltString::from(s.as_str())),
        Value::Array(a) => {
            let mut l = BoltList::new();
            for x in a {
                l.push(bolt(x));
            }
            BoltType::List(l)
        }
        Value::Object(o) => {
            let mut m = BoltMap::new();
            for (k, x) in o {
                m.put(BoltString::from(k.as_str()), bolt(x));
            }
            BoltType::Map(m)
        }
    }
}

/// A query with its parameters, from JSON.
///
/// ```
/// let q = neotrav_client::fallback::query("RETURN $x", serde_json::json!({"x": 1}));
/// # let _ = q;
/// ```
pub fn query(text: &str, params: Value) -> Query {
    let mut q = neo4rs::query(text);
    if let Value::Object(m) = params {
        for (k, v) in m {
            q = q.param(&k, bolt(&v));
        }
    }
    q
}

/// A name as a backtick-quoted Cypher identifier (a backtick inside is doubled); an empty name
/// is refused, naming `field`.
///
/// ```
/// use neotrav_client::fallback::quote;
///
/// assert_eq!(quote("label", "Artist").unwrap(), "`Artist`");
/// assert_eq!(quote("label", "we`ird").unwrap(), "`we``ird`");
/// assert!(quote("label", "").is_err());
/// ```
pub fn quote(field: &str, name: &str) -> Result<String, ClientError> {
    if name.is_empty() || name.contains('\0') {
        return Err(unsupported(field, "a name must be non-empty text"));
    }
    Ok(format!("`{}`", name.replace('`', "``")))
}

/// The node id in a Neo4j 5 element id (`4:<database uuid>:<id>`), as the engine reads it.
///
/// ```
/// use neotrav_client::fallback::element_id;
///
/// assert_eq!(element_id("4:c0a8:7"), Some(7));
/// assert_eq!(element_id("5:c0a8:7"), None);
/// ```
pub fn element_id(e: &str) -> Option<u64> {
    let mut parts = e.split(':');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("4"), Some(_), Some(id), None) => id.parse().ok(),
        _ => None,
    }
}

fn direct_id(field: &str, s: &NodeSelector) -> Result<Option<u64>, ClientError> {
    match s {
        NodeSelector::Id(id) => Ok(Some(*id)),
        NodeSelector::ElementId(e) => element_id(e).map(Some).ok_or_else(|| {
            unsupported(
                field,
                format!("`{e}` is not a Neo4j 5 element id (`4:<database uuid>:<id>`)"),
            )
        }),
        NodeSelector::Key { .. } | NodeSelector::Label { .. } => Ok(None),
    }
}

/// Whether the fallback can answer `r` as the engine would; the error names the field.
///
/// ```
/// use neotrav_client::fallback::check_traversal;
/// use neotrav_client::wire::TraverseRequest;
/// use std::collections::BTreeMap;
///
/// let mut r = TraverseRequest::from_start(0u64);
/// r.relationship_filter = Some("KNOWS>".into());
/// assert!(check_traversal(&r, false).is_ok());
/// r.expand_by_label = Some(BTreeMap::from([("A".to_string(), "CHILD_A>".to_string())]));
/// let e = check_traversal(&r, false).unwrap_err();
/// assert!(e.to_string().contains("expandByLabel"));
/// ```
pub fn check_traversal(
    r: &TraverseRequest,
    allow_order_dependent: bool,
) -> Result<(), ClientError> {
    if r.expand_by_label.is_some() {
        return Err(unsupported(
            "expandByLabel",
            "APOC has no per-label expansion; ask the sidecar",
        ));
    }
    for (field, v) in [
        ("minLevel", r.min_level),
        ("maxLevel", r.max_level),
        ("limit", r.limit),
    ] {
        if v < -1 {
            return Err(unsupported(field, format!("{v}: use -1 or 0 and up")));
        }
    }
    for (field, f) in [
        ("relationshipFilter", &r.relationship_filter),
        ("labelFilter", &r.label_filter),
        ("sequence", &r.sequence),
    ] {
        if let Some(f) = f {
            if f.contains('*') {
                return Err(unsupported(
                    field,
                    "APOC does not read `*` as the engine does (any label or type)",
                ));
            }
            if f.contains('`') {
                return Err(unsupported(
                    field,
                    "APOC does not read backtick-quoted names as the engine does",
                ));
            }
        }
    }
    if !allow_order_dependent {
        let level = matches!(
            r.uniqueness,
            Uniqueness::NodeLevel | Uniqueness::RelationshipLevel | Uniqueness::RelationshipGlobal
        );
        if level {
            return Err(unsupported(
                "uniqueness",
                "this rule's answer depends on the store's relationship order, so APOC's can differ from the sidecar's",
            ));
        }
        if r.uniqueness == Uniqueness::NodeGlobal && !r.bfs && depth_matters(r) {
            return Err(unsupported(
                "bfs",
                "depth-first NODE_GLOBAL reaches nodes at depths that depend on the store's relationship order, and this request depends on depth",
            ));
        }
    }
    Ok(())
}

/// Whether a depth-first `NODE_GLOBAL` answer depends on the depth a node is first reached at.
fn depth_matters(r: &TraverseRequest) -> bool {
    let steps = |f: &Option<String>| f.as_deref().is_some_and(|f| f.contains(','));
    r.max_level != -1
        || r.budget.max_depth.is_some()
        || r.min_level > 1
        || r.sequence.is_some()
        || !r.begin_sequence_at_start
        || steps(&r.relationship_filter)
        || steps(&r.label_filter)
}

/// A filter with the whitespace around its `,` and `|` separators trimmed, as the engine reads it.
fn trimmed(f: &str) -> String {
    f.split(',')
        .map(|step| step.split('|').map(str::trim).collect::<Vec<_>>().join("|"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The APOC config map of a request: its APOC keys, node lists as ids, `maxLevel` capped by
/// `budget.maxDepth`; neotrav's own keys left out.
///
/// ```
/// use neotrav_client::fallback::apoc_config;
/// use neotrav_client::wire::TraverseRequest;
///
/// let mut r = TraverseRequest::from_start(0u64);
/// r.label_filter = Some("+A | >B".into());
/// r.end_nodes = vec![7u64.into()];
/// let c = apoc_config(&r).unwrap();
/// assert_eq!(c["labelFilter"], "+A|>B");
/// assert_eq!(c["endNodes"], serde_json::json!([7]));
/// assert_eq!(c["uniqueness"], "RELATIONSHIP_PATH");
/// ```
pub fn apoc_config(r: &TraverseRequest) -> Result<Value, ClientError> {
    let ids = |field: &str, l: &[NodeSelector]| -> Result<Value, ClientError> {
        l.iter()
            .map(|s| {
                direct_id(field, s)?.map(|id| json!(id)).ok_or_else(|| {
                    unsupported(
                        field,
                        "node lists take node ids or element ids, not key lookups",
                    )
                })
            })
            .collect()
    };
    let max_level = match (r.max_level, r.budget.max_depth) {
        (-1, Some(d)) => i64::from(d),
        (m, Some(d)) => m.min(i64::from(d)),
        (m, None) => m,
    };
    let mut c = json!({
        "minLevel": r.min_level, "maxLevel": max_level, "bfs": r.bfs, "limit": r.limit,
        "filterStartNode": r.filter_start_node, "beginSequenceAtStart": r.begin_sequence_at_start,
        "uniqueness": serde_json::to_value(r.uniqueness).unwrap_or(Value::Null),
    });
    let m = c.as_object_mut().expect("an object");
    for (k, v) in [
        ("relationshipFilter", &r.relationship_filter),
        ("labelFilter", &r.label_filter),
        ("sequence", &r.sequence),
    ] {
        if let Some(v) = v {
            m.insert(k.into(), json!(trimmed(v)));
        }
    }
    for (k, l) in [
        ("endNodes", &r.end_nodes),
        ("terminatorNodes", &r.terminator_nodes),
        ("allowlistNodes", &r.allowlist_nodes),
        ("denylistNodes", &r.denylist_nodes),
    ] {
        if !l.is_empty() {
            m.insert(k.into(), ids(k, l)?);
        }
    }
    Ok(c)
}

/// A request value as a Cypher parameter.
pub fn cypher_scalar(s: &Scalar) -> Value {
    serde_json::to_value(s).unwrap_or(Value::Null)
}

/// The `where` predicates as a Cypher condition on the node `n`, with their labels, keys and
/// values as parameters (`$w0`, `$wl0`, `$wk0`, ...), all of which must hold. A node without a
/// predicate's label fails it; a null property satisfies only `IS NULL`; values of different
/// types never compare (`<>` included), but ints and floats compare as numbers.
///
/// ```
/// use neotrav_client::fallback::cypher_where;
/// use neotrav_client::wire::{OneOrMany, Op, Predicate, Scalar};
///
/// let mut params = serde_json::Map::new();
/// let p = Predicate { label: Some("B".into()), key: "flag".into(), op: Op::Eq,
///                     value: Some(OneOrMany::One(Scalar::Bool(true))) };
/// let c = cypher_where(&[p], &mut params);
/// assert_eq!(c, "true AND ($wl0 IN labels(n) AND coalesce(n[$wk0] = $w0, false))");
/// assert_eq!(params["w0"], true);
/// assert_eq!(params["wl0"], "B");
/// ```
pub fn cypher_where(preds: &[Predicate], params: &mut Map<String, Value>) -> String {
    let mut parts = vec!["true".to_string()];
    for (i, p) in preds.iter().enumerate() {
        let v = format!("$w{i}");
        if let Some(value) = &p.value {
            params.insert(
                format!("w{i}"),
                match value {
                    OneOrMany::One(s) => cypher_scalar(s),
                    OneOrMany::Many(l) => l.iter().map(cypher_scalar).collect(),
                },
            );
        }
        params.insert(format!("wk{i}"), json!(p.key));
        let prop = format!("n[$wk{i}]");
        let test = match p.op {
            Op::Eq => format!("{prop} = {v}"),
            // `<>` is true across types in Cypher; the engine's is false, as `<` and `>` are.
            Op::Ne => format!("({prop} < {v} OR {prop} > {v})"),
            Op::Lt => format!("{prop} < {v}"),
            Op::Le => format!("{prop} <= {v}"),
            Op::Gt => format!("{prop} > {v}"),
            Op::Ge => format!("{prop} >= {v}"),
            Op::In => format!("{prop} IN {v}"),
            Op::IsNull => format!("{prop} IS NULL"),
            Op::IsNotNull => format!("{prop} IS NOT NULL"),
        };
        let test = match &p.label {
            // A node without the label does not satisfy the predicate.
            Some(l) => {
                params.insert(format!("wl{i}"), json!(l));
                format!("($wl{i} IN labels(n) AND coalesce({test}, false))")
            }
            None => format!("coalesce({test}, false)"),
        };
        parts.push(test);
    }
    parts.join(" AND ")
}

/// What [`expand_query`] returns per row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rows {
    /// `nodes`, `rels`, `types`: one row per distinct path.
    Paths,
    /// `id`: the end node of each path (repeated when several paths end there).
    Ends,
    /// `c`: the number of distinct end nodes.
    Count,
    /// `v`: the group-by value of each distinct end node.
    Values,
}

/// The `apoc.path.expandConfig` query for `r` from the node ids `starts`: distinct paths whose
/// end node `n` passes `where`, at most `limit` of them, shaped as `rows` says.
///
/// ```
/// use neotrav_client::fallback::{Rows, expand_query};
/// use neotrav_client::wire::TraverseRequest;
///
/// let mut r = TraverseRequest::from_start(0u64);
/// r.limit = 3;
/// let (text, params) = expand_query(&r, &[0], Rows::Count).unwrap();
/// assert!(text.starts_with("CALL apoc.path.expandConfig($starts, $cfg)"));
/// assert!(text.contains("LIMIT $limit"));
/// assert_eq!(params["cfg"]["limit"], -1);
/// assert_eq!(params["limit"], 3);
/// ```
pub fn expand_query(
    r: &TraverseRequest,
    starts: &[u64],
    rows: Rows,
) -> Result<(String, Value), ClientError> {
    let mut params = Map::new();
    let filter = cypher_where(&r.predicates, &mut params);
    params.insert("starts".into(), json!(starts));
    // The engine's limit counts paths that pass `where`, so it is applied after it.
    let mut cfg = apoc_config(r)?;
    cfg["limit"] = json!(-1);
    params.insert("cfg".into(), cfg);
    let limit = if r.limit >= 0 {
        params.insert("limit".into(), json!(r.limit));
        " WITH path, n LIMIT $limit"
    } else {
        ""
    };
    let ret = match rows {
        Rows::Paths => {
            "RETURN [x IN nodes(path) | id(x)] AS nodes, [x IN relationships(path) | id(x)] AS rels, \
             [x IN relationships(path) | type(x)] AS types"
                .to_string()
        }
        Rows::Ends => "RETURN id(n) AS id".to_string(),
        Rows::Count => "RETURN count(DISTINCT n) AS c".to_string(),
        Rows::Values => {
            let ReturnForm::GroupBy { key, label } = &r.return_form else {
                return Err(unsupported("return", "values are read for groupBy only"));
            };
            params.insert("gk".into(), json!(key));
            match label {
                Some(l) => {
                    params.insert("gl".into(), json!(l));
                    "WITH DISTINCT n RETURN CASE WHEN $gl IN labels(n) THEN n[$gk] END AS v".into()
                }
                None => "WITH DISTINCT n RETURN n[$gk] AS v".into(),
            }
        }
    };
    // APOC returns a path twice when one step names a relationship twice (`T|T>`, or a loop
    // under `T>|<T`); the engine once.
    let text = format!(
        "CALL apoc.path.expandConfig($starts, $cfg) YIELD path WITH DISTINCT path \
         WITH path, last(nodes(path)) AS n WHERE {filter}{limit} {ret}"
    );
    Ok((text, Value::Object(params)))
}

fn ids(row: &Row, key: &str) -> Result<Vec<u64>, ClientError> {
    let v: Vec<i64> = row.get(key).map_err(|e| bad_row(key, &e))?;
    Ok(v.into_iter().map(|x| x as u64).collect())
}

fn bad_row(key: &str, e: &impl std::fmt::Display) -> ClientError {
    ClientError::Fallback {
        message: format!("Neo4j's answer has no readable `{key}`: {e}"),
    }
}

fn path(row: &Row) -> Result<Path, ClientError> {
    Ok(Path {
        nodes: ids(row, "nodes")?,
        relationships: ids(row, "rels")?,
        types: row.get("types").map_err(|e| bad_row("types", &e))?,
    })
}

/// APOC's paths for `r` from `starts` (node ids): every distinct path whose end node passes
/// `where`, at most `limit`, in APOC's order.
pub async fn apoc_paths(
    graph: &Graph,
    r: &TraverseRequest,
    starts: &[u64],
) -> Result<Vec<Path>, ClientError> {
    let (text, params) = expand_query(r, starts, Rows::Paths)?;
    read_rows(graph, query(&text, params))
        .await?
        .iter()
        .map(path)
        .collect()
}

/// The `groupBy` answer for `r` from `starts`: the distinct end nodes of APOC's paths counted
/// per value, keyed and ordered as the engine keys and orders them.
pub async fn apoc_groups(
    graph: &Graph,
    r: &TraverseRequest,
    starts: &[u64],
) -> Result<Groups, ClientError> {
    let (text, params) = expand_query(r, starts, Rows::Values)?;
    let rows = read_rows(graph, query(&text, params)).await?;
    group(&rows)
}

fn group(rows: &[Row]) -> Result<Groups, ClientError> {
    // (kind, numeric value, integer, text): numbers, then booleans, then strings.
    let mut values: Vec<((u8, f64, i64, String), String)> = Vec::new();
    let mut nulls = 0;
    for row in rows {
        let v: BoltType = row.get("v").map_err(|e| bad_row("v", &e))?;
        let entry = match v {
            BoltType::Null(_) => {
                nulls += 1;
                continue;
            }
            BoltType::Integer(i) => (
                (0, i.value as f64, i.value, String::new()),
                i.value.to_string(),
            ),
            BoltType::Float(x) => ((0, x.value, 0, String::new()), format!("{:?}", x.value)),
            BoltType::Boolean(b) => (
                (1, 0.0, i64::from(b.value), String::new()),
                b.value.to_string(),
            ),
            BoltType::String(s) => ((2, 0.0, 0, s.value.clone()), s.value),
            other => {
                return Err(unsupported(
                    "return.groupBy",
                    format!("a value the engine cannot group by: {other:?}"),
                ));
            }
        };
        values.push(entry);
    }
    // Ints and floats are separate groups (1 and 1.0), as in the engine.
    values.sort_by(|(a, ta), (b, tb)| {
        a.0.cmp(&b.0)
            .then(a.1.total_cmp(&b.1))
            .then(a.2.cmp(&b.2))
            .then(a.3.cmp(&b.3))
            .then(ta.cmp(tb))
    });
    let mut out: Vec<(String, u64)> = Vec::new();
    let mut last: Option<&(u8, f64, i64, String)> = None;
    for (k, text) in &values {
        let same = last.is_some_and(|l| {
            l.0 == k.0 && l.1.to_bits() == k.1.to_bits() && l.2 == k.2 && l.3 == k.3
        }) && out.last().is_some_and(|(t, _)| t == text);
        if same {
            out.last_mut().expect("a group").1 += 1;
        } else {
            out.push((text.clone(), 1));
        }
        last = Some(k);
    }
    if nulls > 0 {
        out.push(("null".into(), nulls));
    }
    Ok(Groups(out))
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    Out,
    In,
    Both,
}

/// A shortest-path request as a Cypher pattern.
struct ShortestPattern {
    /// `-`/`->` or `<-`/`-`.
    arrows: (&'static str, &'static str),
    /// `:A|B`, or nothing for any type.
    types: String,
    /// The longest path (`None`: no bound).
    max: Option<u64>,
    all: bool,
}

impl ShortestPattern {
    fn new(r: &ShortestPathRequest) -> Result<ShortestPattern, ClientError> {
        const FIELD: &str = "relationshipFilter";
        let filter = r.relationship_filter.as_deref().unwrap_or("").trim();
        if filter.contains(',') || filter.contains('*') || filter.contains('`') {
            return Err(unsupported(
                FIELD,
                "a shortest path takes `|` alternatives of plain type names only",
            ));
        }
        if r.max_level < -1 {
            return Err(unsupported(
                "maxLevel",
                format!("{}: use -1 or 0 and up", r.max_level),
            ));
        }
        let mut direction = None;
        let mut types = Vec::new();
        let mut any_type = filter.is_empty();
        for entry in filter.split('|').map(str::trim).filter(|e| !e.is_empty()) {
            let (name, dir) = if let Some(t) = entry.strip_suffix('>') {
                (t, Dir::Out)
            } else if let Some(t) = entry.strip_prefix('<') {
                (t, Dir::In)
            } else {
                (entry, Dir::Both)
            };
            if *direction.get_or_insert(dir) != dir {
                return Err(unsupported(
                    FIELD,
                    "Cypher's shortestPath takes one direction for all types; this filter mixes them",
                ));
            }
            if name.is_empty() {
                any_type = true;
            } else {
                types.push(quote(FIELD, name)?);
            }
        }
        let types = if any_type || types.is_empty() {
            String::new()
        } else {
            format!(":{}", types.join("|"))
        };
        let arrows = match direction.unwrap_or(Dir::Both) {
            Dir::Out => ("-", "->"),
            Dir::In => ("<-", "-"),
            Dir::Both => ("-", "-"),
        };
        let mut max = u64::try_from(r.max_level).ok();
        if let Some(d) = r.budget.max_depth {
            max = Some(max.map_or(u64::from(d), |m| m.min(u64::from(d))));
        }
        Ok(ShortestPattern {
            arrows,
            types,
            max,
            all: r.all,
        })
    }

    /// The query from `from` to `to` (distinct), or `None` when no path can be short enough.
    fn query(&self, from: u64, to: u64) -> Option<Query> {
        let bound = match self.max {
            Some(0) => return None,
            Some(m) => format!("..{m}"),
            None => String::new(),
        };
        Some(query(
            &shortest_path_query(self.all, self.arrows, &self.types, &bound),
            json!({"a": from, "b": to}),
        ))
    }
}

/// The Cypher `shortestPath` (or `allShortestPaths`) query between `$a` and `$b` (node ids):
/// `arrows` the two halves of the relationship pattern (`("-", "->")`), `types` its type list
/// (`":A|B"` or empty), `bound` its length bound (`"..4"` or empty).
///
/// ```
/// let q = neotrav_client::fallback::shortest_path_query(true, ("-", "->"), ":`A`|`B`", "..4");
/// assert!(q.contains("allShortestPaths((a)-[:`A`|`B`*..4]->(b))"));
/// ```
pub fn shortest_path_query(all: bool, arrows: (&str, &str), types: &str, bound: &str) -> String {
    let function = if all {
        "allShortestPaths"
    } else {
        "shortestPath"
    };
    let (l, r) = arrows;
    format!(
        "MATCH (a) WHERE id(a) = $a MATCH (b) WHERE id(b) = $b \
         MATCH p = {function}((a){l}[{types}*{bound}]{r}(b)) \
         RETURN [x IN nodes(p) | id(x)] AS nodes, [x IN relationships(p) | id(x)] AS rels, \
         [x IN relationships(p) | type(x)] AS types"
    )
}

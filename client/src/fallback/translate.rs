//! Requests into Cypher: the text and parameters of every query the fallback runs, and the
//! checks that refuse a request the fallback cannot answer as the sidecar would (each error
//! names the field). Nothing here talks to Neo4j, so it is tested without one.

use neo4rs::Query;
use serde_json::{Map, Value, json};

use super::unsupported;
use crate::ClientError;
use crate::wire::{
    NodeSelector, OneOrMany, Op, Predicate, ReturnForm, Scalar, ShortestPathRequest,
    TraverseRequest, Uniqueness,
};

/// A query with its parameters, from JSON.
///
/// ```
/// let q = neotrav_client::fallback::translate::query("RETURN $x", serde_json::json!({"x": 1}));
/// # let _ = q;
/// ```
pub fn query(text: &str, params: Value) -> Query {
    let mut q = neo4rs::query(text);
    if let Value::Object(m) = params {
        for (k, v) in m {
            q = q.param(&k, neotrav_neo4j::value::json(&v));
        }
    }
    q
}

/// A name as a backtick-quoted Cypher identifier, by the one rule names follow
/// ([`neotrav_neo4j::cypher::quote`]); a refused name is an [`ClientError::Unsupported`] naming
/// `field`.
pub(super) fn quote(field: &str, name: &str) -> Result<String, ClientError> {
    neotrav_neo4j::cypher::quote("name", name).map_err(|e| unsupported(field, e.why))
}

pub(super) fn direct_id(field: &str, s: &NodeSelector) -> Result<Option<u64>, ClientError> {
    s.direct_id().map_err(|e| unsupported(field, e.to_string()))
}

/// Whether the fallback can answer `r` as the engine would; the error names the field.
///
/// ```
/// use neotrav_client::fallback::translate::check_traversal;
/// use neotrav_wire::TraverseRequest;
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
/// use neotrav_client::fallback::translate::apoc_config;
/// use neotrav_wire::TraverseRequest;
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
        ("endNodes", r.end_nodes.as_slice()),
        ("terminatorNodes", r.terminator_nodes.as_slice()),
        ("allowlistNodes", r.allowlist()),
        ("denylistNodes", r.denylist()),
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
/// use neotrav_client::fallback::translate::cypher_where;
/// use neotrav_wire::{OneOrMany, Op, Predicate, Scalar};
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
/// use neotrav_client::fallback::translate::{Rows, expand_query};
/// use neotrav_wire::TraverseRequest;
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    Out,
    In,
    Both,
}

/// A shortest-path request as a Cypher pattern.
pub(super) struct ShortestPattern {
    /// `-`/`->` or `<-`/`-`.
    arrows: (&'static str, &'static str),
    /// `:A|B`, or nothing for any type.
    types: String,
    /// The longest path (`None`: no bound).
    max: Option<u64>,
    all: bool,
}

impl ShortestPattern {
    pub(super) fn new(r: &ShortestPathRequest) -> Result<ShortestPattern, ClientError> {
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
    pub(super) fn query(&self, from: u64, to: u64) -> Option<Query> {
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
/// let q = neotrav_client::fallback::translate::shortest_path_query(true, ("-", "->"), ":`A`|`B`", "..4");
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

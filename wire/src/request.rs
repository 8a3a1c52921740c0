//! The requests: a traversal (an APOC path-expander config map plus neotrav's own keys), a
//! shortest path, one hop of neighbours, and what they share (uniqueness, return forms,
//! consistency, budgets).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::selector::{NodeSelector, OneOrMany, Predicate};

/// A traversal request: `POST /v1/traverse`, `neotrav traverse --spec`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TraverseRequest {
    /// Where the traversal starts: one node or a list (one traversal from all of them, as APOC
    /// does with a list of start nodes: global uniqueness spans them).
    pub start: OneOrMany<NodeSelector>,
    /// APOC relationship filter: `TYPE>` outgoing, `<TYPE` incoming, `TYPE` both, bare `>`/`<`
    /// any type in that direction, `|` alternatives, `,` a repeating per-hop sequence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relationship_filter: Option<String>,
    /// APOC label filter: `+` allow, `-` deny, `/` terminator, `>` end node, `A:B` compound,
    /// `|` alternatives, `,` a repeating per-depth sequence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_filter: Option<String>,
    /// APOC combined sequence of label and relationship filters (`"A,FOO>,B,<BAR"`); replaces
    /// `labelFilter` and `relationshipFilter`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<String>,
    /// Beyond APOC: the relationship filter to follow from a node, chosen by its labels (a node
    /// with several listed labels follows the union; `"*"` applies to nodes with none of them).
    /// Intersected with `relationshipFilter`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expand_by_label: Option<BTreeMap<String, String>>,
    /// Paths shorter than this are not returned (they are still expanded). APOC's default, -1,
    /// means 0.
    #[serde(default = "minus_one")]
    pub min_level: i64,
    /// Paths are not expanded beyond this length; -1 means no limit.
    #[serde(default = "minus_one")]
    pub max_level: i64,
    /// Which paths the traversal may take (APOC's default: `RELATIONSHIP_PATH`).
    #[serde(default)]
    pub uniqueness: Uniqueness,
    /// Breadth-first (APOC's default) or depth-first.
    #[serde(default = "yes")]
    pub bfs: bool,
    /// At most this many results (paths, before `return` collapses them); -1 means no limit.
    #[serde(default = "minus_one")]
    pub limit: i64,
    /// Whether the label filter and node lists apply to the start node too.
    #[serde(default)]
    pub filter_start_node: bool,
    /// APOC's `optional`: where APOC then yields one null path when the traversal finds none,
    /// the answer is the same as without it (no path, no node, a count of 0); accepted so that
    /// APOC configs paste unchanged.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
    /// Beyond APOC: ignore keys neotrav does not know (APOC keys it has no use for, such as
    /// `pathFilter`, or typos) instead of refusing the request; the answer's `stats.warnings`
    /// names each one ignored. Without it an unknown key is a 400 naming it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub lenient: bool,
    /// The unknown keys a `lenient` request had, which were ignored (not part of the JSON).
    #[serde(skip)]
    pub ignored_keys: Vec<String>,
    /// Whether a `sequence` begins at the start node (APOC's default) or at its neighbours.
    #[serde(default = "yes")]
    pub begin_sequence_at_start: bool,
    /// Paths end only at these nodes (included and continued).
    /// Ids, element ids or key selectors (every snapshot node a key selector finds); not labels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub end_nodes: Vec<NodeSelector>,
    /// Paths end only at these nodes, and are not expanded beyond them.
    /// Ids, element ids or key selectors (every snapshot node a key selector finds); not labels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub terminator_nodes: Vec<NodeSelector>,
    /// Only these nodes may be on a path (besides the start node).
    /// Ids, element ids or key selectors (every snapshot node a key selector finds); not labels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowlist_nodes: Vec<NodeSelector>,
    /// APOC's deprecated name of `allowlistNodes`, read only when `allowlistNodes` is absent or
    /// empty (as APOC does when both are given).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub whitelist_nodes: Vec<NodeSelector>,
    /// These nodes may not be on a path.
    /// Ids, element ids or key selectors (every snapshot node a key selector finds); not labels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub denylist_nodes: Vec<NodeSelector>,
    /// APOC's deprecated name of `denylistNodes`, read only when `denylistNodes` is absent or
    /// empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blacklist_nodes: Vec<NodeSelector>,
    /// Predicates on exported key properties, all of which an included node must satisfy.
    /// They filter results only; they do not stop expansion.
    #[serde(default, rename = "where", skip_serializing_if = "Vec::is_empty")]
    pub predicates: Vec<Predicate>,
    /// What to return.
    #[serde(default, rename = "return")]
    pub return_form: ReturnForm,
    /// Whether to answer from the snapshot alone or to read misses from Neo4j.
    #[serde(default)]
    pub consistency: Consistency,
    /// Limits on the work one request may do.
    #[serde(default)]
    pub budget: Budget,
}

/// A JSON object's entries in order, each value as its text.
struct Entries<'a>(Vec<(std::borrow::Cow<'a, str>, &'a serde_json::value::RawValue)>);

impl<'de: 'a, 'a> Deserialize<'de> for Entries<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Entries<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut m: M,
            ) -> Result<Entries<'de>, M::Error> {
                let mut out = Vec::new();
                while let Some(entry) = m.next_entry()? {
                    out.push(entry);
                }
                Ok(Entries(out))
            }
        }
        d.deserialize_map(Visit)
    }
}

pub(crate) fn minus_one() -> i64 {
    -1
}

pub(crate) fn yes() -> bool {
    true
}

impl TraverseRequest {
    /// The allowlist in effect: `allowlistNodes`, or when that is empty the deprecated
    /// `whitelistNodes` (APOC's precedence).
    pub fn allowlist(&self) -> &[NodeSelector] {
        if self.allowlist_nodes.is_empty() {
            &self.whitelist_nodes
        } else {
            &self.allowlist_nodes
        }
    }

    /// The denylist in effect: `denylistNodes`, or when that is empty the deprecated
    /// `blacklistNodes`.
    pub fn denylist(&self) -> &[NodeSelector] {
        if self.denylist_nodes.is_empty() {
            &self.blacklist_nodes
        } else {
            &self.denylist_nodes
        }
    }

    /// A request read from JSON as `/v1/traverse` reads it: strictly, or, when that fails and
    /// the object says `"lenient": true`, again without the keys that are not the request's
    /// (listed in [`TraverseRequest::ignored_keys`]).
    pub fn from_json(bytes: &[u8]) -> Result<TraverseRequest, serde_json::Error> {
        serde_json::from_slice(bytes).or_else(|strict| match Self::lenient_json(bytes) {
            Some(read) => read,
            None => Err(strict),
        })
    }

    /// The request read from JSON without the keys that are not the request's, when the
    /// object says `"lenient": true` and has such keys; `None` otherwise (the strict reading's
    /// error stands).
    pub fn lenient_json(bytes: &[u8]) -> Option<Result<TraverseRequest, serde_json::Error>> {
        use serde_json::value::RawValue;
        // The keys with their values as text: no value is parsed twice into memory.
        let map: Vec<(std::borrow::Cow<'_, str>, &RawValue)> =
            serde_json::from_slice::<Entries<'_>>(bytes).ok()?.0;
        let lenient = map
            .iter()
            .any(|(k, v)| k == "lenient" && v.get().trim() == "true");
        if !lenient {
            return None;
        }
        let known = crate::fields::of::<TraverseRequest>();
        let (kept, unknown): (Vec<_>, Vec<_>) =
            map.iter().partition(|(k, _)| known.contains(&k.as_ref()));
        if unknown.is_empty() {
            return None;
        }
        let mut text = String::with_capacity(bytes.len());
        text.push('{');
        for (i, (k, v)) in kept.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            text.push_str(&serde_json::to_string(k.as_ref()).unwrap_or_default());
            text.push(':');
            text.push_str(v.get());
        }
        text.push('}');
        Some(serde_json::from_str::<TraverseRequest>(&text).map(|mut r| {
            r.ignored_keys = unknown.iter().map(|(k, _)| k.to_string()).collect();
            r
        }))
    }

    /// A request from `start` with APOC's defaults for every other key.
    pub fn from_start(start: impl Into<OneOrMany<NodeSelector>>) -> TraverseRequest {
        TraverseRequest {
            start: start.into(),
            relationship_filter: None,
            label_filter: None,
            sequence: None,
            expand_by_label: None,
            min_level: -1,
            max_level: -1,
            uniqueness: Uniqueness::default(),
            bfs: true,
            limit: -1,
            filter_start_node: false,
            optional: false,
            lenient: false,
            ignored_keys: Vec::new(),
            begin_sequence_at_start: true,
            end_nodes: Vec::new(),
            terminator_nodes: Vec::new(),
            allowlist_nodes: Vec::new(),
            whitelist_nodes: Vec::new(),
            denylist_nodes: Vec::new(),
            blacklist_nodes: Vec::new(),
            predicates: Vec::new(),
            return_form: ReturnForm::default(),
            consistency: Consistency::default(),
            budget: Budget::default(),
        }
    }
}

/// Builder methods that read like the APOC config map: each sets one key and returns the
/// request.
///
/// ```
/// use neotrav_wire::{NodeSelector, Predicate, TraverseRequest, Uniqueness};
///
/// let built = TraverseRequest::from_start(NodeSelector::label("Root"))
///     .relationship_filter("CHILD_A>|CHILD_B>")
///     .uniqueness(Uniqueness::NodeGlobal)
///     .bfs(false)
///     .max_level(5)
///     .filter(Predicate::eq("B", "flag", true))
///     .count();
/// let parsed: TraverseRequest = serde_json::from_str(r#"{
///     "start": {"label": "Root"},
///     "relationshipFilter": "CHILD_A>|CHILD_B>",
///     "uniqueness": "NODE_GLOBAL",
///     "bfs": false,
///     "maxLevel": 5,
///     "where": [{"label": "B", "key": "flag", "op": "=", "value": true}],
///     "return": "count"
/// }"#).unwrap();
/// assert_eq!(built, parsed);
/// ```
impl TraverseRequest {
    /// `relationshipFilter`.
    pub fn relationship_filter(mut self, filter: impl Into<String>) -> Self {
        self.relationship_filter = Some(filter.into());
        self
    }

    /// `labelFilter`.
    pub fn label_filter(mut self, filter: impl Into<String>) -> Self {
        self.label_filter = Some(filter.into());
        self
    }

    /// `sequence`.
    pub fn sequence(mut self, sequence: impl Into<String>) -> Self {
        self.sequence = Some(sequence.into());
        self
    }

    /// One entry of `expandByLabel`: nodes with `label` follow `filter`.
    pub fn expand_by_label(mut self, label: impl Into<String>, filter: impl Into<String>) -> Self {
        self.expand_by_label
            .get_or_insert_with(BTreeMap::new)
            .insert(label.into(), filter.into());
        self
    }

    /// `minLevel`.
    pub fn min_level(mut self, level: i64) -> Self {
        self.min_level = level;
        self
    }

    /// `maxLevel`.
    pub fn max_level(mut self, level: i64) -> Self {
        self.max_level = level;
        self
    }

    /// `uniqueness`.
    pub fn uniqueness(mut self, uniqueness: Uniqueness) -> Self {
        self.uniqueness = uniqueness;
        self
    }

    /// `bfs`: breadth-first (`true`) or depth-first.
    pub fn bfs(mut self, bfs: bool) -> Self {
        self.bfs = bfs;
        self
    }

    /// `limit`.
    pub fn limit(mut self, limit: i64) -> Self {
        self.limit = limit;
        self
    }

    /// One more `where` predicate.
    pub fn filter(mut self, predicate: Predicate) -> Self {
        self.predicates.push(predicate);
        self
    }

    /// `"return": "count"`.
    pub fn count(mut self) -> Self {
        self.return_form = ReturnForm::Count;
        self
    }

    /// `"return": "paths"`.
    pub fn paths(mut self) -> Self {
        self.return_form = ReturnForm::Paths;
        self
    }

    /// `"return": {"groupBy": {"key", "label"}}`.
    pub fn group_by(mut self, key: impl Into<String>, label: Option<&str>) -> Self {
        self.return_form = ReturnForm::GroupBy {
            key: key.into(),
            label: label.map(str::to_string),
        };
        self
    }

    /// `"consistency": "fresh"`: misses and invalidated nodes are read from Neo4j.
    pub fn fresh(mut self) -> Self {
        self.consistency = Consistency::Fresh;
        self
    }

    /// `budget.maxVisited`.
    pub fn max_visited(mut self, nodes: u64) -> Self {
        self.budget.max_visited = Some(nodes);
        self
    }
}

/// APOC's uniqueness rules: what a path may repeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Uniqueness {
    /// A node is visited at most once in the whole traversal.
    NodeGlobal,
    /// A node appears at most once on a path.
    NodePath,
    /// A node is visited at most once per depth.
    NodeLevel,
    /// A relationship is traversed at most once in the whole traversal.
    RelationshipGlobal,
    /// A relationship appears at most once on a path (APOC's default).
    #[default]
    RelationshipPath,
    /// A relationship is traversed at most once per depth.
    RelationshipLevel,
    /// No rule: only `maxLevel` or the budget ends the traversal.
    None,
}

/// What a traversal returns.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum ReturnForm {
    /// The distinct end nodes of the included paths, in the order first reached.
    #[default]
    Nodes,
    /// Every included path: node ids, relationship ids and types.
    Paths,
    /// The number of distinct end nodes of the included paths.
    Count,
    /// The number of distinct included nodes per value of a key property.
    GroupBy {
        /// The property key.
        key: String,
        /// The label whose column is read (optional, as in [`Predicate::label`]).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        label: Option<String>,
    },
}

/// Where answers come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum Consistency {
    /// The snapshot alone, exact as of its watermark; nothing touches Neo4j.
    #[default]
    Snapshot,
    /// Nodes the snapshot does not know, and nodes invalidated since it was taken, are read from
    /// Neo4j (batched, one round trip per expansion step at most).
    Fresh,
}

/// Limits on one request's work. Unset fields take the server's defaults.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Budget {
    /// At most this many visited nodes (path ends evaluated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_visited: Option<u64>,
    /// Paths are not expanded beyond this length, whatever `maxLevel` says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_depth: Option<u32>,
    /// Wall-clock limit in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline_ms: Option<u64>,
    /// At most this many bytes held at once: the walk's stack or queue, breadcrumbs, visited
    /// sets, and the answer with its encoding. The server has a default and a ceiling
    /// (`neotrav serve --request-memory`, `--max-request-memory`), and reserves this much of
    /// its total (`--max-memory`) while the request runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_memory: Option<u64>,
    /// What happens when a limit is reached.
    #[serde(default)]
    pub on_exceed: OnExceed,
}

/// What happens when a budget is exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum OnExceed {
    /// The request fails.
    #[default]
    Error,
    /// The request returns what it found so far, flagged `"partial": true`.
    Partial,
}

/// A shortest-path request: `POST /v1/shortest-path`, `neotrav path`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ShortestPathRequest {
    /// The first node.
    pub from: NodeSelector,
    /// The last node.
    pub to: NodeSelector,
    /// Which relationships a path may use (no `,` sequences); empty means any, both directions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relationship_filter: Option<String>,
    /// The longest path considered; -1 means no limit.
    #[serde(default = "minus_one")]
    pub max_level: i64,
    /// All shortest paths (Cypher's `allShortestPaths`), not one.
    #[serde(default)]
    pub all: bool,
    /// Whether to answer from the snapshot alone or to read misses from Neo4j.
    #[serde(default)]
    pub consistency: Consistency,
    /// Limits on the work.
    #[serde(default)]
    pub budget: Budget,
}

/// A one-hop request: `POST /v1/neighbors`, the cheapest call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NeighborsRequest {
    /// The node whose neighbours are wanted.
    pub node: NodeSelector,
    /// Which relationships to follow (APOC syntax; empty: all, both directions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relationship_filter: Option<String>,
    /// Which neighbours to keep (APOC label-filter syntax).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_filter: Option<String>,
    /// Predicates on exported key properties of the neighbours.
    #[serde(default, rename = "where", skip_serializing_if = "Vec::is_empty")]
    pub predicates: Vec<Predicate>,
    /// What to return (`nodes` by default: each neighbour once).
    #[serde(default, rename = "return")]
    pub return_form: ReturnForm,
    /// At most this many neighbours (-1: all).
    #[serde(default = "minus_one")]
    pub limit: i64,
    /// Snapshot or fresh.
    #[serde(default)]
    pub consistency: Consistency,
}

impl NeighborsRequest {
    /// The same question as a traversal: depth exactly 1, each neighbour once.
    pub fn to_traversal(&self) -> TraverseRequest {
        TraverseRequest {
            relationship_filter: self.relationship_filter.clone(),
            label_filter: self.label_filter.clone(),
            min_level: 1,
            max_level: 1,
            uniqueness: Uniqueness::NodeGlobal,
            limit: self.limit,
            predicates: self.predicates.clone(),
            return_form: self.return_form.clone(),
            consistency: self.consistency,
            ..TraverseRequest::from_start(self.node.clone())
        }
    }
}

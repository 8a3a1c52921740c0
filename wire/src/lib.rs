//! The JSON request and response types of the traversal API.
//!
//! A traversal request is an APOC path-expander config map (`apoc.path.expandConfig`) with the
//! same keys and meaning, plus what APOC lacks: `start`, `expandByLabel`, `where`, `return`,
//! `consistency` and `budget`. `traverser/README.md` gives the semantics and every known
//! difference from APOC.
//!
//! ```
//! use neotrav_wire::{ReturnForm, TraverseRequest, Uniqueness};
//!
//! let request: TraverseRequest = serde_json::from_str(r#"{
//!     "start": 0,
//!     "relationshipFilter": "CHILD_A>|CHILD_B>",
//!     "labelFilter": "+A|+B",
//!     "uniqueness": "NODE_GLOBAL",
//!     "where": [{"label": "B", "key": "flag", "op": "=", "value": true}],
//!     "return": "count"
//! }"#).unwrap();
//! assert_eq!(request.uniqueness, Uniqueness::NodeGlobal);
//! assert_eq!(request.return_form, ReturnForm::Count);
//! ```

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

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
    /// Whether a `sequence` begins at the start node (APOC's default) or at its neighbours.
    #[serde(default = "yes")]
    pub begin_sequence_at_start: bool,
    /// Paths end only at these nodes (included and continued).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub end_nodes: Vec<NodeSelector>,
    /// Paths end only at these nodes, and are not expanded beyond them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub terminator_nodes: Vec<NodeSelector>,
    /// Only these nodes may be on a path (besides the start node).
    #[serde(
        default,
        alias = "whitelistNodes",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub allowlist_nodes: Vec<NodeSelector>,
    /// These nodes may not be on a path.
    #[serde(
        default,
        alias = "blacklistNodes",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub denylist_nodes: Vec<NodeSelector>,
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

fn minus_one() -> i64 {
    -1
}

fn yes() -> bool {
    true
}

impl TraverseRequest {
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
            begin_sequence_at_start: true,
            end_nodes: Vec::new(),
            terminator_nodes: Vec::new(),
            allowlist_nodes: Vec::new(),
            denylist_nodes: Vec::new(),
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

impl NodeSelector {
    /// Every node with `label`.
    pub fn label(label: impl Into<String>) -> NodeSelector {
        NodeSelector::Label {
            label: label.into(),
        }
    }

    /// The node id this selector names directly (an id, or the id inside an element id), or
    /// `None` for selectors that need a lookup (by key or label).
    ///
    /// ```
    /// use neotrav_wire::NodeSelector;
    ///
    /// assert_eq!(NodeSelector::Id(7).direct_id(), Ok(Some(7)));
    /// assert_eq!(NodeSelector::ElementId("4:c0a8:7".into()).direct_id(), Ok(Some(7)));
    /// assert!(NodeSelector::ElementId("5:c0a8:7".into()).direct_id().is_err());
    /// assert_eq!(NodeSelector::label("Artist").direct_id(), Ok(None));
    /// ```
    pub fn direct_id(&self) -> Result<Option<u64>, BadElementId> {
        match self {
            NodeSelector::Id(id) => Ok(Some(*id)),
            NodeSelector::ElementId(e) => element_id(e)
                .map(Some)
                .ok_or_else(|| BadElementId(e.clone())),
            NodeSelector::Key { .. } | NodeSelector::Label { .. } => Ok(None),
        }
    }
}

/// The node id inside a Neo4j 5 element id, `4:<database uuid>:<id>`.
///
/// ```
/// assert_eq!(neotrav_wire::element_id("4:c0a8:7"), Some(7));
/// assert_eq!(neotrav_wire::element_id("5:c0a8:7"), None);
/// ```
pub fn element_id(e: &str) -> Option<u64> {
    let mut parts = e.split(':');
    let (Some(kind), Some(_db), Some(id), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    (kind == "4").then_some(())?;
    id.parse().ok()
}

/// A selector's `elementId` that is not a Neo4j 5 element id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadElementId(pub String);

impl fmt::Display for BadElementId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not a Neo4j 5 element id (`4:<database uuid>:<id>`)",
            self.0
        )
    }
}

impl std::error::Error for BadElementId {}

impl Predicate {
    /// `label.key = value` (a node without `label` does not satisfy it).
    pub fn eq(label: &str, key: &str, value: impl Into<Scalar>) -> Predicate {
        Predicate {
            label: Some(label.to_string()),
            key: key.to_string(),
            op: Op::Eq,
            value: Some(OneOrMany::One(value.into())),
        }
    }
}

impl From<bool> for Scalar {
    fn from(v: bool) -> Scalar {
        Scalar::Bool(v)
    }
}

impl From<i64> for Scalar {
    fn from(v: i64) -> Scalar {
        Scalar::Int(v)
    }
}

impl From<f64> for Scalar {
    fn from(v: f64) -> Scalar {
        Scalar::Float(v)
    }
}

impl From<&str> for Scalar {
    fn from(v: &str) -> Scalar {
        Scalar::String(v.to_string())
    }
}

/// One value or a list of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum OneOrMany<T> {
    /// A single value.
    One(T),
    /// A list.
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    /// The values as a slice.
    pub fn as_slice(&self) -> &[T] {
        match self {
            OneOrMany::One(v) => std::slice::from_ref(v),
            OneOrMany::Many(v) => v,
        }
    }
}

impl<T> From<T> for OneOrMany<T> {
    fn from(v: T) -> Self {
        OneOrMany::One(v)
    }
}

impl<T> From<Vec<T>> for OneOrMany<T> {
    fn from(v: Vec<T>) -> Self {
        OneOrMany::Many(v)
    }
}

/// A way to name a node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum NodeSelector {
    /// A Neo4j node id (`id(n)`).
    Id(u64),
    /// A Neo4j 5 element id (`elementId(n)`, `"4:<database uuid>:<id>"`).
    ElementId(String),
    /// The nodes with a label whose exported key property has a value.
    Key {
        /// The label.
        label: String,
        /// The property key (exported into the snapshot).
        key: String,
        /// The value.
        value: Scalar,
    },
    /// Every node with a label, in id order.
    Label {
        /// The label.
        label: String,
    },
}

impl From<u64> for OneOrMany<NodeSelector> {
    fn from(id: u64) -> Self {
        OneOrMany::One(NodeSelector::Id(id))
    }
}

impl From<u64> for NodeSelector {
    fn from(id: u64) -> Self {
        NodeSelector::Id(id)
    }
}

/// A property value in a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum Scalar {
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    String(String),
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Bool(b) => write!(f, "{b}"),
            Scalar::Int(i) => write!(f, "{i}"),
            Scalar::Float(x) => write!(f, "{x}"),
            Scalar::String(s) => f.write_str(s),
        }
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

/// A predicate on an exported key property.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Predicate {
    /// The label whose column is read; a node without it does not satisfy the predicate. When
    /// absent, the key's column is read for any node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The property key.
    pub key: String,
    /// The comparison.
    pub op: Op,
    /// The value to compare with (a list for `IN`, nothing for the null tests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<OneOrMany<Scalar>>,
}

/// A comparison operator, with Cypher's meaning: a null property satisfies only `IS NULL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Op {
    /// `=`
    #[serde(rename = "=")]
    Eq,
    /// `<>`
    #[serde(rename = "<>")]
    Ne,
    /// `<`
    #[serde(rename = "<")]
    Lt,
    /// `<=`
    #[serde(rename = "<=")]
    Le,
    /// `>`
    #[serde(rename = ">")]
    Gt,
    /// `>=`
    #[serde(rename = ">=")]
    Ge,
    /// `IN`
    #[serde(rename = "IN")]
    In,
    /// `IS NULL`
    #[serde(rename = "IS NULL")]
    IsNull,
    /// `IS NOT NULL`
    #[serde(rename = "IS NOT NULL")]
    IsNotNull,
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

/// One path: `nodes` has one more entry than `relationships` and `types`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Path {
    /// Neo4j node ids, from the start.
    pub nodes: Vec<u64>,
    /// Neo4j relationship ids.
    pub relationships: Vec<u64>,
    /// The type of each relationship.
    pub types: Vec<String>,
}

/// A traversal's answer, shaped by the request's `return`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum Answer {
    /// `"return": "nodes"`.
    Nodes(Vec<u64>),
    /// `"return": "paths"`.
    Paths(Vec<Path>),
    /// `"return": "count"`.
    Count(u64),
    /// `"return": {"groupBy": ...}`: value (as text; `null` for nodes without one) to count,
    /// ordered by value.
    Groups(Groups),
}

/// Counts per property value, in value order; a JSON object on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Groups(pub Vec<(String, u64)>);

impl Serialize for Groups {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Groups {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, SchemaType, Type};
        ObjectBuilder::new()
            .description(Some("Counts per property value, in value order"))
            .additional_properties(Some(AdditionalProperties::RefOr(
                ObjectBuilder::new()
                    .schema_type(SchemaType::new(Type::Integer))
                    .build()
                    .into(),
            )))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Groups {}

impl<'de> Deserialize<'de> for Groups {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Groups, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Groups;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of counts")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Groups, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = m.next_entry::<String, u64>()? {
                    out.push(entry);
                }
                Ok(Groups(out))
            }
        }
        d.deserialize_map(V).map_err(de::Error::custom)
    }
}

/// A traversal response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TraverseResponse {
    /// The answer.
    #[serde(flatten)]
    pub answer: Answer,
    /// Whether a budget cut the traversal short (only with `"onExceed": "partial"`).
    pub partial: bool,
    /// What the request cost.
    pub stats: Stats,
}

/// A shortest-path response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ShortestPathResponse {
    /// The path length in relationships, `null` when there is no path within `maxLevel`.
    pub length: Option<u32>,
    /// The shortest path (or all of them), empty when there is none.
    pub paths: Vec<Path>,
    /// Whether a budget cut the search short (only with `"onExceed": "partial"`).
    pub partial: bool,
    /// What the request cost.
    pub stats: Stats,
}

/// What a request cost, and which snapshot answered it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// The snapshot's export watermark.
    pub watermark: Watermark,
    /// Nodes visited (path ends evaluated).
    pub nodes_visited: u64,
    /// Relationships traversed.
    pub relationships_visited: u64,
    /// Nodes read from Neo4j because the snapshot did not know them or they were invalidated.
    pub misses: u64,
    /// Cypher round trips for misses.
    pub cypher_round_trips: u64,
    /// Their total time, in milliseconds.
    pub cypher_ms: f64,
    /// Time spent answering, in milliseconds.
    pub elapsed_ms: f64,
    /// The most bytes the request held at once, as counted against `budget.maxMemory` (its
    /// stack or queue, breadcrumbs, visited sets and answer); 0 where not counted.
    #[serde(default)]
    pub peak_memory_bytes: u64,
    /// Which budget cut a partial answer short (only with `"partial": true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exceeded: Option<BudgetName>,
    /// Who answered: the sidecar, or the client's Cypher fallback (absent in older answers:
    /// the sidecar).
    #[serde(default)]
    pub answered_by: AnsweredBy,
}

/// A budget, by its request key: what a `budget_exceeded` error's `details.budget` and a
/// partial answer's `stats.exceeded` name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum BudgetName {
    /// `budget.maxVisited`.
    MaxVisited,
    /// `budget.deadlineMs`.
    DeadlineMs,
    /// `budget.maxMemory`.
    MaxMemory,
}

impl BudgetName {
    /// The request key, as `budget.<name>`.
    pub fn key(self) -> &'static str {
        match self {
            BudgetName::MaxVisited => "budget.maxVisited",
            BudgetName::DeadlineMs => "budget.deadlineMs",
            BudgetName::MaxMemory => "budget.maxMemory",
        }
    }
}

/// Who answered a request.
///
/// ```
/// use neotrav_wire::{AnsweredBy, Stats};
///
/// // An answer without the field is the sidecar's.
/// let stats: Stats = serde_json::from_str(r#"{"watermark": {"lastCommittedTx": null,
///     "created": "", "note": ""}, "nodesVisited": 3, "relationshipsVisited": 2, "misses": 0,
///     "cypherRoundTrips": 0, "cypherMs": 0.0, "elapsedMs": 0.1}"#).unwrap();
/// assert_eq!(stats.answered_by, AnsweredBy::Sidecar);
/// assert_eq!(serde_json::to_value(AnsweredBy::CypherFallback).unwrap(), "cypherFallback");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum AnsweredBy {
    /// The sidecar, from its snapshot (and Neo4j for `fresh` misses).
    #[default]
    Sidecar,
    /// The client's `cypher-fallback`: APOC and Cypher on Neo4j, while the sidecar was
    /// unreachable.
    CypherFallback,
}

/// The state of the graph a snapshot reflects.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Watermark {
    /// The last committed transaction id when the export started, when Neo4j reports it.
    pub last_committed_tx: Option<u64>,
    /// When the snapshot was written (RFC 3339).
    pub created: String,
    /// How the watermark was obtained.
    pub note: String,
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

/// `POST /v1/invalidate`: nodes changed in Neo4j since the snapshot was taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InvalidateRequest {
    /// Neo4j node ids.
    pub ids: Vec<u64>,
}

/// The answer to an invalidation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InvalidateResponse {
    /// Dirty nodes now (until the next snapshot swap).
    pub dirty: u64,
}

/// `GET /v1/snapshot`: what the sidecar is serving.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SnapshotInfo {
    /// The file.
    pub path: String,
    /// The Neo4j address it was exported from (no credentials), if any.
    pub source: String,
    /// The database.
    pub database: String,
    /// The watermark.
    pub watermark: Watermark,
    /// Node count.
    pub nodes: u64,
    /// Relationship count.
    pub relationships: u64,
    /// Seconds since the snapshot was written.
    pub age_seconds: f64,
    /// Nodes invalidated since it was loaded.
    pub dirty: u64,
    /// How many snapshots this process has served (1 for the first).
    pub generation: u64,
    /// The served file was changed in place (not replaced by rename): traversals get 503
    /// `snapshot_modified` until a reload swaps in a verified file (absent when false).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub modified: bool,
    /// Why the newest reload or refresh failed, when it did (absent after a success): the
    /// detail `/readyz` leaves out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_reload_failure: Option<ReloadFailure>,
}

/// A failed reload or refresh, as `GET /v1/snapshot` reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ReloadFailure {
    /// When it failed (RFC 3339).
    pub at: String,
    /// The attempt's number: reloads and refreshes are numbered as they start.
    pub attempt: u64,
    /// The error it answered.
    pub error: ErrorDetail,
}

/// `POST /v1/snapshot/reload`: load another file, or the same path again.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReloadRequest {
    /// The file to load (default: the file being served, re-read from disk).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Re-export the graph from Neo4j into the served file first (instead of `path`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub export: bool,
}

/// The error body of every failed request: `{"error": {"code", "message", "details"}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// A stable machine-readable code (`bad_request`, `unknown_node`, `budget_exceeded`, ...).
    pub code: String,
    /// A human-readable message naming the field and the fault.
    pub message: String,
    /// Extra detail, such as the offending field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issue_example_parses_with_every_key() {
        let r: TraverseRequest = serde_json::from_str(
            r#"{ "start": [123, 456],
              "relationshipFilter": "CHILD_A>|CHILD_B>", "labelFilter": "+A|+B|>B",
              "minLevel": 0, "maxLevel": -1, "uniqueness": "NODE_GLOBAL", "bfs": false, "limit": -1,
              "where": [{"label": "B", "key": "flag", "op": "=", "value": true}],
              "return": "count", "consistency": "snapshot",
              "budget": {"maxVisited": 10000000, "deadlineMs": 2000, "onExceed": "error"} }"#,
        )
        .unwrap();
        assert_eq!(
            r.start.as_slice(),
            &[NodeSelector::Id(123), NodeSelector::Id(456)]
        );
        assert!(!r.bfs);
        assert_eq!(
            r.predicates[0].value,
            Some(OneOrMany::One(Scalar::Bool(true)))
        );
        assert_eq!(r.budget.max_visited, Some(10_000_000));
        let back: TraverseRequest =
            serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn an_unknown_uniqueness_is_an_error_that_lists_the_choices() {
        let e = serde_json::from_str::<TraverseRequest>(
            r#"{"start": 1, "uniqueness": "NODE_SOMETIMES"}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("NODE_SOMETIMES") && e.contains("NODE_GLOBAL"),
            "{e}"
        );
    }

    #[test]
    fn an_unknown_key_is_an_error() {
        let e = serde_json::from_str::<TraverseRequest>(r#"{"start": 1, "maxDepht": 3}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("maxDepht"), "{e}");
    }

    #[test]
    fn return_forms_and_answers_have_the_documented_shapes() {
        let g: ReturnForm = serde_json::from_str(r#"{"groupBy": {"key": "year"}}"#).unwrap();
        assert_eq!(
            g,
            ReturnForm::GroupBy {
                key: "year".into(),
                label: None
            }
        );
        let response = TraverseResponse {
            answer: Answer::Groups(Groups(vec![("1999".into(), 3), ("2000".into(), 1)])),
            partial: false,
            stats: Stats::default(),
        };
        let json = serde_json::to_value(&response).unwrap();
        assert_eq!(json["groups"]["1999"], 3);
        let back: TraverseResponse = serde_json::from_value(json).unwrap();
        assert_eq!(back, response);
        let count = serde_json::to_value(TraverseResponse {
            answer: Answer::Count(7),
            partial: true,
            stats: Stats::default(),
        })
        .unwrap();
        assert_eq!(count["count"], 7);
        assert_eq!(count["partial"], true);
    }

    #[test]
    fn start_nodes_may_be_ids_element_ids_or_key_lookups() {
        let s: Vec<NodeSelector> = serde_json::from_str(
            r#"[7, "4:c0a8:7", {"label": "Artist", "key": "name", "value": "Björk"}, {"label": "Root"}]"#,
        )
        .unwrap();
        assert_eq!(s[0], NodeSelector::Id(7));
        assert_eq!(s[1], NodeSelector::ElementId("4:c0a8:7".into()));
        assert!(
            matches!(&s[2], NodeSelector::Key { value: Scalar::String(v), .. } if v == "Björk")
        );
    }
}

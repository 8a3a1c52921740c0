//! The answers: nodes, paths, counts or groups, with their stats (what was visited, misses,
//! Cypher round trips, which budget stopped a partial answer) and the snapshot's watermark.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

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
    /// What of the request was ignored, and why (a `sequence` given with `labelFilter` or
    /// `relationshipFilter` wins over them, as in APOC). Absent when nothing was.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
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

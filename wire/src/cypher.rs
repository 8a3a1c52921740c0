//! Cypher in, answers out: the request and answer of `POST /v1/cypher` (and of Neo4j's HTTP Query
//! API path, `/db/{name}/query/v2`), and the values an answer holds, in both of the Query API's
//! encodings: plain JSON (the default) and typed JSON (`application/vnd.neo4j.query`).
//!
//! The value model is the one both answerers produce: the snapshot's Cypher executor
//! (`neotrav-cypher`) and the forwarder that runs a statement on Neo4j (`neotrav-neo4j`), so a
//! client cannot tell them apart by shape.
//!
//! ```
//! use neotrav_wire::cypher::{Encoding, Node, Value};
//!
//! let n = Value::Node(Node {
//!     element_id: "4:6b1c:7".into(),
//!     labels: vec!["Artist".into()],
//!     properties: vec![("name".into(), Value::String("Nina".into()))],
//! });
//! assert_eq!(
//!     n.encode(Encoding::Plain),
//!     serde_json::json!({"elementId": "4:6b1c:7", "labels": ["Artist"], "properties": {"name": "Nina"}})
//! );
//! assert_eq!(
//!     Value::Int(42).encode(Encoding::Typed),
//!     serde_json::json!({"$type": "Integer", "_value": "42"})
//! );
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json, json};

use crate::Budget;

/// The body of `POST /v1/cypher`: Neo4j's Query API request.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CypherRequest {
    /// The statement: one read-only Cypher query, with `$name` parameters.
    pub statement: String,
    /// Parameter values, by name: plain JSON (integers stay integers, other numbers are floats)
    /// or typed JSON (`{"$type": "Integer", "_value": "1"}`).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub parameters: Map<String, Json>,
    /// Neo4j's Query API field, accepted and ignored: neotrav only reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_mode: Option<String>,
    /// Neo4j's Query API field: ask for the update counters (all zero for a read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_counters: Option<bool>,
    /// Neo4j's Query API field, accepted and ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<String>>))]
    pub bookmarks: Option<Vec<String>>,
    /// Neo4j's Query API field, accepted and ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impersonated_user: Option<String>,
    /// neotrav's field: limits on the statement's work when the snapshot answers it
    /// (`deadlineMs`, `maxMemory`, `maxVisited` as units of work), capped by the server's as
    /// for traversals; a forwarded statement gets its `deadlineMs`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<Budget>,
}

impl CypherRequest {
    /// A request for `statement` with no parameters.
    pub fn new(statement: impl Into<String>) -> CypherRequest {
        CypherRequest {
            statement: statement.into(),
            ..CypherRequest::default()
        }
    }
}

/// Which answered a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum CypherAnsweredBy {
    /// The sidecar, from its snapshot.
    Snapshot,
    /// Neo4j, in a read transaction: the statement is outside what the snapshot answers.
    Neo4j,
}

/// The answer of `POST /v1/cypher`: Neo4j's Query API answer, plus who answered and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CypherResponse {
    /// Fields and rows, encoded as the request asked (see [`Encoding`]).
    pub data: CypherData,
    /// Who answered.
    pub answered_by: CypherAnsweredBy,
    /// When Neo4j answered: the construct that kept the snapshot from answering.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forwarded_because: Option<String>,
    /// Neo4j's Query API field: bookmarks of the transaction (empty from the snapshot).
    #[serde(default)]
    pub bookmarks: Vec<String>,
    /// Neo4j's Query API field: update counters, when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub counters: Option<Json>,
    /// How the statement was answered: rows, time, the snapshot's watermark.
    #[serde(default)]
    pub stats: CypherStats,
    /// For an `EXPLAIN` statement: the snapshot's plan, one operator a line, or, for a
    /// statement Neo4j would answer, the construct that forces it (and no rows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
}

/// The error body of `/db/{name}/query/v2`, as Neo4j's Query API writes it:
/// `{"errors": [{"code": "Neo.ClientError.Statement.SyntaxError", "message": "..."}]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueryApiErrors {
    /// The errors (one).
    pub errors: Vec<QueryApiError>,
}

/// One error of [`QueryApiErrors`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueryApiError {
    /// Neo4j's status code (`Neo.ClientError.Statement.SyntaxError`, ...).
    pub code: String,
    /// What went wrong.
    pub message: String,
}

/// Fields and rows of an answer.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CypherData {
    /// Column names, in RETURN order.
    pub fields: Vec<String>,
    /// One array per row, one encoded value per field.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Vec<Object>>))]
    pub values: Vec<Vec<Json>>,
}

/// Statistics of one statement.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CypherStats {
    /// Rows returned.
    pub rows: u64,
    /// Time from parse to the last row, in microseconds.
    pub elapsed_us: u64,
    /// Warnings (e.g. a construct answered with a documented difference).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// The two encodings of Neo4j's Query API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    /// Plain JSON (`application/json`, the default): integers and floats are JSON numbers, a
    /// node is `{"elementId", "labels", "properties"}`, a path a list of its nodes and
    /// relationships in order.
    #[default]
    Plain,
    /// Typed JSON (`application/vnd.neo4j.query`): every value is
    /// `{"$type": "...", "_value": ...}`, integers and floats as strings.
    Typed,
}

impl Encoding {
    /// The media type of the encoding, as Neo4j names it.
    pub fn media_type(self) -> &'static str {
        match self {
            Encoding::Plain => "application/json",
            Encoding::Typed => "application/vnd.neo4j.query",
        }
    }

    /// The encoding an `Accept` header asks for: typed when it names
    /// `application/vnd.neo4j.query` (any version), else plain.
    pub fn from_accept(accept: &str) -> Encoding {
        if accept
            .split(',')
            .any(|t| t.trim().starts_with("application/vnd.neo4j.query"))
        {
            Encoding::Typed
        } else {
            Encoding::Plain
        }
    }
}

/// A Cypher value as an answer holds it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A 64-bit integer.
    Int(i64),
    /// A 64-bit float.
    Float(f64),
    /// A string.
    String(String),
    /// A list.
    List(Vec<Value>),
    /// A map, in the order its keys were written.
    Map(Vec<(String, Value)>),
    /// A node.
    Node(Node),
    /// A relationship.
    Relationship(Relationship),
    /// A path: its nodes, and the relationships between them (one fewer).
    Path(Path),
    /// A value of a type the answerer cannot carry (temporal, spatial, bytes), as Neo4j's typed
    /// JSON names it and its text form.
    Other {
        /// The typed-JSON type name (`Date`, `Point`, ...).
        type_name: String,
        /// The value's text form.
        text: String,
    },
}

/// A node of an answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// `4:<database uuid>:<id>`.
    pub element_id: String,
    /// Its labels.
    pub labels: Vec<String>,
    /// Its properties: all of them from Neo4j, the exported ones from the snapshot.
    pub properties: Vec<(String, Value)>,
}

/// A relationship of an answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Relationship {
    /// `5:<database uuid>:<id>`.
    pub element_id: String,
    /// The element id of its start node.
    pub start_node_element_id: String,
    /// The element id of its end node.
    pub end_node_element_id: String,
    /// Its type.
    pub rel_type: String,
    /// Its properties (none from the snapshot, which holds no relationship properties).
    pub properties: Vec<(String, Value)>,
}

/// A path of an answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    /// Its nodes, start first.
    pub nodes: Vec<Node>,
    /// Its relationships, in order.
    pub relationships: Vec<Relationship>,
}

impl Value {
    /// The value in the Query API's `encoding`.
    pub fn encode(&self, encoding: Encoding) -> Json {
        match encoding {
            Encoding::Plain => self.plain(),
            Encoding::Typed => self.typed(),
        }
    }

    fn plain(&self) -> Json {
        match self {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Int(i) => json!(i),
            // JSON has no NaN or infinities; Neo4j's plain encoding writes them as strings.
            Value::Float(x) if !x.is_finite() => Json::String(float_text(*x)),
            Value::Float(x) => json!(x),
            Value::String(s) => Json::String(s.clone()),
            Value::List(l) => Json::Array(l.iter().map(Value::plain).collect()),
            Value::Map(m) => Json::Object(m.iter().map(|(k, v)| (k.clone(), v.plain())).collect()),
            Value::Node(n) => n.plain(),
            Value::Relationship(r) => r.plain(),
            Value::Path(p) => {
                let mut out = Vec::with_capacity(p.nodes.len() + p.relationships.len());
                for (i, n) in p.nodes.iter().enumerate() {
                    out.push(n.plain());
                    if let Some(r) = p.relationships.get(i) {
                        out.push(r.plain());
                    }
                }
                Json::Array(out)
            }
            Value::Other { text, .. } => Json::String(text.clone()),
        }
    }

    fn typed(&self) -> Json {
        let (t, v) = match self {
            Value::Null => ("Null", Json::Null),
            Value::Bool(b) => ("Boolean", Json::Bool(*b)),
            Value::Int(i) => ("Integer", Json::String(i.to_string())),
            Value::Float(x) => ("Float", Json::String(float_text(*x))),
            Value::String(s) => ("String", Json::String(s.clone())),
            Value::List(l) => ("List", Json::Array(l.iter().map(Value::typed).collect())),
            Value::Map(m) => (
                "Map",
                Json::Object(m.iter().map(|(k, v)| (k.clone(), v.typed())).collect()),
            ),
            Value::Node(n) => ("Node", n.typed_value()),
            Value::Relationship(r) => ("Relationship", r.typed_value()),
            Value::Path(p) => {
                let mut out = Vec::with_capacity(p.nodes.len() + p.relationships.len());
                for (i, n) in p.nodes.iter().enumerate() {
                    out.push(json!({"$type": "Node", "_value": n.typed_value()}));
                    if let Some(r) = p.relationships.get(i) {
                        out.push(json!({"$type": "Relationship", "_value": r.typed_value()}));
                    }
                }
                ("Path", Json::Array(out))
            }
            Value::Other { type_name, text } => {
                return json!({"$type": type_name, "_value": text});
            }
        };
        json!({"$type": t, "_value": v})
    }

    /// A parameter value from the request: typed JSON objects (`{"$type", "_value"}`) are
    /// decoded, everything else is read as plain JSON (integral numbers are integers).
    pub fn from_parameter(v: &Json) -> Result<Value, BadParameter> {
        Ok(match v {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => match n.as_f64() {
                    Some(x) => Value::Float(x),
                    None => return Err(BadParameter(format!("{n} is out of range"))),
                },
            },
            Json::String(s) => Value::String(s.clone()),
            Json::Array(a) => Value::List(
                a.iter()
                    .map(Value::from_parameter)
                    .collect::<Result<_, _>>()?,
            ),
            Json::Object(o) => match (o.get("$type"), o.get("_value"), o.len()) {
                (Some(Json::String(t)), Some(v), 2) => typed_parameter(t, v)?,
                _ => Value::Map(
                    o.iter()
                        .map(|(k, v)| Ok((k.clone(), Value::from_parameter(v)?)))
                        .collect::<Result<_, BadParameter>>()?,
                ),
            },
        })
    }
}

fn typed_parameter(t: &str, v: &Json) -> Result<Value, BadParameter> {
    let text = || {
        v.as_str()
            .ok_or_else(|| BadParameter(format!("a typed {t} needs its _value as a string")))
    };
    Ok(match t {
        "Null" => Value::Null,
        "Boolean" => Value::Bool(
            v.as_bool()
                .ok_or_else(|| BadParameter("a typed Boolean needs true or false".into()))?,
        ),
        "Integer" => Value::Int(
            text()?
                .parse()
                .map_err(|_| BadParameter(format!("`{v}` is not a 64-bit integer")))?,
        ),
        "Float" => Value::Float(match text()? {
            "NaN" => f64::NAN,
            "Infinity" => f64::INFINITY,
            "-Infinity" => f64::NEG_INFINITY,
            s => s
                .parse()
                .map_err(|_| BadParameter(format!("`{s}` is not a float")))?,
        }),
        "String" => Value::String(text()?.to_owned()),
        "List" => Value::List(
            v.as_array()
                .ok_or_else(|| BadParameter("a typed List needs an array".into()))?
                .iter()
                .map(Value::from_parameter)
                .collect::<Result<_, _>>()?,
        ),
        "Map" => Value::Map(
            v.as_object()
                .ok_or_else(|| BadParameter("a typed Map needs an object".into()))?
                .iter()
                .map(|(k, v)| Ok((k.clone(), Value::from_parameter(v)?)))
                .collect::<Result<_, BadParameter>>()?,
        ),
        other => Value::Other {
            type_name: other.to_owned(),
            text: text()?.to_owned(),
        },
    })
}

/// A parameter value that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadParameter(pub String);

impl fmt::Display for BadParameter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadParameter {}

fn float_text(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x == f64::INFINITY {
        "Infinity".into()
    } else if x == f64::NEG_INFINITY {
        "-Infinity".into()
    } else {
        // Rust prints integral floats without a point ("1"); Neo4j writes "1.0".
        let s = x.to_string();
        if s.contains(['.', 'e', 'E']) {
            s
        } else {
            format!("{s}.0")
        }
    }
}

fn props(p: &[(String, Value)], typed: bool) -> Json {
    Json::Object(
        p.iter()
            .map(|(k, v)| (k.clone(), if typed { v.typed() } else { v.plain() }))
            .collect(),
    )
}

impl Node {
    fn plain(&self) -> Json {
        json!({"elementId": self.element_id, "labels": self.labels, "properties": props(&self.properties, false)})
    }

    fn typed_value(&self) -> Json {
        json!({"_element_id": self.element_id, "_labels": self.labels, "_properties": props(&self.properties, true)})
    }
}

impl Relationship {
    fn plain(&self) -> Json {
        json!({
            "elementId": self.element_id,
            "startNodeElementId": self.start_node_element_id,
            "endNodeElementId": self.end_node_element_id,
            "type": self.rel_type,
            "properties": props(&self.properties, false),
        })
    }

    fn typed_value(&self) -> Json {
        json!({
            "_element_id": self.element_id,
            "_start_node_element_id": self.start_node_element_id,
            "_end_node_element_id": self.end_node_element_id,
            "_type": self.rel_type,
            "_properties": props(&self.properties, true),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_parameters_decode_and_plain_numbers_keep_their_kind() {
        let p = json!({"a": 1, "b": 1.0, "c": {"$type": "Integer", "_value": "9007199254740993"},
                       "d": {"$type": "Float", "_value": "NaN"}, "e": {"x": [true, null]}});
        let Value::Map(m) = Value::from_parameter(&p).unwrap() else {
            panic!("a map")
        };
        assert_eq!(m[0].1, Value::Int(1));
        assert_eq!(m[1].1, Value::Float(1.0));
        assert_eq!(m[2].1, Value::Int(9_007_199_254_740_993));
        assert!(matches!(m[3].1, Value::Float(x) if x.is_nan()));
        assert_eq!(
            m[4].1,
            Value::Map(vec![(
                "x".into(),
                Value::List(vec![Value::Bool(true), Value::Null])
            )])
        );
        let e = Value::from_parameter(&json!({"$type": "Integer", "_value": "1.5"})).unwrap_err();
        assert!(e.0.contains("1.5"), "{e}");
    }

    #[test]
    fn floats_are_written_as_neo4j_writes_them() {
        assert_eq!(
            Value::Float(1.0).encode(Encoding::Typed),
            json!({"$type": "Float", "_value": "1.0"})
        );
        assert_eq!(Value::Float(f64::NAN).encode(Encoding::Plain), json!("NaN"));
        assert_eq!(Value::Float(2.5).encode(Encoding::Plain), json!(2.5));
    }

    #[test]
    fn a_path_alternates_nodes_and_relationships() {
        let n = |i: u32| Node {
            element_id: format!("4:x:{i}"),
            labels: vec![],
            properties: vec![],
        };
        let p = Value::Path(Path {
            nodes: vec![n(1), n(2)],
            relationships: vec![Relationship {
                element_id: "5:x:9".into(),
                start_node_element_id: "4:x:1".into(),
                end_node_element_id: "4:x:2".into(),
                rel_type: "T".into(),
                properties: vec![],
            }],
        });
        let plain = p.encode(Encoding::Plain);
        assert_eq!(plain.as_array().unwrap().len(), 3);
        assert_eq!(plain[1]["type"], "T");
        let typed = p.encode(Encoding::Typed);
        assert_eq!(typed["$type"], "Path");
        assert_eq!(typed["_value"][2]["_value"]["_element_id"], "4:x:2");
        assert_eq!(
            Encoding::from_accept("application/vnd.neo4j.query.v1.1"),
            Encoding::Typed
        );
        assert_eq!(Encoding::from_accept("*/*"), Encoding::Plain);
    }
}

//! Naming nodes and values: selectors (an id, an element id, a key lookup, a label), one or
//! many of them, scalars, and `where` predicates.

use std::fmt;

use serde::{Deserialize, Serialize};

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

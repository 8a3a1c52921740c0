//! Deterministic graph generators: the same name, size and seed give the same graph on every
//! machine.
//!
//! A [`Dataset`] describes its [`Schema`] (labels, relationship types, typed key properties,
//! unique keys) and streams its graph into a [`GraphSink`]: every node first, with dense
//! generator ids `0..node_count` in increasing order, then every relationship, whose endpoints are
//! those ids. The sinks are the Neo4j loader (`crate::load`) and the snapshot writer
//! (`crate::to_snapshot`); tests use in-memory sinks.

use std::fmt;

pub mod discogs;
pub mod random;
pub mod tree;

/// A property value as generated. A missing value (Cypher `null`) is simply not emitted.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A 64-bit integer.
    Int(i64),
    /// A 64-bit float.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// A string.
    Str(String),
    /// A list of strings (stored in Neo4j; snapshots do not hold lists).
    StrList(Vec<String>),
}

/// The type of a property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// [`Value::Int`].
    Int,
    /// [`Value::Float`].
    Float,
    /// [`Value::Bool`].
    Bool,
    /// [`Value::Str`].
    Str,
    /// [`Value::StrList`].
    StrList,
}

/// A typed property of nodes with a label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertySpec {
    /// The label whose nodes carry it.
    pub label: &'static str,
    /// The property key.
    pub key: &'static str,
    /// Its type.
    pub kind: Kind,
    /// Whether it is unique among nodes with the label (a uniqueness constraint in Neo4j).
    pub unique: bool,
    /// Whether Neo4j should index it (unique properties are indexed by their constraint).
    pub indexed: bool,
}

/// What a dataset holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schema {
    /// Every label a node may carry.
    pub labels: Vec<&'static str>,
    /// Every relationship type.
    pub relationship_types: Vec<&'static str>,
    /// The properties, by label.
    pub properties: Vec<PropertySpec>,
}

/// One generated node.
#[derive(Debug, Clone, PartialEq)]
pub struct Node<'a> {
    /// The generator id: dense, `0..node_count`, emitted in increasing order.
    pub id: u64,
    /// Its labels (at least one).
    pub labels: &'a [&'static str],
    /// Its properties; absent ones are null.
    pub properties: &'a [(&'static str, Value)],
}

/// One generated relationship `(start)-[:rel_type]->(end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Relationship {
    /// The relationship's type.
    pub rel_type: &'static str,
    /// Generator id of the start node.
    pub start: u64,
    /// Generator id of the end node.
    pub end: u64,
}

/// Where a generator's graph goes.
pub trait GraphSink {
    /// Takes one node. Every node comes before any relationship.
    fn node(&mut self, node: &Node<'_>) -> Result<(), SinkError>;
    /// Takes one relationship.
    fn relationship(&mut self, rel: Relationship) -> Result<(), SinkError>;
}

/// A sink's failure, which stops the generator.
#[derive(Debug)]
pub struct SinkError(pub Box<dyn std::error::Error + Send + Sync>);

impl fmt::Display for SinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for SinkError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// Parameters a generator cannot make a graph from; the message names the parameter and the
/// range it must be in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadParameters(pub String);

/// A deterministic graph generator.
pub trait Dataset: Send + Sync {
    /// The dataset's name, as given on the command line.
    fn name(&self) -> &'static str;
    /// A one-line description with its parameters (sizes, seed), recorded in snapshots.
    fn describe(&self) -> String;
    /// What it holds.
    fn schema(&self) -> Schema;
    /// The exact number of nodes it will emit.
    fn node_count(&self) -> u64;
    /// The number of relationships it will emit, exact or close (for progress bars).
    fn relationship_count_hint(&self) -> u64;
    /// Streams the graph into `sink`: nodes `0..node_count` in order, then relationships.
    fn generate(&self, sink: &mut dyn GraphSink) -> Result<(), SinkError>;
}

pub mod testing {
    //! An in-memory sink that keeps a whole generated graph: for tests and small graphs.

    use super::{Dataset, GraphSink, Node, Relationship, SinkError, Value};

    /// A generated node, owned.
    #[derive(Debug, Clone, PartialEq)]
    pub struct OwnedNode {
        /// The generator id.
        pub id: u64,
        /// Its labels.
        pub labels: Vec<String>,
        /// Its properties.
        pub properties: Vec<(String, Value)>,
    }

    /// A whole generated graph.
    #[derive(Debug, Clone, Default, PartialEq)]
    pub struct Collect {
        /// The nodes, in the order they came.
        pub nodes: Vec<OwnedNode>,
        /// The relationships, in the order they came.
        pub rels: Vec<Relationship>,
    }

    impl Collect {
        /// Generates `dataset` into memory.
        ///
        /// # Panics
        ///
        /// When the generator breaks its contract (ids not dense and in order, a node after a
        /// relationship, an endpoint that is not a node).
        pub fn run(dataset: &dyn Dataset) -> Collect {
            let mut out = Collect::default();
            dataset
                .generate(&mut out)
                .expect("collecting in memory cannot fail");
            assert_eq!(out.nodes.len() as u64, dataset.node_count());
            for r in &out.rels {
                assert!(r.start < dataset.node_count() && r.end < dataset.node_count());
            }
            out
        }
    }

    impl GraphSink for Collect {
        fn node(&mut self, node: &Node<'_>) -> Result<(), SinkError> {
            assert!(
                self.rels.is_empty(),
                "node {} after a relationship",
                node.id
            );
            assert_eq!(
                node.id,
                self.nodes.len() as u64,
                "ids must be dense and in order"
            );
            self.nodes.push(OwnedNode {
                id: node.id,
                labels: node.labels.iter().map(|l| l.to_string()).collect(),
                properties: node
                    .properties
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.clone()))
                    .collect(),
            });
            Ok(())
        }

        fn relationship(&mut self, rel: Relationship) -> Result<(), SinkError> {
            self.rels.push(rel);
            Ok(())
        }
    }
}

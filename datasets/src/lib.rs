//! Datasets: deterministic generators and their loaders.
//!
//! - [`generate`]: the article's tree, a Discogs-shaped music graph and random graphs, the same
//!   graph for the same seed on every machine;
//! - [`load`] writes one into Neo4j (batched, parameterised Cypher through `neotrav-neo4j`);
//! - [`to_snapshot`] writes one straight into a snapshot file, without Neo4j.
//!
//! The bundled Neo4j and the test kit live in `neotrav-neo4j`.

#![forbid(unsafe_code)]

pub mod generate;
pub mod load;
pub mod to_snapshot;

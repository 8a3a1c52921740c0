//! Datasets: deterministic generators and their loaders.
//!
//! - [`generate`]: the article's tree, a Discogs-shaped music graph and random graphs, the same
//!   graph for the same seed on every machine;
//! - [`load`] writes one into Neo4j (batched, parameterised Cypher through `neotrav-neo4j`);
//! - [`to_snapshot`] writes one straight into a snapshot file, without Neo4j.
//!
//! The bundled Neo4j and the test kit live in `neotrav-neo4j`.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use neotrav_datasets::generate::tree::Tree;
//! use neotrav_snapshot::NoProgress;
//!
//! let dir = tempfile::tempdir()?;
//! let tree = Tree::new(1_000, 4, 42)?;
//! let written = neotrav_datasets::to_snapshot::write(&tree, &dir.path().join("t.snap"), &NoProgress)?;
//! assert_eq!(written.nodes, 1_000);
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]

pub mod generate;
pub mod load;
pub mod to_snapshot;

//! The neotrav traversal engine: APOC path-expander semantics over a snapshot, in-process.
//!
//! - [`engine`]: depth-first and breadth-first traversals, shortest paths and aggregations on a
//!   snapshot, with every request's budgets for visits, time and memory, and the
//!   [`MissSource`](engine::fresh::MissSource) seam through which `consistency: "fresh"` reads
//!   what the snapshot does not know (the Neo4j source lives in `neotrav-neo4j`);
//! - [`batch`]: one spec from many starts in parallel, resumable, with the bit-parallel
//!   multi-source BFS (`neotrav batch`).
//!
//! It speaks the request language of `neotrav-wire` and reads files of `neotrav-snapshot`; it
//! knows nothing of HTTP, Neo4j, async runtimes or the command line.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use neotrav_snapshot::SnapshotBuilder;
//! use neotrav_traverser::engine::Engine;
//! use neotrav_wire::{Answer, ReturnForm, TraverseRequest};
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("g.snap");
//! let mut b = SnapshotBuilder::new();
//! b.add_node(10, ["Person"], [])?;
//! b.add_node(11, ["Person"], [])?;
//! b.add_relationship(100, "KNOWS", 10, 11)?;
//! b.write(&path)?;
//!
//! let engine = Engine::open(&path)?;
//! let mut request = TraverseRequest::from_start(10u64);
//! request.relationship_filter = Some("KNOWS>".into());
//! request.return_form = ReturnForm::Nodes;
//! let answer = engine.traverse(&request)?.answer;
//! assert_eq!(answer, Answer::Nodes(vec![10, 11]));
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]

pub mod batch;
pub mod engine;

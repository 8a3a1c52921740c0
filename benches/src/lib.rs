//! Benchmarks of neotrav.
//!
//! - `benches/`: criterion micro-benchmarks of the hot paths (opening a snapshot, label checks,
//!   neighbour iteration, property reads, adjacency layouts, traversals);
//! - [`harness`]: the side-by-side harness behind `neotrav bench` and `neotrav demo`, which asks
//!   the same questions of neotrav (in-process and over HTTP), raw Cypher, the APOC path
//!   expander and GDS on the bundled Neo4j, and checks the answers equal;
//! - [`synthetic`]: the deterministic random graphs the micro-benchmarks read.
//!
//! Run the micro-benchmarks with `cargo bench -p neotrav-benches`, the side-by-side harness with
//! `neotrav bench` (or `neotrav demo`); [`harness::run`] is what both call.

#![forbid(unsafe_code)]
// The harness's async case bodies nest deeply enough to pass the default layout depth.
#![recursion_limit = "256"]

pub mod harness;
pub mod synthetic;

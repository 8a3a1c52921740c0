//! Benchmarks of neotrav: criterion micro-benchmarks of the hot paths (`benches/snapshot.rs`:
//! opening a snapshot, label checks, neighbour iteration, property reads) and, later, the
//! side-by-side harness against raw Cypher, the APOC path expander and GDS on the bundled Neo4j.
//!
//! [`synthetic`] makes the deterministic random graphs the micro-benchmarks read.

#![forbid(unsafe_code)]

pub mod synthetic;

//! Benchmarks of neotrav: criterion micro-benchmarks of the hot paths and the side-by-side
//! harness against raw Cypher, the APOC path expander and GDS on the bundled Neo4j.
//!
//! Nothing is implemented yet: there is no engine to measure.

#![forbid(unsafe_code)]

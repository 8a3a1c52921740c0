//! The neotrav traversal engine and everything built on it, and the `neotrav` binary.
//!
//! - [`engine`]: depth-first and breadth-first traversals, shortest paths and aggregations on a
//!   snapshot, with APOC path-expander semantics, reading misses from Neo4j on request;
//! - [`sidecar`]: the HTTP API (`neotrav serve`);
//! - [`batch`]: one spec from many starts in parallel, resumable (`neotrav batch`);
//! - [`bench`]: the side-by-side harness against Cypher, APOC and GDS (`neotrav bench`,
//!   `neotrav demo`);
//! - [`cli`]: the command line.

#![forbid(unsafe_code)]

pub mod batch;
pub mod bench;
pub mod cli;
pub mod engine;
pub mod sidecar;

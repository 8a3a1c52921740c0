//! The neotrav traversal engine (depth-first and breadth-first traversals, shortest paths and
//! aggregations on a snapshot, with APOC path-expander semantics), the HTTP sidecar and batch
//! jobs, and the command line of the `neotrav` binary.
//!
//! Only the command line exists so far, with the `neotrav neo4j` subcommands; see [`cli`].

#![forbid(unsafe_code)]

pub mod batch;
pub mod bench;
pub mod cli;
pub mod engine;
pub mod sidecar;

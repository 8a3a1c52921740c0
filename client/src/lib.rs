//! The wire types of the neotrav sidecar's HTTP API ([`wire`]) and a typed async client for it
//! ([`Client`]).
//!
//! The traversal engine (`neotrav-traverser`) takes these same types in-process, so a request
//! means the same thing over HTTP, in a batch job and on the command line.
//!
//! With the `cypher-fallback` feature, the `fallback` module answers the same requests with APOC
//! and Cypher on Neo4j, and `ClientBuilder::fallback` makes the client use it while the sidecar
//! is unreachable.

#![forbid(unsafe_code)]

mod client;
#[cfg(feature = "cypher-fallback")]
pub mod fallback;
pub mod wire;

pub use client::{Client, ClientBuilder, ClientError};

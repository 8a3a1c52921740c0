//! A typed async client for the neotrav sidecar's HTTP API ([`Client`]), speaking the request
//! language of `neotrav-wire` (re-exported as [`wire`]).
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

pub use client::{Client, ClientBuilder, ClientError};
/// The request language: every request and answer type ([`neotrav_wire`]).
pub use neotrav_wire as wire;

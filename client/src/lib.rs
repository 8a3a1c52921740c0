//! A typed async client for the neotrav sidecar's HTTP API ([`Client`]), speaking the request
//! language of `neotrav-wire` (re-exported as [`wire`]).
//!
//! The traversal engine (`neotrav-traverser`) takes these same types in-process, so a request
//! means the same thing over HTTP, in a batch job and on the command line.
//!
//! ```no_run
//! # #![recursion_limit = "256"]
//! # async fn run() -> Result<(), neotrav_client::ClientError> {
//! use neotrav_client::Client;
//! use neotrav_client::wire::{ReturnForm, TraverseRequest};
//!
//! let client = Client::new("http://127.0.0.1:7475")?;
//! let mut request = TraverseRequest::from_start(0u64);
//! request.relationship_filter = Some("KNOWS>".into());
//! request.return_form = ReturnForm::Count;
//! println!("{:?}", client.traverse(&request).await?.answer);
//! # Ok(()) }
//! ```
//!
//! [`Client::cypher`] sends read-only Cypher to `POST /v1/cypher` (answered from the snapshot or
//! by Neo4j behind the sidecar: `answered_by`, `forwarded_because`).
//!
//! It does not hold the wire types (`neotrav-wire`) or the server (`neotrav-server`).
//!
//! With the `cypher-fallback` feature, the `fallback` module answers the same requests with APOC
//! and Cypher on Neo4j, and `ClientBuilder::fallback` makes the client use it while the sidecar
//! is unreachable; `Client::cypher` then runs the statement on Neo4j in a read transaction.

#![forbid(unsafe_code)]
// The client's async methods with their retries nest deeper than the default layout depth.
#![recursion_limit = "256"]

mod client;
#[cfg(feature = "cypher-fallback")]
pub mod fallback;

pub use client::{Client, ClientBuilder, ClientError};
/// The request language: every request and answer type ([`neotrav_wire`]).
pub use neotrav_wire as wire;

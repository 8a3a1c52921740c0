//! The wire types of the neotrav sidecar's HTTP API ([`wire`]) and a typed async client for it
//! ([`Client`]).
//!
//! The traversal engine (`neotrav-traverser`) takes these same types in-process, so a request
//! means the same thing over HTTP, in a batch job and on the command line.

#![forbid(unsafe_code)]

mod client;
pub mod wire;

pub use client::{Client, ClientBuilder, ClientError};

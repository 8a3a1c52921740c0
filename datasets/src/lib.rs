//! Datasets and the real Neo4j they are loaded into.
//!
//! - [`bundled`]: the bundled Neo4j 5.26 Community server with APOC core and Open GDS, resolved
//!   from Maven Central by the Maven project under `neo4j/`, started, stopped and inspected. The
//!   `neotrav neo4j` subcommands are a thin layer over it.
//! - [`testkit`]: what integration tests across the workspace use: one bundled Neo4j per test
//!   process, started on first use on a free port and gone when the process ends, and a clean
//!   graph for each test that needs one.
//!
//! - [`generate`]: deterministic generators of the article's tree, a Discogs-shaped music graph
//!   and random graphs; [`load`] writes one into Neo4j, [`to_snapshot`] straight into a snapshot.

#![forbid(unsafe_code)]

pub mod bundled;
pub mod generate;
pub mod load;
pub mod testkit;
pub mod to_snapshot;

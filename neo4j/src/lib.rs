//! Everything neotrav says to Neo4j, in one place.
//!
//! - [`connect`]: a driver for a Bolt URI, the one way the workspace builds one.
//! - [`cypher`]: the one rule for names put into Cypher ([`cypher::quote`]) and the one way
//!   result streams are drained ([`cypher::rows`]).
//! - [`value`]: values to and from Bolt.
//! - [`forward`]: read-only Cypher run on Neo4j in a read transaction, its rows in the Query
//!   API's value model (what the sidecar answers with when its snapshot cannot).
//! - [`export`]: the exporter, a live database into a snapshot file.
//! - [`miss`]: the Neo4j [`MissSource`](neotrav_traverser::engine::fresh::MissSource) that
//!   `consistency: "fresh"` reads misses from.
//! - [`bundled`]: the bundled Neo4j 5.26 Community server with APOC core and Open GDS, resolved
//!   from Maven Central by the Maven project in `neo4j/maven/`, started, stopped and inspected.
//! - `testkit` (feature `testkit`): what the workspace's integration tests share: one bundled
//!   Neo4j per test process, a clean graph per test, fixtures, and `neotrav` run as a process.
//!
//! It does not hold the engine, the HTTP API or the generators; those crates use this one.
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use neotrav_neo4j::connect::{Connection, Password};
//! use neotrav_neo4j::cypher;
//!
//! let graph = Connection::new("bolt://127.0.0.1:7687", "neo4j", Password::from_env()).graph()?;
//! let label = cypher::quote("label", "Artist")?;
//! let q = neo4rs::query(&format!("MATCH (n:{label}) RETURN count(n) AS n"));
//! let rows = cypher::rows(&graph, q, true).await?;
//! println!("{} artists", rows[0].get::<i64>("n")?);
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]

pub mod bundled;
pub mod connect;
pub mod cypher;
pub mod export;
pub mod forward;
pub mod miss;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod value;

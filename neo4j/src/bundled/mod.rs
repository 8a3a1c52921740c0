//! The bundled Neo4j: a real Neo4j 5.26 Community server with APOC core and Open GDS, run as a
//! background JVM on loopback.
//!
//! - [`Bundle`] is the Maven project in `neo4j/maven/` that resolves the pinned artifacts from Maven
//!   Central. [`Bundle::ensure_built`] runs Maven only when the project changed since the last
//!   build (the first build downloads; later ones touch neither Maven nor the network) and returns
//!   the [`Artifacts`]: the launcher, the server classpath and the plugins folder.
//! - [`ServerConfig`] says how to run one server: its home directory, Bolt port, heap, page cache
//!   and the password of user `neo4j`.
//! - [`start`] launches a server and returns once Bolt answers a query; [`stop`] shuts it down
//!   with SIGTERM and waits; [`status`] says whether it runs and which versions it has.
//!
//! # The home directory
//!
//! One home directory holds one server:
//!
//! ```text
//! HOME/conf/neo4j.conf      generated at every start from the ServerConfig (edits are overwritten)
//! HOME/data/                the databases; the password is fixed when this is first created
//! HOME/logs/                neo4j.log, debug.log, and console.log (the JVM's own output)
//! HOME/neotrav-server.json  the pid file: pid, Bolt address, memory, start time
//! HOME/neotrav.lock         locked while a start or stop runs, so two never collide
//! ```

mod config;
mod error;
mod home;
mod maven;
mod server;

pub use config::{MemorySize, ServerConfig};
pub use error::BundleError;
pub use home::ServerState;
pub use maven::{Artifacts, Bundle};
pub use server::{
    Password, RunningServer, Status, StopReport, Versions, connect, start, status, stop,
};

/// The Bolt port Neo4j uses by default, and so does `neotrav neo4j start`.
pub const DEFAULT_BOLT_PORT: u16 = 7687;

/// A port on 127.0.0.1 that nothing listens on right now: a Bolt port for a server started
/// beside others (the test kit's, the bench harness's).
pub fn free_port() -> std::io::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// The user the bundled server is set up with.
pub const DEFAULT_USER: &str = "neo4j";

/// The password used when `NEO4J_PASSWORD` is not set. It exists so that a development server
/// starts with no setup; anything reachable by others must set its own. Neo4j requires at least
/// eight characters.
pub const DEV_PASSWORD: &str = "neotrav-dev";

/// The environment variable that overrides where the Maven project is (the `neo4j/maven/` folder of a
/// neotrav checkout). By default it is found next to the sources this crate was built from.
pub const PROJECT_ENV: &str = "NEOTRAV_NEO4J_PROJECT";

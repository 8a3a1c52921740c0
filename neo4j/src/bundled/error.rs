use std::io;
use std::path::PathBuf;

/// Everything that can go wrong while building, starting, stopping or asking the bundled Neo4j.
///
/// Each message names what was wrong and what to do about it. None carries the password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// The Maven project is not where it was looked for.
    #[error(
        "the bundled Neo4j Maven project was not found at {path} (no pom.xml there); \
         set {env} to the neo4j/maven/ folder of a neotrav checkout",
        env = super::PROJECT_ENV
    )]
    ProjectNotFound {
        /// Where it was looked for.
        path: PathBuf,
    },

    /// `java` could not be run.
    #[error(
        "Java was not found ({detail}); Neo4j 5.26 needs a Java 17 runtime: install one \
         (Debian: apt-get install openjdk-17-jre-headless) or set JAVA_HOME to it"
    )]
    JavaMissing {
        /// What running `java -version` said.
        detail: String,
    },

    /// `java` runs but is older than 17.
    #[error(
        "Java {found} is too old: Neo4j 5.26 needs Java 17 or newer; set JAVA_HOME to a Java 17 \
         installation"
    )]
    JavaTooOld {
        /// The version `java -version` reported.
        found: String,
    },

    /// `mvn` could not be run.
    #[error(
        "Maven (mvn) was not found ({detail}); it is needed once, to fetch Neo4j, APOC and GDS \
         from Maven Central: install it (Debian: apt-get install maven)"
    )]
    MavenMissing {
        /// What running `mvn` said.
        detail: String,
    },

    /// Maven ran and failed.
    #[error(
        "building the bundled Neo4j with Maven failed ({status}); the last lines of its \
         output:\n{tail}\nCheck that Maven Central is reachable, then run \
         `mvn -B -f {pom} package` to see everything",
        pom = pom.display()
    )]
    MavenFailed {
        /// How Maven exited.
        status: String,
        /// The last lines Maven printed.
        tail: String,
        /// The pom.xml it ran.
        pom: PathBuf,
    },

    /// A setting has a value that cannot work.
    #[error("invalid {what} {value:?}: {why}")]
    InvalidConfig {
        /// Which setting.
        what: &'static str,
        /// The value given.
        value: String,
        /// Why it cannot work, and what would.
        why: String,
    },

    /// A server already runs from this home.
    #[error(
        "Neo4j is already running from {home} (pid {pid}, {uri}); use it, or stop it first with \
         `neotrav neo4j stop --home {home}`",
        home = home.display()
    )]
    AlreadyRunning {
        /// Its home directory.
        home: PathBuf,
        /// Its process id.
        pid: u32,
        /// Its Bolt URI.
        uri: String,
    },

    /// Another start or stop holds the lock of this home.
    #[error(
        "another `neotrav neo4j` command is starting or stopping the server in {home}; wait for \
         it to finish and try again",
        home = home.display()
    )]
    Busy {
        /// The home directory whose lock is held.
        home: PathBuf,
    },

    /// The Bolt port is in use.
    #[error(
        "port {port} on 127.0.0.1 is already taken ({detail}); choose another with --bolt-port, \
         or stop whatever listens there"
    )]
    PortTaken {
        /// The port asked for.
        port: u16,
        /// What binding it said.
        detail: String,
    },

    /// The JVM exited before Bolt answered.
    #[error("Neo4j exited during start-up ({status}); the last lines of its logs:\n{tail}")]
    Exited {
        /// How the JVM exited.
        status: String,
        /// The last lines of neo4j.log and console.log.
        tail: String,
    },

    /// Bolt did not answer in time.
    #[error(
        "Neo4j did not answer on {uri} within {secs} s, so it was stopped; the last lines of its \
         logs:\n{tail}\nIf the machine is just slow, raise the limit with --timeout"
    )]
    StartTimeout {
        /// The Bolt URI that was polled.
        uri: String,
        /// The limit.
        secs: u64,
        /// The last lines of neo4j.log and console.log.
        tail: String,
    },

    /// The server rejected the password.
    #[error(
        "Neo4j at {uri} refused the password for user `{user}`: the database in {home} was \
         created with another one. Set NEO4J_PASSWORD to that password, or delete {home}/data to \
         start afresh (which deletes the data)",
        home = home.display()
    )]
    WrongPassword {
        /// The Bolt URI.
        uri: String,
        /// The user name.
        user: String,
        /// The home directory of the server.
        home: PathBuf,
    },

    /// No server runs from this home.
    #[error(
        "no Neo4j is running from {home}; start one with `neotrav neo4j start --home {home}`",
        home = home.display()
    )]
    NotRunning {
        /// The home directory.
        home: PathBuf,
    },

    /// The server did not exit after SIGTERM.
    #[error(
        "Neo4j (pid {pid}) did not stop within {secs} s of SIGTERM; look at {home}/logs/neo4j.log, \
         wait longer with --timeout, or end it with --force (SIGKILL)",
        home = home.display()
    )]
    StopTimeout {
        /// Its process id.
        pid: u32,
        /// How long it was given.
        secs: u64,
        /// Its home directory.
        home: PathBuf,
    },

    /// A query to a running server failed.
    #[error("the query to Neo4j at {uri} failed: {message}")]
    Query {
        /// The Bolt URI.
        uri: String,
        /// What the driver or the server said.
        message: String,
    },

    /// A file or process operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, with the path.
        context: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

impl BundleError {
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(io::Error) -> Self {
        let context = context.into();
        move |source| BundleError::Io { context, source }
    }
}

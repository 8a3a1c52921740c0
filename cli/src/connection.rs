//! The Neo4j connection flags every Neo4j-facing subcommand shares, read from the environment
//! variables Neo4j's own tools use.

use anyhow::Result;
use clap::Args;
use neo4rs::Graph;
use neotrav_neo4j::bundled::{DEFAULT_BOLT_PORT, DEV_PASSWORD, Password};
use neotrav_neo4j::connect::{Connection, redact};
use neotrav_neo4j::export::Origin;

#[derive(Debug, Clone, Args)]
pub(super) struct Neo4jArgs {
    /// The Neo4j Bolt address [default: the bundled Neo4j, bolt://127.0.0.1:7687].
    #[arg(long = "uri", env = "NEO4J_URI", value_name = "URI")]
    uri: Option<String>,

    /// The user to connect as.
    #[arg(
        long = "user",
        env = "NEO4J_USERNAME",
        default_value = "neo4j",
        value_name = "USER"
    )]
    user: String,

    /// The user's password [default: the bundled Neo4j's development password]. Prefer the
    /// environment variable: a flag shows in the process list.
    #[arg(
        long = "password",
        env = "NEO4J_PASSWORD",
        hide_env_values = true,
        value_name = "PW"
    )]
    password: Option<String>,

    /// The database [default: the server's default database].
    #[arg(long = "database", env = "NEO4J_DATABASE", value_name = "NAME")]
    database: Option<String>,
}

/// How long a single query may take before the connection is given up.
const QUERY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

impl Neo4jArgs {
    /// The URI as given, or the bundled Neo4j's.
    pub(super) fn uri(&self) -> String {
        self.uri
            .clone()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| format!("bolt://127.0.0.1:{DEFAULT_BOLT_PORT}"))
    }

    /// Whether a Neo4j address was given (--uri or NEO4J_URI).
    pub(super) fn given(&self) -> bool {
        self.uri.as_ref().is_some_and(|u| !u.is_empty())
    }

    /// Where the graph comes from, without credentials.
    pub(super) fn origin(&self) -> Origin {
        Origin {
            address: redact(&self.uri()),
            database: self.database.clone().unwrap_or_default(),
        }
    }

    /// A driver; the connection is made by the first query.
    pub(super) fn connect(&self) -> Result<Graph> {
        let password = Password::new(
            self.password
                .clone()
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| DEV_PASSWORD.to_string()),
        );
        Ok(Connection::new(self.uri(), self.user.as_str(), password)
            .database(self.database.clone())
            .fetch_size(10_000)
            .read_timeout(QUERY_TIMEOUT)
            .graph()?)
    }
}

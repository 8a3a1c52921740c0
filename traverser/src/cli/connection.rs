//! The Neo4j connection flags every Neo4j-facing subcommand shares, read from the environment
//! variables Neo4j's own tools use.

use anyhow::{Context, Result};
use clap::Args;
use neo4rs::{ConfigBuilder, Graph};
use neotrav_datasets::bundled::{DEFAULT_BOLT_PORT, DEV_PASSWORD, Password};
use neotrav_snapshot::export::Origin;

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
        let uri = self.uri();
        let mut config = ConfigBuilder::default()
            .uri(uri.as_str())
            .user(self.user.as_str())
            .password(password.expose())
            .fetch_size(10_000)
            // Also the read timeout: a big delete, page or projection may run for minutes.
            .connection_timeout(QUERY_TIMEOUT);
        if let Some(db) = &self.database {
            config = config.db(db.as_str());
        }
        let config = config
            .build()
            .with_context(|| format!("bad Neo4j connection settings for {}", redact(&uri)))?;
        Graph::connect(config).with_context(|| format!("cannot connect to {}", redact(&uri)))
    }
}

/// The URI without any `user:password@` part.
pub(super) fn redact(uri: &str) -> String {
    match (uri.find("://"), uri.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}{}", &uri[..scheme + 3], &uri[at + 1..])
        }
        _ => uri.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_cut_from_addresses() {
        assert_eq!(redact("bolt://u:secret@h:7687"), "bolt://h:7687");
        assert_eq!(redact("neo4j://h:7687"), "neo4j://h:7687");
        assert_eq!(redact("bolt://h"), "bolt://h");
    }
}

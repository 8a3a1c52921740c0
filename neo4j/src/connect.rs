//! Drivers: the one place the workspace turns a URI, a user and a password into a neo4rs
//! [`Graph`], and the one rule for showing a URI ([`redact`]) or a password ([`Password`]).

use std::fmt;
use std::time::Duration;

use neo4rs::{ConfigBuilder, Graph};

/// A password that never shows in `Debug` output, logs or error messages.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// Wraps a password.
    pub fn new(password: impl Into<String>) -> Password {
        Password(password.into())
    }

    /// `NEO4J_PASSWORD` if it is set and not empty, else the bundled server's
    /// [`DEV_PASSWORD`](crate::bundled::DEV_PASSWORD).
    pub fn from_env() -> Password {
        match std::env::var("NEO4J_PASSWORD") {
            Ok(p) if !p.is_empty() => Password(p),
            _ => Password(crate::bundled::DEV_PASSWORD.to_string()),
        }
    }

    /// The password itself, for handing to a driver.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// Why a driver could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The settings were refused (a malformed URI, say).
    #[error("bad Neo4j connection settings for {uri}: {source}")]
    Settings {
        /// The URI, without credentials.
        uri: String,
        /// What neo4rs said.
        #[source]
        source: neo4rs::Error,
    },
    /// The driver could not be made.
    #[error("cannot connect to {uri}: {source}")]
    Connect {
        /// The URI, without credentials.
        uri: String,
        /// What neo4rs said.
        #[source]
        source: neo4rs::Error,
    },
}

/// How to reach one Neo4j database. [`Connection::graph`] makes a driver; the connection is made
/// by the first query, so a server that is down fails that query, not this.
///
/// A row stream holds its pooled connection until it is dropped; keeping more streams alive than
/// the pool has connections (neo4rs's default: 16) makes the next query wait forever, so drain
/// results with [`crate::cypher::rows`].
#[derive(Debug, Clone)]
pub struct Connection {
    uri: String,
    user: String,
    password: Password,
    database: Option<String>,
    fetch_size: Option<usize>,
    read_timeout: Option<Duration>,
    max_connections: Option<usize>,
}

impl Connection {
    /// `uri` (`bolt://host:port`, `neo4j://host:port` or `host:port`) as `user`.
    pub fn new(uri: impl Into<String>, user: impl Into<String>, password: Password) -> Connection {
        Connection {
            uri: uri.into(),
            user: user.into(),
            password,
            database: None,
            fetch_size: None,
            read_timeout: None,
            max_connections: None,
        }
    }

    /// Queries go to `database` instead of the server's default one.
    pub fn database(mut self, database: Option<String>) -> Connection {
        self.database = database.filter(|d| !d.is_empty());
        self
    }

    /// Rows fetched per round trip of a stream.
    pub fn fetch_size(mut self, rows: usize) -> Connection {
        self.fetch_size = Some(rows);
        self
    }

    /// How long connecting, and each read, may take (neo4rs's default: 30 s). A big page,
    /// delete or projection may run for minutes.
    pub fn read_timeout(mut self, timeout: Duration) -> Connection {
        self.read_timeout = Some(timeout);
        self
    }

    /// The pool's size (neo4rs's default: 16).
    pub fn max_connections(mut self, n: usize) -> Connection {
        self.max_connections = Some(n);
        self
    }

    /// The URI, without any credentials in it.
    pub fn address(&self) -> String {
        redact(&self.uri)
    }

    /// A driver.
    pub fn graph(&self) -> Result<Graph, ConnectError> {
        let mut config = ConfigBuilder::default()
            .uri(self.uri.as_str())
            .user(self.user.as_str())
            .password(self.password.expose());
        if let Some(rows) = self.fetch_size {
            config = config.fetch_size(rows);
        }
        if let Some(timeout) = self.read_timeout {
            config = config.connection_timeout(timeout);
        }
        if let Some(n) = self.max_connections {
            config = config.max_connections(n);
        }
        if let Some(db) = &self.database {
            config = config.db(db.as_str());
        }
        let config = config.build().map_err(|source| ConnectError::Settings {
            uri: self.address(),
            source,
        })?;
        Graph::connect(config).map_err(|source| ConnectError::Connect {
            uri: self.address(),
            source,
        })
    }
}

/// The URI without any `user:password@` part.
pub fn redact(uri: &str) -> String {
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

    #[test]
    fn passwords_do_not_show_in_debug_output() {
        let c = Connection::new("bolt://h:7687", "neo4j", Password::new("hunter22"));
        assert!(!format!("{c:?}").contains("hunter22"));
    }
}

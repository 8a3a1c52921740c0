//! Small, shared pieces for talking to Neo4j with Cypher: identifier quoting and draining
//! result streams.

use neo4rs::{Graph, Query, Row};

/// A label, relationship type, property key or schema name that cannot be put in a query.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} {name:?} cannot be used in Cypher: {why}")]
pub struct BadIdentifier {
    /// What the name is (`label`, `relationship type`, `property key`).
    pub what: &'static str,
    /// The name as given.
    pub name: String,
    /// Why it was refused.
    pub why: &'static str,
}

/// Validates a label, type or key name and backtick-quotes it for Cypher, doubling any backtick
/// inside. Names that are empty, longer than 1024 bytes or hold a NUL or other control
/// character are refused: Neo4j itself rejects them, and they are never what a user meant.
pub fn quote(what: &'static str, name: &str) -> Result<String, BadIdentifier> {
    let why = if name.is_empty() {
        Some("it is empty")
    } else if name.len() > 1024 {
        Some("it is longer than 1024 bytes")
    } else if name.chars().any(char::is_control) {
        Some("it holds a control character")
    } else {
        None
    };
    match why {
        Some(why) => Err(BadIdentifier {
            what,
            name: name.to_string(),
            why,
        }),
        None => Ok(format!("`{}`", name.replace('`', "``"))),
    }
}

/// Runs a query and returns its rows as a stream, for answers too large to hold at once; `read`
/// runs it in a read-only transaction. The stream holds a pooled connection until it is
/// dropped. Use [`rows`] unless the answer may be large.
pub async fn stream(
    graph: &Graph,
    q: Query,
    read: bool,
) -> Result<neo4rs::DetachedRowStream, neo4rs::Error> {
    if read {
        graph.execute_read(q).await
    } else {
        graph.execute(q).await
    }
}

/// Runs a query and collects every row, so that the stream and its pooled connection are
/// released before the next query. `read` runs it in a read-only transaction.
///
/// Prefer it to `Graph::run` for read-only procedure calls: `run` discards the result, and Neo4j
/// then skips executing a read-only query entirely.
pub async fn rows(graph: &Graph, q: Query, read: bool) -> Result<Vec<Row>, neo4rs::Error> {
    let mut stream = stream(graph, q, read).await?;
    let mut rows = Vec::new();
    while let Some(row) = stream.next().await? {
        rows.push(row);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_escapes_backticks() {
        assert_eq!(quote("label", "A").unwrap(), "`A`");
        assert_eq!(quote("label", "a`b").unwrap(), "`a``b`");
        assert_eq!(quote("label", "with space").unwrap(), "`with space`");
        assert_eq!(
            quote("label", "x` DETACH DELETE n //").unwrap(),
            "`x`` DETACH DELETE n //`"
        );
    }

    #[test]
    fn refuses_names_neo4j_cannot_hold() {
        assert!(quote("label", "").is_err());
        assert!(quote("label", "a\0b").is_err());
        assert!(quote("label", "a\nb").is_err());
        let err = quote("relationship type", &"x".repeat(2000)).unwrap_err();
        assert!(err.to_string().contains("relationship type"), "{err}");
    }
}

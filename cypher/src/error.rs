//! What can go wrong with a statement, and the forwarding decision.

use std::fmt;

use open_cypher::ParseErrors;

use crate::{MAX_NESTING, MAX_STATEMENT_BYTES};

/// Why a statement gets no answer from the snapshot.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CypherError {
    /// The statement does not parse.
    #[error("{0}")]
    Syntax(SyntaxError),
    /// The statement writes (CREATE, MERGE, SET, DELETE, REMOVE, FOREACH, LOAD CSV): neotrav
    /// only reads, and its connection to Neo4j is read-only.
    #[error(
        "{construct} writes to the graph; neotrav answers read-only statements (send writes to Neo4j itself)"
    )]
    Write {
        /// The clause.
        construct: String,
    },
    /// A parameter the statement uses was not given.
    #[error("parameter ${name} is used by the statement but was not given")]
    MissingParameter {
        /// Its name.
        name: String,
    },
    /// A parameter has the wrong type or cannot be read.
    #[error("parameter ${name}: {message}")]
    BadParameter {
        /// Its name.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// The statement is semantically wrong (an unknown variable, an aggregate where none may
    /// be), as Neo4j would also refuse it.
    #[error("{0}")]
    Semantic(String),
    /// Evaluation failed as it fails in Neo4j (integer overflow, division by zero, a type error).
    #[error("{0}")]
    Runtime(String),
    /// A budget ran out.
    #[error(
        "the statement exceeded its {budget} budget ({detail}); narrow it, add a LIMIT, or raise the budget"
    )]
    Budget {
        /// `deadlineMs`, `maxMemory` or `maxVisited`.
        budget: &'static str,
        /// The limit.
        detail: String,
    },
    /// Only found while running: the snapshot cannot answer this case (e.g. `shortestPath` with
    /// equal ends); the caller forwards it like a planned [`Forward`].
    #[error("{}", .0.reason)]
    NeedsNeo4j(Forward),
}

/// A statement that does not parse: the parser's diagnostics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// The first diagnostic's message.
    pub message: String,
    /// 1-based line of the first diagnostic.
    pub line: usize,
    /// 1-based column (in characters) of the first diagnostic.
    pub column: usize,
    /// Every diagnostic, rendered with the statement's text under it.
    pub rendered: String,
}

impl SyntaxError {
    pub(crate) fn of(text: &str, e: &ParseErrors) -> CypherError {
        let first = e.diagnostics().first();
        let at = first.map_or(0, |d| d.primary_span.start.min(text.len()));
        let (line, column) = line_column(text, at);
        CypherError::Syntax(SyntaxError {
            message: first.map_or_else(
                || "the statement does not parse".into(),
                |d| match &d.help {
                    Some(h) => format!("{} ({h})", d.message),
                    None => d.message.clone(),
                },
            ),
            line,
            column,
            rendered: e.render(text),
        })
    }

    pub(crate) fn at(text: &str, byte: usize, message: String) -> CypherError {
        let (line, column) = line_column(text, byte.min(text.len()));
        CypherError::Syntax(SyntaxError {
            rendered: format!("error: {message}\n --> {line}:{column}"),
            message,
            line,
            column,
        })
    }
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "syntax error at line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

/// 1-based line and character column of byte `at`.
pub(crate) fn line_column(text: &str, at: usize) -> (usize, usize) {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// A statement the snapshot cannot answer: what forces Neo4j.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forward {
    /// The construct, as written in the statement (or named, e.g. `CALL`).
    pub construct: String,
    /// Why, in a sentence.
    pub reason: String,
    /// 1-based line and column of the construct.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

impl fmt::Display for Forward {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (line {}, column {})",
            self.reason, self.line, self.column
        )
    }
}

/// Refuses statements too long or too deeply nested to plan safely, before the parser sees them.
pub(crate) fn check_size(text: &str) -> Result<(), CypherError> {
    if text.len() > MAX_STATEMENT_BYTES {
        return Err(SyntaxError::at(
            text,
            MAX_STATEMENT_BYTES,
            format!(
                "the statement is {} bytes; at most {MAX_STATEMENT_BYTES} are accepted",
                text.len()
            ),
        ));
    }
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' && q != '`' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' | '`' => quote = Some(c),
            '(' | '[' | '{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(SyntaxError::at(
                        text,
                        i,
                        format!("brackets are nested more than {MAX_NESTING} deep"),
                    ));
                }
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_count_characters() {
        assert_eq!(line_column("ab\ncdé f", 7), (2, 4));
        assert_eq!(line_column("x", 0), (1, 1));
    }

    #[test]
    fn deep_nesting_is_refused_before_parsing() {
        let deep = format!("RETURN {}1{}", "(".repeat(100), ")".repeat(100));
        let CypherError::Syntax(e) = check_size(&deep).unwrap_err() else {
            panic!("syntax")
        };
        assert!(e.message.contains("nested"), "{e}");
        assert!(
            check_size(
                "RETURN '((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((('"
            )
            .is_ok()
        );
    }
}

//! What can go wrong with a statement, and the forwarding decision.

use std::fmt;

use open_cypher::ParseErrors;

use crate::{MAX_CHAIN, MAX_NESTING, MAX_STATEMENT_BYTES, MAX_UNIONS};

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

/// Refuses statements too long or too deeply nested to handle safely, before the parser sees
/// them.
///
/// The parser builds a tree as deep as the statement nests, and the tree's destructor and
/// `Clone` recurse on it, as does planning. Nesting comes from brackets (at most
/// [`MAX_NESTING`] deep) and from chains of operators: `a + b + …`, `NOT NOT …`, `x.a.b…`,
/// `x[0][0]…`, `CASE` in `CASE`. This scan counts the operators of each expression (a comma ends
/// one, except inside a `CASE`), adds those of the expressions around it, and refuses more than
/// [`MAX_CHAIN`]. The count is an upper bound of the tree's depth, but for the unlikely `CASE`
/// chained in `WHEN` lists after a variable named `end`, which the size bounds to a few thousand.
/// The parser also recurses on `UNION`: at most [`MAX_UNIONS`] are accepted. Strings, quoted
/// names and comments are skipped.
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
    /// One bracket level: operators since its start or its last comma, and `CASE`s open in it.
    #[derive(Default)]
    struct Level {
        ops: usize,
        cases: usize,
    }
    let chain_error = |at: usize| {
        Err(SyntaxError::at(
            text,
            at,
            format!(
                "operators are chained more than {MAX_CHAIN} deep (split the expression, or use a list and IN)"
            ),
        ))
    };
    let bytes = text.as_bytes();
    let mut levels = vec![Level::default()];
    // The operators of the enclosing levels.
    let mut outer_ops = 0usize;
    let mut unions = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'\'' | b'"' | b'`' => {
                // To the closing quote; a backslash escapes in strings (a doubled backtick in a
                // name reads as a name closed and opened again, which is the same here).
                i += 1;
                while i < bytes.len() && bytes[i] != c {
                    if bytes[i] == b'\\' && c != b'`' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < bytes.len() && !(bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                i += 1;
            }
            b'(' | b'[' | b'{' => {
                // A bracket after something chains on it too (`x[0][0]`, `f(x)(y)`).
                let top = levels.last_mut().expect("the statement's level");
                top.ops += 1;
                outer_ops += top.ops;
                levels.push(Level::default());
                if levels.len() - 1 > MAX_NESTING {
                    return Err(SyntaxError::at(
                        text,
                        i,
                        format!("brackets are nested more than {MAX_NESTING} deep"),
                    ));
                }
                if outer_ops + levels.len() > MAX_CHAIN {
                    return chain_error(i);
                }
            }
            b')' | b']' | b'}' if levels.len() > 1 => {
                levels.pop();
                outer_ops -= levels.last().expect("the statement's level").ops;
            }
            b',' => {
                let top = levels.last_mut().expect("the statement's level");
                if top.cases == 0 {
                    top.ops = 0;
                }
            }
            b'+' | b'-' | b'*' | b'/' | b'%' | b'^' | b'=' | b'<' | b'>' | b'!' | b'.' | b'|'
            | b'&' | b':' => {
                let top = levels.last_mut().expect("the statement's level");
                top.ops += 1;
                if outer_ops + top.ops + levels.len() > MAX_CHAIN {
                    return chain_error(i);
                }
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                let word = &text[start..i];
                let top = levels.last_mut().expect("the statement's level");
                let operator = [
                    "NOT", "AND", "OR", "XOR", "IN", "IS", "STARTS", "ENDS", "CONTAINS", "CASE",
                ]
                .iter()
                .any(|w| word.eq_ignore_ascii_case(w));
                if word.eq_ignore_ascii_case("UNION") {
                    unions += 1;
                    if unions > MAX_UNIONS {
                        return Err(SyntaxError::at(
                            text,
                            start,
                            format!("a statement may have at most {MAX_UNIONS} UNIONs"),
                        ));
                    }
                }
                if word.eq_ignore_ascii_case("CASE") {
                    top.cases += 1;
                } else if word.eq_ignore_ascii_case("END") {
                    top.cases = top.cases.saturating_sub(1);
                }
                if operator {
                    top.ops += 1;
                    if outer_ops + top.ops + levels.len() > MAX_CHAIN {
                        return chain_error(start);
                    }
                }
                continue;
            }
            _ => {}
        }
        i += 1;
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

    fn refusal(text: &str) -> String {
        match check_size(text) {
            Err(CypherError::Syntax(e)) => e.message,
            other => panic!("not refused: {other:?}"),
        }
    }

    /// Regression: a quote inside a comment made the scan skip the brackets after it, so a
    /// statement nested past the limit reached the planner, which overflowed the stack.
    #[test]
    fn comments_neither_hide_brackets_nor_count_them() {
        for open in ["/* ' */", "// '\n", "/* \" */", "// `\n"] {
            let deep = format!("RETURN {open} {}1{}", "(".repeat(100), ")".repeat(100));
            assert!(refusal(&deep).contains("nested"), "{open}");
        }
        let commented = format!("RETURN /* {} */ 1 // {}", "(".repeat(100), "[".repeat(100));
        assert!(check_size(&commented).is_ok());
        assert!(check_size("RETURN 'it\\'s (((' AS `a((`").is_ok());
    }

    #[test]
    fn long_operator_chains_are_refused_before_parsing_and_lists_are_not() {
        let unary = format!("RETURN {}1", "-".repeat(3000));
        assert!(refusal(&unary).contains("chained"));
        let binary = format!("RETURN 1{}", " + 1".repeat(3000));
        assert!(refusal(&binary).contains("chained"));
        let properties = format!("RETURN x{}", ".a".repeat(3000));
        assert!(refusal(&properties).contains("chained"));
        let cases = format!(
            "RETURN {}1{}",
            "CASE WHEN true THEN ".repeat(2100),
            " END".repeat(2100)
        );
        assert!(refusal(&cases).contains("chained"));
        // Chains add up across brackets.
        let nested = format!(
            "RETURN {}1{}",
            "1 + 1 + 1 + 1 + (".repeat(60),
            ")".repeat(60)
        );
        assert!(check_size(&nested).is_ok());
        let nested = format!("RETURN {}1{}", "1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + (".repeat(60), ")".repeat(60));
        assert!(refusal(&nested).contains("chained"));
        // A comma ends an expression: long lists, and many conditions, are fine.
        let list = format!("RETURN [{}]", vec!["-1.5"; 10_000].join(", "));
        assert!(check_size(&list).is_ok());
        let conditions: Vec<String> = (0..300).map(|i| format!("n.key = {i}")).collect();
        let or = format!("MATCH (n) WHERE {} RETURN n", conditions.join(" OR "));
        assert!(check_size(&or).is_ok());
    }

    #[test]
    fn unions_are_bounded_before_parsing() {
        let union = |n: usize| format!("RETURN 1 AS x{}", " UNION ALL RETURN 1 AS x".repeat(n));
        assert!(check_size(&union(crate::MAX_UNIONS)).is_ok());
        assert!(refusal(&union(crate::MAX_UNIONS + 1)).contains("UNION"));
    }
}

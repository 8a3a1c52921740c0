//! [`BatchError`]: why a batch cannot run, with the messages that list malformed lines and
//! unknown starts.

use std::fmt::Write as _;

use crate::engine::EngineError;

use super::BadLine;

/// Why a batch cannot run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BatchError {
    /// The spec is not a request (bad JSON, an unknown key, a wrong type).
    #[error("the spec is {0}")]
    Spec(String),
    /// The spec is a request the engine refuses (a bad filter, an unknown key column...).
    #[error("the spec cannot run: {0}")]
    Engine(#[from] EngineError),
    /// Lines of the starts file are not ids (or id pairs); none were run.
    #[error("{}", bad_lines_message(.count, .lines))]
    BadLines {
        /// How many lines are malformed.
        count: usize,
        /// The first of them.
        lines: Vec<BadLine>,
    },
    /// Starts the snapshot does not hold, with `--strict`; none were run.
    #[error("{}", unknown_message(.0))]
    UnknownStarts(Vec<(usize, u64)>),
    /// An option the spec cannot honour (bit-parallel forced on a spec it cannot answer).
    #[error("{0}")]
    Option(String),
    /// The output cannot be resumed: it does not belong to this job.
    #[error("cannot resume {path}: {message}")]
    Resume {
        /// The output file.
        path: String,
        /// Why.
        message: String,
    },
    /// Reading or writing a file failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
}

/// How many malformed lines are listed in full.
pub const BAD_LINES_SHOWN: usize = 20;

fn bad_lines_message(count: &usize, lines: &[BadLine]) -> String {
    let mut m = format!(
        "{count} malformed start line(s), nothing was run (each line holds one Neo4j id, or two for shortest paths; blank lines and lines starting with # are skipped):"
    );
    for b in lines {
        let _ = write!(m, "\n  line {}: {:?}: {}", b.line, b.text, b.reason);
    }
    if *count > lines.len() {
        let _ = write!(m, "\n  ... and {} more", count - lines.len());
    }
    m
}

fn unknown_message(unknown: &[(usize, u64)]) -> String {
    let mut m = format!(
        "{} start(s) are not in the snapshot, nothing was run (--strict; without it they are reported and skipped):",
        unknown.len()
    );
    for (line, id) in unknown.iter().take(BAD_LINES_SHOWN) {
        let _ = write!(m, "\n  line {line}: node {id}");
    }
    if unknown.len() > BAD_LINES_SHOWN {
        let _ = write!(m, "\n  ... and {} more", unknown.len() - BAD_LINES_SHOWN);
    }
    m
}

//! What can go wrong in the harness: one typed error, [`BenchError`], for every step of a run.
//!
//! Each variant's message says what the harness was doing (the case, system and input, the
//! dataset, the path, the query) and keeps the error it met as its [`source`]; the message does
//! not repeat the source, so printing the chain (`{:#}` of an `anyhow::Error`, as the CLI does)
//! shows each layer once: `tree-3000/article on cypher, input -: the cypher query: Neo4j error
//! ...`. Messages carry no credentials (the Bolt and sidecar URLs the harness builds have
//! none).
//!
//! [`source`]: std::error::Error::source

use std::path::PathBuf;

use neotrav_wire::Answer;

use super::cases::{Input, Question, System};

/// Why a benchmark run, or one of its steps, failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BenchError {
    /// A system failed on one input of a case (the other systems' results are lost: the run
    /// stops). A system that ran past the query timeout is not this error: it is measured as
    /// timed out (see [`BenchError::is_timeout`]).
    #[error("{case} on {}, input {input}", system.name())]
    Case {
        /// The case, e.g. `tree-140000/dfs-flag-count`.
        case: String,
        /// The system asked.
        system: System,
        /// The input it was asked about.
        input: Input,
        /// What failed.
        #[source]
        source: Box<BenchError>,
    },

    /// A Cypher query failed (Neo4j refused it, went away, or ended it at its transaction
    /// timeout: [`BenchError::is_timeout`] tells).
    #[error("{query}")]
    Query {
        /// Which query, e.g. `the cypher-tuned query` or `the node count of tree-3000`.
        query: String,
        /// The driver's error.
        #[source]
        source: neo4rs::Error,
    },

    /// A query that answers one row answered none.
    #[error("{query} returned no row")]
    NoRow {
        /// Which query.
        query: String,
    },

    /// A column of a query's answer is missing or not of the type expected.
    #[error("column `{column}` of {query}")]
    Column {
        /// Which query.
        query: String,
        /// The column.
        column: &'static str,
        /// What reading it said.
        #[source]
        source: neo4rs::DeError,
    },

    /// Starting, stopping, connecting to or asking the bundled Neo4j failed.
    #[error("{what}")]
    Bundle {
        /// What was being done, e.g. `starting Neo4j for tree-3000`.
        what: String,
        /// The bundle's error.
        #[source]
        source: neotrav_neo4j::bundled::BundleError,
    },

    /// A dataset's generator refused its parameters.
    #[error("{dataset}")]
    Dataset {
        /// The dataset, e.g. `tree-3000`.
        dataset: String,
        /// What the generator said.
        #[source]
        source: neotrav_datasets::generate::BadParameters,
    },

    /// Loading a dataset into Neo4j failed.
    #[error("loading {dataset} into Neo4j")]
    Load {
        /// The dataset.
        dataset: String,
        /// The loader's error.
        #[source]
        source: neotrav_datasets::load::LoadError,
    },

    /// Exporting the snapshot from Neo4j failed.
    #[error("exporting {}", path.display())]
    Export {
        /// The snapshot being written (its name holds the dataset's).
        path: PathBuf,
        /// The export's error.
        #[source]
        source: neotrav_neo4j::export::ExportError,
    },

    /// The exported snapshot could not be opened (by the sidecar or the in-process engine).
    #[error("{action} {}", path.display())]
    Snapshot {
        /// What was being done: `serving` or `opening the engine on`.
        action: &'static str,
        /// The snapshot.
        path: PathBuf,
        /// The snapshot's error.
        #[source]
        source: neotrav_snapshot::Error,
    },

    /// The in-process engine refused or failed a request.
    #[error("the {request} request to the engine")]
    Engine {
        /// `traverse` or `shortest path`.
        request: &'static str,
        /// The engine's error.
        #[source]
        source: neotrav_traverser::engine::EngineError,
    },

    /// The sidecar's client could not be built, or the sidecar refused or failed a request.
    #[error("{what}")]
    Client {
        /// What was being done, e.g. `the traverse request to the sidecar`.
        what: String,
        /// The client's error.
        #[source]
        source: neotrav_client::ClientError,
    },

    /// A file or directory could not be created or written.
    #[error("{action} {}", path.display())]
    Io {
        /// `creating` or `writing`.
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// A loopback socket (Neo4j's Bolt port, the sidecar's listener) could not be had.
    #[error("{what}")]
    Socket {
        /// What was being done, e.g. `binding the sidecar's listener on 127.0.0.1`.
        what: &'static str,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// Something could not be encoded as JSON.
    #[error("encoding {what} as JSON")]
    Json {
        /// What, with its path.
        what: String,
        /// serde_json's error.
        #[source]
        source: serde_json::Error,
    },

    /// The SVG chart could not be drawn or written.
    #[error("drawing {}", path.display())]
    Draw {
        /// The SVG file.
        path: PathBuf,
        /// plotters' error.
        #[source]
        source: plotters::drawing::DrawingAreaErrorKind<std::io::Error>,
    },

    /// The graph loaded has too few artists to draw the Discogs cases' inputs from.
    #[error(
        "the graph of {dataset} has too few artists to draw the benchmark's inputs from \
         ({credited} credited artists with at most 1000 relationships, {orphans} without \
         relationships; the draw needs 2 and 1)"
    )]
    TooFewArtists {
        /// The dataset.
        dataset: String,
        /// Artists with a release and at most 1000 relationships.
        credited: usize,
        /// Artists without relationships.
        orphans: usize,
    },

    /// The snapshot has no nodes of a label a case needs.
    #[error("the snapshot has no {label} label")]
    NoLabel {
        /// The label.
        label: &'static str,
    },

    /// A case asked a system a question it has no query for.
    #[error("{} does not answer {question:?}", system.name())]
    Unanswered {
        /// The system.
        system: System,
        /// The question.
        question: Question,
    },

    /// A Cypher-suite input has no catalogue key in the snapshot.
    #[error("node {id} has no catalogue key in the snapshot (is its key exported?)")]
    NoKey {
        /// The Neo4j id.
        id: u64,
    },

    /// A Cypher-suite statement failed on neotrav.
    #[error("the Cypher statement {statement} failed on neotrav: {message}")]
    Cypher {
        /// The statement's case name.
        statement: &'static str,
        /// What went wrong.
        message: String,
    },

    /// A Cypher-suite statement failed on Neo4j.
    #[error("the Cypher statement {statement} failed on Neo4j")]
    Forward {
        /// The statement's case name.
        statement: &'static str,
        /// What went wrong.
        #[source]
        source: Box<neotrav_neo4j::forward::ForwardError>,
    },

    /// A case asked the sidecar for the artists by degree, which it has no endpoint for.
    #[error("the sidecar has no degree endpoint")]
    NoDegreeEndpoint,

    /// A question is not a traversal request (it is a shortest path or a degree ranking).
    #[error("{question:?} is not a traversal request")]
    NotTraversal {
        /// The question.
        question: Question,
    },

    /// A question was given the wrong kind of input.
    #[error("{question:?} needs one node, not {input}")]
    BadInput {
        /// The question.
        question: Question,
        /// What it was given.
        input: Input,
    },

    /// neotrav answered a question in a form it does not take.
    #[error("unexpected answer to {question:?}: {answer:?}")]
    UnexpectedAnswer {
        /// The question.
        question: Question,
        /// The answer.
        answer: Box<Answer>,
    },

    /// Systems answered some cases differently: those cases' timings mean nothing.
    #[error(
        "{} case(s) had systems answering differently; the timings of those cases mean nothing",
        mismatches.len()
    )]
    Mismatches {
        /// One line per disagreeing system, naming the case, the systems and their digests.
        mismatches: Vec<String>,
    },
}

impl BenchError {
    /// Whether this is Neo4j ending a query at its transaction timeout, anywhere in the chain
    /// of sources (a query of a case, or one under a load or an export). The harness measures a
    /// system that timed out as slower than the bound instead of failing the run.
    pub fn is_timeout(&self) -> bool {
        let mut next: Option<&(dyn std::error::Error + 'static)> = Some(self);
        while let Some(e) = next {
            if e.downcast_ref::<neo4rs::Error>()
                .is_some_and(neo4j_timed_out)
            {
                return true;
            }
            next = e.source();
        }
        false
    }

    /// A failed query named `query`.
    pub(crate) fn query(query: impl Into<String>) -> impl FnOnce(neo4rs::Error) -> BenchError {
        let query = query.into();
        move |source| BenchError::Query { query, source }
    }

    /// Reading `column` of `query`'s answer failed.
    pub(crate) fn column(
        query: &str,
        column: &'static str,
    ) -> impl FnOnce(neo4rs::DeError) -> BenchError {
        let query = query.to_string();
        move |source| BenchError::Column {
            query,
            column,
            source,
        }
    }

    /// A failed file operation on `path`.
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> BenchError {
        let path = path.into();
        move |source| BenchError::Io {
            action,
            path,
            source,
        }
    }

    /// A failed step of the bundled Neo4j.
    pub(crate) fn bundle(
        what: impl Into<String>,
    ) -> impl FnOnce(neotrav_neo4j::bundled::BundleError) -> BenchError {
        let what = what.into();
        move |source| BenchError::Bundle { what, source }
    }
}

/// Whether the driver's error is Neo4j's answer that it ended the transaction at its timeout.
fn neo4j_timed_out(e: &neo4rs::Error) -> bool {
    match e {
        neo4rs::Error::Neo4j(e) => timeout_status(e.code(), e.message()),
        _ => false,
    }
}

/// Whether a Neo4j status (code and message) is the transaction timeout:
/// `Neo.ClientError.Transaction.TransactionTimedOut` and its `...ClientConfiguration` form, or
/// a failure (of a procedure, say) whose message blames the transaction timeout.
fn timeout_status(code: &str, message: &str) -> bool {
    [code, message]
        .iter()
        .any(|t| t.contains("TransactionTimedOut") || t.contains("transaction timeout"))
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn neo4j_ending_a_query_at_its_timeout_is_told_apart() {
        assert!(timeout_status(
            "Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration",
            "The transaction has been terminated."
        ));
        assert!(timeout_status(
            "Neo.ClientError.Transaction.TransactionTimedOut",
            "The transaction has not completed within the specified timeout."
        ));
        assert!(!timeout_status(
            "Neo.ClientError.Statement.SyntaxError",
            "Invalid input 'MATC'"
        ));
        // Through the wrapping of a case, a driver error that is not Neo4j's timeout (here the
        // connection's own) is not taken for one.
        let e = BenchError::Case {
            case: "discogs-0.1/co-artists".into(),
            system: System::Cypher,
            input: Input::Node(7),
            source: Box::new(BenchError::Query {
                query: "the cypher query".into(),
                source: neo4rs::Error::ConnectionTimedOut,
            }),
        };
        assert!(!e.is_timeout());
        assert!(!BenchError::NoDegreeEndpoint.is_timeout());
    }

    #[test]
    fn messages_name_the_case_system_and_input_and_keep_the_source() {
        let e = BenchError::Case {
            case: "discogs-0.1/co-artists".into(),
            system: System::CypherTuned,
            input: Input::Pair(1, 2),
            source: Box::new(BenchError::NoRow {
                query: "the cypher-tuned query".into(),
            }),
        };
        assert_eq!(
            e.to_string(),
            "discogs-0.1/co-artists on cypher-tuned, input nodes 1 and 2"
        );
        assert_eq!(
            e.source().unwrap().to_string(),
            "the cypher-tuned query returned no row"
        );
        let e = BenchError::Io {
            action: "writing",
            path: "/tmp/r.json".into(),
            source: std::io::Error::other("disk full"),
        };
        assert_eq!(e.to_string(), "writing /tmp/r.json");
        assert_eq!(e.source().unwrap().to_string(), "disk full");
    }
}

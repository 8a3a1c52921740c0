//! The one error shape of the API: `{"error": {"code", "message", "details"}}`, and the
//! stable codes it carries.

use serde::{Deserialize, Serialize};

/// The error body of every failed request: `{"error": {"code", "message", "details"}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// A stable machine-readable code.
    pub code: ErrorCode,
    /// A human-readable message naming the field and the fault.
    pub message: String,
    /// Extra detail, such as the offending field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

/// The stable, machine-readable code of an error answer, serialized in snake case
/// (`bad_request`, `unknown_node`, ...). A client reading a code newer than itself gets
/// [`ErrorCode::Unknown`].
///
/// ```
/// use neotrav_wire::ErrorCode;
///
/// assert_eq!(serde_json::to_string(&ErrorCode::BudgetExceeded).unwrap(), "\"budget_exceeded\"");
/// let newer: ErrorCode = serde_json::from_str("\"from_the_future\"").unwrap();
/// assert_eq!(newer, ErrorCode::Unknown);
/// assert_eq!(ErrorCode::UnknownNode.to_string(), "unknown_node");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// The request is malformed; `details.field` names the field (400).
    BadRequest,
    /// The request body came slower than the body timeout allows (408).
    BodyTimeout,
    /// The request body is over the sidecar's cap (413).
    BodyTooLarge,
    /// A budget was exceeded; `details.budget` names it and `details.limit` gives it (422).
    BudgetExceeded,
    /// A Cypher statement's parameter is missing or cannot be read; `details.parameter` names
    /// it (400).
    CypherParameter,
    /// A Cypher statement failed while it ran, as it fails in Neo4j (division by zero, a type
    /// error) (400).
    CypherRuntime,
    /// A Cypher statement is semantically wrong (an unknown variable, ...) (400).
    CypherSemantic,
    /// A Cypher statement does not parse; `details` has `line`, `column` and `rendered` (400).
    CypherSyntax,
    /// A Cypher statement needs Neo4j and this sidecar does not forward (`neotrav serve
    /// --unsupported refuse`, or no Neo4j); `details` names the `construct`, `line` and
    /// `column` (422).
    CypherUnsupported,
    /// A Cypher statement writes; neotrav only reads (400).
    CypherWrite,
    /// `/db/{name}/query/v2` named a database this sidecar does not serve (404).
    DatabaseNotFound,
    /// The sidecar failed; nothing about the request was wrong (500).
    Internal,
    /// Neo4j did not answer a fresh request's read in time (504).
    Neo4jTimeout,
    /// Neo4j is needed for a fresh request and cannot be reached (503).
    Neo4jUnavailable,
    /// A refresh, on a sidecar that cannot re-export (409).
    NoExport,
    /// A fresh request, on a sidecar started without Neo4j (409).
    NoNeo4j,
    /// No such endpoint (404).
    NotFound,
    /// Every slot busy and the queue full, or memory reserved to the limit; retry after `Retry-After` (503).
    OverCapacity,
    /// A reload's path leads outside the snapshot directory (403).
    PathNotAllowed,
    /// A reload or refresh could not be served (422), or the newest one failed (`/readyz`, 503).
    ReloadFailed,
    /// The answer is over the response cap (413); ask for NDJSON, a count or a limit.
    ResponseTooLarge,
    /// The served file was changed in place and is not read until a verified reload (503).
    SnapshotModified,
    /// A newer reload or refresh swapped its snapshot in first (409).
    Superseded,
    /// The request ran past the sidecar's request timeout (503).
    TimedOut,
    /// A token is needed, or the one given is wrong (401).
    Unauthorized,
    /// A node named by the request is not in the snapshot (or, for fresh requests, in Neo4j) (404).
    UnknownNode,
    /// The body was declared as something other than JSON (415).
    UnsupportedMediaType,
    /// Neo4j refused a forwarded statement; `details.neo4jCode` is its status code (400).
    Neo4jRefused,
    /// A code this build does not know (a newer sidecar's).
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    /// The code as it is on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::BodyTimeout => "body_timeout",
            ErrorCode::BodyTooLarge => "body_too_large",
            ErrorCode::BudgetExceeded => "budget_exceeded",
            ErrorCode::CypherParameter => "cypher_parameter",
            ErrorCode::CypherRuntime => "cypher_runtime",
            ErrorCode::CypherSemantic => "cypher_semantic",
            ErrorCode::CypherSyntax => "cypher_syntax",
            ErrorCode::CypherUnsupported => "cypher_unsupported",
            ErrorCode::CypherWrite => "cypher_write",
            ErrorCode::DatabaseNotFound => "database_not_found",
            ErrorCode::Internal => "internal",
            ErrorCode::Neo4jTimeout => "neo4j_timeout",
            ErrorCode::Neo4jUnavailable => "neo4j_unavailable",
            ErrorCode::NoExport => "no_export",
            ErrorCode::NoNeo4j => "no_neo4j",
            ErrorCode::NotFound => "not_found",
            ErrorCode::OverCapacity => "over_capacity",
            ErrorCode::PathNotAllowed => "path_not_allowed",
            ErrorCode::ReloadFailed => "reload_failed",
            ErrorCode::ResponseTooLarge => "response_too_large",
            ErrorCode::SnapshotModified => "snapshot_modified",
            ErrorCode::Superseded => "superseded",
            ErrorCode::TimedOut => "timed_out",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::UnknownNode => "unknown_node",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::Neo4jRefused => "neo4j_refused",
            ErrorCode::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

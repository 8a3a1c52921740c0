//! The one error type of the API ([`ApiError`]): every failure is
//! `{"error": {"code", "message", "details"}}` with a status, a stable code and a message
//! naming the field and the fix.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use neotrav_wire::{BudgetName, ErrorBody, ErrorCode, ErrorDetail};

use crate::admission::Refused;
use crate::reload::ReloadError;
use crate::serve;
use neotrav_traverser::engine::EngineError;
use neotrav_traverser::engine::budget::Exceeded;

pub(crate) fn internal(message: &str) -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::Internal,
        message,
    )
}

/// An error response: `{"error": {"code", "message", "details"}}`.
#[derive(Debug)]
pub struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) body: ErrorBody,
    /// Seconds for a `Retry-After` header.
    pub(crate) retry_after: Option<u32>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            body: ErrorBody {
                error: ErrorDetail {
                    code,
                    message: message.into(),
                    details: None,
                },
            },
            retry_after: None,
        }
    }

    pub(crate) fn over_capacity() -> ApiError {
        let mut e = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::OverCapacity,
            "the sidecar is over capacity (every traversal slot busy and the queue full); retry \
             after a moment, or raise --max-in-flight / --max-queued",
        );
        e.retry_after = Some(1);
        e
    }

    pub(crate) fn snapshot_modified() -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::SnapshotModified,
            "the served snapshot file was changed in place, so its memory map can no longer be \
             trusted and is not read; replace snapshot files by rename (as neotrav export and \
             the builder do), then reload. The sidecar reloads the file by itself once it \
             stays unchanged and verifies",
        )
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status.as_u16()
    }

    /// The error's code and message.
    pub fn detail(&self) -> &ErrorDetail {
        &self.body.error
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, secs.into());
        }
        response
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> ApiError {
        let message = e.to_string();
        match e {
            EngineError::Request(r) => {
                let mut err =
                    ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, message);
                err.body.error.details = Some(serde_json::json!({ "field": r.field }));
                err
            }
            EngineError::UnknownNode(id) => {
                let mut err = ApiError::new(StatusCode::NOT_FOUND, ErrorCode::UnknownNode, message);
                err.body.error.details = Some(serde_json::json!({ "id": id }));
                err
            }
            EngineError::Budget(b) => {
                let details = match b {
                    Exceeded::Visited(n) | Exceeded::Memory(n) => {
                        serde_json::json!({ "budget": b.name(), "limit": n })
                    }
                    Exceeded::Deadline(ms) => {
                        serde_json::json!({ "budget": b.name(), "limit": ms as u64 })
                    }
                };
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ErrorCode::BudgetExceeded,
                    message,
                )
                .with_details(details)
            }
            EngineError::Neo4j(detail) => {
                tracing::warn!("reading misses from Neo4j failed: {detail}");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ErrorCode::Neo4jUnavailable,
                    "reading misses from Neo4j failed; snapshot requests keep working",
                )
            }
            EngineError::Neo4jTimeout { .. } => {
                tracing::warn!("{message}");
                ApiError::new(
                    StatusCode::GATEWAY_TIMEOUT,
                    ErrorCode::Neo4jTimeout,
                    message,
                )
            }
            EngineError::NotInNeo4j { id, .. } => {
                let mut err = ApiError::new(StatusCode::NOT_FOUND, ErrorCode::UnknownNode, message);
                err.body.error.details = Some(serde_json::json!({ "id": id }));
                err
            }
            // Not a fault of the server's: it was started without Neo4j.
            EngineError::NoNeo4j => {
                ApiError::new(StatusCode::CONFLICT, ErrorCode::NoNeo4j, message)
            }
            // A kind of engine error this build does not map yet.
            _ => {
                tracing::error!("unmapped engine error: {message}");
                internal("the engine failed")
            }
        }
    }
}

pub(crate) fn bad_json(e: JsonRejection) -> ApiError {
    if serve::is_body_timeout(&e) {
        return serve::late_body();
    }
    let (status, code) = match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => (StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::BodyTooLarge),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
        ),
        _ => (StatusCode::BAD_REQUEST, ErrorCode::BadRequest),
    };
    ApiError::new(status, code, e.body_text())
}

pub(crate) fn body_too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::BodyTooLarge,
        format!(
            "the request body is larger than this sidecar's {limit} byte cap (--max-body-bytes): \
             send fewer start nodes per request"
        ),
    )
}

impl ApiError {
    pub(crate) fn refused(r: Refused) -> ApiError {
        match r {
            Refused::Busy => ApiError::over_capacity(),
            Refused::TooLarge { asked, total } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::BudgetExceeded,
                format!(
                    "the request asks for {asked} bytes of memory, more than this sidecar's \
                     {total} in all (--max-memory): lower budget.maxMemory"
                ),
            )
            .with_details(serde_json::json!({ "budget": BudgetName::MaxMemory })),
        }
    }

    pub(crate) fn with_details(mut self, details: serde_json::Value) -> ApiError {
        self.body.error.details = Some(details);
        self
    }
}

impl From<&ReloadError> for ApiError {
    fn from(e: &ReloadError) -> ApiError {
        let message = e.to_string();
        match e {
            ReloadError::NoExport => {
                ApiError::new(StatusCode::CONFLICT, ErrorCode::NoExport, message)
            }
            ReloadError::PathNotAllowed { .. } => {
                ApiError::new(StatusCode::FORBIDDEN, ErrorCode::PathNotAllowed, message)
            }
            ReloadError::Snapshot { path, source } => {
                // The snapshot error's own message may quote the file; the redacted one does not.
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ErrorCode::ReloadFailed,
                    format!(
                        "reloading {} failed: {}; the previous snapshot is still served",
                        path.display(),
                        source.redacted()
                    ),
                )
                .with_details(serde_json::json!({
                    "fault": source.class(),
                    "section": source.fault().and_then(neotrav_snapshot::Fault::section),
                }))
            }
            ReloadError::Export { .. } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::ReloadFailed,
                message,
            ),
            ReloadError::Superseded => {
                ApiError::new(StatusCode::CONFLICT, ErrorCode::Superseded, message)
            }
            ReloadError::Worker => internal("the reload worker failed"),
        }
    }
}

impl From<ReloadError> for ApiError {
    fn from(e: ReloadError) -> ApiError {
        ApiError::from(&e)
    }
}

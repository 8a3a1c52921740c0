//! Request bodies, read only once the memory for them is reserved from the server's pool.

use neotrav_wire::ErrorCode;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};

use tokio::sync::OwnedSemaphorePermit;

use crate::admission::{self};
use crate::serve;

use crate::encode::worker_failed;
use crate::error::{ApiError, bad_json, body_too_large};
use crate::state::AppState;

/// How long a request body may wait for memory to be read into.
pub(crate) const BODY_WAIT: Duration = Duration::from_secs(10);

/// A JSON request body, read only once the memory for it is reserved from the server's pool
/// (its text and what it may parse into, [`admission::body_reservation`]); the reservation is
/// held until the response is sent. Every rejection is in the error shape.
pub(crate) struct Admitted<T> {
    pub(crate) value: T,
    pub(crate) reserved: OwnedSemaphorePermit,
}

/// A request body's type: read strictly as JSON, and for a traversal, when that fails, as its
/// `lenient` key allows ([`TraverseRequest::lenient_json`]).
pub(crate) trait Body: serde::de::DeserializeOwned + Send + 'static {
    /// The reading after a failed strict one, when the type has one and the body asks for it.
    fn lenient(_bytes: &[u8]) -> Option<Result<Self, serde_json::Error>> {
        None
    }
}

impl Body for neotrav_wire::TraverseRequest {
    fn lenient(bytes: &[u8]) -> Option<Result<Self, serde_json::Error>> {
        neotrav_wire::TraverseRequest::lenient_json(bytes)
    }
}

impl Body for neotrav_wire::NeighborsRequest {}
impl Body for neotrav_wire::ShortestPathRequest {}
impl Body for neotrav_wire::InvalidateRequest {}
impl Body for neotrav_wire::cypher::CypherRequest {}

/// A body of type `T`, read from `bytes`.
fn parse<T: Body>(bytes: &[u8]) -> Result<T, ApiError> {
    match Json::<T>::from_bytes(bytes) {
        Ok(Json(value)) => Ok(value),
        Err(strict) => match T::lenient(bytes) {
            Some(Ok(value)) => Ok(value),
            Some(Err(e)) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadRequest,
                format!("Failed to deserialize the JSON body into the target type: {e}"),
            )),
            None => Err(bad_json(strict)),
        },
    }
}

impl<T: Body> FromRequest<Arc<AppState>> for Admitted<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &Arc<AppState>) -> Result<Self, ApiError> {
        let limit = state.max_body_bytes;
        let (parts, body) = req.into_parts();
        let declared = declared_length(&parts.headers);
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(body_too_large(limit));
        }
        let size = declared.unwrap_or(limit as u64);
        let reserved = state
            .admission
            .memory(admission::body_reservation(size), BODY_WAIT)
            .await
            .map_err(ApiError::refused)?;
        let bytes = axum::body::to_bytes(body, limit).await.map_err(|e| {
            if serve::is_body_timeout(&e) {
                return serve::late_body();
            }
            let over = std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
            if over {
                body_too_large(limit)
            } else {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::BadRequest,
                    "the request body could not be read to its end",
                )
            }
        })?;
        if !is_json(&parts.headers) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType,
                "send the body as JSON, with `Content-Type: application/json`",
            ));
        }
        // A large body is parsed on the blocking pool, so that it never stalls the reactor.
        let value = if bytes.len() <= SMALL_BODY {
            parse::<T>(&bytes)
        } else {
            tokio::task::spawn_blocking(move || parse::<T>(&bytes))
                .await
                .map_err(|_| worker_failed())?
        }?;
        Ok(Admitted { value, reserved })
    }
}

/// The body length a request's `Content-Length` declares, if it is a number.
pub(crate) fn declared_length(headers: &axum::http::HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
}

/// Bodies up to this size are parsed where they are read.
pub(crate) const SMALL_BODY: usize = 64 << 10;

/// Whether a request says its body is JSON (`application/json`, or `application/*+json`).
pub(crate) fn is_json(headers: &axum::http::HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
        // Neo4j's Query API request type (`application/vnd.neo4j.query`, any version).
        || essence.starts_with("application/vnd.neo4j.query")
}

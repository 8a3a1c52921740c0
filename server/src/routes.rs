//! The handlers: traversals, shortest paths, neighbours, invalidation, the snapshot and its
//! reload, health and readiness, and the middleware that checks the token and the served
//! file.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use neotrav_wire::{
    ErrorBody, ErrorCode, InvalidateRequest, InvalidateResponse, NeighborsRequest, ReloadRequest,
    ShortestPathRequest, ShortestPathResponse, SnapshotInfo, TraverseRequest, TraverseResponse,
};
use subtle::ConstantTimeEq;

use neotrav_traverser::engine::budget::{self, Budgets};

use crate::body::Admitted;
use crate::encode::{answer_traversal, blocking, encode_json, json_response, wants_ndjson};
use crate::error::ApiError;
use crate::state::{AppState, Loaded, lock};

/// What `/v1/traverse` and `/v1/neighbors` answer, for their OpenAPI documents.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // Only read by the OpenAPI derive.
pub(crate) enum TraversalResponses {
    #[response(
        status = 200,
        description = "The answer; with `Accept: application/x-ndjson`, one JSON value per node or path, then a line with `partial` and `stats`"
    )]
    Answer(TraverseResponse),
    #[response(
        status = 400,
        description = "A malformed request; `details.field` names the field"
    )]
    BadRequest(ErrorBody),
    #[response(status = 401, description = "A token is needed")]
    Unauthorized(ErrorBody),
    #[response(status = 404, description = "An unknown start node")]
    UnknownNode(ErrorBody),
    #[response(
        status = 408,
        description = "`body_timeout`: the request body did not arrive within the body timeout"
    )]
    BodyTimeout(ErrorBody),
    #[response(
        status = 413,
        description = "The request body or the answer is over its cap"
    )]
    TooLarge(ErrorBody),
    #[response(status = 415, description = "The body is not `application/json`")]
    NotJson(ErrorBody),
    #[response(
        status = 422,
        description = "A budget was exceeded; `details.budget` names it"
    )]
    BudgetExceeded(ErrorBody),
    #[response(
        status = 409,
        description = "A fresh request to a sidecar started without Neo4j"
    )]
    NoNeo4j(ErrorBody),
    #[response(
        status = 503,
        description = "Over capacity (`Retry-After` says when to retry), Neo4j unreachable for a fresh request, or the served file was changed in place (`snapshot_modified`)"
    )]
    Unavailable(ErrorBody),
    #[response(
        status = 504,
        description = "`neo4j_timeout`: Neo4j did not answer a fresh request before its deadline or the server's Neo4j timeout"
    )]
    Neo4jTimeout(ErrorBody),
}

/// A traversal: an APOC path-expander config plus `start`, `expandByLabel`, `where`, `return`,
/// `consistency` and `budget`.
#[utoipa::path(post, path = "/v1/traverse", request_body = TraverseRequest,
    responses(TraversalResponses), security(("bearer" = [])))]
pub(crate) async fn traverse(
    State(state): State<Arc<AppState>>,
    headers: axum::http::HeaderMap,
    body: Admitted<TraverseRequest>,
) -> Result<Response, ApiError> {
    answer_traversal(&state, body.value, body.reserved, wants_ndjson(&headers)).await
}

/// One hop from a node, with filters: the cheapest call.
#[utoipa::path(post, path = "/v1/neighbors", request_body = NeighborsRequest,
    responses(TraversalResponses), security(("bearer" = [])))]
pub(crate) async fn neighbors(
    State(state): State<Arc<AppState>>,
    headers: axum::http::HeaderMap,
    body: Admitted<NeighborsRequest>,
) -> Result<Response, ApiError> {
    let req = body.value.to_traversal();
    answer_traversal(&state, req, body.reserved, wants_ndjson(&headers)).await
}

/// The shortest path (or all shortest paths) between two nodes.
#[utoipa::path(post, path = "/v1/shortest-path", request_body = ShortestPathRequest,
    responses((status = 200, description = "The paths", body = ShortestPathResponse), (status = 400, description = "A malformed request; `details.field` names the field", body = ErrorBody), (status = 401, description = "A token is needed", body = ErrorBody), (status = 404, description = "An unknown node", body = ErrorBody), (status = 408, description = "`body_timeout`: the request body did not arrive within the body timeout", body = ErrorBody), (status = 413, description = "The request body or the answer is over its cap", body = ErrorBody), (status = 415, description = "The body is not `application/json`", body = ErrorBody), (status = 422, description = "A budget was exceeded; `details.budget` names it", body = ErrorBody), (status = 409, description = "A fresh request to a sidecar started without Neo4j", body = ErrorBody), (status = 503, description = "Over capacity (`Retry-After` says when to retry), Neo4j unreachable for a fresh request, or the served file was changed in place (`snapshot_modified`)", body = ErrorBody), (status = 504, description = "`neo4j_timeout`: Neo4j did not answer a fresh request before its deadline or the server's Neo4j timeout", body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn shortest_path(
    State(state): State<Arc<AppState>>,
    body: Admitted<ShortestPathRequest>,
) -> Result<Response, ApiError> {
    let req = body.value;
    let budget = req.budget.clone();
    let (limits, cap) = (state.limits, state.max_response_bytes);
    let fresh = state.fresh_deadline(req.consistency, &req.budget);
    let ((json, stats), reserved) = blocking(&state, &budget, fresh, move |l, dirty, source| {
        let response = match source {
            Some(s) => l.engine.shortest_path_fresh(&req, dirty, s),
            None => l.engine.shortest_path(&req),
        }?;
        let held: u64 = response.paths.iter().map(budget::path_bytes).sum();
        let room = Budgets::memory_of(&req.budget, limits).saturating_sub(held);
        Ok((encode_json(cap, &response, room)?, response.stats))
    })
    .await?;
    state.metrics.record_stats(&stats);
    Ok(json_response(json, vec![body.reserved, reserved]))
}

/// Marks nodes changed in Neo4j since the export: fresh requests read them from Neo4j.
#[utoipa::path(post, path = "/v1/invalidate", request_body = InvalidateRequest,
    responses((status = 200, description = "The number of dirty nodes", body = InvalidateResponse), (status = 400, description = "A malformed request; `details.field` names the field", body = ErrorBody), (status = 401, description = "A token is needed", body = ErrorBody), (status = 408, description = "`body_timeout`: the request body did not arrive within the body timeout", body = ErrorBody), (status = 413, description = "The request body is over its cap", body = ErrorBody), (status = 415, description = "The body is not `application/json`", body = ErrorBody), (status = 503, description = "Over capacity", body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn invalidate(
    State(state): State<Arc<AppState>>,
    body: Admitted<InvalidateRequest>,
) -> Result<Json<InvalidateResponse>, ApiError> {
    let req = body.value;
    loop {
        let loaded = state.current.load_full();
        let mut dirty = loaded.dirty.write().unwrap_or_else(|e| e.into_inner());
        if !Arc::ptr_eq(&loaded, &state.current.load()) {
            continue; // swapped meanwhile: mark the new snapshot's nodes
        }
        // Copy on write: requests in flight keep the set they started with.
        Arc::make_mut(&mut dirty).insert(req.ids.iter().copied());
        lock(&loaded.invalidated).extend_from_slice(&req.ids);
        return Ok(Json(InvalidateResponse {
            dirty: dirty.len() as u64,
        }));
    }
}

pub(crate) fn info(state: &AppState, l: &Loaded) -> SnapshotInfo {
    let h = l.engine.snapshot().header();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    SnapshotInfo {
        path: l.path.display().to_string(),
        source: h.source.address.clone(),
        database: h.source.database.clone(),
        watermark: l.engine.watermark().clone(),
        nodes: h.node_count,
        relationships: h.relationship_count,
        age_seconds: now.saturating_sub(h.created_unix_ms) as f64 / 1e3,
        dirty: l.dirty.read().map_or(0, |d| d.len() as u64),
        generation: l.generation,
        modified: l.modified(),
        last_reload_failure: state.last_failure().map(|f| neotrav_wire::ReloadFailure {
            at: rfc3339(f.at),
            attempt: f.attempt,
            error: f.error,
        }),
    }
}

pub(crate) fn rfc3339(at: SystemTime) -> String {
    humantime::format_rfc3339_millis(at).to_string()
}

/// The served snapshot: source, watermark, counts, age.
#[utoipa::path(get, path = "/v1/snapshot",
    responses((status = 200, description = "The served snapshot", body = SnapshotInfo), (status = 401, description = "A token is needed", body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn snapshot(State(state): State<Arc<AppState>>) -> Json<SnapshotInfo> {
    Json(info(&state, &state.current.load()))
}

/// Swaps in a snapshot file (default: the served one, re-read), verified first, or re-exports
/// from Neo4j with `export: true`. A failure keeps the old snapshot serving.
///
/// The body is read whatever its `Content-Type` (none, or JSON; another type is 415): empty
/// re-reads the served file, anything else must be a JSON `ReloadRequest`. `path` must lead to
/// a file inside the snapshot directory (`neotrav serve --snapshot-dir`).
#[utoipa::path(post, path = "/v1/snapshot/reload", request_body(content = Option<ReloadRequest>, description = "Optional; an empty body re-reads the served file. Read as JSON with or without `Content-Type: application/json`"),
    responses((status = 200, description = "The new snapshot, verified and swapped in", body = SnapshotInfo), (status = 400, description = "A body that is not a JSON `ReloadRequest`, or both `path` and `export`", body = ErrorBody), (status = 401, description = "A token is needed", body = ErrorBody), (status = 403, description = "`path_not_allowed`: the path leads out of the snapshot directory (whether or not a file is there)", body = ErrorBody), (status = 409, description = "`no_export`: re-export asked of a sidecar without Neo4j; `superseded`: a reload or refresh that started later swapped first", body = ErrorBody), (status = 413, description = "The body is too large", body = ErrorBody), (status = 415, description = "A `Content-Type` other than JSON", body = ErrorBody), (status = 422, description = "`reload_failed`: the file cannot be served (not found, not a regular file, not a snapshot, wrong length, unsupported version, corrupt section: `details.fault`, `details.section`), or the re-export failed; the old snapshot still serves", body = ErrorBody), (status = 500, description = "The reload's worker failed", body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn reload(
    State(state): State<Arc<AppState>>,
    headers: axum::http::HeaderMap,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<SnapshotInfo>, ApiError> {
    let request = reload_request(&headers, body)?;
    if request.export {
        if request.path.is_some() {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadRequest,
                "give either `path` (load that file) or `export: true` (re-export from Neo4j), \
                 not both",
            ));
        }
        let loaded = state.refresh().await?;
        return Ok(Json(info(&state, &loaded)));
    }
    let loaded = state.reload(request.path.map(PathBuf::from)).await?;
    Ok(Json(info(&state, &loaded)))
}

/// A reload's body: empty (or blank) is the default request; anything else must be a JSON
/// `ReloadRequest`, sent as JSON or without a `Content-Type`.
pub(crate) fn reload_request(
    headers: &axum::http::HeaderMap,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<ReloadRequest, ApiError> {
    let body = body.map_err(|e| {
        let status = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            StatusCode::PAYLOAD_TOO_LARGE
        } else {
            StatusCode::BAD_REQUEST
        };
        ApiError::new(status, ErrorCode::BadRequest, e.body_text())
    })?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(ReloadRequest::default());
    }
    if let Some(kind) = headers.get(header::CONTENT_TYPE) {
        let json = kind
            .to_str()
            .ok()
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| {
                let v = v.trim().to_ascii_lowercase();
                v == "application/json" || (v.starts_with("application/") && v.ends_with("+json"))
            });
        if !json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType,
                "a reload's body is JSON (`Content-Type: application/json`, or none): \
                 {\"path\": FILE} or {\"export\": true}; send no body to re-read the served \
                 file",
            ));
        }
    }
    let bad = |why: String| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadRequest,
            format!(
                "the body is not a reload request ({{\"path\": FILE}} or {{\"export\": true}}): {why}"
            ),
        )
    };
    match serde_json::from_slice(&body).map_err(|e| bad(e.to_string()))? {
        object @ serde_json::Value::Object(_) => {
            serde_json::from_value(object).map_err(|e| bad(e.to_string()))
        }
        _ => Err(bad("not a JSON object".into())),
    }
}

/// Whether the process answers (no token needed).
#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "ok", body = String)))]
pub(crate) async fn healthz() -> &'static str {
    "ok\n"
}

/// Whether a snapshot is served, its file was not changed in place, and the newest reload or
/// refresh did not fail (no token needed). A failure says only that and when; `GET
/// /v1/snapshot` (behind the token) has the detail.
#[utoipa::path(get, path = "/readyz", responses((status = 200, description = "ready", body = String), (status = 503, description = "`reload_failed`: the newest reload or refresh failed (`details.failedAt`), the previous snapshot still serves; or `snapshot_modified`: the served file was changed in place and traversals get 503 until a reload", body = ErrorBody)))]
pub(crate) async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    if let Err(e) = state.current.load().usable() {
        return e.into_response();
    }
    match state.last_failure() {
        None => (StatusCode::OK, "ready\n").into_response(),
        Some(f) => {
            let at = rfc3339(f.at);
            let mut e = ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::ReloadFailed,
                format!(
                    "the last snapshot reload or refresh failed at {at}; the previous snapshot \
                     is still served (GET /v1/snapshot, with the token, says why)"
                ),
            );
            e.body.error.details = Some(serde_json::json!({ "failedAt": at }));
            e.into_response()
        }
    }
}

/// 503 `snapshot_modified` for requests that would read the served mapping once its file was
/// changed in place: one atomic load per request.
pub(crate) async fn unmodified(
    State(state): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    if let Err(e) = state.current.load().usable() {
        return e.into_response();
    }
    next.run(req).await
}

pub(crate) async fn auth(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    if let Some(token) = &state.token {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if !bool::from(given.as_bytes().ct_eq(token.as_bytes())) {
            let e = ApiError::new(
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthorized,
                "this sidecar needs `Authorization: Bearer <token>`",
            );
            // Neo4j's Query API path answers in that API's error shape, as its schema says.
            if req.uri().path().starts_with("/db/") {
                return crate::cypher::query_api_response(e);
            }
            return e.into_response();
        }
    }
    next.run(req).await
}

//! The HTTP sidecar: the engine behind a small JSON API (axum).
//!
//! - `POST /v1/traverse`, `POST /v1/shortest-path`, `POST /v1/neighbors`: the request language
//!   of [`crate::engine`]; `POST /v1/invalidate` marks nodes dirty for fresh requests;
//!   `GET /v1/snapshot` and `POST /v1/snapshot/reload` show and swap the snapshot;
//!   `GET /healthz` (the process answers) and `GET /readyz` (a snapshot is loaded and the last
//!   reload did not fail).
//! - **Hot swap.** The served snapshot sits behind an [`ArcSwap`]: a reload opens the new file
//!   first and swaps a pointer; requests in flight keep the old one until they finish, and a
//!   failed reload keeps serving the old snapshot and says so in `/readyz`. A refresh
//!   ([`AppState::refresh`], `{"export": true}` or `neotrav serve --refresh-every`) re-exports
//!   the graph from Neo4j into the served file (atomically) and swaps that in; nodes invalidated
//!   while it ran stay invalidated.
//! - Traversals run on the blocking pool, so a slow request never stalls the reactor. At most
//!   `max_in_flight` run at once and `max_queued` wait for a turn; past that a request gets 503
//!   `over_capacity` with `Retry-After`, so an overloaded sidecar sheds load instead of queueing
//!   without bound. Fresh requests first take one of their own, fewer slots, and every Neo4j
//!   call has a deadline ([`neo4j`]), so a slow or frozen Neo4j cannot take the snapshot
//!   requests' turns.
//! - [`serve`] is the accept loop, with header, body, idle and write timeouts and a connection
//!   cap ([`ServeOptions`]).
//! - `GET /openapi.json`: the API's OpenAPI 3.1 document, generated from the wire types and the
//!   handlers' annotations ([`ApiDoc`]).
//! - **Errors** have one shape, `{"error": {"code", "message", "details"}}`: 400 for a bad
//!   request (naming the field), 404 for an unknown node, 408 for a request body slower than
//!   the body timeout, 422 for an exceeded budget, 503 when Neo4j is needed and unreachable or
//!   the sidecar is over capacity, 504 `neo4j_timeout` when Neo4j did not answer a fresh
//!   request in time. No internal detail or credential is ever in a response.
//! - **Large answers.** A JSON answer larger than the response cap (64 MiB unless set) is a 413
//!   naming the ways out; with `Accept: application/x-ndjson`, a traversal's nodes or paths come
//!   as one JSON value per line instead (`{"node": id}` or a path), then a last line with
//!   `partial` and `stats`, under the same cap.
//! - `GET /metrics`: Prometheus text format: requests by endpoint and status, latency
//!   histograms by endpoint, misses, Cypher round trips, snapshot age, reload failures.
//! - **Security.** Loopback by default; with a token, every route but the health checks needs
//!   `Authorization: Bearer <token>`, compared in constant time.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use neotrav_client::wire::{
    ErrorBody, ErrorDetail, InvalidateRequest, InvalidateResponse, NeighborsRequest, ReloadRequest,
    ShortestPathRequest, ShortestPathResponse, SnapshotInfo, TraverseRequest, TraverseResponse,
};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use subtle::ConstantTimeEq;

use neotrav_snapshot::export::{self, ExportOptions, NoProgress, Origin};
use tokio::sync::Semaphore;
use utoipa::OpenApi;

use crate::engine::fresh::{DirtySet, Neo4jSource};
use crate::engine::{Engine, EngineError};

pub mod neo4j;
mod serve;
pub use neo4j::{DEFAULT_NEO4J_TIMEOUT, default_fresh_in_flight};
pub use serve::{
    DEFAULT_BODY_TIMEOUT, DEFAULT_HEADER_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_CONNECTIONS, DEFAULT_REQUEST_TIMEOUT, DEFAULT_WRITE_TIMEOUT, ServeOptions, serve,
};

/// One loaded snapshot and the nodes invalidated since it was loaded.
pub struct Loaded {
    /// The engine over it.
    pub engine: Engine,
    /// Its file.
    pub path: PathBuf,
    /// Nodes changed since (cleared by a swap to a given file; a refresh keeps those
    /// invalidated while its export ran).
    pub dirty: RwLock<Arc<DirtySet>>,
    /// The ids invalidated since this snapshot was loaded, in order: what a refresh carries over.
    invalidated: Mutex<Vec<u64>>,
    /// 1 for the first snapshot served, then one more per swap.
    pub generation: u64,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    endpoint: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EndpointLabels {
    endpoint: String,
}

/// The sidecar's Prometheus metrics.
struct Metrics {
    registry: Registry,
    requests: Family<RouteLabels, Counter>,
    latency: Family<EndpointLabels, Histogram>,
    misses: Counter,
    round_trips: Counter,
    snapshot_age: Gauge<f64, std::sync::atomic::AtomicU64>,
    reload_failures: Counter,
}

impl Metrics {
    fn new() -> Metrics {
        let mut registry = Registry::with_prefix("neotrav");
        let requests = Family::<RouteLabels, Counter>::default();
        let latency = Family::<EndpointLabels, Histogram>::new_with_constructor(|| {
            // 10 µs to about 10 s.
            Histogram::new(exponential_buckets(1e-5, 2.0, 21))
        });
        let misses = Counter::default();
        let round_trips = Counter::default();
        let snapshot_age = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
        let reload_failures = Counter::default();
        registry.register(
            "http_requests",
            "HTTP requests by endpoint and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by endpoint",
            latency.clone(),
        );
        registry.register(
            "misses",
            "Nodes read from Neo4j for fresh requests",
            misses.clone(),
        );
        registry.register(
            "cypher_round_trips",
            "Cypher round trips for misses",
            round_trips.clone(),
        );
        registry.register(
            "snapshot_age_seconds",
            "Seconds since the served snapshot was written",
            snapshot_age.clone(),
        );
        registry.register(
            "reload_failures",
            "Snapshot reloads that failed (the previous snapshot kept serving)",
            reload_failures.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            misses,
            round_trips,
            snapshot_age,
            reload_failures,
        }
    }

    fn record_stats(&self, stats: &neotrav_client::wire::Stats) {
        self.misses.inc_by(stats.misses);
        self.round_trips.inc_by(stats.cypher_round_trips);
    }
}

/// What every handler shares.
pub struct AppState {
    current: ArcSwap<Loaded>,
    neo4j: Option<neo4rs::Graph>,
    token: Option<String>,
    reload_error: Mutex<Option<String>>,
    generation: AtomicU64,
    metrics: Metrics,
    max_response_bytes: usize,
    /// One permit per traversal that may run at once.
    capacity: Arc<Semaphore>,
    /// Requests waiting for a permit, and how many may.
    queued: AtomicU64,
    max_queued: u64,
    /// One permit per fresh request that may run at once, taken before a `capacity` one.
    fresh_capacity: Arc<Semaphore>,
    /// Fresh requests waiting for one (at most `max_queued`).
    fresh_queued: AtomicU64,
    /// The longest one Neo4j call may take.
    neo4j_timeout: Duration,
    /// How to re-export the snapshot from Neo4j.
    export: Option<(Origin, ExportOptions)>,
    /// One refresh at a time.
    refreshing: tokio::sync::Mutex<()>,
}

/// The default cap on one response's size.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 64 << 20;
/// The default number of traversals that run at once.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 64;
/// The default number of requests that may wait for a turn.
pub const DEFAULT_MAX_QUEUED: u64 = 1024;

impl AppState {
    /// A state serving the snapshot at `path`; `neo4j` serves fresh requests (none: they get
    /// 503); `token` guards every route but health.
    pub fn new(
        path: PathBuf,
        neo4j: Option<neo4rs::Graph>,
        token: Option<String>,
    ) -> Result<AppState, neotrav_snapshot::Error> {
        let engine = Engine::open(&path)?;
        Ok(AppState {
            current: ArcSwap::from_pointee(Loaded::new(engine, path, 1, Vec::new())),
            neo4j,
            token,
            reload_error: Mutex::new(None),
            generation: AtomicU64::new(1),
            metrics: Metrics::new(),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            capacity: Arc::new(Semaphore::new(DEFAULT_MAX_IN_FLIGHT)),
            queued: AtomicU64::new(0),
            max_queued: DEFAULT_MAX_QUEUED,
            fresh_capacity: Arc::new(Semaphore::new(default_fresh_in_flight(
                DEFAULT_MAX_IN_FLIGHT,
            ))),
            fresh_queued: AtomicU64::new(0),
            neo4j_timeout: DEFAULT_NEO4J_TIMEOUT,
            export: None,
            refreshing: tokio::sync::Mutex::new(()),
        })
    }

    /// Sets how many traversals run at once (`in_flight`) and how many requests may wait for
    /// a turn (`queued`); a request past both gets 503 `over_capacity`. Fresh requests get a
    /// quarter of the slots unless [`AppState::with_fresh_capacity`] says otherwise.
    pub fn with_capacity(mut self, in_flight: usize, queued: u64) -> AppState {
        self.capacity = Arc::new(Semaphore::new(in_flight));
        self.fresh_capacity = Arc::new(Semaphore::new(default_fresh_in_flight(in_flight)));
        self.max_queued = queued;
        self
    }

    /// Lets [`AppState::refresh`] re-export the snapshot from the Neo4j given to
    /// [`AppState::new`], with these options; `origin` is recorded in the new snapshot.
    pub fn with_export(mut self, origin: Origin, options: ExportOptions) -> AppState {
        self.export = Some((origin, options));
        self
    }

    /// Re-exports the graph from Neo4j into the served file (atomically: a failed export
    /// leaves it as it was) and swaps the new snapshot in. Ids invalidated while the export ran
    /// stay invalidated; earlier ones are in the new snapshot. On failure the old snapshot keeps
    /// serving and `/readyz` and the metrics report it. One refresh runs at a time.
    pub async fn refresh(&self) -> Result<Arc<Loaded>, ApiError> {
        let (Some(graph), Some((origin, options))) = (&self.neo4j, &self.export) else {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "no_export",
                "this sidecar cannot re-export: it was started without Neo4j (--no-neo4j) or \
                 without export options; reload a given file instead",
            ));
        };
        let _one = self.refreshing.lock().await;
        let before = self.current.load_full();
        let mark = lock(&before.invalidated).len();
        let path = before.path.clone();
        tracing::info!(path = %path.display(), "refreshing: re-exporting from Neo4j");
        match export::export(graph, origin, options, &path, &NoProgress).await {
            Ok(report) => {
                tracing::info!(
                    nodes = report.nodes,
                    relationships = report.relationships,
                    "re-exported"
                );
                self.swap(path, Some(mark))
            }
            Err(e) => Err(self.failed(format!(
                "re-exporting {} from {} failed: {e}",
                path.display(),
                origin.address
            ))),
        }
    }

    /// Sets the largest response body, in bytes.
    pub fn with_max_response_bytes(mut self, bytes: usize) -> AppState {
        self.max_response_bytes = bytes;
        self
    }

    /// Opens `path` (default: the file being served) and swaps it in; on failure the old
    /// snapshot stays and `/readyz` reports the failure.
    pub fn reload(&self, path: Option<PathBuf>) -> Result<Arc<Loaded>, ApiError> {
        let path = path.unwrap_or_else(|| self.current.load().path.clone());
        self.swap(path, None)
    }

    /// Opens `path` and swaps it in. With `carry`, the ids invalidated on the old snapshot from
    /// that position of its log on are invalidated on the new one too.
    fn swap(&self, path: PathBuf, carry: Option<usize>) -> Result<Arc<Loaded>, ApiError> {
        let engine = match Engine::open(&path) {
            Ok(engine) => engine,
            Err(e) => return Err(self.failed(format!("reloading {} failed: {e}", path.display()))),
        };
        let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        let old = self.current.load_full();
        // Holding the old dirty set's lock, no invalidation can land on the old snapshot
        // between reading its log and the swap (`invalidate` re-checks which one is current).
        let _guard = old.dirty.write().unwrap_or_else(|e| e.into_inner());
        let carried = carry.map_or_else(Vec::new, |from| {
            lock(&old.invalidated)
                .get(from..)
                .unwrap_or_default()
                .to_vec()
        });
        let loaded = Arc::new(Loaded::new(engine, path, generation, carried));
        self.current.store(loaded.clone());
        *lock(&self.reload_error) = None;
        tracing::info!(generation, "snapshot swapped");
        Ok(loaded)
    }

    /// Records a failed reload or refresh: counted, logged, shown by `/readyz`.
    fn failed(&self, message: String) -> ApiError {
        self.metrics.reload_failures.inc();
        tracing::warn!("{message}; still serving the previous snapshot");
        *lock(&self.reload_error) = Some(message.clone());
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "reload_failed",
            format!("{message}; the previous snapshot is still served"),
        )
    }

    /// Waits for a turn to run a traversal: 503 `over_capacity` when `max_queued` requests
    /// already wait.
    async fn turn(&self) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
        if let Ok(permit) = self.capacity.clone().try_acquire_owned() {
            return Ok(permit);
        }
        if self.queued.fetch_add(1, Ordering::SeqCst) >= self.max_queued {
            self.queued.fetch_sub(1, Ordering::SeqCst);
            return Err(ApiError::over_capacity());
        }
        let permit = self.capacity.clone().acquire_owned().await;
        self.queued.fetch_sub(1, Ordering::SeqCst);
        permit.map_err(|_| ApiError::over_capacity())
    }
}

impl Loaded {
    fn new(engine: Engine, path: PathBuf, generation: u64, invalidated: Vec<u64>) -> Loaded {
        let mut dirty = DirtySet::new();
        dirty.insert(invalidated.iter().copied());
        Loaded {
            engine,
            path,
            dirty: RwLock::new(Arc::new(dirty)),
            invalidated: Mutex::new(invalidated),
            generation,
        }
    }
}

/// Locks a mutex, whether or not a panicking thread poisoned it (the data is plain).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// An error response: `{"error": {"code", "message", "details"}}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: ErrorBody,
    /// Seconds for a `Retry-After` header.
    retry_after: Option<u32>,
}

impl ApiError {
    fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            body: ErrorBody {
                error: ErrorDetail {
                    code: code.to_string(),
                    message: message.into(),
                    details: None,
                },
            },
            retry_after: None,
        }
    }

    fn over_capacity() -> ApiError {
        let mut e = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "over_capacity",
            "the sidecar is over capacity (every traversal slot busy and the queue full); retry \
             after a moment, or raise --max-in-flight / --max-queued",
        );
        e.retry_after = Some(1);
        e
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
                let mut err = ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message);
                err.body.error.details = Some(serde_json::json!({ "field": r.field }));
                err
            }
            EngineError::UnknownNode(id) => {
                let mut err = ApiError::new(StatusCode::NOT_FOUND, "unknown_node", message);
                err.body.error.details = Some(serde_json::json!({ "id": id }));
                err
            }
            EngineError::Budget(_) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "budget_exceeded", message)
            }
            EngineError::Neo4j(detail) => {
                tracing::warn!("reading misses from Neo4j failed: {detail}");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "neo4j_unavailable",
                    "reading misses from Neo4j failed; snapshot requests keep working",
                )
            }
            EngineError::Neo4jTimeout { .. } => {
                tracing::warn!("{message}");
                ApiError::new(StatusCode::GATEWAY_TIMEOUT, "neo4j_timeout", message)
            }
            EngineError::NotInNeo4j { id, .. } => {
                let mut err = ApiError::new(StatusCode::NOT_FOUND, "unknown_node", message);
                err.body.error.details = Some(serde_json::json!({ "id": id }));
                err
            }
            EngineError::NoNeo4j => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "neo4j_unavailable",
                message,
            ),
        }
    }
}

fn bad_json(e: JsonRejection) -> ApiError {
    if serve::is_body_timeout(&e) {
        return serve::late_body();
    }
    ApiError::new(
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            StatusCode::PAYLOAD_TOO_LARGE
        } else {
            StatusCode::BAD_REQUEST
        },
        "bad_request",
        e.body_text(),
    )
}

/// Runs `f` on the blocking pool with the current snapshot, a miss source when Neo4j is
/// configured, and the dirty set.
async fn blocking<T: Send + 'static>(
    state: &Arc<AppState>,
    fresh: Option<std::time::Instant>,
    f: impl FnOnce(&Loaded, &DirtySet, Option<&mut Neo4jSource>) -> Result<T, EngineError>
    + Send
    + 'static,
) -> Result<T, ApiError> {
    let fresh = state.fresh_turn(fresh).await?;
    let permit = state.turn().await?;
    let loaded = state.current.load_full();
    let neo4j = state.neo4j.clone();
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let dirty = loaded
            .dirty
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let mut source = neo4j.map(|g| fresh.source(g, handle));
        f(&loaded, &dirty, source.as_mut())
    })
    .await
    .map_err(|_| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the request's worker failed",
        )
    })?
    .map_err(ApiError::from)
}

/// Answers a traversal (a `/v1/traverse` body, or a `/v1/neighbors` one turned into one).
async fn answer_traversal(
    state: &Arc<AppState>,
    req: TraverseRequest,
    ndjson: bool,
) -> Result<Response, ApiError> {
    let fresh = state.fresh_deadline(req.consistency, &req.budget);
    let response = blocking(state, fresh, move |l, dirty, source| match source {
        Some(s) => l.engine.traverse_fresh(&req, dirty, s),
        None => l.engine.traverse(&req),
    })
    .await?;
    state.metrics.record_stats(&response.stats);
    if ndjson {
        return ndjson_answer(state, response);
    }
    capped_json(state, &response)
}

fn too_large(state: &AppState) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "response_too_large",
        format!(
            "the answer is larger than this sidecar's {} byte cap: narrow the request, set `limit`, ask for `count` or `groupBy`, or for NDJSON lines with `Accept: application/x-ndjson`",
            state.max_response_bytes
        ),
    )
}

/// The answer as one JSON body, or 413 over the cap.
fn capped_json<T: serde::Serialize>(state: &AppState, value: &T) -> Result<Response, ApiError> {
    let body = serde_json::to_vec(value).map_err(|_| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "encoding the answer failed",
        )
    })?;
    if body.len() > state.max_response_bytes {
        return Err(too_large(state));
    }
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// A traversal's nodes or paths as NDJSON, sent in chunks as they are encoded, then a line
/// with `partial` and `stats`; a line that would pass the cap ends the stream with an error line.
fn ndjson_answer(state: &AppState, response: TraverseResponse) -> Result<Response, ApiError> {
    use neotrav_client::wire::Answer;
    let cap = state.max_response_bytes;
    let TraverseResponse {
        answer,
        partial,
        stats,
    } = response;
    let mut lines: Vec<serde_json::Value> = match answer {
        Answer::Nodes(n) => n
            .into_iter()
            .map(|id| serde_json::json!({ "node": id }))
            .collect(),
        Answer::Paths(p) => p
            .into_iter()
            .map(|p| serde_json::to_value(p).unwrap_or_default())
            .collect(),
        other => vec![serde_json::to_value(other).unwrap_or_default()],
    };
    lines.push(serde_json::json!({ "partial": partial, "stats": stats }));
    let chunks = lines.chunks(1024).map(<[_]>::to_vec).collect::<Vec<_>>();
    let (mut sent, mut done) = (0usize, false);
    let stream = futures::stream::iter(chunks.into_iter().map(move |chunk| {
        let mut out = Vec::new();
        for line in chunk {
            if done {
                break;
            }
            let mut bytes = serde_json::to_vec(&line).unwrap_or_default();
            bytes.push(b'\n');
            if sent + bytes.len() > cap {
                out.extend_from_slice(
                    br#"{"error":{"code":"response_too_large","message":"the answer passed the response cap; narrow the request or set limit"}}"#,
                );
                out.push(b'\n');
                done = true;
                break;
            }
            sent += bytes.len();
            out.extend(bytes);
        }
        Ok::<_, std::io::Error>(out)
    }));
    Ok((
        [(header::CONTENT_TYPE, "application/x-ndjson")],
        axum::body::Body::from_stream(stream),
    )
        .into_response())
}

fn wants_ndjson(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/x-ndjson"))
}

/// A traversal: an APOC path-expander config plus `start`, `expandByLabel`, `where`, `return`,
/// `consistency` and `budget`.
#[utoipa::path(post, path = "/v1/traverse", request_body = TraverseRequest,
    responses((status = 200, description = "The answer; with `Accept: application/x-ndjson`, one JSON value per node or path, then a line with `partial` and `stats`", body = TraverseResponse), (status = 400, description = "A malformed request; `details.field` names the field", body = ErrorBody), (status = 401, description = "A token is needed", body = ErrorBody), (status = 404, description = "An unknown start node", body = ErrorBody), (status = 408, description = "`body_timeout`: the request body did not arrive within the body timeout", body = ErrorBody), (status = 413, description = "The answer is over the response cap, or the request body over 2 MiB", body = ErrorBody), (status = 422, description = "The budget was exceeded", body = ErrorBody), (status = 503, description = "Over capacity, or Neo4j unreachable for a fresh request", body = ErrorBody), (status = 504, description = "`neo4j_timeout`: Neo4j did not answer a fresh request before its deadline or the server's Neo4j timeout", body = ErrorBody)), security(("bearer" = [])))]
async fn traverse(
    State(state): State<Arc<AppState>>,
    headers: axum::http::HeaderMap,
    body: Result<Json<TraverseRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(req) = body.map_err(bad_json)?;
    answer_traversal(&state, req, wants_ndjson(&headers)).await
}

/// One hop from a node, with filters: the cheapest call.
#[utoipa::path(post, path = "/v1/neighbors", request_body = NeighborsRequest,
    responses((status = 200, description = "The answer; with `Accept: application/x-ndjson`, one JSON value per node or path, then a line with `partial` and `stats`", body = TraverseResponse), (status = 400, description = "A malformed request; `details.field` names the field", body = ErrorBody), (status = 401, description = "A token is needed", body = ErrorBody), (status = 404, description = "An unknown start node", body = ErrorBody), (status = 408, description = "`body_timeout`: the request body did not arrive within the body timeout", body = ErrorBody), (status = 413, description = "The answer is over the response cap, or the request body over 2 MiB", body = ErrorBody), (status = 422, description = "The budget was exceeded", body = ErrorBody), (status = 503, description = "Over capacity, or Neo4j unreachable for a fresh request", body = ErrorBody), (status = 504, description = "`neo4j_timeout`: Neo4j did not answer a fresh request before its deadline or the server's Neo4j timeout", body = ErrorBody)), security(("bearer" = [])))]
async fn neighbors(
    State(state): State<Arc<AppState>>,
    headers: axum::http::HeaderMap,
    body: Result<Json<NeighborsRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(req) = body.map_err(bad_json)?;
    answer_traversal(&state, req.to_traversal(), wants_ndjson(&headers)).await
}

/// The shortest path (or all shortest paths) between two nodes.
#[utoipa::path(post, path = "/v1/shortest-path", request_body = ShortestPathRequest,
    responses((status = 200, description = "The paths", body = ShortestPathResponse), (status = 400, description = "A malformed request; `details.field` names the field", body = ErrorBody), (status = 401, description = "A token is needed", body = ErrorBody), (status = 404, description = "An unknown node", body = ErrorBody), (status = 408, description = "`body_timeout`: the request body did not arrive within the body timeout", body = ErrorBody), (status = 413, description = "Over the response cap, or the request body over 2 MiB", body = ErrorBody), (status = 422, description = "The budget was exceeded", body = ErrorBody), (status = 503, description = "Over capacity, or Neo4j unreachable for a fresh request", body = ErrorBody), (status = 504, description = "`neo4j_timeout`: Neo4j did not answer a fresh request before its deadline or the server's Neo4j timeout", body = ErrorBody)),
    security(("bearer" = [])))]
async fn shortest_path(
    State(state): State<Arc<AppState>>,
    body: Result<Json<ShortestPathRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(req) = body.map_err(bad_json)?;
    let fresh = state.fresh_deadline(req.consistency, &req.budget);
    let response = blocking(&state, fresh, move |l, dirty, source| match source {
        Some(s) => l.engine.shortest_path_fresh(&req, dirty, s),
        None => l.engine.shortest_path(&req),
    })
    .await?;
    state.metrics.record_stats(&response.stats);
    capped_json(&state, &response)
}

/// Marks nodes changed in Neo4j since the export: fresh requests read them from Neo4j.
#[utoipa::path(post, path = "/v1/invalidate", request_body = InvalidateRequest,
    responses((status = 200, description = "The number of dirty nodes", body = InvalidateResponse), (status = 400, description = "A malformed request; `details.field` names the field", body = ErrorBody), (status = 401, description = "A token is needed", body = ErrorBody), (status = 408, description = "`body_timeout`: the request body did not arrive within the body timeout", body = ErrorBody)),
    security(("bearer" = [])))]
async fn invalidate(
    State(state): State<Arc<AppState>>,
    body: Result<Json<InvalidateRequest>, JsonRejection>,
) -> Result<Json<InvalidateResponse>, ApiError> {
    let Json(req) = body.map_err(bad_json)?;
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

fn info(l: &Loaded) -> SnapshotInfo {
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
    }
}

/// The served snapshot: source, watermark, counts, age.
#[utoipa::path(get, path = "/v1/snapshot",
    responses((status = 200, description = "The served snapshot", body = SnapshotInfo), (status = 401, description = "A token is needed", body = ErrorBody)),
    security(("bearer" = [])))]
async fn snapshot(State(state): State<Arc<AppState>>) -> Json<SnapshotInfo> {
    Json(info(&state.current.load()))
}

/// Swaps in a snapshot file (default: the served one, re-read), or re-exports from Neo4j
/// with `export: true`. A failure keeps the old snapshot serving.
#[utoipa::path(post, path = "/v1/snapshot/reload", request_body(content = Option<ReloadRequest>, description = "Optional; an empty body re-reads the served file"),
    responses((status = 200, description = "The new snapshot", body = SnapshotInfo), (status = 400, description = "A malformed request; `details.field` names the field", body = ErrorBody), (status = 401, description = "A token is needed", body = ErrorBody), (status = 409, description = "Re-export asked of a sidecar without Neo4j", body = ErrorBody), (status = 422, description = "The reload failed; the old snapshot still serves", body = ErrorBody)),
    security(("bearer" = [])))]
async fn reload(
    State(state): State<Arc<AppState>>,
    body: Option<Json<ReloadRequest>>,
) -> Result<Json<SnapshotInfo>, ApiError> {
    let request = body.map(|Json(r)| r).unwrap_or_default();
    if request.export {
        if request.path.is_some() {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "give either `path` (load that file) or `export: true` (re-export from Neo4j), \
                 not both",
            ));
        }
        let loaded = state.refresh().await?;
        return Ok(Json(info(&loaded)));
    }
    let path = request.path.map(PathBuf::from);
    let state2 = state.clone();
    let loaded = tokio::task::spawn_blocking(move || state2.reload(path))
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the reload worker failed",
            )
        })??;
    Ok(Json(info(&loaded)))
}

/// Prometheus metrics (OpenMetrics text).
#[utoipa::path(get, path = "/metrics",
    responses((status = 200, description = "The metrics", body = String, content_type = "application/openmetrics-text")),
    security(("bearer" = [])))]
async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let age = info(&state.current.load()).age_seconds;
    state.metrics.snapshot_age.set(age);
    let mut out = String::new();
    match prometheus_client::encoding::text::encode(&mut out, &state.metrics.registry) {
        Ok(()) => (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            out,
        )
            .into_response(),
        Err(_) => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "encoding the metrics failed",
        )
        .into_response(),
    }
}

/// Counts every request by endpoint (the route, not the raw path) and status, and times it.
async fn observe(
    State(state): State<Arc<AppState>>,
    matched: Option<axum::extract::MatchedPath>,
    req: Request,
    next: Next,
) -> Response {
    let endpoint = matched.map_or_else(|| "unmatched".to_string(), |m| m.as_str().to_string());
    let started = std::time::Instant::now();
    let response = next.run(req).await;
    state
        .metrics
        .latency
        .get_or_create(&EndpointLabels {
            endpoint: endpoint.clone(),
        })
        .observe(started.elapsed().as_secs_f64());
    state
        .metrics
        .requests
        .get_or_create(&RouteLabels {
            endpoint,
            status: response.status().as_u16(),
        })
        .inc();
    response
}

/// Whether the process answers (no token needed).
#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "ok", body = String)))]
async fn healthz() -> &'static str {
    "ok\n"
}

/// Whether a snapshot is served and the last reload or refresh succeeded (no token needed).
#[utoipa::path(get, path = "/readyz", responses((status = 200, description = "ready", body = String), (status = 503, description = "The last reload failed", body = ErrorBody)))]
async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    match lock(&state.reload_error).clone() {
        None => (StatusCode::OK, "ready\n").into_response(),
        Some(e) => {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "reload_failed", e).into_response()
        }
    }
}

async fn auth(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    if let Some(token) = &state.token {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if !bool::from(given.as_bytes().ct_eq(token.as_bytes())) {
            return ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "this sidecar needs `Authorization: Bearer <token>`",
            )
            .into_response();
        }
    }
    next.run(req).await
}

/// The sidecar's OpenAPI document, generated from the wire types (their `ToSchema`) and the
/// handlers' `#[utoipa::path]` annotations; served at `GET /openapi.json`.
#[derive(OpenApi)]
#[openapi(
    info(title = "neotrav sidecar", description = "Graph traversals over a Neo4j snapshot, with APOC path-expander semantics."),
    paths(traverse, neighbors, shortest_path, invalidate, snapshot, reload, metrics, healthz, readyz, openapi),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        doc.components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
    }
}

/// This API's OpenAPI document (no token needed).
#[utoipa::path(get, path = "/openapi.json", responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")))]
async fn openapi() -> Response {
    static DOC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let doc = DOC.get_or_init(|| ApiDoc::openapi().to_pretty_json().unwrap_or_default());
    ([(header::CONTENT_TYPE, "application/json")], doc.as_str()).into_response()
}

/// The routes, with `state`.
pub fn router(state: Arc<AppState>) -> Router {
    let api = Router::new()
        .route("/v1/traverse", post(traverse))
        .route("/v1/neighbors", post(neighbors))
        .route("/v1/shortest-path", post(shortest_path))
        .route("/v1/invalidate", post(invalidate))
        .route("/v1/snapshot", get(snapshot))
        .route("/v1/snapshot/reload", post(reload))
        .route("/metrics", get(metrics))
        .route_layer(middleware::from_fn_with_state(state.clone(), auth));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/openapi.json", get(openapi))
        .merge(api)
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .fallback(|| async {
            ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
        })
        .with_state(state)
}

/// Waits for SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

//! The HTTP sidecar: the engine behind a small JSON API (axum).
//!
//! - `POST /v1/traverse`, `POST /v1/shortest-path`, `POST /v1/neighbors`: the request language
//!   of [`neotrav_traverser::engine`]; `POST /v1/invalidate` marks nodes dirty for fresh requests;
//!   `GET /v1/snapshot` and `POST /v1/snapshot/reload` show and swap the snapshot;
//!   `POST /v1/cypher` and `POST /db/{name}/query/v2` (Neo4j's Query API path and error shape)
//!   take read-only Cypher, answered from the snapshot when the planner can, else forwarded to
//!   Neo4j in a read transaction or refused ([`cypher`], `neotrav serve --unsupported`);
//!   `GET /healthz` (the process answers) and `GET /readyz` (a snapshot is loaded, its file was
//!   not changed in place, and the newest reload did not fail).
//! - **Hot swap.** The served snapshot sits behind an [`ArcSwap`](arc_swap::ArcSwap): a reload opens the new file
//!   first, verifies it (every checksum and invariant, on the blocking pool) and swaps a
//!   pointer; requests in flight keep the old one until they finish, and a failed reload keeps
//!   serving the old snapshot. A refresh ([`AppState::refresh`], `{"export": true}` or `neotrav
//!   serve --refresh-every`) re-exports the graph from Neo4j into the served file (atomically)
//!   and swaps that in the same way; nodes invalidated while it ran stay invalidated.
//! - **Reloads are confined.** A reload's `path` must lead, once `..` and links are resolved, to
//!   a file inside the snapshot directory ([`AppState::with_snapshot_dir`], `neotrav serve
//!   --snapshot-dir`, by default the served file's directory; relative paths are taken from
//!   it); anything else is 403 `path_not_allowed`, the same answer whether or not a file is
//!   there. Directories, FIFOs and devices are refused before they are opened, and the open is
//!   non-blocking. A file that cannot be served is 422 `reload_failed` with `details.fault`
//!   (`not_found`, `not_a_regular_file`, `not_a_snapshot`, `wrong_length`,
//!   `unsupported_version`, `corrupt`) and `details.section`; no answer holds a byte of a file
//!   (the messages are [`neotrav_snapshot::Error::redacted`]). The body is JSON whatever its
//!   `Content-Type` (another declared type is 415); an empty body re-reads the served file.
//! - **Newest wins.** Reloads and refreshes are numbered as they start and swap one at a time;
//!   an older one never swaps over a newer one (409 `superseded`), and an outcome is recorded
//!   only if no newer attempt has recorded one. `/readyz` says only that the newest one failed
//!   and when (`details.failedAt`); `GET /v1/snapshot`, behind the token, has the detail
//!   (`lastReloadFailure`). Refused requests (400, 403, 409 `no_export`, 415) are not attempts.
//! - **Replace snapshot files by rename**, as the builder and `neotrav export` do, never by
//!   writing into a served file: the mapping would change under the verified snapshot, and a
//!   read past a truncated end kills the process with SIGBUS. [`AppState::watch`] (every 500 ms
//!   under `neotrav serve`) notices a write in place it can see (same inode, another length or
//!   modification time): from then on traversals get 503 `snapshot_modified` and `/readyz` is
//!   503, and once the file stays the same for two more looks it is reloaded with verify. Only
//!   requests that read the mapping between the write and the next look are exposed. A file
//!   replaced by rename is harmless: the old mapping serves until a reload.
//! - Traversals run off the reactor (on a multi-threaded runtime the request's thread hands
//!   its async worker to another thread first, so no thread wake-up delays the answer;
//!   elsewhere on the blocking pool), so a slow request never stalls it. At most
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
//!   the body timeout, 409 for a fresh request without Neo4j, 413/415 for a body too large or
//!   not JSON, 422 for an exceeded budget (`details.budget` names it), 503 when Neo4j is needed
//!   and unreachable or the sidecar is over capacity, 504 `neo4j_timeout` when Neo4j did not
//!   answer a fresh request in time (reloads: above). No internal detail or credential is ever
//!   in a response.
//! - **Large answers.** A JSON answer larger than the response cap (64 MiB unless set) is a 413
//!   naming the ways out; with `Accept: application/x-ndjson`, a traversal's nodes or paths come
//!   as one JSON value per line instead (`{"node": id}` or a path), then a last line with
//!   `partial` and `stats`, under the same cap.
//! - `GET /metrics`: Prometheus text format: requests by endpoint and status, latency
//!   histograms by endpoint, misses, Cypher round trips, snapshot age, reload failures, and
//!   Cypher statements by who answered and outcome.
//! - **Security.** Loopback by default; with a token, every route but the health checks needs
//!   `Authorization: Bearer <token>`, compared in constant time.
//!
//! It owns the HTTP side only: traversals are `neotrav-traverser`'s, the exporter and misses
//! `neotrav-neo4j`'s, the flags of `neotrav serve` the binary's.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use neotrav_server::{AppState, ServeOptions, router, serve, shutdown_signal};
//!
//! let state = AppState::new("graph.snap".into(), None, None)?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:7475").await?;
//! serve(listener, router(Arc::new(state)), ServeOptions::default(), shutdown_signal()).await?;
//! # Ok(()) }
//! ```

use neotrav_wire::ErrorCode;
use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::middleware;
use axum::routing::{get, post};

mod admission;
mod body;
pub mod cypher;
mod encode;
mod error;
mod metrics;
pub mod neo4j;
mod openapi;
mod reload;
mod routes;
mod serve;
mod state;

pub use cypher::Unsupported;
pub use error::ApiError;
pub use neo4j::{DEFAULT_NEO4J_TIMEOUT, default_fresh_in_flight};
pub use openapi::ApiDoc;
pub use reload::ReloadError;
pub use serve::{
    DEFAULT_BODY_TIMEOUT, DEFAULT_HEADER_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_CONNECTIONS, DEFAULT_REQUEST_TIMEOUT, DEFAULT_WRITE_TIMEOUT, ServeOptions, serve,
};
pub use state::{
    AppState, DEFAULT_MAX_QUEUED, DEFAULT_MAX_RESPONSE_BYTES, Loaded, SERVER_OVERHEAD_BYTES,
    WATCH_EVERY, default_max_in_flight, default_max_memory,
};

use metrics::{metrics, observe};
use openapi::openapi;
use routes::{
    auth, healthz, invalidate, neighbors, readyz, reload, shortest_path, snapshot, traverse,
    unmodified,
};

/// The routes, with `state`.
pub fn router(state: Arc<AppState>) -> Router {
    cypher::learn_database_id(&state);
    let api = Router::new()
        .route("/v1/traverse", post(traverse))
        .route("/v1/neighbors", post(neighbors))
        .route("/v1/shortest-path", post(shortest_path))
        // The routes above read the snapshot's memory map.
        .route_layer(middleware::from_fn_with_state(state.clone(), unmodified))
        // The Cypher routes check the served file themselves, to answer in their own shapes.
        .route("/v1/cypher", post(cypher::cypher))
        .route("/db/{name}/query/v2", post(cypher::query_v2))
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
            ApiError::new(
                StatusCode::NOT_FOUND,
                ErrorCode::NotFound,
                "no such endpoint",
            )
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

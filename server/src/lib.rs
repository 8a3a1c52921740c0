//! The HTTP sidecar: the engine behind a small JSON API (axum).
//!
//! - `POST /v1/traverse`, `POST /v1/shortest-path`, `POST /v1/neighbors`: the request language
//!   of [`neotrav_traverser::engine`]; `POST /v1/invalidate` marks nodes dirty for fresh requests;
//!   `GET /v1/snapshot` and `POST /v1/snapshot/reload` show and swap the snapshot;
//!   `GET /healthz` (the process answers) and `GET /readyz` (a snapshot is loaded, its file was
//!   not changed in place, and the newest reload did not fail).
//! - **Hot swap.** The served snapshot sits behind an [`ArcSwap`]: a reload opens the new file
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
//!   histograms by endpoint, misses, Cypher round trips, snapshot age, reload failures.
//! - **Security.** Loopback by default; with a token, every route but the health checks needs
//!   `Authorization: Bearer <token>`, compared in constant time.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use neotrav_wire::{
    Budget, BudgetName, ErrorBody, ErrorDetail, InvalidateRequest, InvalidateResponse,
    NeighborsRequest, ReloadRequest, ShortestPathRequest, ShortestPathResponse, SnapshotInfo,
    TraverseRequest, TraverseResponse,
};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use subtle::ConstantTimeEq;

use neotrav_neo4j::export::{self, ExportOptions, Origin};
use neotrav_snapshot::NoProgress;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use utoipa::OpenApi;

use neotrav_neo4j::miss::Neo4jSource;
use neotrav_traverser::engine::budget::{self, Budgets, Exceeded};
use neotrav_traverser::engine::fresh::DirtySet;
use neotrav_traverser::engine::plan::Limits;
use neotrav_traverser::engine::{Engine, EngineError};

mod admission;
use admission::{Admission, Held, Refused};
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
    /// The file as it was opened (from the descriptor that was mapped).
    stamp: FileStamp,
    /// Set by the watcher ([`AppState::watch`]) when the file changed in place: the mapping no
    /// longer holds what was verified, and reading past a truncated end would be SIGBUS, so
    /// requests get 503 `snapshot_modified` instead of reading it.
    modified: AtomicBool,
}

/// What identifies a file's contents as opened: its device and inode, which a rename over
/// the path changes, and its length and modification time, which a write in place changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FileStamp {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: Option<SystemTime>,
}

impl FileStamp {
    fn of(m: &std::fs::Metadata) -> FileStamp {
        use std::os::unix::fs::MetadataExt;
        FileStamp {
            dev: m.dev(),
            ino: m.ino(),
            len: m.len(),
            mtime: m.modified().ok(),
        }
    }

    fn same_file(&self, other: &FileStamp) -> bool {
        (self.dev, self.ino) == (other.dev, other.ino)
    }
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
    memory_reserved: Gauge,
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
        let memory_reserved = Gauge::default();
        registry.register(
            "memory_reserved_bytes",
            "Memory reserved by requests now (their bodies and budget.maxMemory), of --max-memory",
            memory_reserved.clone(),
        );
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
            memory_reserved,
        }
    }

    fn record_stats(&self, stats: &neotrav_wire::Stats) {
        self.misses.inc_by(stats.misses);
        self.round_trips.inc_by(stats.cypher_round_trips);
    }
}

/// What every handler shares.
pub struct AppState {
    current: ArcSwap<Loaded>,
    neo4j: Option<neo4rs::Graph>,
    token: Option<String>,
    /// Reloads may name only files under this directory (canonical).
    snapshot_dir: PathBuf,
    /// The number of the last reload or refresh started (each is numbered as it starts).
    attempts: AtomicU64,
    /// The outcome of the newest attempt that recorded one: an older attempt finishing late
    /// never overwrites a newer one's.
    outcome: Mutex<Outcome>,
    /// One swap at a time (open, verify, swap), holding the number of the attempt that last
    /// swapped: an older attempt never swaps its file in over a newer one's.
    swapping: tokio::sync::Mutex<u64>,
    generation: AtomicU64,
    metrics: Metrics,
    max_response_bytes: usize,
    /// Traversal slots and the memory pool.
    admission: Admission,
    /// Every budget's default and ceiling, applied to each snapshot opened.
    limits: Limits,
    /// The largest request body, in bytes.
    max_body_bytes: usize,
    /// One permit per fresh request that may run at once, taken before a traversal slot.
    fresh_capacity: Arc<Semaphore>,
    /// Fresh requests waiting for one (at most `--max-queued`).
    fresh_queued: AtomicU64,
    /// The longest one Neo4j call may take.
    neo4j_timeout: Duration,
    /// How to re-export the snapshot from Neo4j.
    export: Option<(Origin, ExportOptions)>,
    /// One refresh at a time.
    refreshing: tokio::sync::Mutex<()>,
}

/// The outcome of the newest reload or refresh attempt that recorded one.
#[derive(Default)]
struct Outcome {
    attempt: u64,
    failure: Option<Failure>,
}

/// A failed reload or refresh.
#[derive(Clone)]
struct Failure {
    at: SystemTime,
    attempt: u64,
    error: ErrorDetail,
}

/// How often `neotrav serve` looks at the served file for a write in place.
pub const WATCH_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// The default cap on one response's size.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 64 << 20;
/// The default number of traversals that run at once: one per core. Traversals are
/// CPU-bound, so more at once only share the cores (with the reactor that answers
/// `/healthz`), adding latency without adding throughput.
pub fn default_max_in_flight() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}
/// The default number of requests that may wait for a turn.
pub const DEFAULT_MAX_QUEUED: u64 = 1024;
/// What `--max-memory` keeps for the server itself (connections, request bodies being read,
/// scratch kept between requests) rather than for requests' budgets.
pub const SERVER_OVERHEAD_BYTES: u64 = 64 << 20;

/// The default of `--max-memory`: a quarter of the machine's memory.
pub fn default_max_memory() -> u64 {
    neotrav_traverser::engine::budget::machine_memory() / 4
}

/// The part of a server's `total` memory that requests may reserve.
fn requests_pool(total: u64) -> u64 {
    total.saturating_sub(SERVER_OVERHEAD_BYTES).max(total / 2)
}

/// Budgets' limits for a pool of `pool` bytes: by default a request may hold a sixty-fourth of
/// it and ask for at most a quarter.
fn memory_limits(pool: u64, default: Option<u64>, ceiling: Option<u64>) -> Limits {
    let ceiling = ceiling.unwrap_or(pool / 4).clamp(1, pool.max(1));
    let default = default.unwrap_or(pool / 64).clamp(1, ceiling);
    Limits {
        max_memory: ceiling,
        default_memory: default,
        ..Limits::default()
    }
}

impl AppState {
    /// A state serving the snapshot at `path`, verified first (every checksum and invariant:
    /// [`neotrav_snapshot::Snapshot::verify`]); `neo4j` serves fresh requests (none: they get
    /// 503); `token` guards every route but health. Reloads may name files in `path`'s
    /// directory ([`AppState::with_snapshot_dir`] changes it).
    pub fn new(
        path: PathBuf,
        neo4j: Option<neo4rs::Graph>,
        token: Option<String>,
    ) -> Result<AppState, neotrav_snapshot::Error> {
        AppState::open(path, neo4j, token, true)
    }

    /// [`AppState::new`], verifying the snapshot only if `verify` (verify reads the whole file:
    /// about 0.3 s for 700 MB and 1.4 s for 3.3 GB with a warm page cache). Reloads always
    /// verify.
    pub fn open(
        path: PathBuf,
        neo4j: Option<neo4rs::Graph>,
        token: Option<String>,
        verify: bool,
    ) -> Result<AppState, neotrav_snapshot::Error> {
        let pool = requests_pool(default_max_memory());
        let limits = memory_limits(pool, None, None);
        let (engine, stamp) = open_snapshot(&path, verify)?;
        let engine = engine.with_limits(limits);
        let io = |source| neotrav_snapshot::Error::Io {
            path: path.clone(),
            source,
        };
        let canonical = path.canonicalize().map_err(io)?;
        let snapshot_dir = canonical
            .parent()
            .map_or_else(|| PathBuf::from("/"), std::path::Path::to_path_buf);
        Ok(AppState {
            current: ArcSwap::from_pointee(Loaded::new(engine, path, 1, Vec::new(), stamp)),
            neo4j,
            token,
            snapshot_dir,
            attempts: AtomicU64::new(0),
            outcome: Mutex::new(Outcome::default()),
            swapping: tokio::sync::Mutex::new(0),
            generation: AtomicU64::new(1),
            metrics: Metrics::new(),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            admission: Admission::new(default_max_in_flight(), pool, DEFAULT_MAX_QUEUED),
            limits,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            fresh_capacity: Arc::new(Semaphore::new(default_fresh_in_flight(
                default_max_in_flight(),
            ))),
            fresh_queued: AtomicU64::new(0),
            neo4j_timeout: DEFAULT_NEO4J_TIMEOUT,
            export: None,
            refreshing: tokio::sync::Mutex::new(()),
        })
    }

    /// Lets reloads name files under `dir` only (default: the served file's directory);
    /// relative paths in a reload are taken from it. Fails if `dir` cannot be resolved.
    pub fn with_snapshot_dir(mut self, dir: &std::path::Path) -> std::io::Result<AppState> {
        let dir = dir.canonicalize()?;
        if !dir.is_dir() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotADirectory,
                format!("{} is not a directory", dir.display()),
            ));
        }
        self.snapshot_dir = dir;
        Ok(self)
    }

    /// The directory reloads may name files in (canonical).
    pub fn snapshot_dir(&self) -> &std::path::Path {
        &self.snapshot_dir
    }

    /// Sets how many traversals run at once (`in_flight`) and how many requests may wait for
    /// a turn (`queued`); a request past both gets 503 `over_capacity`. Fresh requests get a
    /// quarter of the slots unless [`AppState::with_fresh_capacity`] says otherwise.
    pub fn with_capacity(mut self, in_flight: usize, queued: u64) -> AppState {
        self.admission = Admission::new(in_flight, self.admission.memory_total(), queued);
        self.fresh_capacity = Arc::new(Semaphore::new(default_fresh_in_flight(in_flight)));
        self
    }

    /// Bounds memory: `total` bytes for the whole server (of which [`SERVER_OVERHEAD_BYTES`]
    /// stay for the server itself, the rest for requests' budgets), `request_default` for a
    /// request whose `budget.maxMemory` says nothing, `request_ceiling` at most for any (both
    /// default to fractions of the total; see `neotrav serve --help`).
    pub fn with_memory(
        mut self,
        total: u64,
        request_default: Option<u64>,
        request_ceiling: Option<u64>,
    ) -> AppState {
        let pool = requests_pool(total);
        self.admission = self.admission.with_memory(pool);
        let limits = memory_limits(pool, request_default, request_ceiling);
        self.limits = limits;
        // Building, nothing else holds the snapshot yet: re-limit its engine in place.
        self.current = match Arc::try_unwrap(self.current.into_inner()) {
            Ok(l) => {
                let invalidated = l
                    .invalidated
                    .into_inner()
                    .unwrap_or_else(|e| e.into_inner());
                ArcSwap::from_pointee(Loaded::new(
                    l.engine.with_limits(limits),
                    l.path,
                    l.generation,
                    invalidated,
                    l.stamp,
                ))
            }
            Err(shared) => ArcSwap::new(shared),
        };
        self
    }

    /// Sets the largest request body, in bytes (a larger one is a 413).
    pub fn with_max_body_bytes(mut self, bytes: usize) -> AppState {
        self.max_body_bytes = bytes;
        self
    }

    /// The limits every request's budget is capped by.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Lets [`AppState::refresh`] re-export the snapshot from the Neo4j given to
    /// [`AppState::new`], with these options; `origin` is recorded in the new snapshot.
    pub fn with_export(mut self, origin: Origin, options: ExportOptions) -> AppState {
        self.export = Some((origin, options));
        self
    }

    /// Re-exports the graph from Neo4j into the served file (atomically: a failed export
    /// leaves it as it was), verifies it and swaps it in. Ids invalidated while the export ran
    /// stay invalidated; earlier ones are in the new snapshot. On failure the old snapshot keeps
    /// serving and `/readyz` and the metrics report it. One refresh runs at a time; like a
    /// reload it is numbered when it starts, and a newer reload that swapped first wins (409
    /// `superseded`).
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
        let attempt = self.attempts.fetch_add(1, Ordering::SeqCst) + 1;
        let before = self.current.load_full();
        let mark = lock(&before.invalidated).len();
        let path = before.path.clone();
        tracing::info!(attempt, path = %path.display(), "refreshing: re-exporting from Neo4j");
        match export::export(graph, origin, options, &path, &NoProgress).await {
            Ok(report) => {
                tracing::info!(
                    nodes = report.nodes,
                    relationships = report.relationships,
                    "re-exported"
                );
                self.swap(attempt, path, Some((before, mark)), None).await
            }
            Err(e) => {
                let detail = format!(
                    "re-exporting {} from {} failed: {e}",
                    path.display(),
                    origin.address
                );
                tracing::warn!(attempt, "{detail}; still serving the previous snapshot");
                Err(self.failed(
                    attempt,
                    ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "reload_failed",
                        format!("{detail}; the previous snapshot is still served"),
                    ),
                ))
            }
        }
    }

    /// Sets the largest response body, in bytes.
    pub fn with_max_response_bytes(mut self, bytes: usize) -> AppState {
        self.max_response_bytes = bytes;
        self
    }

    /// Opens `path` (default: the file being served), verifies it and swaps it in; on failure
    /// the old snapshot stays and `/readyz` reports the failure (unless a newer attempt has
    /// recorded its outcome already).
    ///
    /// A given `path` must lead to a file inside [`AppState::snapshot_dir`] (a relative one is
    /// taken from there) once every `..` and link is resolved; anything else is 403
    /// `path_not_allowed`, whether or not it exists, and is not an attempt (`/readyz` does not
    /// change). A file there that cannot be served is 422 `reload_failed` naming the fault's
    /// class (`details.fault`) and section, with no byte of the file in the message.
    pub async fn reload(&self, path: Option<PathBuf>) -> Result<Arc<Loaded>, ApiError> {
        let path = match path {
            None => self.current.load().path.clone(),
            Some(p) => {
                let dir = self.snapshot_dir.clone();
                let resolved = tokio::task::spawn_blocking(move || allowed_path(&dir, &p))
                    .await
                    .map_err(|_| internal("the reload worker failed"))?;
                match resolved {
                    Allowed::Yes(path) => path,
                    Allowed::Missing(path, kind) => {
                        let attempt = self.attempts.fetch_add(1, Ordering::SeqCst) + 1;
                        let e = neotrav_snapshot::Error::Io {
                            path: path.clone(),
                            source: kind.into(),
                        };
                        tracing::warn!(attempt, "reloading failed: {e}");
                        return Err(self.failed(attempt, reload_failed(&path, &e)));
                    }
                    Allowed::No => return Err(self.path_not_allowed()),
                }
            }
        };
        let attempt = self.attempts.fetch_add(1, Ordering::SeqCst) + 1;
        self.swap(attempt, path, None, None).await
    }

    fn path_not_allowed(&self) -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "path_not_allowed",
            format!(
                "a reload may name only a regular file inside this sidecar's snapshot directory \
                 {} (neotrav serve --snapshot-dir; relative paths are taken from it), and `..` \
                 or links may not lead out of it",
                self.snapshot_dir.display()
            ),
        )
    }

    /// Attempt `attempt`: opens `path`, verifies it, and swaps it in, one swap at a time. With
    /// `carry`, the ids invalidated on that snapshot from that position of its log on are
    /// invalidated on the new one too (all of the current one's, if another swap came between).
    /// With `only_if`, swaps only while that snapshot is still the one served.
    async fn swap(
        &self,
        attempt: u64,
        path: PathBuf,
        carry: Option<(Arc<Loaded>, usize)>,
        only_if: Option<&Arc<Loaded>>,
    ) -> Result<Arc<Loaded>, ApiError> {
        let mut last_swap = self.swapping.lock().await;
        let p = path.clone();
        let opened = tokio::task::spawn_blocking(move || open_snapshot(&p, true))
            .await
            .map_err(|_| internal("the reload worker failed"))?;
        let (engine, stamp) = match opened {
            Ok(opened) => opened,
            Err(e) => {
                // The log may say more than the answer: it is local (and the path passed the
                // snapshot directory's rule).
                tracing::warn!(
                    attempt,
                    "reloading failed: {e}; still serving the previous snapshot"
                );
                return Err(self.failed(attempt, reload_failed(&path, &e)));
            }
        };
        let old = self.current.load_full();
        if *last_swap > attempt || only_if.is_some_and(|l| !Arc::ptr_eq(l, &old)) {
            tracing::info!(attempt, "reload superseded by a newer one; not swapped in");
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "superseded",
                "a reload or refresh that started after this one swapped its snapshot in first; \
                 this one's file was verified but not swapped in",
            ));
        }
        *last_swap = attempt;
        let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        // Holding the old dirty set's lock, no invalidation can land on the old snapshot
        // between reading its log and the swap (`invalidate` re-checks which one is current).
        let _guard = old.dirty.write().unwrap_or_else(|e| e.into_inner());
        let carried = carry.map_or_else(Vec::new, |(before, from)| {
            let from = if Arc::ptr_eq(&before, &old) { from } else { 0 };
            lock(&old.invalidated)
                .get(from..)
                .unwrap_or_default()
                .to_vec()
        });
        let engine = engine.with_limits(self.limits);
        let loaded = Arc::new(Loaded::new(engine, path, generation, carried, stamp));
        self.current.store(loaded.clone());
        self.record(attempt, None);
        tracing::info!(attempt, generation, "snapshot swapped");
        Ok(loaded)
    }

    /// Starts a task that looks at the served file every `every` (it ends when the state is
    /// dropped). A file replaced by rename (another inode) is harmless: the old mapping keeps
    /// serving until a reload, and that is logged. A file changed in place (same inode, another
    /// length or modification time) may no longer hold what was verified, and reading a
    /// truncated mapping is SIGBUS: from then on requests get 503 `snapshot_modified` (a flag
    /// checked with one atomic load), `/readyz` too, and once the file has stayed the same for
    /// two more looks it is reloaded (verified; a failure is recorded as any reload's, and the
    /// next try waits for the file to change again).
    pub fn watch(self: &Arc<Self>, every: std::time::Duration) -> tokio::task::JoinHandle<()> {
        let state = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            // The changed stamp last seen for a generation, and how many looks in a row since.
            let mut changed: Option<(u64, FileStamp, u32)> = None;
            // What was last logged for a generation, so each finding is logged once.
            let mut logged: Option<(u64, Option<FileStamp>)> = None;
            loop {
                tick.tick().await;
                let Some(state) = state.upgrade() else {
                    return;
                };
                let loaded = state.current.load_full();
                let path = loaded.path.clone();
                let seen = tokio::task::spawn_blocking(move || std::fs::metadata(path))
                    .await
                    .ok()
                    .and_then(Result::ok)
                    .map(|m| FileStamp::of(&m));
                let generation = loaded.generation;
                let now = match seen {
                    Some(now) if now.same_file(&loaded.stamp) => now,
                    other => {
                        // Gone, or replaced by rename: the mapping still holds the file that
                        // was verified.
                        if logged != Some((generation, other)) {
                            logged = Some((generation, other));
                            tracing::info!(
                                path = %loaded.path.display(),
                                "the served file was {}; the snapshot mapped at generation \
                                 {generation} keeps serving until a reload",
                                if other.is_some() { "replaced by rename" } else { "removed" },
                            );
                        }
                        continue;
                    }
                };
                if now == loaded.stamp {
                    changed = None;
                    continue;
                }
                if !loaded.modified.swap(true, Ordering::AcqRel) {
                    tracing::error!(
                        path = %loaded.path.display(),
                        "the served snapshot file was changed in place (same inode, another \
                         length or modification time): requests get 503 snapshot_modified \
                         until a verified reload; replace snapshot files by rename"
                    );
                }
                let looks = match changed {
                    Some((g, stamp, looks)) if g == generation && stamp == now => looks + 1,
                    _ => 0,
                };
                changed = Some((generation, now, looks));
                if looks == 2 {
                    let attempt = state.attempts.fetch_add(1, Ordering::SeqCst) + 1;
                    tracing::info!(attempt, "the changed file stayed the same; reloading it");
                    match state
                        .swap(attempt, loaded.path.clone(), None, Some(&loaded))
                        .await
                    {
                        Ok(l) => tracing::info!(generation = l.generation, "reloaded"),
                        // `swap` logged a failure already, with its detail.
                        Err(e) => tracing::debug!("no automatic reload: {}", e.detail().code),
                    }
                }
            }
        })
    }

    /// Records a failed reload or refresh (counted; shown by `/readyz` and `GET /v1/snapshot`
    /// unless a newer attempt has recorded its outcome) and gives back its answer.
    fn failed(&self, attempt: u64, error: ApiError) -> ApiError {
        self.metrics.reload_failures.inc();
        self.record(
            attempt,
            Some(Failure {
                at: SystemTime::now(),
                attempt,
                error: error.body.error.clone(),
            }),
        );
        error
    }

    /// Records attempt `attempt`'s outcome, unless a newer attempt recorded one already.
    fn record(&self, attempt: u64, failure: Option<Failure>) {
        let mut outcome = lock(&self.outcome);
        if attempt > outcome.attempt {
            *outcome = Outcome { attempt, failure };
        }
    }

    /// The newest recorded failure, if the newest recorded outcome is one.
    fn last_failure(&self) -> Option<Failure> {
        lock(&self.outcome).failure.clone()
    }
}

impl Loaded {
    fn new(
        engine: Engine,
        path: PathBuf,
        generation: u64,
        invalidated: Vec<u64>,
        stamp: FileStamp,
    ) -> Loaded {
        let mut dirty = DirtySet::new();
        dirty.insert(invalidated.iter().copied());
        Loaded {
            engine,
            path,
            dirty: RwLock::new(Arc::new(dirty)),
            invalidated: Mutex::new(invalidated),
            generation,
            stamp,
            modified: AtomicBool::new(false),
        }
    }

    /// Whether the watcher found the file changed in place (one atomic load).
    pub fn modified(&self) -> bool {
        self.modified.load(Ordering::Acquire)
    }

    /// 503 `snapshot_modified` if the file changed in place: its mapping must not be read.
    fn usable(&self) -> Result<(), ApiError> {
        if self.modified() {
            return Err(ApiError::snapshot_modified());
        }
        Ok(())
    }
}

/// Opens the snapshot at `path` (refusing anything but a regular file, without blocking) and,
/// with `verify`, checks every section; gives the engine and the opened file's stamp.
fn open_snapshot(
    path: &std::path::Path,
    verify: bool,
) -> Result<(Engine, FileStamp), neotrav_snapshot::Error> {
    let (snapshot, metadata) = neotrav_snapshot::Snapshot::open_with_metadata(path)?;
    if verify {
        let started = std::time::Instant::now();
        snapshot
            .verify()
            .map_err(|fault| neotrav_snapshot::Error::Invalid {
                path: path.to_path_buf(),
                fault,
            })?;
        tracing::info!(
            path = %path.display(),
            bytes = snapshot.file_len(),
            ms = started.elapsed().as_millis() as u64,
            "snapshot verified"
        );
    }
    Ok((Engine::new(snapshot), FileStamp::of(&metadata)))
}

/// Where a reload's path leads.
enum Allowed {
    /// To this regular or other file inside the snapshot directory (canonical).
    Yes(PathBuf),
    /// To nothing (or nothing readable: the error's kind), inside the snapshot directory.
    Missing(PathBuf, std::io::ErrorKind),
    /// Out of the snapshot directory, or through a link that does not resolve.
    No,
}

/// Resolves `requested` (relative: from `dir`, which is canonical) and says whether it stays
/// inside `dir`. Whether a file exists outside `dir` never changes the answer: a path that
/// does not resolve is `Missing` only if its deepest existing ancestor is inside `dir` and the
/// first missing part is no link (a dangling link could point anywhere).
fn allowed_path(dir: &std::path::Path, requested: &std::path::Path) -> Allowed {
    let joined = dir.join(requested); // `requested` replaces `dir` when absolute
    if let Ok(canonical) = joined.canonicalize() {
        return if canonical.starts_with(dir) {
            Allowed::Yes(canonical)
        } else {
            Allowed::No
        };
    }
    // `ancestors` keeps `..` parts as they are, so each prefix is resolved as the OS would.
    let mut below = joined.file_name().map(std::ffi::OsStr::to_os_string);
    for ancestor in joined.ancestors().skip(1) {
        if let Ok(canonical) = ancestor.canonicalize() {
            let Some(name) = below else {
                return Allowed::No;
            };
            if !canonical.starts_with(dir) {
                return Allowed::No;
            }
            let first_missing = canonical.join(&name);
            return match std::fs::symlink_metadata(&first_missing) {
                Err(e) => Allowed::Missing(joined_from(&canonical, &joined, ancestor), e.kind()),
                // It exists but does not resolve: a dangling link, or not searchable.
                Ok(_) => Allowed::No,
            };
        }
        below = ancestor.file_name().map(std::ffi::OsStr::to_os_string);
    }
    Allowed::No
}

/// `joined` with its prefix `ancestor` replaced by that prefix's canonical form: the missing
/// path as it would be inside the snapshot directory, for messages.
fn joined_from(
    canonical: &std::path::Path,
    joined: &std::path::Path,
    ancestor: &std::path::Path,
) -> PathBuf {
    joined
        .strip_prefix(ancestor)
        .map_or_else(|_| joined.to_path_buf(), |rest| canonical.join(rest))
}

/// 422 `reload_failed` for a file that could not be served: the fault's class and section, no
/// byte of the file.
fn reload_failed(path: &std::path::Path, e: &neotrav_snapshot::Error) -> ApiError {
    let mut err = ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "reload_failed",
        format!(
            "reloading {} failed: {}; the previous snapshot is still served",
            path.display(),
            e.redacted()
        ),
    );
    let section = e.fault().and_then(neotrav_snapshot::Fault::section);
    err.body.error.details = Some(serde_json::json!({
        "fault": e.class(),
        "section": section,
    }));
    err
}

fn internal(message: &str) -> ApiError {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
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

    fn snapshot_modified() -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "snapshot_modified",
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
                let mut err = ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message);
                err.body.error.details = Some(serde_json::json!({ "field": r.field }));
                err
            }
            EngineError::UnknownNode(id) => {
                let mut err = ApiError::new(StatusCode::NOT_FOUND, "unknown_node", message);
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
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "budget_exceeded", message)
                    .with_details(details)
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
            // Not a fault of the server's: it was started without Neo4j.
            EngineError::NoNeo4j => ApiError::new(StatusCode::CONFLICT, "no_neo4j", message),
        }
    }
}

fn bad_json(e: JsonRejection) -> ApiError {
    if serve::is_body_timeout(&e) {
        return serve::late_body();
    }
    let (status, code) = match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
        }
        _ => (StatusCode::BAD_REQUEST, "bad_request"),
    };
    ApiError::new(status, code, e.body_text())
}

fn body_too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        format!(
            "the request body is larger than this sidecar's {limit} byte cap (--max-body-bytes): \
             send fewer start nodes per request"
        ),
    )
}

impl ApiError {
    fn refused(r: Refused) -> ApiError {
        match r {
            Refused::Busy => ApiError::over_capacity(),
            Refused::TooLarge { asked, total } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "budget_exceeded",
                format!(
                    "the request asks for {asked} bytes of memory, more than this sidecar's \
                     {total} in all (--max-memory): lower budget.maxMemory"
                ),
            )
            .with_details(serde_json::json!({ "budget": BudgetName::MaxMemory })),
        }
    }

    fn with_details(mut self, details: serde_json::Value) -> ApiError {
        self.body.error.details = Some(details);
        self
    }
}

/// How long a request body may wait for memory to be read into.
const BODY_WAIT: Duration = Duration::from_secs(10);

/// A JSON request body, read only once the memory for it is reserved from the server's pool
/// (its text and what it may parse into, [`admission::body_reservation`]); the reservation is
/// held until the response is sent. Every rejection is in the error shape.
struct Admitted<T> {
    value: T,
    reserved: OwnedSemaphorePermit,
}

impl<T: serde::de::DeserializeOwned + Send + 'static> FromRequest<Arc<AppState>> for Admitted<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &Arc<AppState>) -> Result<Self, ApiError> {
        let limit = state.max_body_bytes;
        let (parts, body) = req.into_parts();
        let declared = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
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
                    "bad_request",
                    "the request body could not be read to its end",
                )
            }
        })?;
        if !is_json(&parts.headers) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON, with `Content-Type: application/json`",
            ));
        }
        // A large body is parsed on the blocking pool, so that it never stalls the reactor.
        let parsed = if bytes.len() <= SMALL_BODY {
            Json::<T>::from_bytes(&bytes)
        } else {
            tokio::task::spawn_blocking(move || Json::<T>::from_bytes(&bytes))
                .await
                .map_err(|_| worker_failed())?
        };
        let Json(value) = parsed.map_err(bad_json)?;
        Ok(Admitted { value, reserved })
    }
}

/// Bodies up to this size are parsed where they are read.
const SMALL_BODY: usize = 64 << 10;

/// Whether a request says its body is JSON (`application/json`, or `application/*+json`).
fn is_json(headers: &axum::http::HeaderMap) -> bool {
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
}

fn worker_failed() -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "the request's worker failed",
    )
}

/// Runs `f` on the blocking pool with the current snapshot, a miss source when Neo4j is
/// configured, and the dirty set, once the request's memory (`budget.maxMemory`, as capped)
/// is reserved and a traversal slot is free. Waits at most the request's deadline for both.
/// The slot is freed when `f` returns; the memory reservation is handed back to be held
/// while the answer is sent.
async fn blocking<T: Send + 'static>(
    state: &Arc<AppState>,
    budget: &Budget,
    fresh: Option<std::time::Instant>,
    f: impl FnOnce(&Loaded, &DirtySet, Option<&mut Neo4jSource>) -> Result<T, ApiError> + Send + 'static,
) -> Result<(T, OwnedSemaphorePermit), ApiError> {
    // A fresh request first takes one of its own slots (bounded by its deadline), so that
    // requests stuck on Neo4j hold few of the shared ones.
    let fresh = state.fresh_turn(fresh).await?;
    let limits = state.limits;
    let wait = Budgets::deadline_of(budget, limits);
    let reserved = state
        .admission
        .memory(Budgets::memory_of(budget, limits), wait)
        .await
        .map_err(ApiError::refused)?;
    let slot = state
        .admission
        .slot(wait)
        .await
        .map_err(ApiError::refused)?;
    let loaded = state.current.load_full();
    loaded.usable()?; // flagged while this request waited for its turn
    let neo4j = state.neo4j.clone();
    let handle = tokio::runtime::Handle::current();
    let value = tokio::task::spawn_blocking(move || {
        let _slot = slot;
        let dirty = loaded
            .dirty
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let mut source = neo4j.map(|g| fresh.source(g, handle));
        f(&loaded, &dirty, source.as_mut())
    })
    .await
    .map_err(|_| worker_failed())??;
    Ok((value, reserved))
}

/// An answer as it leaves the blocking pool: encoded JSON, or the answer itself to be
/// streamed as NDJSON lines.
enum Encoded {
    Json(Vec<u8>, Box<neotrav_wire::Stats>),
    Lines(TraverseResponse),
}

/// Answers a traversal (a `/v1/traverse` body, or a `/v1/neighbors` one turned into one).
/// The walk and the JSON encoding both run on the blocking pool, under the request's slot.
async fn answer_traversal(
    state: &Arc<AppState>,
    req: TraverseRequest,
    body: OwnedSemaphorePermit,
    ndjson: bool,
) -> Result<Response, ApiError> {
    let budget = req.budget.clone();
    let (limits, cap) = (state.limits, state.max_response_bytes);
    let fresh = state.fresh_deadline(req.consistency, &req.budget);
    let (encoded, reserved) = blocking(state, &budget, fresh, move |l, dirty, source| {
        let response = match source {
            Some(s) => l.engine.traverse_fresh(&req, dirty, s),
            None => l.engine.traverse(&req),
        }?;
        if ndjson {
            return Ok(Encoded::Lines(response));
        }
        let room = Budgets::memory_of(&req.budget, limits)
            .saturating_sub(budget::answer_bytes(&response.answer));
        let json = encode_json(cap, &response, room)?;
        Ok(Encoded::Json(json, Box::new(response.stats)))
    })
    .await?;
    let permits = vec![body, reserved];
    match encoded {
        Encoded::Lines(response) => {
            state.metrics.record_stats(&response.stats);
            Ok(ndjson_answer(state, response, permits))
        }
        Encoded::Json(json, stats) => {
            state.metrics.record_stats(&stats);
            Ok(json_response(json, permits))
        }
    }
}

fn too_large(cap: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "response_too_large",
        format!(
            "the answer is larger than this sidecar's {cap} byte cap: narrow the request, set `limit`, ask for `count` or `groupBy`, or for NDJSON lines with `Accept: application/x-ndjson`"
        ),
    )
}

/// A `Vec` that refuses to grow past `cap` bytes, and asks the allocator without aborting.
struct CappedWriter {
    buf: Vec<u8>,
    cap: usize,
}

impl std::io::Write for CappedWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let need = self.buf.len() + data.len();
        if need > self.cap {
            return Err(std::io::Error::other("over the cap"));
        }
        if need > self.buf.capacity() {
            let grown = need.max(self.buf.capacity() * 2).max(4096).min(self.cap);
            self.buf
                .try_reserve_exact(grown - self.buf.len())
                .map_err(std::io::Error::other)?;
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The answer as JSON, or 413 over the response cap (`cap` bytes), or 422 when its encoding
/// does not fit in what is left of the request's memory budget (`room` bytes).
fn encode_json<T: serde::Serialize>(cap: usize, value: &T, room: u64) -> Result<Vec<u8>, ApiError> {
    let room = usize::try_from(room).unwrap_or(usize::MAX);
    let mut out = CappedWriter {
        buf: Vec::new(),
        cap: cap.min(room),
    };
    if serde_json::to_writer(&mut out, value).is_ok() {
        return Ok(out.buf);
    }
    if room >= cap {
        return Err(too_large(cap));
    }
    Err(ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "budget_exceeded",
        format!(
            "the answer's JSON does not fit in what is left of the request's memory budget \
             ({room} bytes, budget.maxMemory): ask for NDJSON lines with `Accept: \
             application/x-ndjson`, set `limit`, or raise the budget"
        ),
    )
    .with_details(serde_json::json!({ "budget": BudgetName::MaxMemory })))
}

/// A JSON body that holds `permits` until it is sent.
fn json_response(json: Vec<u8>, permits: Vec<OwnedSemaphorePermit>) -> Response {
    let body = Held::body(axum::body::Body::from(json), permits);
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// The bytes of one NDJSON chunk: lines are encoded a chunk at a time as the client reads.
const NDJSON_CHUNK: usize = 64 << 10;

/// A traversal's nodes or paths as NDJSON, encoded a chunk at a time as the client reads
/// them (the answer itself is already counted in the request's budget), then a line with
/// `partial` and `stats`; a line that would pass the response cap ends the stream with an
/// error line. `permits` are held until the last chunk is sent.
fn ndjson_answer(
    state: &AppState,
    response: TraverseResponse,
    permits: Vec<OwnedSemaphorePermit>,
) -> Response {
    use neotrav_wire::Answer;
    let cap = state.max_response_bytes;
    let TraverseResponse {
        answer,
        partial,
        stats,
    } = response;
    let trailer = serde_json::json!({ "partial": partial, "stats": stats });
    let total = match &answer {
        Answer::Nodes(n) => n.len(),
        Answer::Paths(p) => p.len(),
        _ => 1,
    };
    let line = move |answer: &Answer, i: usize, out: &mut Vec<u8>| {
        let _ = match answer {
            Answer::Nodes(n) => {
                serde_json::to_writer(&mut *out, &serde_json::json!({ "node": n[i] }))
            }
            Answer::Paths(p) => serde_json::to_writer(&mut *out, &p[i]),
            other => serde_json::to_writer(&mut *out, other),
        };
        out.push(b'\n');
    };
    // (next line, bytes sent, whether the stream is over)
    let start = (answer, 0usize, 0usize, false);
    let stream = futures::stream::unfold(start, move |(answer, mut i, mut sent, done)| {
        let trailer = trailer.clone();
        async move {
            if done {
                return None;
            }
            let mut chunk = Vec::with_capacity(NDJSON_CHUNK + 1024);
            let mut over = false;
            while chunk.len() < NDJSON_CHUNK {
                let before = chunk.len();
                if i < total {
                    line(&answer, i, &mut chunk);
                    i += 1;
                } else {
                    let _ = serde_json::to_writer(&mut chunk, &trailer);
                    chunk.push(b'\n');
                    over = true;
                }
                if sent + chunk.len() > cap {
                    chunk.truncate(before);
                    chunk.extend_from_slice(
                        br#"{"error":{"code":"response_too_large","message":"the answer passed the response cap; narrow the request or set limit"}}"#,
                    );
                    chunk.push(b'\n');
                    over = true;
                }
                if over {
                    break;
                }
            }
            sent += chunk.len();
            Some((Ok::<_, std::io::Error>(chunk), (answer, i, sent, over)))
        }
    });
    let body = Held::body(axum::body::Body::from_stream(stream), permits);
    ([(header::CONTENT_TYPE, "application/x-ndjson")], body).into_response()
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
    responses((status = 200, description = "The answer; with `Accept: application/x-ndjson`, one JSON value per node or path, then a line with `partial` and `stats`", body = TraverseResponse), (status = 400, description = "A malformed request; `details.field` names the field", body = ErrorBody), (status = 401, description = "A token is needed", body = ErrorBody), (status = 404, description = "An unknown start node", body = ErrorBody), (status = 408, description = "`body_timeout`: the request body did not arrive within the body timeout", body = ErrorBody), (status = 413, description = "The request body or the answer is over its cap", body = ErrorBody), (status = 415, description = "The body is not `application/json`", body = ErrorBody), (status = 422, description = "A budget was exceeded; `details.budget` names it", body = ErrorBody), (status = 409, description = "A fresh request to a sidecar started without Neo4j", body = ErrorBody), (status = 503, description = "Over capacity (`Retry-After` says when to retry), Neo4j unreachable for a fresh request, or the served file was changed in place (`snapshot_modified`)", body = ErrorBody), (status = 504, description = "`neo4j_timeout`: Neo4j did not answer a fresh request before its deadline or the server's Neo4j timeout", body = ErrorBody)), security(("bearer" = [])))]
async fn traverse(
    State(state): State<Arc<AppState>>,
    headers: axum::http::HeaderMap,
    body: Admitted<TraverseRequest>,
) -> Result<Response, ApiError> {
    answer_traversal(&state, body.value, body.reserved, wants_ndjson(&headers)).await
}

/// One hop from a node, with filters: the cheapest call.
#[utoipa::path(post, path = "/v1/neighbors", request_body = NeighborsRequest,
    responses((status = 200, description = "The answer; with `Accept: application/x-ndjson`, one JSON value per node or path, then a line with `partial` and `stats`", body = TraverseResponse), (status = 400, description = "A malformed request; `details.field` names the field", body = ErrorBody), (status = 401, description = "A token is needed", body = ErrorBody), (status = 404, description = "An unknown start node", body = ErrorBody), (status = 408, description = "`body_timeout`: the request body did not arrive within the body timeout", body = ErrorBody), (status = 413, description = "The request body or the answer is over its cap", body = ErrorBody), (status = 415, description = "The body is not `application/json`", body = ErrorBody), (status = 422, description = "A budget was exceeded; `details.budget` names it", body = ErrorBody), (status = 409, description = "A fresh request to a sidecar started without Neo4j", body = ErrorBody), (status = 503, description = "Over capacity (`Retry-After` says when to retry), Neo4j unreachable for a fresh request, or the served file was changed in place (`snapshot_modified`)", body = ErrorBody), (status = 504, description = "`neo4j_timeout`: Neo4j did not answer a fresh request before its deadline or the server's Neo4j timeout", body = ErrorBody)), security(("bearer" = [])))]
async fn neighbors(
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
async fn shortest_path(
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
async fn invalidate(
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

fn info(state: &AppState, l: &Loaded) -> SnapshotInfo {
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

fn rfc3339(at: SystemTime) -> String {
    humantime::format_rfc3339_millis(at).to_string()
}

/// The served snapshot: source, watermark, counts, age.
#[utoipa::path(get, path = "/v1/snapshot",
    responses((status = 200, description = "The served snapshot", body = SnapshotInfo), (status = 401, description = "A token is needed", body = ErrorBody)),
    security(("bearer" = [])))]
async fn snapshot(State(state): State<Arc<AppState>>) -> Json<SnapshotInfo> {
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
async fn reload(
    State(state): State<Arc<AppState>>,
    headers: axum::http::HeaderMap,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<SnapshotInfo>, ApiError> {
    let request = reload_request(&headers, body)?;
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
        return Ok(Json(info(&state, &loaded)));
    }
    let loaded = state.reload(request.path.map(PathBuf::from)).await?;
    Ok(Json(info(&state, &loaded)))
}

/// A reload's body: empty (or blank) is the default request; anything else must be a JSON
/// `ReloadRequest`, sent as JSON or without a `Content-Type`.
fn reload_request(
    headers: &axum::http::HeaderMap,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<ReloadRequest, ApiError> {
    let body = body.map_err(|e| {
        let status = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            StatusCode::PAYLOAD_TOO_LARGE
        } else {
            StatusCode::BAD_REQUEST
        };
        ApiError::new(status, "bad_request", e.body_text())
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
                "unsupported_media_type",
                "a reload's body is JSON (`Content-Type: application/json`, or none): \
                 {\"path\": FILE} or {\"export\": true}; send no body to re-read the served \
                 file",
            ));
        }
    }
    let bad = |why: String| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
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

/// Prometheus metrics (OpenMetrics text).
#[utoipa::path(get, path = "/metrics",
    responses((status = 200, description = "The metrics", body = String, content_type = "application/openmetrics-text"), (status = 401, description = "A token is needed", body = ErrorBody)),
    security(("bearer" = [])))]
async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let age = info(&state, &state.current.load()).age_seconds;
    state.metrics.snapshot_age.set(age);
    let reserved = state.admission.memory_total() - state.admission.memory_free();
    state
        .metrics
        .memory_reserved
        .set(i64::try_from(reserved).unwrap_or(i64::MAX));
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

/// Whether a snapshot is served, its file was not changed in place, and the newest reload or
/// refresh did not fail (no token needed). A failure says only that and when; `GET
/// /v1/snapshot` (behind the token) has the detail.
#[utoipa::path(get, path = "/readyz", responses((status = 200, description = "ready", body = String), (status = 503, description = "`reload_failed`: the newest reload or refresh failed (`details.failedAt`), the previous snapshot still serves; or `snapshot_modified`: the served file was changed in place and traversals get 503 until a reload", body = ErrorBody)))]
async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    if let Err(e) = state.current.load().usable() {
        return e.into_response();
    }
    match state.last_failure() {
        None => (StatusCode::OK, "ready\n").into_response(),
        Some(f) => {
            let at = rfc3339(f.at);
            let mut e = ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "reload_failed",
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
async fn unmodified(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    if let Err(e) = state.current.load().usable() {
        return e.into_response();
    }
    next.run(req).await
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
        // The routes above read the snapshot's memory map.
        .route_layer(middleware::from_fn_with_state(state.clone(), unmodified))
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

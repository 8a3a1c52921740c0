//! What every handler shares ([`AppState`]): the served snapshot ([`Loaded`]) behind its
//! hot-swap pointer, the connection to Neo4j, the token, admission, budgets' limits and the
//! server's defaults.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use neotrav_wire::ErrorDetail;

use neotrav_neo4j::export::{ExportOptions, Origin};
use tokio::sync::Semaphore;

use crate::admission::Admission;
use crate::neo4j::{DEFAULT_NEO4J_TIMEOUT, default_fresh_in_flight};
use crate::serve::DEFAULT_MAX_BODY_BYTES;
use neotrav_traverser::engine::Engine;
use neotrav_traverser::engine::fresh::DirtySet;
use neotrav_traverser::engine::plan::Limits;

use crate::error::ApiError;
use crate::metrics::Metrics;

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
    pub(crate) invalidated: Mutex<Vec<u64>>,
    /// 1 for the first snapshot served, then one more per swap.
    pub generation: u64,
    /// The file as it was opened (from the descriptor that was mapped).
    pub(crate) stamp: FileStamp,
    /// Set by the watcher ([`AppState::watch`]) when the file changed in place: the mapping no
    /// longer holds what was verified, and reading past a truncated end would be SIGBUS, so
    /// requests get 503 `snapshot_modified` instead of reading it.
    pub(crate) modified: AtomicBool,
}

/// What identifies a file's contents as opened: its device and inode, which a rename over
/// the path changes, and its length and modification time, which a write in place changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FileStamp {
    pub(crate) dev: u64,
    pub(crate) ino: u64,
    pub(crate) len: u64,
    pub(crate) mtime: Option<SystemTime>,
}

impl FileStamp {
    pub(crate) fn of(m: &std::fs::Metadata) -> FileStamp {
        use std::os::unix::fs::MetadataExt;
        FileStamp {
            dev: m.dev(),
            ino: m.ino(),
            len: m.len(),
            mtime: m.modified().ok(),
        }
    }

    pub(crate) fn same_file(&self, other: &FileStamp) -> bool {
        (self.dev, self.ino) == (other.dev, other.ino)
    }
}

/// What every handler shares.
pub struct AppState {
    pub(crate) current: ArcSwap<Loaded>,
    pub(crate) neo4j: Option<neo4rs::Graph>,
    pub(crate) token: Option<String>,
    /// Reloads may name only files under this directory (canonical).
    pub(crate) snapshot_dir: PathBuf,
    /// The number of the last reload or refresh started (each is numbered as it starts).
    pub(crate) attempts: AtomicU64,
    /// The outcome of the newest attempt that recorded one: an older attempt finishing late
    /// never overwrites a newer one's.
    pub(crate) outcome: Mutex<Outcome>,
    /// One swap at a time (open, verify, swap), holding the number of the attempt that last
    /// swapped: an older attempt never swaps its file in over a newer one's.
    pub(crate) swapping: tokio::sync::Mutex<u64>,
    pub(crate) generation: AtomicU64,
    pub(crate) metrics: Metrics,
    pub(crate) max_response_bytes: usize,
    /// Traversal slots and the memory pool.
    pub(crate) admission: Admission,
    /// Every budget's default and ceiling, applied to each snapshot opened.
    pub(crate) limits: Limits,
    /// The largest request body, in bytes.
    pub(crate) max_body_bytes: usize,
    /// One permit per fresh request that may run at once, taken before a traversal slot.
    pub(crate) fresh_capacity: Arc<Semaphore>,
    /// Fresh requests waiting for one (at most `--max-queued`).
    pub(crate) fresh_queued: AtomicU64,
    /// The longest one Neo4j call may take.
    pub(crate) neo4j_timeout: Duration,
    /// How to re-export the snapshot from Neo4j.
    pub(crate) export: Option<(Origin, ExportOptions)>,
    /// One refresh at a time.
    pub(crate) refreshing: tokio::sync::Mutex<()>,
    /// The Cypher routes' settings and plan cache.
    pub(crate) cypher: crate::cypher::CypherState,
}

/// The outcome of the newest reload or refresh attempt that recorded one.
#[derive(Default)]
pub(crate) struct Outcome {
    pub(crate) attempt: u64,
    pub(crate) failure: Option<Failure>,
}

/// A failed reload or refresh.
#[derive(Clone)]
pub(crate) struct Failure {
    pub(crate) at: SystemTime,
    pub(crate) attempt: u64,
    pub(crate) error: ErrorDetail,
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
pub(crate) fn requests_pool(total: u64) -> u64 {
    total.saturating_sub(SERVER_OVERHEAD_BYTES).max(total / 2)
}

/// Budgets' limits for a pool of `pool` bytes: by default a request may hold a sixty-fourth of
/// it and ask for at most a quarter.
pub(crate) fn memory_limits(pool: u64, default: Option<u64>, ceiling: Option<u64>) -> Limits {
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
        let cypher = crate::cypher::CypherState::new(neo4j.is_some());
        Ok(AppState {
            current: ArcSwap::from_pointee(Loaded::new(engine, path, 1, Vec::new(), stamp)),
            neo4j,
            cypher,
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

    /// Sets the largest response body, in bytes.
    pub fn with_max_response_bytes(mut self, bytes: usize) -> AppState {
        self.max_response_bytes = bytes;
        self
    }
}

impl Loaded {
    pub(crate) fn new(
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
    pub(crate) fn usable(&self) -> Result<(), ApiError> {
        if self.modified() {
            return Err(ApiError::snapshot_modified());
        }
        Ok(())
    }
}

/// Opens the snapshot at `path` (refusing anything but a regular file, without blocking) and,
/// with `verify`, checks every section; gives the engine and the opened file's stamp.
pub(crate) fn open_snapshot(
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

/// Locks a mutex, whether or not a panicking thread poisoned it (the data is plain).
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

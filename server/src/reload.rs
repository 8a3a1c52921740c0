//! Hot swap: reloads of a given file, refreshes from Neo4j, and the watcher of the served
//! file, numbered so that the newest attempt wins, confined to the snapshot directory, and
//! verified before they swap.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::SystemTime;

use neotrav_neo4j::export::{self};
use neotrav_snapshot::NoProgress;

use crate::error::ApiError;
use crate::state::{AppState, Failure, FileStamp, Loaded, Outcome, lock, open_snapshot};

impl AppState {
    /// Re-exports the graph from Neo4j into the served file (atomically: a failed export
    /// leaves it as it was), verifies it and swaps it in. Ids invalidated while the export ran
    /// stay invalidated; earlier ones are in the new snapshot. On failure the old snapshot keeps
    /// serving and `/readyz` and the metrics report it. One refresh runs at a time; like a
    /// reload it is numbered when it starts, and a newer reload that swapped first wins (409
    /// `superseded`).
    pub async fn refresh(&self) -> Result<Arc<Loaded>, ReloadError> {
        let (Some(graph), Some((origin, options))) = (&self.neo4j, &self.export) else {
            return Err(ReloadError::NoExport);
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
            Err(source) => {
                let e = ReloadError::Export {
                    path,
                    address: origin.address.clone(),
                    source,
                };
                tracing::warn!(attempt, "{e}");
                Err(self.failed(attempt, e))
            }
        }
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
    pub async fn reload(&self, path: Option<PathBuf>) -> Result<Arc<Loaded>, ReloadError> {
        let path = match path {
            None => self.current.load().path.clone(),
            Some(p) => {
                let dir = self.snapshot_dir.clone();
                let resolved = tokio::task::spawn_blocking(move || allowed_path(&dir, &p))
                    .await
                    .map_err(|_| ReloadError::Worker)?;
                match resolved {
                    Allowed::Yes(path) => path,
                    Allowed::Missing(path, kind) => {
                        let attempt = self.attempts.fetch_add(1, Ordering::SeqCst) + 1;
                        let source = neotrav_snapshot::Error::Io {
                            path: path.clone(),
                            source: kind.into(),
                        };
                        tracing::warn!(attempt, "reloading failed: {source}");
                        return Err(self.failed(attempt, ReloadError::Snapshot { path, source }));
                    }
                    Allowed::No => {
                        return Err(ReloadError::PathNotAllowed {
                            dir: self.snapshot_dir.clone(),
                        });
                    }
                }
            }
        };
        let attempt = self.attempts.fetch_add(1, Ordering::SeqCst) + 1;
        self.swap(attempt, path, None, None).await
    }

    /// Attempt `attempt`: opens `path`, verifies it, and swaps it in, one swap at a time. With
    /// `carry`, the ids invalidated on that snapshot from that position of its log on are
    /// invalidated on the new one too (all of the current one's, if another swap came between).
    /// With `only_if`, swaps only while that snapshot is still the one served.
    pub(crate) async fn swap(
        &self,
        attempt: u64,
        path: PathBuf,
        carry: Option<(Arc<Loaded>, usize)>,
        only_if: Option<&Arc<Loaded>>,
    ) -> Result<Arc<Loaded>, ReloadError> {
        let mut last_swap = self.swapping.lock().await;
        let p = path.clone();
        let opened = tokio::task::spawn_blocking(move || open_snapshot(&p, true))
            .await
            .map_err(|_| ReloadError::Worker)?;
        let (engine, stamp) = match opened {
            Ok(opened) => opened,
            Err(source) => {
                // The log may say more than the answer: it is local (and the path passed the
                // snapshot directory's rule).
                tracing::warn!(
                    attempt,
                    "reloading failed: {source}; still serving the previous snapshot"
                );
                return Err(self.failed(attempt, ReloadError::Snapshot { path, source }));
            }
        };
        let old = self.current.load_full();
        if *last_swap > attempt || only_if.is_some_and(|l| !Arc::ptr_eq(l, &old)) {
            tracing::info!(attempt, "reload superseded by a newer one; not swapped in");
            return Err(ReloadError::Superseded);
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
                        Err(e) => tracing::debug!("no automatic reload: {e}"),
                    }
                }
            }
        })
    }

    /// Records a failed reload or refresh (counted; shown by `/readyz` and `GET /v1/snapshot`
    /// unless a newer attempt has recorded its outcome) and gives back its answer.
    pub(crate) fn failed(&self, attempt: u64, error: ReloadError) -> ReloadError {
        self.metrics.reload_failures.inc();
        self.record(
            attempt,
            Some(Failure {
                at: SystemTime::now(),
                attempt,
                error: ApiError::from(&error).detail().clone(),
            }),
        );
        error
    }

    /// Records attempt `attempt`'s outcome, unless a newer attempt recorded one already.
    pub(crate) fn record(&self, attempt: u64, failure: Option<Failure>) {
        let mut outcome = lock(&self.outcome);
        if attempt > outcome.attempt {
            *outcome = Outcome { attempt, failure };
        }
    }

    /// The newest recorded failure, if the newest recorded outcome is one.
    pub(crate) fn last_failure(&self) -> Option<Failure> {
        lock(&self.outcome).failure.clone()
    }
}

/// Where a reload's path leads.
pub(crate) enum Allowed {
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
pub(crate) fn allowed_path(dir: &std::path::Path, requested: &std::path::Path) -> Allowed {
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
pub(crate) fn joined_from(
    canonical: &std::path::Path,
    joined: &std::path::Path,
    ancestor: &std::path::Path,
) -> PathBuf {
    joined
        .strip_prefix(ancestor)
        .map_or_else(|_| joined.to_path_buf(), |rest| canonical.join(rest))
}

/// Why a reload or refresh did not swap a snapshot in. The served snapshot is untouched either
/// way; [`ApiError`] turns each into its answer (`From<&ReloadError>`), which never holds a
/// byte of a file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReloadError {
    /// A refresh, on a sidecar without Neo4j or export options (409 `no_export`).
    #[error(
        "this sidecar cannot re-export: it was started without Neo4j (--no-neo4j) or without \
         export options; reload a given file instead"
    )]
    NoExport,
    /// A reload's path leads outside the snapshot directory (403 `path_not_allowed`).
    #[error(
        "a reload may name only a regular file inside this sidecar's snapshot directory {} \
         (neotrav serve --snapshot-dir; relative paths are taken from it), and `..` or links \
         may not lead out of it",
        dir.display()
    )]
    PathNotAllowed {
        /// The snapshot directory.
        dir: PathBuf,
    },
    /// The file could not be served (422 `reload_failed`, with the fault's class and section).
    #[error("reloading {} failed: {source}; the previous snapshot is still served", path.display())]
    Snapshot {
        /// The file.
        path: PathBuf,
        /// What was wrong with it.
        #[source]
        source: neotrav_snapshot::Error,
    },
    /// Re-exporting from Neo4j failed (422 `reload_failed`).
    #[error(
        "re-exporting {} from {address} failed: {source}; the previous snapshot is still served",
        path.display()
    )]
    Export {
        /// The served file, which the export would have replaced.
        path: PathBuf,
        /// Neo4j's address, without credentials.
        address: String,
        /// Why the export failed.
        #[source]
        source: neotrav_neo4j::export::ExportError,
    },
    /// A newer reload or refresh swapped its snapshot in first (409 `superseded`).
    #[error(
        "a reload or refresh that started after this one swapped its snapshot in first; this \
         one's file was verified but not swapped in"
    )]
    Superseded,
    /// The blocking task that opens files failed (500 `internal`).
    #[error("the reload worker failed")]
    Worker,
}

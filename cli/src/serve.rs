//! `neotrav serve`: the HTTP sidecar.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;

use super::connection::Neo4jArgs;
use super::export::Selection;
use neotrav_server::{AppState, ServeOptions, router, shutdown_signal};

#[derive(Debug, Args)]
pub(super) struct ServeArgs {
    /// The snapshot file to serve. It is verified before serving (every checksum and invariant;
    /// see --no-verify). Replace it by rename (as `neotrav export` and the builder do), never by
    /// writing into it: a write in place that changes the file's length or modification time is
    /// noticed within about 500 ms, and traversals then get 503 `snapshot_modified` (and /readyz
    /// 503) until the file is reloaded, by itself 1 to 1.5 s after the writes stop if it
    /// verifies; a read of a truncated file before it is noticed kills the process (SIGBUS).
    #[arg(long)]
    snapshot: PathBuf,
    /// The directory `POST /v1/snapshot/reload` may load files from (default: the served
    /// file's directory). A reload's path is resolved (relative paths from this directory,
    /// `..` and links followed) and refused with 403 `path_not_allowed` if it leads out of it.
    #[arg(long, value_name = "DIR")]
    snapshot_dir: Option<PathBuf>,
    /// Skip verifying the snapshot at start, for very large files (verify reads the whole file:
    /// about 0.3 s for 700 MB and 1.4 s for 3.3 GB with a warm page cache). Reloads and
    /// refreshes always verify before the swap.
    #[arg(long)]
    no_verify: bool,
    /// Address to listen on. The default is loopback only; listening elsewhere exposes the
    /// graph's topology, so pair it with --token-file.
    #[arg(long, default_value = "127.0.0.1:7475")]
    listen: SocketAddr,
    /// A file holding a bearer token; when given, every route but /healthz and /readyz needs
    /// `Authorization: Bearer <token>`.
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// The largest response body in bytes; a larger JSON answer is a 413 that names the ways
    /// out (NDJSON lines, `limit`, `count`).
    #[arg(long, default_value_t = neotrav_server::DEFAULT_MAX_RESPONSE_BYTES)]
    max_response_bytes: usize,
    /// Traversals that run at once (default: one per core); more wait for a turn.
    /// Traversals are CPU-bound: more at once than cores only adds latency, to /healthz too.
    #[arg(long, default_value_t = neotrav_server::default_max_in_flight() as u32, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..))]
    max_in_flight: u32,
    /// Requests that may wait for a turn; past that a request gets 503 `over_capacity` with
    /// `Retry-After: 1`.
    #[arg(long, default_value_t = neotrav_server::DEFAULT_MAX_QUEUED, value_name = "N")]
    max_queued: u64,
    /// The memory the whole server may hold (e.g. `4GiB`; default: a quarter of the
    /// machine's, or of its control group's limit). 64 MiB of it stay for the server itself;
    /// the rest is shared by requests: each reserves its `budget.maxMemory` before it runs
    /// (and its body's size before it is read) and holds it until its answer is sent, so a
    /// request that would pass the total waits for memory, or gets 503 `over_capacity`.
    #[arg(long, value_name = "SIZE", value_parser = parse_bytes)]
    max_memory: Option<u64>,
    /// `budget.maxMemory` of a request that sets none (default: a sixty-fourth of what requests
    /// share). Past its budget a request gets 422 `budget_exceeded` naming `maxMemory`, or a
    /// partial answer with `"onExceed": "partial"`.
    #[arg(long, value_name = "SIZE", value_parser = parse_bytes)]
    request_memory: Option<u64>,
    /// The largest `budget.maxMemory` a request may ask for (default: a quarter of what
    /// requests share); a larger one is capped to it.
    #[arg(long, value_name = "SIZE", value_parser = parse_bytes)]
    max_request_memory: Option<u64>,
    /// The largest request body, in bytes (e.g. `2MiB`); a larger one is a 413.
    #[arg(long, value_name = "SIZE", value_parser = parse_bytes,
          default_value_t = neotrav_server::DEFAULT_MAX_BODY_BYTES as u64)]
    max_body_bytes: u64,
    /// `"consistency": "fresh"` requests that run at once (default: a quarter of
    /// --max-in-flight, at least 1). A fresh request takes one of these before a shared slot,
    /// so requests stuck on a slow or frozen Neo4j hold at most this many shared slots.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    max_fresh_in_flight: Option<u32>,
    /// The longest one Neo4j call of a fresh request may take (also bounded by the request's
    /// `budget.deadlineMs`); past it the request gets 504 `neo4j_timeout` and its slots are
    /// freed.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration,
          default_value = "10s")]
    neo4j_timeout: std::time::Duration,
    /// Connections open at once; past it new connections wait in the listen backlog (1,024)
    /// until one closes.
    #[arg(long, value_name = "N", default_value_t = neotrav_server::DEFAULT_MAX_CONNECTIONS as u32,
          value_parser = clap::value_parser!(u32).range(1..))]
    max_connections: u32,
    /// How long a connection with no request in flight may send nothing (from its accept or
    /// the end of its last response) before it is closed.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration,
          default_value = "60s")]
    idle_timeout: std::time::Duration,
    /// How long a request's head (request line and headers) may take from its first byte;
    /// past it the connection is closed.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration,
          default_value = "10s")]
    header_timeout: std::time::Duration,
    /// How long a request's whole body may take to arrive after its head; past it the
    /// request gets 408 `body_timeout` and the connection is closed.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration,
          default_value = "30s")]
    body_timeout: std::time::Duration,
    /// How long a client may read nothing of a response before its connection is closed.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration,
          default_value = "30s")]
    write_timeout: std::time::Duration,
    /// The longest a request to a route that runs no traversal or reload (health, metrics,
    /// snapshot info, invalidation, OpenAPI) may take; past it, 503 `timed_out`.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration,
          default_value = "30s")]
    request_timeout: std::time::Duration,
    /// Re-export the graph from Neo4j into the snapshot file this often (e.g. `10m`, `1h`) and
    /// swap it in without dropping a request. A failed refresh keeps the old snapshot serving
    /// and shows in /readyz and the metrics. `POST /v1/snapshot/reload` with
    /// `{"export": true}` refreshes on demand.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration,
          conflicts_with = "no_neo4j")]
    refresh_every: Option<std::time::Duration>,
    /// Serve snapshot requests only: `"consistency": "fresh"` requests get 409 `no_neo4j` and the snapshot
    /// cannot be re-exported.
    #[arg(long)]
    no_neo4j: bool,
    /// What `POST /v1/cypher` (and `/db/{name}/query/v2`) does with a statement its snapshot
    /// cannot answer (a procedure call, a relationship property, a property not exported, ...):
    /// `forward` runs it on Neo4j in a read transaction (`answeredBy: "neo4j"`,
    /// `forwardedBecause` names the construct); `refuse` answers 422 `cypher_unsupported`
    /// naming the construct, line and column. Default: forward, or refuse under --no-neo4j.
    #[arg(long, value_enum, value_name = "WHAT")]
    unsupported: Option<UnsupportedArg>,
    #[command(flatten)]
    neo4j: Neo4jArgs,
    /// What a refresh exports. `--properties` defaults to the served snapshot's columns.
    #[command(flatten, next_help_heading = "Refresh (re-export) options")]
    selection: Selection,
}

/// `--unsupported`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum UnsupportedArg {
    /// Run it on Neo4j in a read transaction.
    Forward,
    /// Answer 422 `cypher_unsupported`.
    Refuse,
}

impl From<UnsupportedArg> for neotrav_server::Unsupported {
    fn from(u: UnsupportedArg) -> neotrav_server::Unsupported {
        match u {
            UnsupportedArg::Forward => neotrav_server::Unsupported::Forward,
            UnsupportedArg::Refuse => neotrav_server::Unsupported::Refuse,
        }
    }
}

pub(super) async fn run(args: ServeArgs) -> Result<ExitCode> {
    anyhow::ensure!(
        !(args.no_neo4j && args.unsupported == Some(UnsupportedArg::Forward)),
        "--unsupported forward needs Neo4j: drop --no-neo4j, or use --unsupported refuse"
    );
    let token = match &args.token_file {
        None => None,
        Some(f) => {
            let t = std::fs::read_to_string(f)
                .with_context(|| format!("cannot read the token file {}", f.display()))?
                .trim()
                .to_string();
            anyhow::ensure!(!t.is_empty(), "the token file {} is empty", f.display());
            Some(t)
        }
    };
    let neo4j = if args.no_neo4j {
        None
    } else {
        Some(args.neo4j.connect()?)
    };
    let mut state = AppState::open(args.snapshot.clone(), neo4j.clone(), token, !args.no_verify)
        .with_context(|| format!("cannot serve {}", args.snapshot.display()))?;
    if let Some(dir) = &args.snapshot_dir {
        state = state
            .with_snapshot_dir(dir)
            .with_context(|| format!("--snapshot-dir {}", dir.display()))?;
    }
    let mut state = state
        .with_max_response_bytes(args.max_response_bytes)
        .with_capacity(args.max_in_flight as usize, args.max_queued)
        .with_memory(
            args.max_memory
                .unwrap_or_else(neotrav_server::default_max_memory),
            args.request_memory,
            args.max_request_memory,
        )
        .with_max_body_bytes(usize::try_from(args.max_body_bytes).unwrap_or(usize::MAX))
        .with_fresh_capacity(args.max_fresh_in_flight.map_or_else(
            || neotrav_server::default_fresh_in_flight(args.max_in_flight as usize),
            |n| n as usize,
        ))
        .with_neo4j_timeout(args.neo4j_timeout);
    if let Some(u) = args.unsupported {
        state = state.with_unsupported(u.into());
    }
    let database = args.neo4j.origin().database;
    if !database.is_empty() {
        state = state.with_database_name(database);
    }
    if neo4j.is_some() {
        let mut options = args.selection.options()?;
        if options.properties.is_empty() {
            options.properties = served_columns(&args.snapshot)?;
        }
        state = state.with_export(args.neo4j.origin(), options);
    }
    let state = Arc::new(state);
    // Notices a served file changed in place (see --snapshot).
    state.watch(neotrav_server::WATCH_EVERY);
    if let Some(every) = args.refresh_every {
        let state = state.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                match state.refresh().await {
                    Ok(l) => tracing::info!(generation = l.generation, "refreshed"),
                    Err(e) => tracing::warn!("refresh failed: {e}"),
                }
            }
        });
    }
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    println!("serving {} on http://{addr}", args.snapshot.display());
    let options = ServeOptions {
        header_timeout: args.header_timeout,
        body_timeout: args.body_timeout,
        idle_timeout: args.idle_timeout,
        write_timeout: args.write_timeout,
        request_timeout: args.request_timeout,
        max_connections: args.max_connections as usize,
        max_body_bytes: usize::try_from(args.max_body_bytes).unwrap_or(usize::MAX),
    };
    neotrav_server::serve(listener, router(state), options, shutdown_signal())
        .await
        .context("the server failed")?;
    println!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// The `(label, key)` pairs of the snapshot's property columns: what a refresh exports when
/// `--properties` is not given.
fn served_columns(path: &std::path::Path) -> Result<Vec<(String, String)>> {
    let snapshot = neotrav_snapshot::Snapshot::open(path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let h = snapshot.header();
    let mut out = Vec::new();
    for c in &h.columns {
        for &code in &c.labels {
            if let Some(label) = h.labels.get(code as usize) {
                out.push((label.clone(), c.key.clone()));
            }
        }
    }
    Ok(out)
}

/// A byte size: a number with an optional unit (`512MiB`, `4g`, `1000000`).
fn parse_bytes(s: &str) -> Result<u64, String> {
    let n = parse_size::parse_size(s)
        .map_err(|e| format!("{e}: give a size such as 512MiB or 4GiB"))?;
    if n == 0 {
        return Err("must be more than 0 bytes".into());
    }
    Ok(n)
}

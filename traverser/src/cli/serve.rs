//! `neotrav serve`: the HTTP sidecar.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;

use super::connection::Neo4jArgs;
use crate::sidecar::{AppState, router, shutdown_signal};

#[derive(Debug, Args)]
pub(super) struct ServeArgs {
    /// The snapshot file to serve.
    #[arg(long)]
    snapshot: PathBuf,
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
    #[arg(long, default_value_t = crate::sidecar::DEFAULT_MAX_RESPONSE_BYTES)]
    max_response_bytes: usize,
    /// Serve snapshot requests only: `"consistency": "fresh"` requests get 503.
    #[arg(long)]
    no_neo4j: bool,
    #[command(flatten)]
    neo4j: Neo4jArgs,
}

pub(super) async fn run(args: ServeArgs) -> Result<ExitCode> {
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
    let state = AppState::new(args.snapshot.clone(), neo4j, token)
        .with_context(|| format!("cannot serve {}", args.snapshot.display()))?
        .with_max_response_bytes(args.max_response_bytes);
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    println!("serving {} on http://{addr}", args.snapshot.display());
    axum::serve(listener, router(Arc::new(state)))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("the server failed")?;
    println!("stopped");
    Ok(ExitCode::SUCCESS)
}

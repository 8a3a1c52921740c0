//! `neotrav`: the one user-facing binary.
//!
//! [`Cli`] is the clap definition; [`main`] parses it, runs the subcommand and turns an error
//! into a message on stderr and a non-zero exit code. Each subcommand group has its own module.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod batch;
mod bench;
mod connection;
mod cypher;
mod dataset;
mod export;
mod neo4j;
mod progress;
mod serve;
mod snapshot;
mod traverse;

/// neotrav: fast, checked graph traversals over a Neo4j database.
///
/// neotrav exports a Neo4j graph's topology into a memory-mapped snapshot and answers traversal
/// and path requests from it, with APOC path-expander semantics. It also runs the bundled Neo4j
/// that everything is measured against, generates datasets, and inspects snapshot files.
#[derive(Debug, Parser)]
#[command(
    name = "neotrav",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the bundled real Neo4j 5.26 (Community, with APOC core and Open GDS) on loopback.
    #[command(subcommand)]
    Neo4j(neo4j::Neo4jCommand),
    /// Generate the datasets (the article's tree, a Discogs-shaped graph, random graphs) into
    /// Neo4j or straight into a snapshot.
    #[command(subcommand)]
    Dataset(dataset::DatasetCommand),
    /// Export a live Neo4j graph into a snapshot file.
    Export(export::ExportArgs),
    /// Inspect and verify snapshot files.
    #[command(subcommand)]
    Snapshot(snapshot::SnapshotCommand),
    /// Run one traversal request (an APOC path-expander config map as JSON) on a snapshot,
    /// in-process, and print the answer.
    Traverse(traverse::TraverseArgs),
    /// Find the shortest path (or all shortest paths) between two nodes of a snapshot.
    Path(traverse::PathArgs),
    /// Run one read-only Cypher statement on a snapshot, in-process, and print the answer;
    /// what the snapshot cannot answer is forwarded to Neo4j (--unsupported forward) or refused.
    Cypher(Box<cypher::CypherArgs>),
    /// Serve traversal, neighbour, shortest-path and Cypher requests over HTTP (JSON under /v1,
    /// and Neo4j's Query API path /db/{name}/query/v2).
    Serve(Box<serve::ServeArgs>),
    /// Send one traversal request to a running sidecar and print the answer.
    Query(traverse::QueryArgs),
    /// Benchmark neotrav side by side with Cypher, APOC and GDS on the bundled Neo4j, with
    /// every answer checked equal.
    Bench(bench::BenchArgs),
    /// A one-command tour: Neo4j, two datasets, export, sidecar, timings against Cypher, APOC and
    /// GDS with the answers checked equal; stops everything it started.
    Demo(bench::DemoArgs),
    /// Run one traversal or shortest-path spec from many starts (a file of ids, a label, or a
    /// Cypher query), in parallel, into a resumable JSON-lines or CSV file.
    Batch(batch::BatchArgs),
}

/// Exit code of a failed command (the error is on stderr).
pub const EXIT_FAILURE: u8 = 1;

/// Parses the command line, runs it and returns the process's exit code.
fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("NEOTRAV_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Neo4j(cmd) => neo4j::run(cmd).await,
            Command::Export(args) => export::run(args).await,
            Command::Dataset(cmd) => dataset::run(cmd).await,
            Command::Snapshot(cmd) => snapshot::run(cmd),
            Command::Traverse(args) => traverse::traverse(args).await,
            Command::Path(args) => traverse::path(args).await,
            Command::Serve(args) => serve::run(*args).await,
            Command::Cypher(args) => cypher::run(*args).await,
            Command::Query(args) => traverse::query(args).await,
            Command::Bench(args) => bench::bench(args).await,
            Command::Demo(args) => bench::demo(args).await,
            Command::Batch(args) => batch::run(args).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", chain(&e));
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// The error and its causes, `outer: inner: ...`, leaving out a cause whose text the message
/// before it already holds (several library errors put their source in their own message).
fn chain(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn a_cause_already_in_its_message_is_printed_once() {
        #[derive(Debug, thiserror::Error)]
        #[error("reading nodes failed: {source}")]
        struct Outer {
            #[source]
            source: std::io::Error,
        }
        let io = std::io::Error::other("connection refused");
        let e = anyhow::Error::new(Outer { source: io }).context("exporting from bolt://h:1");
        assert_eq!(
            chain(&e),
            "exporting from bolt://h:1: reading nodes failed: connection refused"
        );
        let plain = anyhow::anyhow!("inner").context("outer");
        assert_eq!(chain(&plain), "outer: inner");
    }
}

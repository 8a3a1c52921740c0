//! `neotrav export`: a live Neo4j into a snapshot file.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use neotrav_neo4j::export::{self, ExportOptions};

use super::connection::Neo4jArgs;
use super::progress::Reporter;

/// Export the graph of a live Neo4j into a snapshot file.
///
/// Reads node labels, the chosen key properties and relationships in read-only transactions,
/// checks the counts against Neo4j's own, and writes the snapshot atomically: on any failure the
/// previous file at --out is untouched.
#[derive(Debug, Args)]
pub(super) struct ExportArgs {
    #[command(flatten)]
    neo4j: Neo4jArgs,

    /// The snapshot file to write (replaced atomically).
    #[arg(long, value_name = "FILE", required_unless_present = "dry_run")]
    out: Option<PathBuf>,

    #[command(flatten)]
    selection: Selection,

    /// Read everything the export would read, check the counts, and write nothing: the cost
    /// of the Bolt streams alone.
    #[arg(long)]
    dry_run: bool,
}

/// What to export and how fast: the flags `export` and `serve --refresh-every` share.
#[derive(Debug, Args)]
pub(super) struct Selection {
    /// Export only nodes with one of these labels, and relationships between them
    /// [default: all].
    #[arg(long, value_delimiter = ',', value_name = "L1,L2")]
    labels: Vec<String>,

    /// Export only relationships of these types [default: all].
    #[arg(long, value_delimiter = ',', value_name = "T1,T2")]
    types: Vec<String>,

    /// Key properties to export as typed columns, e.g. 'B.flag,Release.year,Artist.name'.
    #[arg(long, value_name = "LABEL.KEY,...", default_value = "")]
    properties: String,

    /// Node ids per page (each page is one query for nodes and one for relationships).
    #[arg(long, default_value_t = 50_000, value_name = "N",
          value_parser = clap::value_parser!(u64).range(1..))]
    page_size: u64,

    /// Pages read at once, each on its own connection.
    #[arg(long, default_value_t = 4, value_name = "N",
          value_parser = clap::value_parser!(u64).range(1..=64))]
    concurrency: u64,
}

impl Selection {
    /// The exporter's options.
    pub(super) fn options(&self) -> Result<ExportOptions> {
        Ok(ExportOptions {
            labels: self.labels.clone(),
            types: self.types.clone(),
            properties: ExportOptions::parse_properties(&self.properties)
                .map_err(|e| anyhow::anyhow!("--properties: {e}"))?,
            page_size: self.page_size,
            concurrency: self.concurrency as usize,
        })
    }
}

pub(super) async fn run(args: ExportArgs) -> Result<ExitCode> {
    let options = args.selection.options()?;
    let graph = args.neo4j.connect()?;
    let origin = args.neo4j.origin();
    let progress = Reporter::new();
    let result = match &args.out {
        Some(out) if !args.dry_run => {
            export::export(&graph, &origin, &options, out, &progress).await
        }
        _ => export::drain(&graph, &options, &progress).await,
    };
    progress.finish();
    let report = result.with_context(|| format!("exporting from {}", origin.address))?;
    let secs = report.elapsed().as_secs_f64().max(1e-9);
    let entities = report.nodes + report.relationships;
    match (&args.out, args.dry_run) {
        (Some(out), false) => println!(
            "exported {} nodes and {} relationships from {} (Neo4j {}) into {} ({:.1} MB) in \
             {:.2} s: read {:.2} s, write {:.2} s; {:.0} relationships/s, {:.0} entities/s",
            report.nodes,
            report.relationships,
            origin.address,
            report.neo4j_version,
            out.display(),
            report.bytes as f64 / 1e6,
            secs,
            report.read.as_secs_f64(),
            report.write.as_secs_f64(),
            report.relationships as f64 / secs,
            entities as f64 / secs,
        ),
        _ => println!(
            "dry run: read {} nodes and {} relationships from {} (Neo4j {}) in {:.2} s; \
             {:.0} relationships/s, {:.0} entities/s; nothing written",
            report.nodes,
            report.relationships,
            origin.address,
            report.neo4j_version,
            secs,
            report.relationships as f64 / secs,
            entities as f64 / secs,
        ),
    }
    Ok(ExitCode::SUCCESS)
}

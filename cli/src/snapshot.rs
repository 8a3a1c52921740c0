//! `neotrav snapshot inspect|verify`: look at a snapshot file, and check it whole.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use neotrav_snapshot::{Snapshot, Summary};

#[derive(Debug, Subcommand)]
pub(super) enum SnapshotCommand {
    /// Print a snapshot's source, watermark, counts, labels, relationship types, property
    /// columns and bytes per section.
    ///
    /// Opening checks the preamble, version, header checksum and section table, not the
    /// sections' contents; run `neotrav snapshot verify` for that.
    Inspect(InspectArgs),
    /// Check every checksum and invariant of a snapshot; exit non-zero naming the first fault.
    Verify(VerifyArgs),
}

#[derive(Debug, Args)]
pub(super) struct InspectArgs {
    /// The snapshot file.
    file: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub(super) struct VerifyArgs {
    /// The snapshot file.
    file: PathBuf,
}

pub(super) fn run(command: SnapshotCommand) -> Result<ExitCode> {
    match command {
        SnapshotCommand::Inspect(args) => {
            let snap = Snapshot::open(&args.file)?;
            let summary = snap.summary();
            if args.json {
                println!("{}", serde_json::to_string_pretty(&summary)?);
            } else {
                print_summary(&args.file, &summary);
            }
            Ok(ExitCode::SUCCESS)
        }
        SnapshotCommand::Verify(args) => {
            let started = Instant::now();
            let snap = Snapshot::open(&args.file)?;
            snap.verify()
                .with_context(|| format!("{} failed verification", args.file.display()))?;
            println!(
                "{}: ok ({} nodes, {} relationships, {} bytes, {} sections checked in {:.2} s)",
                args.file.display(),
                snap.header().node_count,
                snap.header().relationship_count,
                snap.file_len(),
                snap.header().sections.len(),
                started.elapsed().as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn print_summary(file: &std::path::Path, s: &Summary) {
    println!("{} (format version {})", file.display(), s.format_version);
    let database = if s.source_database.is_empty() {
        "(default database)"
    } else {
        s.source_database.as_str()
    };
    let source = if s.source_address.is_empty() {
        "(generated)".to_string()
    } else {
        format!(
            "{} {database} (Neo4j {})",
            s.source_address, s.neo4j_version
        )
    };
    println!("  source:        {source}");
    if !s.source_description.is_empty() {
        println!("  description:   {}", s.source_description);
    }
    match s.watermark_tx {
        Some(tx) => println!("  watermark:     transaction {tx} ({})", s.watermark_note),
        None if !s.watermark_note.is_empty() => {
            println!("  watermark:     no transaction id ({})", s.watermark_note)
        }
        None => println!("  watermark:     unknown"),
    }
    let created = std::time::UNIX_EPOCH + std::time::Duration::from_millis(s.created_unix_ms);
    println!(
        "  created:       {}",
        humantime::format_rfc3339_seconds(created)
    );
    println!("  nodes:         {}", s.nodes);
    println!("  relationships: {}", s.relationships);
    println!("  labels:");
    for (name, count) in &s.labels {
        println!("    {name:<24} {count:>12} nodes");
    }
    println!("  relationship types:");
    for (name, count) in &s.relationship_types {
        println!("    {name:<24} {count:>12} relationships");
    }
    if !s.columns.is_empty() {
        println!("  property columns:");
        for c in &s.columns {
            println!(
                "    {:<16} {:<7} {:>12} values  on {}",
                c.key,
                c.kind,
                c.values,
                c.labels.join(", ")
            );
        }
    }
    println!("  bytes: {} in all", s.file_bytes);
    for (kind, bytes) in &s.section_bytes {
        println!("    {kind:<24} {bytes:>14}");
    }
    println!(
        "  {:.1} bytes per node, {:.1} bytes per relationship (both directions, types and ids; \
         before properties)",
        s.bytes_per_node, s.bytes_per_relationship
    );
}

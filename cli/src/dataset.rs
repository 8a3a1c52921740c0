//! `neotrav dataset load|snapshot`: the generated datasets, into Neo4j or straight into a
//! snapshot file.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use neotrav_datasets::generate::Dataset;
use neotrav_datasets::generate::discogs::Discogs;
use neotrav_datasets::generate::random::Random;
use neotrav_datasets::generate::tree::{self, Tree};
use neotrav_datasets::load::{self, LoadOptions};
use neotrav_datasets::to_snapshot;

use super::connection::Neo4jArgs;
use super::progress::Reporter;

#[derive(Debug, Subcommand)]
pub(super) enum DatasetCommand {
    /// Generate a dataset and load it into Neo4j.
    ///
    /// Creates the dataset's constraints and indexes first, then nodes and relationships in
    /// batched UNWIND queries over several connections. Refuses a database that holds data
    /// unless --replace is given.
    Load(LoadArgs),
    /// Generate a dataset straight into a snapshot file, without Neo4j (for scale tests).
    Snapshot(SnapshotArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Name {
    /// The label-cache article's tree: a Root, A and B nodes with their own relationship
    /// types, a boolean `flag` on B.
    Tree,
    /// A Discogs-shaped music graph (Release, Artist, Master, Label, Style, Genre).
    Discogs,
    /// A random multigraph with several labels per node, self-loops and parallel relationships.
    Random,
}

#[derive(Debug, Args)]
struct Which {
    /// The dataset.
    #[arg(value_enum)]
    name: Name,

    /// Size relative to the dataset's reference: discogs 1.0 is the full 33.8M nodes / 134M
    /// relationships [default 0.01]; tree 1.0 is the article's 140,000 nodes.
    #[arg(long, value_name = "X", conflicts_with = "nodes")]
    scale: Option<f64>,

    /// Number of nodes (tree default 140,000; random default 10,000; discogs: sets the scale).
    #[arg(long, value_name = "N")]
    nodes: Option<u64>,

    /// The seed: the same seed gives the same graph on every machine.
    #[arg(long, default_value_t = 42, value_name = "S")]
    seed: u64,

    /// tree: mean children per node.
    #[arg(long, default_value_t = 4, value_name = "K")]
    fanout: u32,

    /// random: mean outgoing relationships per node.
    #[arg(long, default_value_t = 4.0, value_name = "D")]
    degree: f64,

    /// random: number of labels (1-8).
    #[arg(long, default_value_t = 4, value_name = "K")]
    labels: u32,

    /// random: number of relationship types (1-8).
    #[arg(long, default_value_t = 3, value_name = "K")]
    types: u32,
}

impl Which {
    fn dataset(&self) -> Result<Arc<dyn Dataset>> {
        let bad = |e: neotrav_datasets::generate::BadParameters| {
            anyhow::anyhow!("{}: {e}", self.name_str())
        };
        if let Some(scale) = self.scale
            && (!scale.is_finite() || scale <= 0.0)
        {
            bail!("--scale {scale}: give a positive number, e.g. 0.01");
        }
        Ok(match self.name {
            Name::Tree => {
                let nodes = match (self.nodes, self.scale) {
                    (Some(n), _) => n,
                    (None, Some(s)) => (s * tree::ARTICLE_NODES as f64).round().max(1.0) as u64,
                    (None, None) => tree::ARTICLE_NODES,
                };
                Arc::new(Tree::new(nodes, self.fanout, self.seed).map_err(bad)?)
            }
            Name::Discogs => {
                let scale = match (self.nodes, self.scale) {
                    (Some(n), _) => {
                        let full = Discogs::new(1.0, self.seed).map_err(bad)?.node_count();
                        n as f64 / full as f64
                    }
                    (None, Some(s)) => s,
                    (None, None) => 0.01,
                };
                Arc::new(Discogs::new(scale, self.seed).map_err(bad)?)
            }
            Name::Random => {
                let nodes = match (self.nodes, self.scale) {
                    (Some(n), _) => n,
                    (None, Some(s)) => (s * 10_000.0).round().max(1.0) as u64,
                    (None, None) => 10_000,
                };
                Arc::new(
                    Random::new(nodes, self.degree, self.labels, self.types, self.seed)
                        .map_err(bad)?,
                )
            }
        })
    }

    fn name_str(&self) -> &'static str {
        match self.name {
            Name::Tree => "tree",
            Name::Discogs => "discogs",
            Name::Random => "random",
        }
    }
}

#[derive(Debug, Args)]
pub(super) struct LoadArgs {
    #[command(flatten)]
    which: Which,

    #[command(flatten)]
    neo4j: Neo4jArgs,

    /// Delete everything in the database first (data, constraints, indexes).
    #[arg(long)]
    replace: bool,

    /// Nodes or relationships per query (one transaction each).
    #[arg(long, default_value_t = 10_000, value_name = "N",
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    batch_size: u64,

    /// Node queries in flight at once, each on its own connection (relationships go one batch
    /// at a time: concurrent batches deadlock on hub nodes).
    #[arg(long, default_value_t = 4, value_name = "N",
          value_parser = clap::value_parser!(u64).range(1..=16))]
    connections: u64,
}

#[derive(Debug, Args)]
pub(super) struct SnapshotArgs {
    #[command(flatten)]
    which: Which,

    /// The snapshot file to write (replaced atomically).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

pub(super) async fn run(command: DatasetCommand) -> Result<ExitCode> {
    match command {
        DatasetCommand::Load(args) => load_into_neo4j(args).await,
        DatasetCommand::Snapshot(args) => snapshot(args).await,
    }
}

async fn load_into_neo4j(args: LoadArgs) -> Result<ExitCode> {
    let dataset = args.which.dataset()?;
    let graph = args.neo4j.connect()?;
    let address = args.neo4j.origin().address;
    eprintln!("loading {} into {address}", dataset.describe());
    let options = LoadOptions {
        batch_size: args.batch_size as usize,
        connections: args.connections as usize,
        replace: args.replace,
    };
    let progress = Reporter::new();
    let result = load::load(&graph, dataset.clone(), &options, &progress).await;
    progress.finish();
    let report = result.with_context(|| format!("loading {} into {address}", dataset.name()))?;
    let secs = report.elapsed().as_secs_f64().max(1e-9);
    println!(
        "loaded {} nodes and {} relationships in {:.1} s ({:.0} entities/s): schema {:.1} s, \
         nodes {:.1} s ({:.0}/s), relationships {:.1} s ({:.0}/s)",
        report.nodes,
        report.relationships,
        secs,
        (report.nodes + report.relationships) as f64 / secs,
        report.schema.as_secs_f64(),
        report.node_time.as_secs_f64(),
        report.nodes as f64 / report.node_time.as_secs_f64().max(1e-9),
        report.relationship_time.as_secs_f64(),
        report.relationships as f64 / report.relationship_time.as_secs_f64().max(1e-9),
    );
    Ok(ExitCode::SUCCESS)
}

async fn snapshot(args: SnapshotArgs) -> Result<ExitCode> {
    let dataset = args.which.dataset()?;
    let started = std::time::Instant::now();
    let out = args.out.clone();
    let describe = dataset.describe();
    let summary = tokio::task::spawn_blocking(move || {
        let progress = Reporter::new();
        let result = to_snapshot::write(dataset.as_ref(), &out, &progress);
        progress.finish();
        result
    })
    .await
    .context("the snapshot writer stopped")?
    .with_context(|| format!("writing {}", args.out.display()))?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "wrote {describe} to {}: {} nodes, {} relationships, {:.1} MB in {:.1} s",
        args.out.display(),
        summary.nodes,
        summary.relationships,
        summary.bytes as f64 / 1e6,
        secs
    );
    Ok(ExitCode::SUCCESS)
}

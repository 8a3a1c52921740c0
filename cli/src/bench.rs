//! `neotrav bench` and `neotrav demo`: the side-by-side harness against Cypher, APOC and GDS.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use neotrav_neo4j::bundled::{Bundle, MemorySize};

use super::progress::Reporter;
use neotrav_benches::harness::environment::{Settings, Spec};
use neotrav_benches::harness::{self, Plan, report};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Suite {
    /// The label-cache article's tree (140,000 and 2,000,000 nodes by default).
    Tree,
    /// The Discogs-shaped music graph at --scale.
    Discogs,
    /// Both.
    All,
}

/// Run the side-by-side benchmark: the same questions asked of neotrav (in-process and over
/// HTTP), natural and tuned Cypher, APOC and GDS on the bundled Neo4j, answers checked equal.
///
/// Each dataset gets its own bundled Neo4j under --dir (loaded on first use, reused by later
/// runs with the same size and seed), an exported snapshot, a GDS projection and an in-process
/// sidecar. Every system is warmed once per case, then timed over --runs passes. A case whose
/// systems answer differently fails the run, after the report is written.
#[derive(Debug, Args)]
pub(super) struct BenchArgs {
    /// Which datasets.
    #[arg(value_enum)]
    suite: Suite,
    /// The Discogs-shaped graph's scale (1.0 is 33.8M nodes, 134M relationships).
    #[arg(long, default_value_t = 0.1, value_name = "X")]
    scale: f64,
    /// The tree sizes, in nodes.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "140000,2000000",
        value_name = "N,..."
    )]
    tree_nodes: Vec<u64>,
    /// The generators' seed (and the inputs' draw).
    #[arg(long, default_value_t = 42, value_name = "S")]
    seed: u64,
    /// Timed passes per case and system.
    #[arg(long, default_value_t = 5, value_name = "N",
          value_parser = clap::value_parser!(u64).range(1..))]
    runs: u64,
    /// Only the cases whose names contain one of these (`--cases cypher-,http-round-trip`);
    /// every case when not given.
    #[arg(long, value_delimiter = ',', value_name = "TEXT,...")]
    cases: Vec<String>,
    /// Write the results as JSON here.
    #[arg(long, value_name = "OUT.json")]
    json: Option<PathBuf>,
    /// Write a markdown report here, and its SVG chart beside it (same name, .svg).
    #[arg(long, value_name = "OUT.md")]
    report: Option<PathBuf>,
    #[command(flatten)]
    env: EnvArgs,
}

#[derive(Debug, Args)]
struct EnvArgs {
    /// Where the Neo4j homes and snapshots live (reused across runs).
    #[arg(long, default_value = "target/neotrav-bench", value_name = "DIR")]
    dir: PathBuf,
    /// Neo4j's JVM heap.
    #[arg(long, default_value = "4g", value_name = "SIZE")]
    heap: MemorySize,
    /// Neo4j's page cache.
    #[arg(long, default_value = "4g", value_name = "SIZE")]
    pagecache: MemorySize,
    /// Neo4j ends a query running longer than this (its transaction timeout); the system is
    /// then reported as slower than this bound on that case, its answer not compared.
    #[arg(long, default_value = "120s", value_name = "DURATION", value_parser = humantime::parse_duration)]
    query_timeout: std::time::Duration,
}

/// A one-command tour: start the bundled Neo4j, load the article's tree and a small
/// Discogs-shaped graph, export them, serve them, ask the same questions of neotrav (in-process
/// and over HTTP), Cypher, APOC and GDS with the answers checked equal, print the timings, and
/// stop everything it started (also on Ctrl-C).
#[derive(Debug, Args)]
pub(super) struct DemoArgs {
    /// Timed passes per case and system.
    #[arg(long, default_value_t = 3, value_name = "N",
          value_parser = clap::value_parser!(u64).range(1..))]
    runs: u64,
    #[command(flatten)]
    env: EnvArgs,
}

async fn execute(plan: Plan, json: Option<PathBuf>, md: Option<PathBuf>) -> Result<ExitCode> {
    let bundle = Bundle::locate(None)?;
    let artifacts = bundle.ensure_built(&mut |msg| eprintln!("{msg}"))?;
    let progress = Reporter::new();
    let mut say = |line: &str| progress.println(line);
    let run = harness::run(&plan, &artifacts, &progress, &mut say);
    let results = tokio::select! {
        r = run => r,
        _ = tokio::signal::ctrl_c() => {
            // The servers are tied to this process: they halt as it exits.
            bail!("interrupted; the Neo4j servers this run started stop with it")
        }
    };
    progress.finish();
    let results = results?;
    report::write(&results, plan.runs, json.as_deref(), md.as_deref())?;
    println!("\n{}", report::headline(&results));
    if let Some(md) = &md {
        println!("report: {}", md.display());
    }
    for m in &results.mismatches {
        eprintln!("answers differ: {m}");
    }
    results.check_answers()?;
    println!("every system's answers were equal in every case");
    Ok(ExitCode::SUCCESS)
}

fn settings(env: &EnvArgs) -> Result<Settings> {
    std::fs::create_dir_all(&env.dir).with_context(|| format!("creating {}", env.dir.display()))?;
    Ok(Settings {
        dir: std::path::absolute(&env.dir)?,
        heap: env.heap,
        pagecache: env.pagecache,
        query_timeout: env.query_timeout,
    })
}

pub(super) async fn bench(args: BenchArgs) -> Result<ExitCode> {
    if !args.scale.is_finite() || args.scale <= 0.0 {
        bail!("--scale {}: give a positive number, e.g. 0.1", args.scale);
    }
    let trees = args.tree_nodes.iter().map(|&nodes| Spec::Tree {
        nodes,
        seed: args.seed,
    });
    let discogs = std::iter::once(Spec::Discogs {
        scale: args.scale,
        seed: args.seed,
    });
    let datasets: Vec<Spec> = match args.suite {
        Suite::Tree => trees.collect(),
        Suite::Discogs => discogs.collect(),
        Suite::All => trees.chain(discogs).collect(),
    };
    let plan = Plan {
        suite: format!("{:?}", args.suite).to_lowercase(),
        datasets,
        scale: args.scale,
        seed: args.seed,
        runs: args.runs as usize,
        settings: settings(&args.env)?,
        only: args.cases,
    };
    execute(plan, args.json, args.report).await
}

pub(super) async fn demo(args: DemoArgs) -> Result<ExitCode> {
    let plan = Plan {
        suite: "demo".into(),
        datasets: vec![
            Spec::Tree {
                nodes: 140_000,
                seed: 42,
            },
            Spec::Discogs {
                scale: 0.01,
                seed: 42,
            },
        ],
        scale: 0.01,
        seed: 42,
        runs: args.runs as usize,
        settings: settings(&args.env)?,
        only: Vec::new(),
    };
    execute(plan, None, None).await
}

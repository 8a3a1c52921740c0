//! `neotrav batch`: one spec run from many starts, in parallel, into a resumable JSON-lines or
//! CSV file (see [`neotrav_traverser::batch`]).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use neo4rs::query;
use neotrav_snapshot::Progress;

use super::connection::Neo4jArgs;
use super::progress::Reporter;
use neotrav_traverser::batch::output::{Format, Output};
use neotrav_traverser::batch::{self, Batch, BitParallel, Entry, Options, Spec, Start};
use neotrav_traverser::engine::Engine;

/// Run one traversal (or shortest-path) spec from many starts.
#[derive(Debug, Args)]
#[command(after_long_help = AFTER_HELP)]
pub(super) struct BatchArgs {
    /// The snapshot file (from `neotrav export` or `neotrav dataset snapshot`).
    #[arg(long, value_name = "FILE")]
    snapshot: PathBuf,
    /// The spec: a JSON traversal request as for `neotrav traverse` (any `return`, group-by
    /// included) without `start`; or a shortest-path request (`"kind": "shortestPath"`, or a
    /// `from`/`to` key) whose `from` and `to` come from each line of --starts.
    #[arg(long, value_name = "FILE")]
    spec: PathBuf,
    /// Where the starts come from: a file of Neo4j ids, one per line (two per line, `from,to`,
    /// for a shortest-path spec); `label:NAME` for every node with that label in the snapshot;
    /// or `cypher:QUERY`, a read-only Cypher query returning ids (one column, or two for pairs)
    /// run against Neo4j (--uri etc.).
    #[arg(long, value_name = "SOURCE")]
    starts: String,
    /// The result file: `.jsonl` (one JSON object per start) or `.csv` (one row per start),
    /// in the order of the starts. It must not exist, unless --resume.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Worker threads [default: one per core].
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Continue a job that was stopped: keep the complete records in --out, cut a half-written
    /// last line, and run the remaining starts (same snapshot, spec and starts).
    #[arg(long)]
    resume: bool,
    /// Fail before running anything if a start is not in the snapshot (by default unknown
    /// starts are reported and skipped).
    #[arg(long)]
    strict: bool,
    /// The multi-source bit-parallel BFS, 64 starts per pass: `auto` uses it for specs it
    /// answers exactly (breadth-first NODE_GLOBAL counts without label filters, node lists,
    /// where or deadlineMs); `on` fails for other specs; `off` runs every start on its own.
    #[arg(long, value_enum, default_value_t = BitParallelArg::Auto, value_name = "WHEN")]
    bit_parallel: BitParallelArg,
    /// Add each start's distance histogram to its record (`levels`: how many nodes at distance
    /// 0, 1, 2, ...); needs the bit-parallel BFS.
    #[arg(long)]
    levels: bool,
    /// Starts per chunk: each chunk is answered in parallel, then written and synced in order,
    /// so memory holds one chunk's results.
    #[arg(long, default_value_t = 16_384, value_name = "N")]
    chunk: usize,
    #[command(flatten)]
    neo4j: Neo4jArgs,
}

const AFTER_HELP: &str = "\
Output records (JSON lines; CSV rows carry the same fields):
  {\"start\": 42, \"count\": 17, \"partial\": false}            return count (+ \"levels\": [1, 5, 11])
  {\"start\": 42, \"nodes\": [...], \"partial\": false}         return nodes (paths, groups likewise)
  {\"from\": 1, \"to\": 2, \"length\": 3, \"paths\": [...], \"partial\": false}   shortest paths
  {\"start\": 42, \"error\": \"...\"}                            the engine refused this start

Examples:
  neotrav batch --snapshot discogs.snap --spec two-hop-count.json --starts label:Artist --out counts.jsonl
  neotrav batch --snapshot discogs.snap --spec path.json --starts pairs.txt --out paths.csv
  neotrav batch ... --resume      # after Ctrl-C or a crash: no record lost or repeated";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum BitParallelArg {
    Auto,
    On,
    Off,
}

/// How many unknown starts are listed on stderr.
const UNKNOWN_SHOWN: usize = 20;

pub(super) async fn run(args: BatchArgs) -> Result<ExitCode> {
    let format = Format::of_path(&args.out).with_context(|| {
        format!(
            "--out {}: name a .jsonl or .csv file (the extension picks the format)",
            args.out.display()
        )
    })?;
    let text = std::fs::read_to_string(&args.spec)
        .with_context(|| format!("cannot read the spec {}", args.spec.display()))?;
    let spec = Spec::from_json(&text).with_context(|| format!("spec {}", args.spec.display()))?;
    if !args.resume && args.out.exists() {
        bail!(
            "{} already exists: --resume continues it; delete it to start over",
            args.out.display()
        );
    }
    let engine = Engine::open(&args.snapshot)
        .with_context(|| format!("cannot open the snapshot {}", args.snapshot.display()))?;
    let options = Options {
        bit_parallel: match args.bit_parallel {
            BitParallelArg::Auto => BitParallel::Auto,
            BitParallelArg::On => BitParallel::Always,
            BitParallelArg::Off => BitParallel::Never,
        },
        levels: args.levels,
    };
    // Compile first: a spec error stops the job before starts are read or anything runs.
    Batch::new(&engine, &spec, options).with_context(|| format!("spec {}", args.spec.display()))?;
    let entries = read_starts(&args, &engine, spec.takes_pairs()).await?;
    tokio::task::spawn_blocking(move || job(args, engine, spec, options, entries, format))
        .await
        .context("the batch thread failed")?
}

async fn read_starts(args: &BatchArgs, engine: &Engine, pairs: bool) -> Result<Vec<Entry>> {
    if let Some(label) = args.starts.strip_prefix("label:") {
        if pairs {
            bail!("--starts label:{label} gives single nodes; a shortest-path spec needs pairs");
        }
        if engine.snapshot().label_code(label).is_none() {
            bail!(
                "--starts label:{label}: the snapshot has no label {label:?} (it has {})",
                engine.snapshot().header().labels.join(", ")
            );
        }
        let view = engine.snapshot().view();
        return Ok(engine
            .label_nodes(label)
            .into_iter()
            .enumerate()
            .filter_map(|(i, n)| {
                Some(Entry {
                    start: Start::Node(view.node_id(n)?),
                    line: i + 1,
                })
            })
            .collect());
    }
    if let Some(cypher) = args.starts.strip_prefix("cypher:") {
        return cypher_starts(&args.neo4j, cypher.trim(), pairs).await;
    }
    let path = args.starts.strip_prefix("file:").unwrap_or(&args.starts);
    let text = std::fs::read_to_string(path).with_context(|| {
        format!("cannot read the starts file {path} (or give label:NAME or cypher:QUERY)")
    })?;
    batch::parse_starts(&text, pairs).with_context(|| format!("--starts {path}"))
}

/// Runs the query as given (no text is spliced into it) in a read transaction, so a query that
/// writes fails instead of changing the database; every value must be a whole number.
async fn cypher_starts(neo4j: &Neo4jArgs, cypher: &str, pairs: bool) -> Result<Vec<Entry>> {
    if cypher.is_empty() {
        bail!("--starts cypher: needs a query, e.g. 'cypher:MATCH (n:Artist) RETURN id(n)'");
    }
    let graph = neo4j.connect()?;
    let mut stream = neotrav_neo4j::cypher::stream(&graph, query(cypher), true)
        .await
        .context("the --starts query failed (it runs read-only)")?;
    let mut out = Vec::new();
    let columns = if pairs { 2 } else { 1 };
    let mut row_no = 0;
    while let Some(row) = stream
        .next()
        .await
        .context("reading the --starts query's rows")?
    {
        row_no += 1;
        let keys: Vec<String> = row.keys().iter().map(|k| k.value.clone()).collect();
        let values: Option<Vec<i64>> = (keys.len() == columns)
            .then(|| keys.iter().map(|k| row.get::<i64>(k).ok()).collect())
            .flatten();
        let ids = match values {
            Some(v) if v.iter().all(|&x| x >= 0) => v,
            _ => bail!(
                "--starts query row {row_no}: expected {columns} column(s) of whole numbers from 0 ({}), got the column(s) {}",
                if pairs {
                    "RETURN id(a), id(b)"
                } else {
                    "RETURN id(n)"
                },
                keys.join(", ")
            ),
        };
        let start = if pairs {
            Start::Pair(ids[0] as u64, ids[1] as u64)
        } else {
            Start::Node(ids[0] as u64)
        };
        out.push(Entry {
            start,
            line: row_no,
        });
    }
    Ok(out)
}

fn job(
    args: BatchArgs,
    engine: Engine,
    spec: Spec,
    options: Options,
    entries: Vec<Entry>,
    format: Format,
) -> Result<ExitCode> {
    let batch = Batch::new(&engine, &spec, options)?;
    let resolution = batch.resolve(&entries);
    if !resolution.unknown.is_empty() {
        if args.strict {
            return Err(batch::BatchError::UnknownStarts(resolution.unknown).into());
        }
        eprintln!(
            "warning: {} start(s) are not in the snapshot and are skipped (--strict makes this an error):",
            resolution.unknown.len()
        );
        for (line, id) in resolution.unknown.iter().take(UNKNOWN_SHOWN) {
            eprintln!("  line {line}: node {id}");
        }
        if resolution.unknown.len() > UNKNOWN_SHOWN {
            eprintln!(
                "  ... and {} more",
                resolution.unknown.len() - UNKNOWN_SHOWN
            );
        }
    }
    let header = batch.csv_header();
    let (mut out, done) = if args.resume {
        let (out, resumed) = Output::resume(&args.out, format, &header, batch.takes_pairs())?;
        if resumed.dropped > 0 {
            eprintln!(
                "resume: cut a half-written last line ({} bytes); its start runs again",
                resumed.dropped
            );
        }
        let done = batch::resume_point(&resolution.tasks, &resumed, &args.out)?;
        eprintln!(
            "resume: {done} of {} starts already answered in {}",
            resolution.tasks.len(),
            args.out.display()
        );
        (out, done)
    } else {
        (Output::create(&args.out, format, &header)?, 0)
    };
    let todo = &resolution.tasks[done..];
    match (batch.bit_parallel(), batch.bit_parallel_refusal()) {
        (true, _) => eprintln!("bit-parallel BFS: 64 starts per pass"),
        (false, Some(why)) => eprintln!("one traversal per start (not bit-parallel: {why})"),
        (false, None) => eprintln!("one traversal per start (--bit-parallel off)"),
    }
    let threads = args.threads.unwrap_or(0);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("cannot start the worker threads")?;
    let reporter = Reporter::new();
    reporter.phase("starts", Some(todo.len() as u64));
    let started = Instant::now();
    let summary = pool
        .install(|| batch::run_to(&batch, todo, &mut out, args.chunk, &|n| reporter.advance(n)))?;
    reporter.finish();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{} records written to {} in {:.2} s ({:.0} starts/s, {} threads{}); {} already there from before, {} unknown starts skipped, {} partial, {} failed",
        summary.written,
        args.out.display(),
        secs,
        summary.written as f64 / secs.max(1e-9),
        pool.current_num_threads(),
        if batch.bit_parallel() {
            ", bit-parallel"
        } else {
            ""
        },
        done,
        resolution.unknown.len(),
        summary.partial,
        summary.failed,
    );
    Ok(ExitCode::SUCCESS)
}

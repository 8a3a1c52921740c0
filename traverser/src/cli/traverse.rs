//! `neotrav traverse` and `neotrav path`: one request, in-process, on a snapshot file.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use neotrav_client::wire::{
    Answer, Budget, NodeSelector, Path, ShortestPathRequest, Stats, TraverseRequest,
};

use crate::engine::Engine;

#[derive(Debug, Args)]
pub(super) struct TraverseArgs {
    /// The snapshot file (from `neotrav export` or `neotrav dataset snapshot`).
    #[arg(long)]
    snapshot: PathBuf,
    /// The request: a JSON file holding an APOC path-expander config map plus `start`,
    /// `where`, `return`, `budget` (see traverser/README.md); `-` reads stdin.
    #[arg(long)]
    spec: PathBuf,
    /// Print one JSON object (`{"nodes": [...]}`, `{"paths": [...]}`, `{"count": n}` or
    /// `{"groups": {...}}`, plus `"partial"` and `"stats"`) instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub(super) struct PathArgs {
    /// The snapshot file.
    #[arg(long)]
    snapshot: PathBuf,
    /// The first node: a Neo4j id or element id.
    #[arg(long)]
    from: String,
    /// The last node: a Neo4j id or element id.
    #[arg(long)]
    to: String,
    /// Relationship filter in APOC syntax (`BY|ON|IS` undirected, `KNOWS>` outgoing); empty
    /// means any type in both directions.
    #[arg(long, default_value = "")]
    types: String,
    /// The longest path considered, in relationships (-1: no limit).
    #[arg(long, default_value_t = 15, allow_negative_numbers = true)]
    max: i64,
    /// Every shortest path, not one (Cypher's `allShortestPaths`).
    #[arg(long)]
    all: bool,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

fn open(path: &std::path::Path) -> Result<Engine> {
    Engine::open(path).with_context(|| format!("cannot open the snapshot {}", path.display()))
}

pub(super) fn traverse(args: TraverseArgs) -> Result<ExitCode> {
    let text = if args.spec.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).context("reading the request from stdin")?
    } else {
        std::fs::read_to_string(&args.spec)
            .with_context(|| format!("cannot read the request {}", args.spec.display()))?
    };
    let request: TraverseRequest = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a valid traversal request", args.spec.display()))?;
    let engine = open(&args.snapshot)?;
    let response = engine.traverse(&request)?;
    if args.json {
        println!("{}", serde_json::to_string(&response)?);
        return Ok(ExitCode::SUCCESS);
    }
    match &response.answer {
        Answer::Count(n) => println!("count: {n}"),
        Answer::Nodes(nodes) => {
            println!("{} nodes", nodes.len());
            for n in nodes {
                println!("{n}");
            }
        }
        Answer::Paths(paths) => {
            println!("{} paths", paths.len());
            for p in paths {
                println!("{}", render(p));
            }
        }
        Answer::Groups(groups) => {
            let width = groups
                .0
                .iter()
                .map(|(k, _)| k.len())
                .max()
                .unwrap_or(5)
                .max(5);
            println!("{:<width$}  count", "value");
            for (k, n) in &groups.0 {
                println!("{k:<width$}  {n}");
            }
        }
    }
    if response.partial {
        println!("(partial: a budget stopped the traversal)");
    }
    print_stats(&response.stats);
    Ok(ExitCode::SUCCESS)
}

fn node(field: &str, s: &str) -> Result<NodeSelector> {
    match s.parse::<u64>() {
        Ok(id) => Ok(NodeSelector::Id(id)),
        Err(_) if s.starts_with("4:") => Ok(NodeSelector::ElementId(s.to_string())),
        Err(_) => anyhow::bail!("--{field} {s:?} is neither a Neo4j id nor an element id"),
    }
}

pub(super) fn path(args: PathArgs) -> Result<ExitCode> {
    let request = ShortestPathRequest {
        from: node("from", &args.from)?,
        to: node("to", &args.to)?,
        relationship_filter: Some(args.types),
        max_level: args.max,
        all: args.all,
        consistency: Default::default(),
        budget: Budget::default(),
    };
    let engine = open(&args.snapshot)?;
    let response = engine.shortest_path(&request)?;
    if args.json {
        println!("{}", serde_json::to_string(&response)?);
        return Ok(ExitCode::SUCCESS);
    }
    match response.length {
        None => println!("no path within {} relationships", args.max),
        Some(len) => {
            println!("length {len}, {} path(s)", response.paths.len());
            for p in &response.paths {
                println!("{}", render(p));
            }
        }
    }
    print_stats(&response.stats);
    Ok(ExitCode::SUCCESS)
}

/// `(1)-[:KNOWS 7]-(2)`: direction is not shown, since a path may cross relationships either way.
fn render(p: &Path) -> String {
    let mut out = String::new();
    for (i, n) in p.nodes.iter().enumerate() {
        if i > 0 {
            out.push_str(&format!(
                "-[:{} {}]-",
                p.types.get(i - 1).map_or("?", String::as_str),
                p.relationships.get(i - 1).map_or(0, |r| *r)
            ));
        }
        out.push_str(&format!("({n})"));
    }
    out
}

fn print_stats(s: &Stats) {
    println!(
        "visited {} nodes, {} relationships in {:.3} ms; snapshot of {}",
        s.nodes_visited, s.relationships_visited, s.elapsed_ms, s.watermark.created
    );
}

//! `neotrav traverse`, `neotrav path` and `neotrav query`: one request, in-process on a snapshot
//! file, or sent to a running sidecar.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use neotrav_wire::{
    Answer, Budget, Consistency, NodeSelector, Path, ShortestPathRequest, Stats, TraverseRequest,
    TraverseResponse,
};

use super::connection::Neo4jArgs;
use neotrav_neo4j::miss::Neo4jSource;
use neotrav_traverser::engine::Engine;
use neotrav_traverser::engine::fresh::DirtySet;

/// How to reach Neo4j for `"consistency": "fresh"` requests.
#[derive(Debug, Args)]
pub(super) struct FreshArgs {
    #[command(flatten)]
    neo4j: Neo4jArgs,
    /// Nodes changed since the export (comma-separated Neo4j ids): with `"consistency":
    /// "fresh"` they are read from Neo4j instead of the snapshot, as are nodes the snapshot does
    /// not know.
    #[arg(long, value_delimiter = ',')]
    invalidate: Vec<u64>,
}

impl FreshArgs {
    /// Runs `f` off the async reactor with a Neo4j miss source and the dirty set.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&DirtySet, &mut Neo4jSource) -> T + Send + 'static,
    ) -> Result<T> {
        let graph = self.neo4j.connect()?;
        let mut dirty = DirtySet::new();
        dirty.insert(self.invalidate.iter().copied());
        let handle = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || {
            let mut source = Neo4jSource::new(graph, handle);
            f(&dirty, &mut source)
        })
        .await
        .context("the traversal thread failed")
    }
}

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
    #[command(flatten)]
    fresh: FreshArgs,
}

/// Where to reach a running sidecar.
#[derive(Debug, Args)]
pub(super) struct SidecarArgs {
    /// A file holding the sidecar's bearer token (the one `neotrav serve --token-file` read).
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
}

impl SidecarArgs {
    fn client(&self, url: &str) -> Result<neotrav_client::Client> {
        let mut b = neotrav_client::Client::builder(url);
        if let Some(f) = &self.token_file {
            let token = std::fs::read_to_string(f)
                .with_context(|| format!("cannot read the token file {}", f.display()))?;
            b = b.token(token.trim());
        }
        Ok(b.build()?)
    }
}

#[derive(Debug, Args)]
pub(super) struct QueryArgs {
    /// The request, as for `neotrav traverse` (`-` reads stdin).
    #[arg(long)]
    spec: PathBuf,
    /// The sidecar.
    #[arg(long, default_value = "http://127.0.0.1:7475")]
    url: String,
    /// Print the sidecar's JSON answer instead of a table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    sidecar: SidecarArgs,
}

#[derive(Debug, Args)]
pub(super) struct PathArgs {
    /// The snapshot file to search in-process.
    #[arg(long, required_unless_present = "url", conflicts_with = "url")]
    snapshot: Option<PathBuf>,
    /// Ask a running sidecar instead (`neotrav serve`), e.g. http://127.0.0.1:7475.
    #[arg(long)]
    url: Option<String>,
    #[command(flatten)]
    sidecar: SidecarArgs,
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
    /// Read nodes the snapshot does not know, and `--invalidate`d nodes, from Neo4j.
    #[arg(long)]
    fresh: bool,
    #[command(flatten)]
    neo4j: FreshArgs,
}

fn open(path: &std::path::Path) -> Result<Engine> {
    Engine::open(path).with_context(|| format!("cannot open the snapshot {}", path.display()))
}

fn read_request(spec: &std::path::Path) -> Result<TraverseRequest> {
    let text = if spec.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).context("reading the request from stdin")?
    } else {
        std::fs::read_to_string(spec)
            .with_context(|| format!("cannot read the request {}", spec.display()))?
    };
    TraverseRequest::from_json(text.as_bytes())
        .with_context(|| format!("{} is not a valid traversal request", spec.display()))
}

pub(super) async fn query(args: QueryArgs) -> Result<ExitCode> {
    let request = read_request(&args.spec)?;
    let response = args.sidecar.client(&args.url)?.traverse(&request).await?;
    print_traversal(&response, args.json)
}

pub(super) async fn traverse(args: TraverseArgs) -> Result<ExitCode> {
    let request = read_request(&args.spec)?;
    let engine = open(&args.snapshot)?;
    let response = if request.consistency == Consistency::Fresh {
        args.fresh
            .run(move |dirty, source| engine.traverse_fresh(&request, dirty, source))
            .await??
    } else {
        engine.traverse(&request)?
    };
    print_traversal(&response, args.json)
}

fn print_traversal(response: &TraverseResponse, json: bool) -> Result<ExitCode> {
    if json {
        println!("{}", serde_json::to_string(response)?);
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

pub(super) async fn path(args: PathArgs) -> Result<ExitCode> {
    let request = ShortestPathRequest {
        from: node("from", &args.from)?,
        to: node("to", &args.to)?,
        relationship_filter: Some(args.types),
        max_level: args.max,
        all: args.all,
        consistency: if args.fresh {
            Consistency::Fresh
        } else {
            Consistency::Snapshot
        },
        budget: Budget::default(),
    };
    let response = match (&args.url, &args.snapshot) {
        (Some(url), _) => args.sidecar.client(url)?.shortest_path(&request).await?,
        (None, Some(snapshot)) => {
            let engine = open(snapshot)?;
            if args.fresh {
                args.neo4j
                    .run(move |dirty, source| engine.shortest_path_fresh(&request, dirty, source))
                    .await??
            } else {
                engine.shortest_path(&request)?
            }
        }
        (None, None) => anyhow::bail!("give --snapshot FILE or --url of a running sidecar"),
    };
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
    if s.cypher_round_trips > 0 {
        println!(
            "misses: {} nodes read from Neo4j in {} round trips ({:.3} ms)",
            s.misses, s.cypher_round_trips, s.cypher_ms
        );
    }
}

//! One dataset made ready for the benchmark: its own bundled Neo4j (loaded once, reused by later
//! runs with the same dataset, size and seed), the exported snapshot, a GDS projection, and the
//! sidecar serving the snapshot on a free loopback port.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use neo4rs::{Graph, query};
use neotrav_datasets::generate::Dataset;
use neotrav_datasets::generate::discogs::Discogs;
use neotrav_datasets::generate::tree::Tree;
use neotrav_datasets::load::{self, LoadOptions};
use neotrav_neo4j::bundled::{self, Artifacts, MemorySize, Password, ServerConfig};
use neotrav_neo4j::export::{self, ExportOptions, Origin};
use neotrav_snapshot::Progress;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

use super::cases::{Case, Ctx, Input, Question, System};
use super::{BenchError, SetupStep};
use neotrav_server::{AppState, router};
use neotrav_traverser::engine::Engine;

/// The name of the GDS graph each environment projects.
pub const GDS_GRAPH: &str = "neotrav-bench";

/// A dataset of the suites.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Spec {
    /// The label-cache article's tree with this many nodes (fanout 4).
    Tree {
        /// Nodes.
        nodes: u64,
        /// Seed.
        seed: u64,
    },
    /// The Discogs-shaped graph at this scale.
    Discogs {
        /// Scale (1.0 is 33.8M nodes).
        scale: f64,
        /// Seed.
        seed: u64,
    },
}

impl Spec {
    /// A short name: `tree-140000` or `discogs-0.1`.
    pub fn tag(&self) -> String {
        match self {
            Spec::Tree { nodes, .. } => format!("tree-{nodes}"),
            Spec::Discogs { scale, .. } => format!("discogs-{scale}"),
        }
    }

    fn seed(&self) -> u64 {
        match *self {
            Spec::Tree { seed, .. } | Spec::Discogs { seed, .. } => seed,
        }
    }

    fn dataset(&self) -> Result<Arc<dyn Dataset>, BenchError> {
        let refused = |source| BenchError::Dataset {
            dataset: self.tag(),
            source,
        };
        Ok(match *self {
            Spec::Tree { nodes, seed } => Arc::new(Tree::new(nodes, 4, seed).map_err(refused)?),
            Spec::Discogs { scale, seed } => Arc::new(Discogs::new(scale, seed).map_err(refused)?),
        })
    }

    fn properties(&self) -> Vec<(String, String)> {
        let (label, key) = match self {
            Spec::Tree { .. } => ("B", "flag"),
            Spec::Discogs { .. } => {
                // The tag questions read release years; the Cypher suite names artists,
                // genres and labels by catalogue key and answers with names and styles.
                return [
                    ("Release", "year"),
                    ("Artist", "id"),
                    ("Artist", "name"),
                    ("Genre", "name"),
                    ("Style", "name"),
                    ("Label", "id"),
                    ("Label", "name"),
                ]
                .into_iter()
                .map(|(l, k)| (l.to_string(), k.to_string()))
                .collect();
            }
        };
        vec![(label.to_string(), key.to_string())]
    }

    fn projection(&self) -> String {
        match self {
            Spec::Tree { .. } => format!(
                "CALL gds.graph.project('{GDS_GRAPH}', ['Root', 'A', 'B'], ['CHILD_A', 'CHILD_B']) \
                 YIELD nodeCount RETURN nodeCount"
            ),
            Spec::Discogs { .. } => {
                let types = super::cases::PATH_TYPES
                    .split('|')
                    .map(|t| format!("{t}: {{orientation: 'UNDIRECTED'}}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                format!(
                    "CALL gds.graph.project('{GDS_GRAPH}', '*', {{{types}}}) \
                     YIELD nodeCount RETURN nodeCount"
                )
            }
        }
    }
}

/// What a home was loaded with (`neotrav-bench.json` in the home).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Marker {
    spec: Spec,
    nodes: u64,
    relationships: u64,
}

/// How to run the environments.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where Neo4j homes and snapshots go.
    pub dir: PathBuf,
    /// Neo4j heap.
    pub heap: MemorySize,
    /// Neo4j page cache.
    pub pagecache: MemorySize,
    /// Neo4j ends a query running longer than this; the system is reported as timed out on
    /// that case.
    pub query_timeout: Duration,
}

/// A prepared dataset: Neo4j, snapshot, projection and sidecar.
pub struct Environment {
    /// The dataset.
    pub spec: Spec,
    /// What the systems are reached through.
    pub ctx: Ctx,
    /// Timed preparation steps.
    pub setup: Vec<SetupStep>,
    /// Neo4j's version.
    pub neo4j_version: String,
    home: PathBuf,
    stop_sidecar: Option<tokio::sync::oneshot::Sender<()>>,
}

async fn timed<T>(
    setup: &mut Vec<SetupStep>,
    what: String,
    f: impl Future<Output = Result<T, BenchError>>,
) -> Result<T, BenchError> {
    let started = Instant::now();
    let out = f.await?;
    setup.push(SetupStep {
        what,
        seconds: started.elapsed().as_secs_f64(),
    });
    Ok(out)
}

/// The count in column `c` of the one row of `text`, a query named `name`.
async fn count(graph: &Graph, name: &str, text: &str) -> Result<u64, BenchError> {
    let rows = rows(graph, query(text))
        .await
        .map_err(BenchError::query(name))?;
    let row = rows.first().ok_or_else(|| BenchError::NoRow {
        query: name.to_string(),
    })?;
    Ok(row.get::<i64>("c").map_err(BenchError::column(name, "c"))? as u64)
}

/// Runs a query that may write and collects its rows.
async fn rows(graph: &Graph, q: neo4rs::Query) -> Result<Vec<neo4rs::Row>, neo4rs::Error> {
    neotrav_neo4j::cypher::rows(graph, q, false).await
}

impl Environment {
    /// Starts this dataset's Neo4j (loading it unless its home already holds it), exports the
    /// snapshot, projects the GDS graph and serves the snapshot.
    pub async fn prepare(
        spec: Spec,
        settings: &Settings,
        artifacts: &Artifacts,
        progress: &dyn Progress,
        say: &mut dyn FnMut(&str),
    ) -> Result<Environment, BenchError> {
        let tag = spec.tag();
        let mut setup = Vec::new();
        let home = settings
            .dir
            .join("neo4j")
            .join(format!("{tag}-seed{}", spec.seed()));
        std::fs::create_dir_all(&home).map_err(BenchError::io("creating", &home))?;
        let password = Password::from_env();
        let config = ServerConfig {
            bolt_port: neotrav_neo4j::bundled::free_port().map_err(|source| {
                BenchError::Socket {
                    what: "finding a free port for Neo4j's Bolt",
                    source,
                }
            })?,
            heap: settings.heap,
            pagecache: settings.pagecache,
            transaction_timeout: Some(settings.query_timeout),
            // The JVM halts when this process ends, however it ends (Ctrl-C included).
            tie_to_this_process: true,
            ..ServerConfig::new(&home)
        };
        say(&format!("{tag}: starting Neo4j in {}", home.display()));
        let server = bundled::start(artifacts, &config)
            .await
            .map_err(BenchError::bundle(format!("starting Neo4j for {tag}")))?;
        let uri = server.state.bolt_uri.clone();
        let graph = bundled::connect(&uri, "neo4j", &password).map_err(BenchError::bundle(
            format!("connecting to the Neo4j of {tag}"),
        ))?;
        let versions = bundled::status(&home, &password)
            .await
            .map_err(BenchError::bundle(format!(
                "asking the Neo4j of {tag} for its version"
            )))?;
        let neo4j_version = versions
            .versions
            .map(|v| v.neo4j)
            .unwrap_or_else(|| "unknown".to_string());

        let marker_path = home.join("neotrav-bench.json");
        let marker: Option<Marker> = std::fs::read(&marker_path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        let nodes = count(
            &graph,
            &format!("the node count of {tag}"),
            "MATCH (n) RETURN count(n) AS c",
        )
        .await?;
        let relationships = count(
            &graph,
            &format!("the relationship count of {tag}"),
            "MATCH ()-[r]->() RETURN count(r) AS c",
        )
        .await?;
        let reuse = marker.as_ref().is_some_and(|m| {
            m.spec == spec && m.nodes == nodes && m.relationships == relationships
        });
        if reuse {
            say(&format!(
                "{tag}: reusing the loaded graph ({nodes} nodes, {relationships} relationships)"
            ));
        } else {
            let dataset = spec.dataset()?;
            say(&format!("{tag}: loading {}", dataset.describe()));
            let _ = std::fs::remove_file(&marker_path);
            let options = LoadOptions {
                replace: true,
                ..LoadOptions::default()
            };
            let report = timed(&mut setup, format!("{tag}: load into Neo4j"), async {
                load::load(&graph, dataset, &options, progress)
                    .await
                    .map_err(|source| BenchError::Load {
                        dataset: tag.clone(),
                        source,
                    })
            })
            .await?;
            let marker = Marker {
                spec,
                nodes: report.nodes,
                relationships: report.relationships,
            };
            let text = serde_json::to_vec_pretty(&marker).map_err(|source| BenchError::Json {
                what: marker_path.display().to_string(),
                source,
            })?;
            std::fs::write(&marker_path, text).map_err(BenchError::io("writing", &marker_path))?;
        }

        let snapshot = settings.dir.join(format!("{tag}-seed{}.snap", spec.seed()));
        say(&format!("{tag}: exporting {}", snapshot.display()));
        let origin = Origin {
            address: uri.clone(),
            database: String::new(),
        };
        let options = ExportOptions {
            properties: spec.properties(),
            ..ExportOptions::default()
        };
        timed(&mut setup, format!("{tag}: export snapshot"), async {
            export::export(&graph, &origin, &options, &snapshot, progress)
                .await
                .map_err(|source| BenchError::Export {
                    path: snapshot.clone(),
                    source,
                })
        })
        .await?;

        say(&format!("{tag}: projecting the GDS graph"));
        rows(
            &graph,
            query("CALL gds.graph.drop($g, false) YIELD graphName RETURN graphName")
                .param("g", GDS_GRAPH),
        )
        .await
        .map_err(BenchError::query(format!(
            "the drop of the GDS graph of {tag}"
        )))?;
        timed(&mut setup, format!("{tag}: GDS projection"), async {
            rows(&graph, query(&spec.projection()))
                .await
                .map_err(BenchError::query(format!("the GDS projection of {tag}")))
        })
        .await?;

        let state =
            AppState::new(snapshot.clone(), None, None).map_err(|source| BenchError::Snapshot {
                action: "serving",
                path: snapshot.clone(),
                source,
            })?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|source| BenchError::Socket {
                what: "binding the sidecar's listener on 127.0.0.1",
                source,
            })?;
        let address = listener.local_addr().map_err(|source| BenchError::Socket {
            what: "reading the sidecar's address",
            source,
        })?;
        let base = format!("http://{address}");
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router(Arc::new(state)))
                .with_graceful_shutdown(async {
                    let _ = stop_rx.await;
                })
                .await;
        });
        let client = neotrav_client::Client::builder(&base)
            .timeout(Duration::from_secs(600))
            .build()
            .map_err(|source| BenchError::Client {
                what: format!("building the client of the sidecar at {base}"),
                source,
            })?;
        let database_id = neotrav_neo4j::forward::database_id(&graph)
            .await
            .map_err(|source| BenchError::Forward {
                statement: "database id",
                source: Box::new(source),
            })?
            .unwrap_or_default();
        let engine = Engine::open(&snapshot).map_err(|source| BenchError::Snapshot {
            action: "opening the engine on",
            path: snapshot.clone(),
            source,
        })?;
        Ok(Environment {
            spec,
            ctx: Ctx {
                engine,
                client,
                graph,
                gds_graph: GDS_GRAPH.to_string(),
                query_timeout: settings.query_timeout,
                database_id,
            },
            setup,
            neo4j_version,
            home,
            stop_sidecar: Some(stop_tx),
        })
    }

    /// The cases of this dataset, their inputs drawn with `seed` from the loaded graph.
    pub async fn cases(&self) -> Result<Vec<Case>, BenchError> {
        let tag = self.spec.tag();
        let all = vec![
            System::Neotrav,
            System::NeotravHttp,
            System::Cypher,
            System::CypherTuned,
            System::Apoc,
            System::Gds,
        ];
        let case = |name: &str, description: &str, question, inputs, systems: &[System]| Case {
            name: format!("{tag}/{name}"),
            description: description.to_string(),
            question,
            inputs,
            systems: systems.to_vec(),
        };
        Ok(match self.spec {
            Spec::Tree { .. } => {
                let article = &all[..4];
                vec![
                    case(
                        "dfs-flag-count",
                        "depth-first from Root over CHILD_A|CHILD_B, count B with flag = true",
                        Question::TreeDfs { depth: None },
                        vec![Input::None],
                        &all,
                    ),
                    case(
                        "dfs-flag-count-depth5",
                        "the same, down to depth 5",
                        Question::TreeDfs { depth: Some(5) },
                        vec![Input::None],
                        &all,
                    ),
                    case(
                        "article",
                        "the article's walk: A through CHILD_A, B through CHILD_B; count B with flag = true",
                        Question::TreeArticle { depth: None },
                        vec![Input::None],
                        article,
                    ),
                    case(
                        "article-depth5",
                        "the same, down to depth 5",
                        Question::TreeArticle { depth: Some(5) },
                        vec![Input::None],
                        article,
                    ),
                ]
            }
            Spec::Discogs { seed, .. } => {
                let picks = Picks::draw(&self.ctx.graph, &tag, seed).await?;
                let no_gds = &all[..5];
                let mut cases = vec![
                    case(
                        "shortest-path",
                        "shortest path between two artists over BY|ON|IS|ALIAS_OF|MEMBER_OF|DERIVED_FROM, undirected, at most 6 hops (50 pairs, 5 with an artist without relationships)",
                        Question::ShortestPath,
                        picks.pairs.clone(),
                        &[
                            System::Neotrav,
                            System::NeotravHttp,
                            System::Cypher,
                            System::CypherTuned,
                            System::Gds,
                        ],
                    ),
                    case(
                        "explore-3-hops",
                        "Artist and Label nodes 1-3 hops from an artist over BY|ON|MEMBER_OF|ALIAS_OF|SUBLABEL_OF, with their distance (10 artists)",
                        Question::Explore,
                        picks.artists.clone(),
                        no_gds,
                    ),
                    case(
                        "co-artists",
                        "artists sharing a release with an artist, with the number of releases (10 artists)",
                        Question::CoArtists,
                        picks.artists.clone(),
                        no_gds,
                    ),
                    case(
                        "genre-years",
                        "releases of the largest genre per year, over its IS in-edges",
                        Question::GenreYears,
                        vec![picks.genre],
                        no_gds,
                    ),
                    case(
                        "artist-labels",
                        "an artist's labels through its releases, with counts (10 artists)",
                        Question::ArtistLabels,
                        picks.artists.clone(),
                        no_gds,
                    ),
                    case(
                        "top-artists-by-degree",
                        "the 100 artists with the most relationships",
                        Question::TopDegree,
                        vec![Input::None],
                        &[System::Neotrav, System::Cypher, System::CypherTuned],
                    ),
                ];
                cases.push(case(
                    "http-round-trip",
                    "the floor of a call: the sidecar's GET /readyz over HTTP, Neo4j's RETURN 1 over Bolt",
                    Question::RoundTrip,
                    vec![Input::None; 32],
                    &[System::NeotravHttp, System::Cypher],
                ));
                for (i, st) in super::statements::STATEMENTS.iter().enumerate() {
                    use super::statements::Inputs;
                    let inputs = match st.inputs {
                        Inputs::Artist => picks.artists.clone(),
                        Inputs::Pair => picks.pairs.clone(),
                        Inputs::Genre => vec![picks.genre],
                    };
                    cases.push(case(
                        st.name,
                        st.description,
                        Question::Statement(i),
                        inputs,
                        &[System::Neotrav, System::NeotravHttp, System::Cypher],
                    ));
                }
                cases
            }
        })
    }

    /// Stops the sidecar and Neo4j.
    pub fn stop(mut self) -> Result<(), BenchError> {
        if let Some(tx) = self.stop_sidecar.take() {
            let _ = tx.send(());
        }
        stop_home(&self.home)
    }
}

fn stop_home(home: &Path) -> Result<(), BenchError> {
    bundled::stop(home, Duration::from_secs(60), true).map_err(BenchError::bundle(format!(
        "stopping the Neo4j in {}",
        home.display()
    )))?;
    Ok(())
}

/// The seeded inputs of the Discogs cases.
struct Picks {
    pairs: Vec<Input>,
    artists: Vec<Input>,
    genre: Input,
}

impl Picks {
    /// Draws from the graph of the dataset `tag` with `seed`.
    async fn draw(graph: &Graph, tag: &str, seed: u64) -> Result<Picks, BenchError> {
        let name = format!("the artists of {tag}");
        let artists = rows(
            graph,
            query(
                "MATCH (a:Artist) RETURN id(a) AS id, COUNT { (a)--() } AS d, \
                 COUNT { (a)<-[:BY]-(:Release) } AS credits ORDER BY id",
            ),
        )
        .await
        .map_err(BenchError::query(&name))?;
        let mut credited = Vec::new();
        let mut orphans = Vec::new();
        for row in &artists {
            let int = |column| {
                row.get::<i64>(column)
                    .map_err(BenchError::column(&name, column))
            };
            let id = int("id")? as u64;
            let d = int("d")?;
            let credits = int("credits")?;
            if d == 0 {
                orphans.push(id);
            } else if credits > 0 && d <= 1000 {
                credited.push(id);
            }
        }
        if credited.len() < 2 || orphans.is_empty() {
            return Err(BenchError::TooFewArtists {
                dataset: tag.to_string(),
                credited: credited.len(),
                orphans: orphans.len(),
            });
        }
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(seed);
        let mut pick = |from: &[u64]| from[rng.random_range(0..from.len())];
        let mut pairs = Vec::new();
        for i in 0..50 {
            let a = pick(&credited);
            let b = if i % 10 == 9 {
                pick(&orphans)
            } else {
                pick(&credited)
            };
            pairs.push(Input::Pair(a, b));
        }
        let artists = (0..10).map(|_| Input::Node(pick(&credited))).collect();
        let name = format!("the query for the largest Genre node of {tag}");
        let genre = rows(
            graph,
            query(
                "MATCH (g:Genre) RETURN id(g) AS id \
                 ORDER BY COUNT { (g)<-[:IS]-(:Release) } DESC, id(g) LIMIT 1",
            ),
        )
        .await
        .map_err(BenchError::query(&name))?;
        let genre = genre
            .first()
            .ok_or_else(|| BenchError::NoRow {
                query: name.clone(),
            })?
            .get::<i64>("id")
            .map_err(BenchError::column(&name, "id"))?;
        let genre = Input::Node(genre as u64);
        Ok(Picks {
            pairs,
            artists,
            genre,
        })
    }
}

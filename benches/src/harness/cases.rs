//! The questions of the benchmark suites, and how each system asks them.
//!
//! Every query is parameterised; node ids are Neo4j ids (`id(n)`), so every system starts from
//! the same nodes. Each answer is brought to one canonical form per question: a count, a sorted
//! list of `[id, value]`, a sorted list of `[key, count]`, or a path length (`null` for none).

use std::fmt;

use neo4rs::{Graph, query};
use neotrav_client::Client;
use neotrav_neo4j::cypher;
use neotrav_snapshot::Direction;
use neotrav_wire::{
    Answer, Budget, NodeSelector, OneOrMany, Op, Predicate, ReturnForm, Scalar,
    ShortestPathRequest, TraverseRequest, Uniqueness,
};
use serde_json::{Value, json};

use neotrav_traverser::engine::Engine;

use super::BenchError;

/// The relationship types of the Discogs shortest-path case.
pub const PATH_TYPES: &str = "BY|ON|IS|ALIAS_OF|MEMBER_OF|DERIVED_FROM";
/// The relationship types of the Discogs exploration case: credits, labels and artist links,
/// leaving out the genre and master hubs.
pub const EXPLORE_TYPES: &str = "BY|ON|MEMBER_OF|ALIAS_OF|SUBLABEL_OF";

/// A system that answers questions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum System {
    /// The engine, called in this process.
    Neotrav,
    /// The sidecar, through its HTTP API and the typed client.
    NeotravHttp,
    /// The Cypher a Neo4j user would naturally write.
    Cypher,
    /// Cypher tuned by hand: quantified path patterns, `SHORTEST`, labels on endpoints.
    CypherTuned,
    /// `apoc.path.*`.
    Apoc,
    /// Graph Data Science on a projection (its time reported as a setup step).
    Gds,
}

impl System {
    /// The name in reports.
    pub fn name(self) -> &'static str {
        match self {
            System::Neotrav => "neotrav",
            System::NeotravHttp => "neotrav-http",
            System::Cypher => "cypher",
            System::CypherTuned => "cypher-tuned",
            System::Apoc => "apoc",
            System::Gds => "gds",
        }
    }
}

/// What a case's query is given.
#[derive(Debug, Clone, Copy)]
pub enum Input {
    /// Nothing (the question names its own start).
    None,
    /// One node.
    Node(u64),
    /// Two nodes.
    Pair(u64, u64),
}

impl fmt::Display for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Input::None => f.write_str("-"),
            Input::Node(n) => write!(f, "node {n}"),
            Input::Pair(a, b) => write!(f, "nodes {a} and {b}"),
        }
    }
}

/// The questions.
#[derive(Debug, Clone, Copy)]
pub enum Question {
    /// From Root over `CHILD_A>|CHILD_B>` depth first, count the `B` nodes with `flag = true`
    /// (optionally down to a depth).
    TreeDfs {
        /// Deepest level.
        depth: Option<u32>,
    },
    /// The article's traversal: from Root, `A` nodes expand through `CHILD_A` and `B` nodes
    /// through `CHILD_B`; count the `B` nodes with `flag = true`.
    TreeArticle {
        /// Deepest level.
        depth: Option<u32>,
    },
    /// Shortest path length between two artists over [`PATH_TYPES`], undirected, ≤ 6 hops.
    ShortestPath,
    /// The Artist and Label nodes 1 to 3 hops from an artist over [`EXPLORE_TYPES`], with
    /// their distance.
    Explore,
    /// The artists sharing a release with an artist, with the number of shared releases.
    CoArtists,
    /// Releases of a genre (its `IS` in-edges) per year.
    GenreYears,
    /// The labels of an artist's releases, with the number of releases on each.
    ArtistLabels,
    /// The 100 artists with the most relationships, most first (ties by id).
    TopDegree,
    /// A statement of the Cypher suite ([`super::statements::STATEMENTS`], by index).
    Statement(usize),
    /// Nothing: the floor of a call. The sidecar's bare HTTP round trip (`GET /readyz` from the
    /// same client the other calls use), and Neo4j's over Bolt (`RETURN 1`).
    RoundTrip,
}

/// One question over a list of inputs, and the systems that answer it.
#[derive(Debug, Clone)]
pub struct Case {
    /// `dataset/question`.
    pub name: String,
    /// One line for the report.
    pub description: String,
    /// The question.
    pub question: Question,
    /// The inputs; each run asks every one.
    pub inputs: Vec<Input>,
    /// Who answers.
    pub systems: Vec<System>,
}

/// What the systems are reached through.
pub struct Ctx {
    /// The engine over the exported snapshot.
    pub engine: Engine,
    /// A client of the sidecar serving the same snapshot.
    pub client: Client,
    /// The Neo4j the snapshot was exported from.
    pub graph: Graph,
    /// The GDS graph projected for this dataset.
    pub gds_graph: String,
    /// Neo4j's transaction timeout.
    pub query_timeout: std::time::Duration,
    /// The database id of element ids (`4:<id>:<n>`).
    pub database_id: String,
}

impl Case {
    /// Asks `system` the case's question for `input`, in canonical form.
    pub async fn ask(&self, ctx: &Ctx, system: System, input: &Input) -> Result<Value, BenchError> {
        use System::*;
        let q = self.question;
        if let Question::Statement(i) = q {
            return ask_statement(ctx, system, i, input).await;
        }
        if let Question::RoundTrip = q {
            return round_trip(ctx, system).await;
        }
        match system {
            Neotrav | NeotravHttp => {
                if let Question::TopDegree = q {
                    return top_degree(&ctx.engine, system);
                }
                if let (Question::ShortestPath, Input::Pair(a, b)) = (q, input) {
                    let r = shortest_request(*a, *b);
                    let response =
                        match system {
                            Neotrav => ctx.engine.shortest_path(&r).map_err(|source| {
                                BenchError::Engine {
                                    request: "shortest path",
                                    source,
                                }
                            })?,
                            _ => ctx.client.shortest_path(&r).await.map_err(|source| {
                                BenchError::Client {
                                    what: "the shortest path request to the sidecar".into(),
                                    source,
                                }
                            })?,
                        };
                    return Ok(response.length.map_or(Value::Null, Value::from));
                }
                let r = traverse_request(q, input)?;
                let response = match system {
                    Neotrav => ctx
                        .engine
                        .traverse(&r)
                        .map_err(|source| BenchError::Engine {
                            request: "traverse",
                            source,
                        })?,
                    _ => ctx
                        .client
                        .traverse(&r)
                        .await
                        .map_err(|source| BenchError::Client {
                            what: "the traverse request to the sidecar".into(),
                            source,
                        })?,
                };
                canonical_answer(q, &response.answer)
            }
            Cypher | CypherTuned | Apoc | Gds => {
                let text = cypher(q, system, &ctx.gds_graph).ok_or(BenchError::Unanswered {
                    system,
                    question: q,
                })?;
                let mut query = query(&text);
                match input {
                    Input::None => {}
                    Input::Node(n) => query = query.param("id", *n as i64),
                    Input::Pair(a, b) => query = query.param("a", *a as i64).param("b", *b as i64),
                }
                let name = format!("the {} query", system.name());
                let rows = cypher::rows(&ctx.graph, query, false)
                    .await
                    .map_err(BenchError::query(&name))?;
                canonical_rows(q, &name, &rows)
            }
        }
    }
}

/// The catalogue key of a node, read from the snapshot: an artist's `id`, a genre's `name`.
fn catalogue_key(engine: &Engine, id: u64) -> Option<String> {
    let snap = engine.snapshot();
    let index = snap.view().node_index(id)?;
    [("Artist", "id"), ("Genre", "name"), ("Label", "id")]
        .into_iter()
        .find_map(|(label, key)| snap.column(label, key)?.str(index).map(str::to_owned))
}

async fn ask_statement(
    ctx: &Ctx,
    system: System,
    i: usize,
    input: &Input,
) -> Result<Value, BenchError> {
    use super::statements::{STATEMENTS, canonical, canonical_json, params, run_local};
    let s = &STATEMENTS[i];
    let params = params(s, input, &|id| catalogue_key(&ctx.engine, id))?;
    match system {
        System::Neotrav => run_local(s, ctx.engine.snapshot(), &params),
        System::NeotravHttp => {
            let mut r = neotrav_wire::cypher::CypherRequest::new(s.text);
            r.budget = Some(budget());
            for (k, v) in &params {
                r.parameters
                    .insert(k.clone(), v.encode(neotrav_wire::cypher::Encoding::Plain));
            }
            let answer = ctx
                .client
                .cypher(&r)
                .await
                .map_err(|source| BenchError::Client {
                    what: format!("the Cypher statement {} to the sidecar", s.name),
                    source,
                })?;
            if answer.answered_by != neotrav_wire::cypher::CypherAnsweredBy::Snapshot {
                return Err(BenchError::Cypher {
                    statement: s.name,
                    message: format!(
                        "the sidecar did not answer from its snapshot: {}",
                        answer.forwarded_because.unwrap_or_default()
                    ),
                });
            }
            Ok(canonical_json(s, &answer.data.values))
        }
        System::Cypher => {
            let answer =
                neotrav_neo4j::forward::forward(&ctx.graph, &ctx.database_id, s.text, &params)
                    .await
                    .map_err(|source| BenchError::Forward {
                        statement: s.name,
                        source: Box::new(source),
                    })?;
            Ok(canonical(s, &answer.rows))
        }
        other => Err(BenchError::Unanswered {
            system: other,
            question: Question::Statement(i),
        }),
    }
}

/// [`Question::RoundTrip`]: `1` once the system has answered.
async fn round_trip(ctx: &Ctx, system: System) -> Result<Value, BenchError> {
    match system {
        System::NeotravHttp => match ctx.client.ready().await {
            Ok(true) => Ok(json!(1)),
            Ok(false) => Err(BenchError::Cypher {
                statement: "round trip",
                message: "the sidecar answered GET /readyz with an error status".into(),
            }),
            Err(source) => Err(BenchError::Client {
                what: "GET /readyz to the sidecar".into(),
                source,
            }),
        },
        System::Cypher => {
            let rows = cypher::rows(&ctx.graph, query("RETURN 1 AS c"), false)
                .await
                .map_err(BenchError::query("the round-trip query"))?;
            canonical_rows(Question::RoundTrip, "the round-trip query", &rows)
        }
        other => Err(BenchError::Unanswered {
            system: other,
            question: Question::RoundTrip,
        }),
    }
}

fn label_start(label: &str) -> OneOrMany<NodeSelector> {
    OneOrMany::One(NodeSelector::Label {
        label: label.to_string(),
    })
}

fn flag_true() -> Predicate {
    Predicate {
        label: Some("B".into()),
        key: "flag".into(),
        op: Op::Eq,
        value: Some(OneOrMany::One(Scalar::Bool(true))),
    }
}

fn level(depth: Option<u32>) -> i64 {
    depth.map_or(-1, i64::from)
}

/// The memory every request of the bench asks for: the same in-process and over HTTP (where
/// the sidecar's default is a sixty-fourth of its pool, about 94 MiB with a 6 GiB pool, less
/// than a 6-hop shortest path between two far artists at Discogs scale 0.1 needs; its ceiling
/// is a quarter of the pool).
pub const REQUEST_MEMORY: u64 = 1 << 30;

fn budget() -> Budget {
    Budget {
        max_memory: Some(REQUEST_MEMORY),
        ..Budget::default()
    }
}

/// The shortest-path request of [`Question::ShortestPath`].
pub fn shortest_request(a: u64, b: u64) -> ShortestPathRequest {
    ShortestPathRequest {
        from: NodeSelector::Id(a),
        to: NodeSelector::Id(b),
        relationship_filter: Some(PATH_TYPES.into()),
        max_level: 6,
        all: false,
        consistency: Default::default(),
        budget: budget(),
    }
}

/// The traversal request neotrav answers `q` with.
pub fn traverse_request(q: Question, input: &Input) -> Result<TraverseRequest, BenchError> {
    let node = |input: &Input| match input {
        Input::Node(n) => Ok(OneOrMany::One(NodeSelector::Id(*n))),
        other => Err(BenchError::BadInput {
            question: q,
            input: *other,
        }),
    };
    let mut r = TraverseRequest::from_start(0u64);
    r.budget = budget();
    match q {
        Question::TreeDfs { depth } => {
            r.start = label_start("Root");
            r.relationship_filter = Some("CHILD_A>|CHILD_B>".into());
            r.uniqueness = Uniqueness::NodeGlobal;
            r.bfs = false;
            r.max_level = level(depth);
            r.predicates = vec![flag_true()];
            r.return_form = ReturnForm::Count;
        }
        Question::TreeArticle { depth } => {
            r.start = label_start("Root");
            r.expand_by_label = Some(
                [
                    ("Root", "CHILD_A>|CHILD_B>"),
                    ("A", "CHILD_A>"),
                    ("B", "CHILD_B>"),
                ]
                .into_iter()
                .map(|(l, f)| (l.to_string(), f.to_string()))
                .collect(),
            );
            r.uniqueness = Uniqueness::NodeGlobal;
            r.bfs = false;
            r.max_level = level(depth);
            r.predicates = vec![flag_true()];
            r.return_form = ReturnForm::Count;
        }
        Question::Explore => {
            r.start = node(input)?;
            r.relationship_filter = Some(EXPLORE_TYPES.into());
            r.label_filter = Some(">Artist|>Label".into());
            r.uniqueness = Uniqueness::NodeGlobal;
            r.min_level = 1;
            r.max_level = 3;
            r.return_form = ReturnForm::Paths;
        }
        Question::CoArtists | Question::ArtistLabels => {
            let (rels, labels) = match q {
                Question::CoArtists => ("<BY,BY>", "+Release|+Artist"),
                _ => ("<BY,ON>", "+Release|+Label"),
            };
            r.start = node(input)?;
            r.relationship_filter = Some(rels.into());
            r.label_filter = Some(labels.into());
            r.uniqueness = Uniqueness::NodePath;
            r.min_level = 2;
            r.max_level = 2;
            r.return_form = ReturnForm::Paths;
        }
        Question::GenreYears => {
            r.start = node(input)?;
            r.relationship_filter = Some("<IS".into());
            r.label_filter = Some("+Release".into());
            r.uniqueness = Uniqueness::NodeGlobal;
            r.min_level = 1;
            r.max_level = 1;
            r.return_form = ReturnForm::GroupBy {
                key: "year".into(),
                label: Some("Release".into()),
            };
        }
        Question::ShortestPath
        | Question::TopDegree
        | Question::Statement(_)
        | Question::RoundTrip => {
            return Err(BenchError::NotTraversal { question: q });
        }
    }
    Ok(r)
}

/// Puts a neotrav answer in the canonical form of `q`.
fn canonical_answer(q: Question, answer: &Answer) -> Result<Value, BenchError> {
    Ok(match (q, answer) {
        (_, Answer::Count(n)) => json!(n),
        (Question::Explore, Answer::Paths(paths)) => pairs(
            paths
                .iter()
                .filter_map(|p| Some((*p.nodes.last()?, p.relationships.len() as u64))),
        ),
        (_, Answer::Paths(paths)) => {
            let mut counts = std::collections::BTreeMap::<u64, u64>::new();
            for p in paths {
                if let Some(end) = p.nodes.last() {
                    *counts.entry(*end).or_default() += 1;
                }
            }
            pairs(counts)
        }
        (_, Answer::Groups(groups)) => keyed(groups.0.iter().map(|(k, v)| (k.clone(), *v))),
        (q, other) => {
            return Err(BenchError::UnexpectedAnswer {
                question: q,
                answer: Box::new(other.clone()),
            });
        }
    })
}

/// `[id, value]` pairs, sorted.
fn pairs(items: impl IntoIterator<Item = (u64, u64)>) -> Value {
    let mut v: Vec<(u64, u64)> = items.into_iter().collect();
    v.sort_unstable();
    json!(v)
}

/// `[key, count]` pairs, sorted by key.
fn keyed(items: impl IntoIterator<Item = (String, u64)>) -> Value {
    let mut v: Vec<(String, u64)> = items.into_iter().collect();
    v.sort();
    json!(v)
}

/// The 100 artists with the most relationships, from the snapshot's adjacency.
fn top_degree(engine: &Engine, system: System) -> Result<Value, BenchError> {
    if system != System::Neotrav {
        return Err(BenchError::NoDegreeEndpoint);
    }
    let snapshot = engine.snapshot();
    let view = snapshot.view();
    let label = snapshot
        .label_code("Artist")
        .ok_or(BenchError::NoLabel { label: "Artist" })?;
    let nodes = snapshot.label_nodes(label).unwrap_or_default();
    let mut degrees: Vec<(u64, u64)> = nodes
        .iter()
        .filter_map(|i| {
            let d =
                view.edges(i, Direction::Outgoing).len() + view.edges(i, Direction::Incoming).len();
            Some((view.node_id(i)?, d as u64))
        })
        .collect();
    degrees.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    degrees.truncate(100);
    Ok(json!(degrees))
}

/// The Cypher for `q` on `system` (the answer's columns: `c` for a count, `k` and `v` for
/// pairs, `len` for a path length).
pub fn cypher(q: Question, system: System, gds_graph: &str) -> Option<String> {
    use System::*;
    let depth = |d: Option<u32>| d.map_or(String::new(), |d| d.to_string());
    let star = |d: Option<u32>| d.map_or("*".to_string(), |d| format!("*..{d}"));
    Some(match (q, system) {
        (Question::TreeDfs { depth: d }, Cypher) => format!(
            "MATCH (:Root)-[:CHILD_A|CHILD_B{}]->(b:B) WHERE b.flag = true \
             RETURN count(DISTINCT b) AS c",
            star(d)
        ),
        (Question::TreeDfs { depth: d }, CypherTuned) => format!(
            "MATCH (:Root)-[:CHILD_A|CHILD_B]->{{1,{}}}(b:B {{flag: true}}) \
             RETURN count(DISTINCT b) AS c",
            depth(d)
        ),
        (Question::TreeDfs { depth: d }, Apoc) => format!(
            "MATCH (r:Root) CALL apoc.path.subgraphNodes(r, {{relationshipFilter: \
             'CHILD_A>|CHILD_B>', maxLevel: {}}}) YIELD node \
             WITH node WHERE node:B AND node.flag = true RETURN count(node) AS c",
            level(d)
        ),
        (Question::TreeDfs { depth: d }, Gds) => format!(
            "MATCH (r:Root) CALL gds.dfs.stream('{gds_graph}', {{sourceNode: r{}}}) \
             YIELD nodeIds UNWIND gds.util.asNodes(nodeIds) AS b \
             WITH b WHERE b:B AND b.flag = true RETURN count(b) AS c",
            d.map_or(String::new(), |d| format!(", maxDepth: {d}"))
        ),
        (Question::TreeArticle { depth: d }, Cypher) => format!(
            "MATCH p = (:Root)-[:CHILD_A|CHILD_B{}]->(b:B) WHERE b.flag = true \
             AND all(i IN range(1, length(p) - 1) WHERE \
             (nodes(p)[i]:A AND type(relationships(p)[i]) = 'CHILD_A') OR \
             (nodes(p)[i]:B AND type(relationships(p)[i]) = 'CHILD_B')) \
             RETURN count(DISTINCT b) AS c",
            star(d)
        ),
        (Question::TreeArticle { depth: d }, CypherTuned) => format!(
            "MATCH (:Root)-[:CHILD_A|CHILD_B]->(x) \
             ((p)-[r:CHILD_A|CHILD_B]->(q) WHERE (p:A AND r:CHILD_A) OR (p:B AND r:CHILD_B)){{0,{}}} \
             (b:B) WHERE b.flag = true RETURN count(DISTINCT b) AS c",
            d.map_or(String::new(), |d| d.saturating_sub(1).to_string())
        ),
        (Question::ShortestPath, Cypher) => format!(
            "MATCH (a) WHERE id(a) = $a MATCH (b) WHERE id(b) = $b \
             OPTIONAL MATCH p = shortestPath((a)-[:{PATH_TYPES}*..6]-(b)) RETURN length(p) AS len"
        ),
        (Question::ShortestPath, CypherTuned) => format!(
            "MATCH (a:Artist) WHERE id(a) = $a MATCH (b:Artist) WHERE id(b) = $b \
             OPTIONAL MATCH p = shortestPath((a)-[:{PATH_TYPES}*1..6]-(b)) \
             RETURN length(p) AS len"
        ),
        (Question::ShortestPath, Gds) => format!(
            "MATCH (a) WHERE id(a) = $a MATCH (b) WHERE id(b) = $b \
             OPTIONAL CALL gds.shortestPath.dijkstra.stream('{gds_graph}', \
             {{sourceNode: a, targetNode: b}}) YIELD totalCost \
             RETURN CASE WHEN totalCost <= 6 THEN toInteger(totalCost) END AS len"
        ),
        (Question::Explore, Cypher) => format!(
            "MATCH (a) WHERE id(a) = $id MATCH p = (a)-[:{EXPLORE_TYPES}*1..3]-(n) \
             WHERE (n:Artist OR n:Label) AND n <> a RETURN id(n) AS k, min(length(p)) AS v"
        ),
        (Question::Explore, CypherTuned) => format!(
            "MATCH (a:Artist) WHERE id(a) = $id \
             MATCH p = SHORTEST 1 (a)-[:{EXPLORE_TYPES}]-{{1,3}}(n:Artist|Label) WHERE n <> a \
             RETURN id(n) AS k, length(p) AS v"
        ),
        (Question::Explore, Apoc) => format!(
            "MATCH (a) WHERE id(a) = $id CALL apoc.path.expandConfig(a, {{relationshipFilter: \
             '{EXPLORE_TYPES}', labelFilter: '>Artist|>Label', minLevel: 1, maxLevel: 3, \
             uniqueness: 'NODE_GLOBAL', bfs: true}}) YIELD path \
             RETURN id(last(nodes(path))) AS k, length(path) AS v"
        ),
        (Question::CoArtists, Cypher) => "MATCH (a:Artist)<-[:BY]-(:Release)-[:BY]->(o:Artist) \
             WHERE id(a) = $id AND o <> a RETURN id(o) AS k, count(*) AS v"
            .into(),
        (Question::CoArtists, CypherTuned) => "MATCH (a:Artist) WHERE id(a) = $id \
             MATCH (a)<-[:BY]-(r:Release) WITH a, r \
             MATCH (r)-[:BY]->(o:Artist) WHERE o <> a RETURN id(o) AS k, count(*) AS v"
            .into(),
        (Question::CoArtists, Apoc) => "MATCH (a) WHERE id(a) = $id \
             CALL apoc.path.expandConfig(a, {relationshipFilter: '<BY,BY>', labelFilter: \
             '+Release|+Artist', minLevel: 2, maxLevel: 2, uniqueness: 'NODE_PATH'}) YIELD path \
             RETURN id(last(nodes(path))) AS k, count(*) AS v"
            .into(),
        (Question::ArtistLabels, Cypher) => "MATCH (a:Artist)<-[:BY]-(:Release)-[:ON]->(l:Label) \
             WHERE id(a) = $id RETURN id(l) AS k, count(*) AS v"
            .into(),
        (Question::ArtistLabels, CypherTuned) => "MATCH (a:Artist) WHERE id(a) = $id \
             MATCH (a)<-[:BY]-(r:Release) WITH r \
             MATCH (r)-[:ON]->(l:Label) RETURN id(l) AS k, count(*) AS v"
            .into(),
        (Question::ArtistLabels, Apoc) => "MATCH (a) WHERE id(a) = $id \
             CALL apoc.path.expandConfig(a, {relationshipFilter: '<BY,ON>', labelFilter: \
             '+Release|+Label', minLevel: 2, maxLevel: 2, uniqueness: 'NODE_PATH'}) YIELD path \
             RETURN id(last(nodes(path))) AS k, count(*) AS v"
            .into(),
        (Question::GenreYears, Cypher) => "MATCH (g) WHERE id(g) = $id \
             MATCH (g)<-[:IS]-(r:Release) \
             RETURN coalesce(toString(r.year), 'null') AS k, count(DISTINCT r) AS v"
            .into(),
        (Question::GenreYears, CypherTuned) => "MATCH (g:Genre) WHERE id(g) = $id \
             MATCH (g)<-[:IS]-(r:Release) WITH r.year AS y, count(*) AS v \
             RETURN coalesce(toString(y), 'null') AS k, v"
            .into(),
        (Question::GenreYears, Apoc) => "MATCH (g) WHERE id(g) = $id \
             CALL apoc.path.subgraphNodes(g, {relationshipFilter: '<IS', labelFilter: \
             '+Release', minLevel: 1, maxLevel: 1}) YIELD node \
             RETURN coalesce(toString(node.year), 'null') AS k, count(*) AS v"
            .into(),
        (Question::TopDegree, Cypher) => "MATCH (a:Artist)--() \
             WITH a, count(*) AS d ORDER BY d DESC, id(a) LIMIT 100 RETURN id(a) AS k, d AS v"
            .into(),
        (Question::TopDegree, CypherTuned) => "MATCH (a:Artist) \
             WITH a, COUNT { (a)--() } AS d ORDER BY d DESC, id(a) LIMIT 100 \
             RETURN id(a) AS k, d AS v"
            .into(),
        _ => return None,
    })
}

/// Puts Cypher rows in the canonical form of `q`.
/// `query` names the query the rows answer, for errors.
fn canonical_rows(q: Question, query: &str, rows: &[neo4rs::Row]) -> Result<Value, BenchError> {
    let int = |row: &neo4rs::Row, col: &'static str| -> Result<u64, BenchError> {
        row.get::<i64>(col)
            .map(|v| v as u64)
            .map_err(BenchError::column(query, col))
    };
    let key_values = || -> Result<Vec<(u64, u64)>, BenchError> {
        rows.iter()
            .map(|r| Ok((int(r, "k")?, int(r, "v")?)))
            .collect()
    };
    let first = || {
        rows.first().ok_or_else(|| BenchError::NoRow {
            query: query.to_string(),
        })
    };
    Ok(match q {
        Question::TreeDfs { .. } | Question::TreeArticle { .. } | Question::RoundTrip => {
            json!(int(first()?, "c")?)
        }
        Question::ShortestPath => first()?
            .get::<Option<i64>>("len")
            .map_err(BenchError::column(query, "len"))?
            .map_or(Value::Null, Value::from),
        Question::GenreYears => keyed(
            rows.iter()
                .map(|r| {
                    let k = r
                        .get::<String>("k")
                        .map_err(BenchError::column(query, "k"))?;
                    Ok((k, int(r, "v")?))
                })
                .collect::<Result<Vec<_>, BenchError>>()?,
        ),
        // Already in Cypher's `ORDER BY`, which is part of the answer.
        Question::TopDegree => json!(key_values()?),
        Question::Explore | Question::CoArtists | Question::ArtistLabels => pairs(key_values()?),
        Question::Statement(_) => return Err(BenchError::NotTraversal { question: q }),
    })
}

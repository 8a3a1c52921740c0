//! The random graphs, random requests and APOC comparisons the differential suites share.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use neo4rs::{Graph, query};
use neotrav_client::fallback;
use neotrav_datasets::generate::Dataset;
use neotrav_datasets::generate::random::Random;
use neotrav_datasets::load::{self, LoadOptions};
use neotrav_neo4j::export::{self, ExportOptions, Origin};
use neotrav_neo4j::testkit::rows;
use neotrav_snapshot::NoProgress;
use neotrav_traverser::engine::Engine;
use neotrav_wire::{
    Answer, Consistency, NodeSelector, OneOrMany, Op, Predicate, ReturnForm, Scalar,
    ShortestPathRequest, ShortestPathResponse, TraverseRequest, Uniqueness,
};

pub const LABELS: u32 = 4;
pub const TYPES: u32 = 3;
pub const KEYS: [&str; 3] = ["score", "flag", "name"];

/// SplitMix64: a tiny seeded generator, so the cases do not depend on a crate's streams.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

pub fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A loaded and exported random graph.
pub struct Fixture {
    pub engine: Engine,
    pub ids: Vec<u64>,
    pub _dir: tempfile::TempDir,
}

pub async fn fixture(graph: &Graph, uri: &str, nodes: u64, degree: f64, seed: u64) -> Fixture {
    let dataset = Arc::new(Random::new(nodes, degree, LABELS, TYPES, seed).unwrap());
    let options = LoadOptions {
        replace: true,
        ..LoadOptions::default()
    };
    load::load(graph, dataset.clone(), &options, &NoProgress)
        .await
        .expect("load");
    let properties = dataset
        .schema()
        .properties
        .iter()
        .filter(|p| KEYS.contains(&p.key))
        .map(|p| (p.label.to_string(), p.key.to_string()))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("random.snap");
    let origin = Origin {
        address: uri.to_string(),
        database: String::new(),
    };
    let export_options = ExportOptions {
        properties,
        ..ExportOptions::default()
    };
    export::export(graph, &origin, &export_options, &out, &NoProgress)
        .await
        .expect("export");
    let engine = Engine::open(&out).expect("open");
    let view = engine.snapshot().view();
    let ids = (0..view.node_count() as u32)
        .map(|i| view.node_id(i).unwrap())
        .collect();
    Fixture {
        engine,
        ids,
        _dir: dir,
    }
}

pub fn label(rng: &mut Rng) -> String {
    format!("L{}", rng.below(u64::from(LABELS)))
}

pub fn rel_type(rng: &mut Rng) -> String {
    format!("T{}", rng.below(u64::from(TYPES)))
}

pub fn rel_step(rng: &mut Rng) -> String {
    if rng.chance(10) {
        return rng.pick(&[">", "<"]).to_string();
    }
    let n = 1 + rng.below(3);
    let mut entries = Vec::new();
    for _ in 0..n {
        let t = rel_type(rng);
        entries.push(match rng.below(3) {
            0 => format!("{t}>"),
            1 => format!("<{t}"),
            _ => t,
        });
    }
    entries.join("|")
}

pub fn label_step(rng: &mut Rng) -> String {
    let n = 1 + rng.below(3);
    let mut entries = Vec::new();
    for _ in 0..n {
        let prefix = *rng.pick(&["+", "-", "/", ">", "", "+"]);
        let body = if rng.chance(15) {
            format!("{}:{}", label(rng), label(rng))
        } else {
            label(rng)
        };
        entries.push(format!("{prefix}{body}"));
    }
    entries.join("|")
}

pub fn scalar(rng: &mut Rng, key: &str) -> Scalar {
    match key {
        "score" => Scalar::Int(rng.below(101) as i64 - 50),
        "flag" => Scalar::Bool(rng.chance(50)),
        _ => Scalar::String(format!("n{}", rng.below(1000))),
    }
}

pub fn predicate(rng: &mut Rng) -> Predicate {
    let key = rng.pick(&KEYS).to_string();
    let op = *rng.pick(&[
        Op::Eq,
        Op::Ne,
        Op::Lt,
        Op::Le,
        Op::Gt,
        Op::Ge,
        Op::In,
        Op::IsNull,
        Op::IsNotNull,
    ]);
    let value = match op {
        Op::IsNull | Op::IsNotNull => None,
        Op::In => Some(OneOrMany::Many(
            (0..1 + rng.below(3)).map(|_| scalar(rng, &key)).collect(),
        )),
        _ => Some(OneOrMany::One(scalar(rng, &key))),
    };
    Predicate {
        label: rng.chance(50).then(|| label(rng)),
        key,
        op,
        value,
    }
}

/// How exactly a case can be compared.
#[derive(Debug, PartialEq, Eq)]
pub enum Check {
    /// APOC's answer does not depend on relationship order: equal.
    Exact,
    /// It does: within the answer to the same request with uniqueness NONE.
    WithinNone,
    /// `limit` picks an order-dependent prefix: within the unlimited answer.
    WithinUnlimited,
}

pub fn random_request(rng: &mut Rng, ids: &[u64]) -> (TraverseRequest, Check) {
    let starts: Vec<NodeSelector> = (0..if rng.chance(20) { 2 + rng.below(2) } else { 1 })
        .map(|_| NodeSelector::Id(*rng.pick(ids)))
        .collect();
    let mut r = TraverseRequest::from_start(if starts.len() == 1 {
        OneOrMany::One(starts[0].clone())
    } else {
        OneOrMany::Many(starts)
    });
    r.uniqueness = *rng.pick(&[
        Uniqueness::NodeGlobal,
        Uniqueness::NodeGlobal,
        Uniqueness::NodeGlobal,
        Uniqueness::RelationshipPath,
        Uniqueness::RelationshipPath,
        Uniqueness::NodePath,
        Uniqueness::None,
        Uniqueness::NodeLevel,
        Uniqueness::RelationshipLevel,
        Uniqueness::RelationshipGlobal,
    ]);
    let global = r.uniqueness == Uniqueness::NodeGlobal;
    let rel_steps = if rng.chance(15) { 2 } else { 1 };
    let label_steps = if rng.chance(15) { 2 } else { 1 };
    r.begin_sequence_at_start = !(rel_steps > 1 && rng.chance(30));
    if rng.chance(6) {
        // The combined form: labels and relationships alternating.
        let mut parts = Vec::new();
        if !r.begin_sequence_at_start {
            parts.push(rel_step(rng));
        }
        for _ in 0..2 {
            parts.push(label_step(rng));
            parts.push(rel_step(rng));
        }
        r.sequence = Some(parts.join(","));
    } else {
        if !rng.chance(8) {
            r.relationship_filter = Some(
                (0..rel_steps)
                    .map(|_| rel_step(rng))
                    .collect::<Vec<_>>()
                    .join(","),
            );
        }
        if rng.chance(45) {
            r.label_filter = Some(
                (0..label_steps)
                    .map(|_| label_step(rng))
                    .collect::<Vec<_>>()
                    .join(","),
            );
        }
    }
    r.min_level = if rng.chance(25) {
        rng.below(3) as i64
    } else {
        -1
    };
    r.max_level = if global && rng.chance(50) {
        -1
    } else {
        1 + rng.below(if global { 5 } else { 3 }) as i64
    };
    r.filter_start_node = rng.chance(20);
    let node_list = |rng: &mut Rng| -> Vec<NodeSelector> {
        if rng.chance(10) {
            (0..1 + rng.below(4))
                .map(|_| NodeSelector::Id(*rng.pick(ids)))
                .collect()
        } else {
            Vec::new()
        }
    };
    r.end_nodes = node_list(rng);
    r.terminator_nodes = node_list(rng);
    r.allowlist_nodes = if rng.chance(85) {
        Vec::new()
    } else {
        // A useful allowlist is large: half the graph.
        node_list(rng)
            .into_iter()
            .chain(
                ids.iter()
                    .filter(|_| rng.chance(60))
                    .map(|&i| NodeSelector::Id(i)),
            )
            .collect()
    };
    r.denylist_nodes = node_list(rng);
    if rng.chance(25) {
        r.predicates = (0..1 + rng.below(2)).map(|_| predicate(rng)).collect();
    }
    let path_unique = matches!(
        r.uniqueness,
        Uniqueness::NodePath | Uniqueness::RelationshipPath | Uniqueness::None
    );
    r.return_form = match rng.below(10) {
        0 | 1 if path_unique => ReturnForm::Paths,
        2 => ReturnForm::Count,
        3 => ReturnForm::GroupBy {
            key: rng.pick(&KEYS).to_string(),
            label: rng.chance(50).then(|| label(rng)),
        },
        _ => ReturnForm::Nodes,
    };
    // Depth-first NODE_GLOBAL visits a node first at whatever depth the store's relationship
    // order leads to; its answer is order-free only when nothing depends on depth.
    let depth_free = r.max_level == -1
        && r.min_level <= 1
        && rel_steps == 1
        && label_steps == 1
        && r.sequence.is_none()
        && r.begin_sequence_at_start;
    r.bfs = !(global && depth_free) || rng.chance(50);
    let mut check = match r.uniqueness {
        Uniqueness::NodeLevel | Uniqueness::RelationshipLevel | Uniqueness::RelationshipGlobal => {
            Check::WithinNone
        }
        _ => Check::Exact,
    };
    if check == Check::Exact && rng.chance(8) {
        r.limit = 1 + rng.below(8) as i64;
        check = Check::WithinUnlimited;
    }
    (r, check)
}

/// The start node ids of a generated request (ids only).
fn start_ids(r: &TraverseRequest) -> Vec<u64> {
    r.start
        .as_slice()
        .iter()
        .map(|s| match s {
            NodeSelector::Id(i) => *i,
            other => panic!("unexpected selector {other:?}"),
        })
        .collect()
}

/// APOC's answer: every returned path as (node ids, relationship ids), filtered by `where`
/// (the client's Cypher fallback builds and runs the query).
pub async fn apoc_paths(graph: &Graph, r: &TraverseRequest) -> Vec<(Vec<u64>, Vec<u64>)> {
    fallback::apoc_paths(graph, r, &start_ids(r))
        .await
        .unwrap_or_else(|e| panic!("APOC failed on {}: {e}", serde_json::to_string(r).unwrap()))
        .into_iter()
        .map(|p| (p.nodes, p.relationships))
        .collect()
}

/// Cypher's group-by over the distinct end nodes of APOC's paths.
pub async fn apoc_groups(graph: &Graph, r: &TraverseRequest) -> BTreeMap<String, u64> {
    let ReturnForm::GroupBy { .. } = &r.return_form else {
        unreachable!()
    };
    fallback::apoc_groups(graph, r, &start_ids(r))
        .await
        .unwrap()
        .0
        .into_iter()
        .collect()
}

pub fn ours(engine: &Engine, r: &TraverseRequest) -> Answer {
    engine
        .traverse(r)
        .unwrap_or_else(|e| panic!("neotrav failed: {e}\n{}", serde_json::to_string(r).unwrap()))
        .answer
}

/// Compares one case; returns the size of APOC's answer (distinct end nodes or groups).
pub async fn check_case(
    graph: &Graph,
    answer: Answer,
    r: &TraverseRequest,
    check: &Check,
) -> Result<usize, String> {
    let reference = match check {
        Check::Exact => r.clone(),
        Check::WithinNone => TraverseRequest {
            uniqueness: Uniqueness::None,
            ..r.clone()
        },
        Check::WithinUnlimited => TraverseRequest {
            limit: -1,
            ..r.clone()
        },
    };
    if let ReturnForm::GroupBy { .. } = r.return_form
        && *check == Check::Exact
    {
        let theirs = apoc_groups(graph, r).await;
        let Answer::Groups(g) = answer else {
            return Err("not groups".into());
        };
        let mine: BTreeMap<String, u64> = g.0.into_iter().collect();
        return if mine == theirs {
            Ok(theirs.len())
        } else {
            Err(format!(
                "groups differ:\n neotrav {mine:?}\n apoc    {theirs:?}"
            ))
        };
    }
    let theirs = apoc_paths(graph, &reference).await;
    let their_ends: BTreeSet<u64> = theirs.iter().map(|(n, _)| *n.last().unwrap()).collect();
    let size = their_ends.len();
    let (my_ends, my_paths): (Vec<u64>, Option<BTreeSet<IdPath>>) = match answer {
        Answer::Nodes(n) => (n, None),
        Answer::Count(c) => {
            return match check {
                Check::Exact if c == their_ends.len() as u64 => Ok(size),
                Check::Exact => Err(format!("count {c}, APOC {}", their_ends.len())),
                _ if c <= their_ends.len() as u64 => Ok(size),
                _ => Err(format!("count {c} exceeds APOC's {}", their_ends.len())),
            };
        }
        Answer::Paths(p) => {
            let ends = p.iter().map(|p| *p.nodes.last().unwrap()).collect();
            let set = p.into_iter().map(|p| (p.nodes, p.relationships)).collect();
            (ends, Some(set))
        }
        Answer::Groups(g) => {
            // Order-dependent group-by: the total must fit within the reference.
            let total: u64 = g.0.iter().map(|(_, n)| n).sum();
            return if total <= their_ends.len() as u64 {
                Ok(size)
            } else {
                Err(format!(
                    "{total} grouped nodes exceed APOC's {}",
                    their_ends.len()
                ))
            };
        }
    };
    let mine: BTreeSet<u64> = my_ends.iter().copied().collect();
    if my_paths.is_none() && mine.len() != my_ends.len() {
        return Err(format!("neotrav returned duplicate nodes: {my_ends:?}"));
    }
    let within = mine.is_subset(&their_ends);
    match check {
        Check::Exact => {
            if mine != their_ends {
                return Err(format!(
                    "end nodes differ:\n neotrav only {:?}\n apoc only    {:?}",
                    mine.difference(&their_ends).collect::<Vec<_>>(),
                    their_ends.difference(&mine).collect::<Vec<_>>()
                ));
            }
            if let Some(paths) = my_paths {
                let theirs: BTreeSet<_> = theirs.into_iter().collect();
                if paths != theirs {
                    return Err(format!(
                        "paths differ:\n neotrav only {:?}\n apoc only    {:?}",
                        paths.difference(&theirs).take(5).collect::<Vec<_>>(),
                        theirs.difference(&paths).take(5).collect::<Vec<_>>()
                    ));
                }
            }
            Ok(size)
        }
        Check::WithinUnlimited if my_ends.len() as i64 > r.limit => Err(format!(
            "{} results exceed the limit {}",
            my_ends.len(),
            r.limit
        )),
        _ if within => Ok(size),
        _ => Err(format!(
            "neotrav found nodes APOC cannot reach: {:?}",
            mine.difference(&their_ends).collect::<Vec<_>>()
        )),
    }
}

/// A random shortest-path question, with one direction for all its types so that Cypher can
/// ask it too.
/// A path as (node ids, relationship ids).
pub type IdPath = (Vec<u64>, Vec<u64>);

pub struct ShortestCase {
    pub from: u64,
    pub to: u64,
    pub types: Vec<String>,
    pub dir: u64,
    pub max: i64,
    pub all: bool,
}

impl ShortestCase {
    pub fn random(rng: &mut Rng, ids: &[u64]) -> Option<ShortestCase> {
        let from = *rng.pick(ids);
        let to = *rng.pick(ids);
        let types = (0..1 + rng.below(3)).map(|_| rel_type(rng)).collect();
        let case = ShortestCase {
            from,
            to,
            types,
            dir: rng.below(3),
            max: 1 + rng.below(8) as i64,
            all: rng.chance(50),
        };
        (from != to).then_some(case)
    }

    pub fn filter(&self) -> String {
        let t = &self.types;
        match self.dir {
            0 => t
                .iter()
                .map(|t| format!("{t}>"))
                .collect::<Vec<_>>()
                .join("|"),
            1 => t
                .iter()
                .map(|t| format!("<{t}"))
                .collect::<Vec<_>>()
                .join("|"),
            _ => t.join("|"),
        }
    }

    pub fn request(&self, fresh: bool) -> ShortestPathRequest {
        ShortestPathRequest {
            from: NodeSelector::Id(self.from),
            to: NodeSelector::Id(self.to),
            relationship_filter: Some(self.filter()),
            max_level: self.max,
            all: self.all,
            consistency: if fresh {
                Consistency::Fresh
            } else {
                Consistency::Snapshot
            },
            budget: Default::default(),
        }
    }

    /// Compares neotrav's answer with Cypher's `shortestPath` / `allShortestPaths`; panics
    /// naming the case on a difference. Returns whether a path exists.
    pub async fn check(&self, graph: &Graph, mine: &ShortestPathResponse, case: u64) -> bool {
        let (l, r) = match self.dir {
            0 => ("-", "->"),
            1 => ("<-", "-"),
            _ => ("-", "-"),
        };
        let q = fallback::translate::shortest_path_query(
            self.all,
            (l, r),
            &format!(":{}", self.types.join("|")),
            &format!("..{}", self.max),
        );
        let theirs: BTreeSet<(Vec<i64>, Vec<i64>)> = rows(
            graph,
            query(&q)
                .param("a", self.from as i64)
                .param("b", self.to as i64),
        )
        .await
        .unwrap()
        .into_iter()
        .map(|row| (row.get("nodes").unwrap(), row.get("rels").unwrap()))
        .collect();
        let their_len = theirs.iter().next().map(|(_, r)| r.len() as u32);
        let context = format!(
            "case {case}: {} -> {} over {} up to {}, all {}",
            self.from,
            self.to,
            self.filter(),
            self.max,
            self.all
        );
        assert_eq!(mine.length, their_len, "{context}");
        if self.all {
            let mine: BTreeSet<(Vec<i64>, Vec<i64>)> = mine
                .paths
                .iter()
                .map(|p| {
                    (
                        p.nodes.iter().map(|&x| x as i64).collect(),
                        p.relationships.iter().map(|&x| x as i64).collect(),
                    )
                })
                .collect();
            assert_eq!(mine, theirs, "{context}");
        } else if let Some(p) = mine.paths.first() {
            assert_eq!(Some(p.relationships.len() as u32), their_len, "{context}");
        }
        their_len.is_some()
    }
}

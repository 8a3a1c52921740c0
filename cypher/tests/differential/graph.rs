//! Random graphs for the suite: generated here, created in the test kit's Neo4j, exported to a
//! snapshot.

use std::collections::BTreeMap;

use neo4rs::{Graph, query};
use neotrav_neo4j::testkit::rows;
use neotrav_snapshot::Snapshot;
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;
use serde_json::{Value as Json, json};

use super::snapshot::export_to;

/// Labels of the random graphs.
pub const LABELS: [&str; 4] = ["L0", "L1", "L2", "L3"];
/// Relationship types of the random graphs.
pub const TYPES: [&str; 3] = ["T0", "T1", "T2"];
/// The exported node keys (for every label). Nodes also hold `idx`, which is not exported.
pub const KEYS: [&str; 5] = ["key", "num", "name", "score", "flag"];
/// Names share prefixes, so STARTS WITH / ENDS WITH / CONTAINS and string order have work.
pub const NAMES: [&str; 14] = [
    "al", "alp", "alpha", "alpine", "Alpha", "ALPS", "be", "bet", "beta", "better", "gam", "gamma",
    "zed", "",
];

/// One generated node: labels and properties (exported keys and `idx`).
#[derive(Debug, Clone)]
pub struct GenNode {
    pub labels: Vec<&'static str>,
    pub props: serde_json::Map<String, Json>,
}

/// A graph as generated and as Neo4j numbered it.
pub struct TestGraph {
    pub nodes: Vec<GenNode>,
    /// `(type, start index, end index)`.
    pub rels: Vec<(&'static str, usize, usize)>,
    /// Neo4j's id of node `i`.
    pub neo_ids: Vec<i64>,
    /// Neo4j's relationship ids.
    pub rel_ids: Vec<i64>,
    /// The database uuid of element ids.
    pub database_id: String,
    /// Whether one key holds values of several types.
    pub mixed: bool,
    pub snapshot: Snapshot<memmap2::Mmap>,
    pub _dir: tempfile::TempDir,
}

/// Generates the nodes and relationships of a random graph.
pub fn generate(
    seed: u64,
    nodes: usize,
    degree: f64,
    mixed: bool,
    unlabeled: bool,
) -> (Vec<GenNode>, Vec<(&'static str, usize, usize)>) {
    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    let mut out = Vec::with_capacity(nodes);
    for i in 0..nodes {
        let labels: Vec<&'static str> = match rng.random_range(0..10) {
            0 if unlabeled => vec![],
            1 | 2 => {
                let a = rng.random_range(0..LABELS.len());
                let b = (a + 1 + rng.random_range(0..LABELS.len() - 1)) % LABELS.len();
                let mut l = vec![LABELS[a], LABELS[b]];
                if rng.random_bool(0.2) {
                    let c = (0..LABELS.len()).find(|c| *c != a && *c != b).unwrap();
                    l.push(LABELS[c]);
                }
                l
            }
            _ => vec![LABELS[rng.random_range(0..LABELS.len())]],
        };
        let mut props = serde_json::Map::new();
        props.insert("idx".into(), json!(i));
        // Unlabeled nodes hold no exported property (the snapshot keeps a key only for labels
        // it was exported for).
        if !labels.is_empty() {
            props.insert("key".into(), json!(i));
            if !rng.random_bool(0.2) {
                let v = if mixed {
                    match rng.random_range(0..20) {
                        0..=11 => json!(rng.random_range(-5i64..20)),
                        12..=14 => json!(f64::from(rng.random_range(-20i32..40)) / 4.0),
                        15..=17 => json!(NAMES[rng.random_range(0..NAMES.len())]),
                        _ => json!(rng.random_bool(0.5)),
                    }
                } else {
                    json!(rng.random_range(-5i64..20))
                };
                props.insert("num".into(), v);
            }
            if !rng.random_bool(0.15) {
                let base = NAMES[rng.random_range(0..NAMES.len())];
                let name = if rng.random_bool(0.3) {
                    format!("{base}{}", rng.random_range(0..10))
                } else {
                    base.to_string()
                };
                props.insert("name".into(), json!(name));
            }
            if !rng.random_bool(0.25) {
                // Some integral: 2.0 must stay a float.
                let x = if rng.random_bool(0.3) {
                    f64::from(rng.random_range(-10i32..10))
                } else {
                    f64::from(rng.random_range(-1000i32..1000)) / 100.0
                };
                props.insert("score".into(), json!(x));
            }
            if !rng.random_bool(0.3) {
                props.insert("flag".into(), json!(rng.random_bool(0.5)));
            }
        }
        out.push(GenNode { labels, props });
    }
    let count = (nodes as f64 * degree).round() as usize;
    let mut rels: Vec<(&'static str, usize, usize)> = Vec::with_capacity(count);
    for _ in 0..count {
        let t = TYPES[match rng.random_range(0..10) {
            0..=4 => 0,
            5..=7 => 1,
            _ => 2,
        }];
        let roll = rng.random_range(0..100);
        let rel = if roll < 5 {
            let a = rng.random_range(0..nodes);
            (t, a, a)
        } else if roll < 15 && !rels.is_empty() {
            // A parallel relationship: same ends as an earlier one, maybe another type.
            let (_, a, b) = rels[rng.random_range(0..rels.len())];
            (t, a, b)
        } else {
            (t, rng.random_range(0..nodes), rng.random_range(0..nodes))
        };
        rels.push(rel);
    }
    (out, rels)
}

/// Runs a query that writes, with parameters.
async fn write(graph: &Graph, text: &str, params: &[(&str, Json)]) {
    let mut q = query(text);
    for (k, v) in params {
        q = q.param(k, neotrav_neo4j::value::json(v));
    }
    rows(graph, q)
        .await
        .unwrap_or_else(|e| panic!("{text}: {e}"));
}

/// Creates the graph in the (clean) database and exports every key for every label.
pub async fn build(
    graph: &Graph,
    uri: &str,
    nodes: Vec<GenNode>,
    rels: Vec<(&'static str, usize, usize)>,
    mixed: bool,
    keys: &[(&str, &str)],
) -> TestGraph {
    let mut by_labels: BTreeMap<String, Vec<Json>> = BTreeMap::new();
    for n in &nodes {
        let l: String = n.labels.iter().map(|l| format!(":{l}")).collect();
        by_labels
            .entry(l)
            .or_default()
            .push(Json::Object(n.props.clone()));
    }
    for (labels, batch) in by_labels {
        write(
            graph,
            &format!("UNWIND $rows AS row CREATE (n{labels}) SET n = row"),
            &[("rows", Json::Array(batch))],
        )
        .await;
    }
    let mut neo_ids = vec![-1i64; nodes.len()];
    for row in rows(graph, query("MATCH (n) RETURN n.idx AS i, id(n) AS id"))
        .await
        .unwrap()
    {
        let i: i64 = row.get("i").unwrap();
        neo_ids[i as usize] = row.get("id").unwrap();
    }
    let mut by_type: BTreeMap<&str, Vec<Json>> = BTreeMap::new();
    for (k, (t, a, b)) in rels.iter().enumerate() {
        by_type
            .entry(t)
            .or_default()
            .push(json!({"s": neo_ids[*a], "e": neo_ids[*b], "w": k}));
    }
    for (t, batch) in by_type {
        write(
            graph,
            &format!(
                "UNWIND $rels AS r MATCH (a) WHERE id(a) = r.s MATCH (b) WHERE id(b) = r.e \
                 CREATE (a)-[:{t} {{w: r.w}}]->(b)"
            ),
            &[("rels", Json::Array(batch))],
        )
        .await;
    }
    let mut rel_ids = vec![-1i64; rels.len()];
    for row in rows(
        graph,
        query("MATCH ()-[r]->() RETURN r.w AS w, id(r) AS id"),
    )
    .await
    .unwrap()
    {
        let w: i64 = row.get("w").unwrap();
        rel_ids[w as usize] = row.get("id").unwrap();
    }
    let row = rows(graph, query("MATCH (n) RETURN elementId(n) AS e LIMIT 1"))
        .await
        .unwrap();
    let e: String = row[0].get("e").unwrap();
    let database_id = e.split(':').nth(1).unwrap().to_string();
    let exported: Vec<(String, String)> = keys
        .iter()
        .map(|(l, k)| (l.to_string(), k.to_string()))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("g.snap");
    export_to(graph, uri, &exported, &out).await;
    let snapshot = Snapshot::open(&out).expect("open the snapshot");
    TestGraph {
        nodes,
        rels,
        neo_ids,
        rel_ids,
        database_id,
        mixed,
        snapshot,
        _dir: dir,
    }
}

/// Every generator key for every label.
pub fn all_keys() -> Vec<(&'static str, &'static str)> {
    LABELS
        .iter()
        .flat_map(|l| KEYS.iter().map(move |k| (*l, *k)))
        .collect()
}

//! Each dataset, loaded into the real bundled Neo4j and exported back into a snapshot: every
//! node's labels and exported properties and every relationship in the snapshot equal what
//! Neo4j holds (all of them at small sizes, a seeded sample of 10,000 nodes at a larger one), and
//! what Neo4j holds equals what the generator made.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use neo4rs::{BoltType, Graph, query};
use neotrav_datasets::generate::discogs::Discogs;
use neotrav_datasets::generate::random::Random;
use neotrav_datasets::generate::testing::Collect;
use neotrav_datasets::generate::tree::Tree;
use neotrav_datasets::generate::{Dataset, Kind};
use neotrav_datasets::load::{self, LoadError, LoadOptions};
use neotrav_neo4j::export::{self, ExportError, ExportOptions, Origin};
use neotrav_neo4j::testkit::{self, rows};
use neotrav_snapshot::NoProgress;
use neotrav_snapshot::{Direction, PropertyKind, Snapshot};

/// The scalar properties of the schema, as `--properties` would name them.
fn exported_properties(dataset: &dyn Dataset) -> Vec<(String, String)> {
    dataset
        .schema()
        .properties
        .iter()
        .filter(|p| p.kind != Kind::StrList)
        .map(|p| (p.label.to_string(), p.key.to_string()))
        .collect()
}

#[derive(Debug, Clone, PartialEq)]
enum Scalar {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
}

/// A node as Neo4j holds it: sorted labels and the exported keys' values.
type NodeFacts = (Vec<String>, BTreeMap<String, Scalar>);

async fn neo4j_nodes(graph: &Graph, keys: &[String]) -> HashMap<u64, NodeFacts> {
    let q = "MATCH (n) RETURN id(n) AS id, labels(n) AS labels, properties(n) AS props";
    let mut out = HashMap::new();
    for row in rows(graph, query(q)).await.expect("nodes") {
        let id: i64 = row.get("id").unwrap();
        let mut labels: Vec<String> = row.get("labels").unwrap();
        labels.sort();
        let props: neo4rs::BoltMap = row.get("props").unwrap();
        let mut facts = BTreeMap::new();
        for key in keys {
            let value = match props.value.get(key.as_str()) {
                Some(BoltType::Integer(i)) => Scalar::Int(i.value),
                Some(BoltType::Float(f)) => Scalar::Float(f.value),
                Some(BoltType::Boolean(b)) => Scalar::Bool(b.value),
                Some(BoltType::String(s)) => Scalar::Str(s.value.clone()),
                _ => continue,
            };
            facts.insert(key.clone(), value);
        }
        out.insert(id as u64, (labels, facts));
    }
    out
}

/// The facts the snapshot holds for the node with Neo4j id `id`.
fn snapshot_node(snap: &Snapshot<memmap2::Mmap>, id: u64, keys: &[(String, String)]) -> NodeFacts {
    let view = snap.view();
    let index = view
        .node_index(id)
        .unwrap_or_else(|| panic!("node {id} missing"));
    let header = snap.header();
    let mut labels: Vec<String> = header
        .labels
        .iter()
        .enumerate()
        .filter(|(code, _)| view.has_label(index, *code as u32))
        .map(|(_, name)| name.clone())
        .collect();
    labels.sort();
    let mut facts = BTreeMap::new();
    for (label, key) in keys {
        if !labels.contains(label) {
            continue;
        }
        let Some(column) = snap.column(label, key) else {
            continue; // never declared: no node had a value
        };
        let value = match column.kind() {
            PropertyKind::Int => column.int(index).map(Scalar::Int),
            PropertyKind::Float => column.float(index).map(Scalar::Float),
            PropertyKind::Bool => column.bool(index).map(Scalar::Bool),
            PropertyKind::String => column.str(index).map(|s| Scalar::Str(s.to_string())),
        };
        if let Some(v) = value {
            facts.insert(key.clone(), v);
        }
    }
    (labels, facts)
}

/// Every relationship in the snapshot as (id, type, start id, end id), from the outgoing lists,
/// checked against the incoming lists.
fn snapshot_relationships(snap: &Snapshot<memmap2::Mmap>) -> BTreeSet<(u64, String, u64, u64)> {
    let view = snap.view();
    let types = &snap.header().relationship_types;
    let mut out = BTreeSet::new();
    let mut incoming = BTreeSet::new();
    for index in 0..view.node_count() as u32 {
        let id = view.node_id(index).unwrap();
        for (dir, set) in [
            (Direction::Outgoing, &mut out),
            (Direction::Incoming, &mut incoming),
        ] {
            let edges = view.edges(index, dir);
            for i in 0..edges.len() {
                let other = view.node_id(edges.neighbors[i]).unwrap();
                let rel = view
                    .relationship_id(edges.relationship(i).unwrap())
                    .unwrap();
                let t = types[edges.types[i] as usize].clone();
                let (s, e) = match dir {
                    Direction::Outgoing => (id, other),
                    Direction::Incoming => (other, id),
                };
                set.insert((rel, t, s, e));
            }
        }
    }
    assert_eq!(out, incoming, "outgoing and incoming lists disagree");
    out
}

async fn neo4j_relationships(graph: &Graph) -> BTreeSet<(u64, String, u64, u64)> {
    let q = "MATCH (a)-[r]->(b) RETURN id(r) AS r, type(r) AS t, id(a) AS s, id(b) AS e";
    rows(graph, query(q))
        .await
        .expect("relationships")
        .iter()
        .map(|row| {
            let r: i64 = row.get("r").unwrap();
            let s: i64 = row.get("s").unwrap();
            let e: i64 = row.get("e").unwrap();
            (
                r as u64,
                row.get::<String>("t").unwrap(),
                s as u64,
                e as u64,
            )
        })
        .collect()
}

/// Loads, exports, and compares; `sample` limits the node comparison to that many seeded ids.
async fn round_trip(dataset: Arc<dyn Dataset>, sample: Option<usize>) {
    let db = testkit::clean_graph().await;
    let generated = Collect::run(dataset.as_ref());
    let report = load::load(
        &db.graph,
        dataset.clone(),
        &LoadOptions::default(),
        &NoProgress,
    )
    .await
    .expect("load");
    assert_eq!(report.nodes, generated.nodes.len() as u64);
    assert_eq!(report.relationships, generated.rels.len() as u64);

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("export.snap");
    let props = exported_properties(dataset.as_ref());
    let options = ExportOptions {
        properties: props.clone(),
        page_size: 700, // many pages, several in flight
        ..ExportOptions::default()
    };
    let origin = Origin {
        address: db.server.uri.clone(),
        database: String::new(),
    };
    let exported = export::export(&db.graph, &origin, &options, &out, &NoProgress)
        .await
        .expect("export");
    assert_eq!(exported.nodes, generated.nodes.len() as u64);
    assert_eq!(exported.relationships, generated.rels.len() as u64);

    let snap = Snapshot::open(&out).expect("the export opens");
    snap.verify().expect("the export verifies");
    assert_eq!(snap.header().source.address, db.server.uri);
    assert!(!snap.header().source.neo4j_version.is_empty());

    let mut keys: Vec<String> = props.iter().map(|(_, k)| k.clone()).collect();
    keys.sort();
    keys.dedup();
    let nodes = neo4j_nodes(&db.graph, &keys).await;
    assert_eq!(nodes.len(), snap.view().node_count());
    let mut ids: Vec<u64> = nodes.keys().copied().collect();
    ids.sort_unstable();
    if let Some(n) = sample {
        // A seeded, spread sample: every k-th id from a seeded offset.
        let step = (ids.len() / n).max(1);
        let offset = (dataset.node_count() as usize * 7919) % step;
        ids = ids.into_iter().skip(offset).step_by(step).take(n).collect();
        assert!(ids.len() >= n.min(nodes.len()) * 9 / 10);
    }
    for id in &ids {
        let expected = &nodes[id];
        // Keys the node has but not for one of its exported labels are not expected.
        let (labels, facts) = expected;
        let facts: BTreeMap<String, Scalar> = facts
            .iter()
            .filter(|(k, _)| props.iter().any(|(l, key)| key == *k && labels.contains(l)))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        assert_eq!(
            snapshot_node(&snap, *id, &props),
            (labels.clone(), facts),
            "node {id}"
        );
    }
    assert_eq!(
        snapshot_relationships(&snap),
        neo4j_relationships(&db.graph).await,
        "relationships"
    );

    // What Neo4j holds is what the generator made: label sets and relationship types agree
    // in number.
    let mut generated_labels: BTreeMap<Vec<String>, usize> = BTreeMap::new();
    for n in &generated.nodes {
        let mut l = n.labels.clone();
        l.sort();
        *generated_labels.entry(l).or_default() += 1;
    }
    let mut loaded_labels: BTreeMap<Vec<String>, usize> = BTreeMap::new();
    for (labels, _) in nodes.values() {
        *loaded_labels.entry(labels.clone()).or_default() += 1;
    }
    assert_eq!(loaded_labels, generated_labels);
    let mut generated_types: BTreeMap<String, usize> = BTreeMap::new();
    for r in &generated.rels {
        *generated_types.entry(r.rel_type.to_string()).or_default() += 1;
    }
    let mut loaded_types: BTreeMap<String, usize> = BTreeMap::new();
    for (_, t, _, _) in snapshot_relationships(&snap) {
        *loaded_types.entry(t).or_default() += 1;
    }
    assert_eq!(loaded_types, generated_types);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tree_round_trips_through_neo4j() {
    round_trip(Arc::new(Tree::new(3_000, 4, 1).unwrap()), None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_round_trips_through_neo4j() {
    round_trip(Arc::new(Random::new(1_500, 3.0, 4, 3, 2).unwrap()), None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discogs_round_trips_through_neo4j() {
    round_trip(Arc::new(Discogs::new(0.0005, 3).unwrap()), None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_larger_random_graph_round_trips_on_a_sample() {
    round_trip(
        Arc::new(Random::new(60_000, 2.0, 4, 3, 4).unwrap()),
        Some(10_000),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loading_into_a_database_with_data_needs_replace() {
    let db = testkit::clean_graph().await;
    db.graph.run(query("CREATE (:Keep)")).await.unwrap();
    let tree: Arc<dyn Dataset> = Arc::new(Tree::new(10, 2, 1).unwrap());
    let err = load::load(
        &db.graph,
        tree.clone(),
        &LoadOptions::default(),
        &NoProgress,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, LoadError::NotEmpty { nodes: 1 }), "{err}");
    assert!(err.to_string().contains("--replace"), "{err}");
    let options = LoadOptions {
        replace: true,
        ..LoadOptions::default()
    };
    load::load(&db.graph, tree, &options, &NoProgress)
        .await
        .unwrap();
    let keep = rows(&db.graph, query("MATCH (n:Keep) RETURN n"))
        .await
        .unwrap();
    assert!(keep.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_filters_labels_and_types() {
    let db = testkit::clean_graph().await;
    db.graph
        .run(query(
            "CREATE (a:A {k: 1})-[:R]->(b:B {k: 'x'})-[:S]->(c:C), (a)-[:S]->(a), (c)-[:R]->(a)",
        ))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("f.snap");
    let options = ExportOptions {
        labels: vec!["A".into(), "C".into()],
        types: vec!["R".into()],
        properties: vec![("A".into(), "k".into())],
        ..ExportOptions::default()
    };
    let report = export::export(&db.graph, &Origin::default(), &options, &out, &NoProgress)
        .await
        .unwrap();
    // Nodes A and C; of the R relationships only C->A joins two exported nodes.
    assert_eq!((report.nodes, report.relationships), (2, 1));
    let snap = Snapshot::open(&out).unwrap();
    assert_eq!(snap.header().relationship_types.len(), 1);
    assert_eq!(snap.column("A", "k").unwrap().int(0), Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_refuses_what_it_cannot_hold_and_keeps_the_old_file() {
    let db = testkit::clean_graph().await;
    db.graph
        .run(query("CREATE (:A {k: 1, tags: ['x']}), (:A {k: 2.5})"))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("keep.snap");
    std::fs::write(&out, b"the previous snapshot").unwrap();
    let run = |properties: Vec<(String, String)>, labels: Vec<String>| {
        let out = out.clone();
        let graph = db.graph.clone();
        async move {
            let options = ExportOptions {
                labels,
                properties,
                ..ExportOptions::default()
            };
            export::export(&graph, &Origin::default(), &options, &out, &NoProgress).await
        }
    };
    let err = run(vec![("Nope".into(), "k".into())], vec![])
        .await
        .unwrap_err();
    assert!(
        matches!(err, ExportError::Unknown { what: "label", .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("Nope") && err.to_string().contains("A"),
        "{err}"
    );
    let err = run(vec![], vec!["Missing".into()]).await.unwrap_err();
    assert!(matches!(err, ExportError::Unknown { .. }), "{err}");
    let err = run(vec![("A".into(), "nokey".into())], vec![])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ExportError::Unknown {
                what: "property key",
                ..
            }
        ),
        "{err}"
    );
    let err = run(vec![("A".into(), "tags".into())], vec![])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("list"), "{err}");
    assert_eq!(std::fs::read(&out).unwrap(), b"the previous snapshot");
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 1, "no temporary file is left behind");
}

/// Neo4j has no schema: a key holding an int, a float, a string and a bool on different nodes
/// exports (one column per type) and is looked up with Cypher's `=` (`1 = 1.0`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_of_several_types_exports_and_is_looked_up() {
    use neotrav_snapshot::PropertyValue as V;
    let db = testkit::clean_graph().await;
    db.graph
        .run(query(
            "CREATE (:A {k: 1, i: 0}), (:A {k: 1.0, i: 1}), (:A {k: '1', i: 2}), \
             (:A {k: true, i: 3}), (:A {k: 2.5, i: 4}), (:A {i: 5}), (:B {k: 1, i: 6})",
        ))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("mixed.snap");
    let options = ExportOptions {
        properties: vec![("A".into(), "k".into()), ("A".into(), "i".into())],
        ..ExportOptions::default()
    };
    export::export(&db.graph, &Origin::default(), &options, &out, &NoProgress)
        .await
        .unwrap();
    let snap = Snapshot::open(&out).unwrap();
    snap.verify().unwrap();
    let k = snap.property("k").unwrap();
    let mut kinds: Vec<_> = k.kinds().collect();
    kinds.sort_by_key(|k| *k as u8);
    assert_eq!(
        kinds,
        [
            PropertyKind::Int,
            PropertyKind::Float,
            PropertyKind::Bool,
            PropertyKind::String
        ]
    );
    let i = snap.property("i").unwrap();
    let marks = |nodes: Vec<u32>| -> Vec<i64> {
        let mut m: Vec<i64> = nodes
            .into_iter()
            .map(|n| match i.get(n) {
                Some(V::Int(x)) => x,
                other => panic!("node {n}: i is {other:?}"),
            })
            .collect();
        m.sort_unstable();
        m
    };
    assert_eq!(marks(k.seek(V::Int(1))), [0, 1]);
    assert_eq!(marks(k.seek(V::Float(1.0))), [0, 1]);
    assert_eq!(marks(k.seek(V::String("1"))), [2]);
    assert_eq!(marks(k.seek(V::Bool(true))), [3]);
    assert_eq!(marks(k.seek(V::Float(2.5))), [4]);
    assert_eq!(marks(k.seek_prefix("")), [2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_a_clear_error_that_does_not_show_it() {
    let server = testkit::neo4j();
    let wrong = neotrav_neo4j::bundled::Password::new("not-the-password-42");
    let graph = neotrav_neo4j::bundled::connect(&server.uri, &server.user, &wrong).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.snap");
    std::fs::write(&out, b"old").unwrap();
    let err = export::export(
        &graph,
        &Origin::default(),
        &ExportOptions::default(),
        &out,
        &NoProgress,
    )
    .await
    .unwrap_err();
    let text = format!("{err:#} {err:?}");
    assert!(
        text.to_lowercase().contains("auth") || text.contains("Unauthorized"),
        "{text}"
    );
    assert!(!text.contains("not-the-password-42"), "{text}");
    assert_eq!(std::fs::read(&out).unwrap(), b"old");
}

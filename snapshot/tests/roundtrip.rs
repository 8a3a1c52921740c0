//! What goes into the builder comes out of the reader: labels, adjacency both ways with types
//! and relationship ids, id maps, key-property columns and the bloom filter, on hand-made and on
//! random graphs.

use std::collections::{BTreeMap, BTreeSet};

use neotrav_snapshot::{
    AlignedBytes, Direction, PropertyKind, Snapshot, SnapshotBuilder, Source, Value, Watermark,
};
use proptest::prelude::*;

fn tree_builder() -> SnapshotBuilder {
    let mut b = SnapshotBuilder::new();
    b.source(Source {
        address: "bolt://127.0.0.1:7687".into(),
        database: "neo4j".into(),
        neo4j_version: "5.26.19".into(),
        description: "hand-made".into(),
    });
    b.watermark(Watermark {
        last_committed_tx: Some(42),
        note: "test".into(),
    });
    b.column("B", "flag", PropertyKind::Bool).unwrap();
    b.column("A", "name", PropertyKind::String).unwrap();
    b.column("B", "name", PropertyKind::String).unwrap();
    b.column("A", "weight", PropertyKind::Float).unwrap();
    b.column("Root", "depth", PropertyKind::Int).unwrap();
    b.add_node(10, ["Root"], [("depth", Value::Int(0))])
        .unwrap();
    b.add_node(
        11,
        ["A"],
        [
            ("name", Value::String("a".into())),
            ("weight", Value::Float(1.5)),
        ],
    )
    .unwrap();
    b.add_node(
        12,
        ["B"],
        [
            ("flag", Value::Bool(true)),
            ("name", Value::String("bé".into())),
        ],
    )
    .unwrap();
    b.add_node(
        13,
        ["B", "A"],
        [
            ("flag", Value::Bool(false)),
            ("name", Value::String("ab".into())),
        ],
    )
    .unwrap();
    // Relationships added out of order.
    b.add_relationship(7, "CHILD_B", 11, 13).unwrap();
    b.add_relationship(5, "CHILD_A", 10, 11).unwrap();
    b.add_relationship(6, "CHILD_B", 10, 12).unwrap();
    b.add_relationship(9, "LEAF", 13, 13).unwrap();
    b
}

#[test]
fn a_hand_made_tree_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tree.snap");
    let summary = tree_builder().write(&path).unwrap();
    assert_eq!((summary.nodes, summary.relationships), (4, 4));

    let snap = Snapshot::open(&path).unwrap();
    snap.verify().unwrap();
    let h = snap.header();
    assert_eq!(h.source.database, "neo4j");
    assert_eq!(h.watermark.last_committed_tx, Some(42));
    let v = snap.view();
    assert_eq!(v.node_count(), 4);
    let root = v.node_index(10).unwrap();
    let a = v.node_index(11).unwrap();
    let b = v.node_index(12).unwrap();
    let ab = v.node_index(13).unwrap();
    assert_eq!(v.node_index(14), None);
    assert_eq!(v.node_index(9), None);
    assert_eq!(v.node_id(ab), Some(13));

    let label = |n: &str| snap.label_code(n).unwrap();
    assert!(v.has_label(root, label("Root")));
    assert!(!v.has_label(root, label("A")));
    assert!(v.has_label(ab, label("A")) && v.has_label(ab, label("B")));
    assert!(!v.has_label(ab, 999));

    let out = v.edges(root, Direction::Outgoing);
    assert_eq!(out.len(), 2);
    let child_a = out.of_type(snap.type_code("CHILD_A").unwrap());
    assert_eq!(child_a.neighbors, &[a]);
    assert_eq!(v.relationship_id(child_a.relationship(0).unwrap()), Some(5));
    let child_b = out.of_type(snap.type_code("CHILD_B").unwrap());
    assert_eq!(child_b.neighbors, &[b]);
    assert_eq!(v.relationship_id(child_b.relationship(0).unwrap()), Some(6));
    assert!(out.of_type(snap.type_code("LEAF").unwrap()).is_empty());

    let into_ab = v.edges(ab, Direction::Incoming);
    let mut from: Vec<(u64, u64)> = (0..into_ab.len())
        .map(|i| {
            (
                v.node_id(into_ab.neighbors[i]).unwrap(),
                v.relationship_id(into_ab.relationship(i).unwrap()).unwrap(),
            )
        })
        .collect();
    from.sort();
    assert_eq!(from, vec![(11, 7), (13, 9)]);

    // Columns: one per key; the same value whichever of its labels is asked.
    let name_a = snap.column("A", "name").unwrap();
    let name_b = snap.column("B", "name").unwrap();
    assert_eq!(name_a.str(ab), Some("ab"));
    assert_eq!(name_b.str(ab), Some("ab"));
    assert_eq!(name_b.str(b), Some("bé"));
    assert_eq!(name_a.str(b), None, "b has no label A");
    assert_eq!(name_a.str(root), None);
    let flag = snap.column("B", "flag").unwrap();
    assert_eq!(flag.bool(b), Some(true));
    assert_eq!(flag.bool(ab), Some(false));
    assert_eq!(flag.bool(a), None);
    assert_eq!(snap.column("A", "weight").unwrap().float(a), Some(1.5));
    assert_eq!(snap.column("A", "weight").unwrap().float(ab), None);
    assert_eq!(snap.column("Root", "depth").unwrap().int(root), Some(0));
    assert!(snap.column("Root", "name").is_none());
    assert!(snap.column("Nope", "name").is_none());

    let bs: Vec<u32> = snap.label_nodes(label("B")).unwrap().iter().collect();
    assert_eq!(bs, vec![b, ab]);
    for id in 10..=13 {
        assert!(snap.might_contain(id));
    }
}

#[test]
fn more_than_64_labels_work() {
    let mut b = SnapshotBuilder::new();
    let names: Vec<String> = (0..150).map(|i| format!("L{i}")).collect();
    for (i, name) in names.iter().enumerate() {
        // Node i has labels L{i} and L{149 - i}.
        let other = &names[149 - i];
        b.add_node(i as u64, [name.as_str(), other.as_str()], [])
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("labels.snap");
    b.write(&path).unwrap();
    let snap = Snapshot::open(&path).unwrap();
    snap.verify().unwrap();
    assert_eq!(snap.header().label_words, 3);
    let v = snap.view();
    for i in 0..150u32 {
        let mine = snap.label_code(&format!("L{i}")).unwrap();
        let other = snap.label_code(&format!("L{}", 149 - i)).unwrap();
        for l in 0..150 {
            assert_eq!(
                v.has_label(i, l),
                l == mine || l == other,
                "node {i} label {l}"
            );
        }
    }
}

#[test]
fn an_empty_graph_is_a_valid_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.snap");
    SnapshotBuilder::new().write(&path).unwrap();
    let snap = Snapshot::open(&path).unwrap();
    snap.verify().unwrap();
    assert_eq!(snap.view().node_count(), 0);
    assert!(snap.view().edges(0, Direction::Outgoing).is_empty());
    assert!(!snap.might_contain(1));
}

/// A node's edges in one direction: (type name, other node id, relationship id).
type EdgeSet = BTreeSet<(String, u64, u64)>;

/// A random graph: node ids (sparse or dense), labels, one int column, relationships.
#[derive(Debug, Clone)]
struct RandomGraph {
    nodes: Vec<(u64, BTreeSet<u8>, Option<i64>)>,
    rels: Vec<(u64, u8, usize, usize)>,
}

fn random_graph() -> impl Strategy<Value = RandomGraph> {
    (1usize..40, any::<bool>(), 0u64..1 << 40).prop_flat_map(|(n, dense, base)| {
        let ids = if dense {
            Just((0..n as u64).map(|i| base + i).collect::<Vec<_>>()).boxed()
        } else {
            proptest::collection::btree_set(any::<u64>(), n)
                .prop_map(|s| s.into_iter().collect::<Vec<_>>())
                .boxed()
        };
        let n = ids.clone().prop_map(|v| v.len());
        (ids, n).prop_flat_map(|(ids, n)| {
            let nodes = proptest::collection::vec(
                (
                    proptest::collection::btree_set(0u8..5, 0..3),
                    proptest::option::of(any::<i64>()),
                ),
                n,
            );
            let rels = proptest::collection::vec((0u8..4, 0..n, 0..n), 0..120);
            (Just(ids), nodes, rels, any::<u64>()).prop_map(|(ids, nodes, rels, rel_base)| {
                RandomGraph {
                    nodes: ids
                        .into_iter()
                        .zip(nodes)
                        .map(|(id, (labels, value))| (id, labels, value))
                        .collect(),
                    rels: rels
                        .into_iter()
                        .enumerate()
                        .map(|(i, (t, s, e))| (rel_base % (1 << 40) + i as u64 * 7, t, s, e))
                        .collect(),
                }
            })
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_graphs_read_back(g in random_graph()) {
        let mut b = SnapshotBuilder::new();
        for l in 0..5 {
            b.column(&format!("L{l}"), "x", PropertyKind::Int).unwrap();
            b.column(&format!("L{l}"), "s", PropertyKind::String).unwrap();
        }
        // Nodes in a scrambled id order; some give a key twice, and the last value counts.
        let mut order: Vec<usize> = (0..g.nodes.len()).collect();
        order.sort_by_key(|&i| g.nodes[i].0.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        for &i in &order {
            let (id, labels, value) = &g.nodes[i];
            let names: Vec<String> = labels.iter().map(|l| format!("L{l}")).collect();
            let mut props: Vec<(&str, Value)> = Vec::new();
            if let Some(v) = *value {
                if v % 3 == 0 {
                    props.push(("x", Value::Int(v.wrapping_add(1))));
                    props.push(("s", Value::String("earlier".into())));
                }
                props.push(("x", Value::Int(v)));
                props.push(("s", Value::String(format!("é{v}"))));
            }
            b.add_node(*id, names.iter().map(String::as_str), props).unwrap();
        }
        for (id, t, s, e) in &g.rels {
            b.add_relationship(*id, &format!("T{t}"), g.nodes[*s].0, g.nodes[*e].0).unwrap();
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.snap");
        b.write(&path).unwrap();
        let bytes = AlignedBytes::read(&path).unwrap();
        let snap = Snapshot::from_bytes(bytes).unwrap();
        snap.verify().unwrap();
        let v = snap.view();
        prop_assert_eq!(v.node_count(), g.nodes.len());

        // The model: per node id, its out and in edges as (type, other id, rel id).
        let mut model: BTreeMap<(u64, usize), EdgeSet> = BTreeMap::new();
        for (id, t, s, e) in &g.rels {
            let (s, e) = (g.nodes[*s].0, g.nodes[*e].0);
            model.entry((s, 0)).or_default().insert((format!("T{t}"), e, *id));
            model.entry((e, 1)).or_default().insert((format!("T{t}"), s, *id));
        }
        for (id, labels, value) in &g.nodes {
            let index = v.node_index(*id).unwrap();
            prop_assert_eq!(v.node_id(index), Some(*id));
            prop_assert!(snap.might_contain(*id));
            for l in 0..5u8 {
                let has = snap.label_code(&format!("L{l}")).is_some_and(|c| v.has_label(index, c));
                prop_assert_eq!(has, labels.contains(&l));
            }
            for dir in Direction::BOTH {
                let edges = v.edges(index, dir);
                let mut got = BTreeSet::new();
                for i in 0..edges.len() {
                    let name = snap.header().relationship_types[edges.types[i] as usize].clone();
                    let other = v.node_id(edges.neighbors[i]).unwrap();
                    let rel = v.relationship_id(edges.relationship(i).unwrap()).unwrap();
                    got.insert((name.clone(), other, rel));
                    // of_type finds the same edge.
                    let typed = edges.of_type(edges.types[i] as u32);
                    prop_assert!(typed.neighbors.contains(&edges.neighbors[i]));
                }
                let want = model.get(&(*id, dir as usize)).cloned().unwrap_or_default();
                prop_assert_eq!(got, want);
            }
            for l in labels {
                let column = snap.column(&format!("L{l}"), "x").unwrap();
                prop_assert_eq!(column.int(index), *value);
                let column = snap.column(&format!("L{l}"), "s").unwrap();
                let want = value.map(|v| format!("é{v}"));
                prop_assert_eq!(column.str(index), want.as_deref());
            }
        }
    }
}

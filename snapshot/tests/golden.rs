//! The golden file of format version 1 must stay readable: a format change that breaks it is a
//! deliberate version bump (FORMAT_VERSION, OLDEST_SUPPORTED and a new golden file), never an
//! accident.
//!
//! Regenerate (only together with a version bump) with
//! `NEOTRAV_WRITE_GOLDEN=1 cargo test -p neotrav-snapshot --test golden`.

use std::path::PathBuf;

use neotrav_snapshot::{
    Direction, PropertyKind, Snapshot, SnapshotBuilder, Source, Value, Watermark,
};

fn golden_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/format-v1.snap")
}

fn write_golden() {
    let mut b = SnapshotBuilder::new();
    b.source(Source {
        address: "bolt://127.0.0.1:7687".into(),
        database: "neo4j".into(),
        neo4j_version: "5.26.19".into(),
        description: "golden file of format version 1".into(),
    });
    b.watermark(Watermark {
        last_committed_tx: Some(1234),
        note: "golden".into(),
    });
    b.column("B", "flag", PropertyKind::Bool).unwrap();
    b.column("A", "name", PropertyKind::String).unwrap();
    b.column("B", "name", PropertyKind::String).unwrap();
    b.column("A", "score", PropertyKind::Float).unwrap();
    b.column("Root", "depth", PropertyKind::Int).unwrap();
    b.add_node(0, ["Root"], [("depth", Value::Int(0))]).unwrap();
    b.add_node(
        1,
        ["A"],
        [
            ("name", Value::String("a1".into())),
            ("score", Value::Float(0.5)),
        ],
    )
    .unwrap();
    b.add_node(
        2,
        ["B"],
        [
            ("flag", Value::Bool(true)),
            ("name", Value::String("b2".into())),
        ],
    )
    .unwrap();
    b.add_node(
        3,
        ["A", "B"],
        [
            ("flag", Value::Bool(false)),
            ("name", Value::String("ab3".into())),
        ],
    )
    .unwrap();
    // Sparse ids beyond the dense run, so the id map section is exercised.
    b.add_node(1_000_000, ["B"], []).unwrap();
    b.add_relationship(10, "CHILD_A", 0, 1).unwrap();
    b.add_relationship(11, "CHILD_B", 0, 2).unwrap();
    b.add_relationship(12, "CHILD_A", 1, 3).unwrap();
    b.add_relationship(13, "LEAF", 3, 1_000_000).unwrap();
    b.write(&golden_path()).unwrap();
}

#[test]
fn the_format_v1_golden_file_still_reads() {
    if std::env::var_os("NEOTRAV_WRITE_GOLDEN").is_some() {
        write_golden();
    }
    let snap = Snapshot::open(golden_path()).expect("the golden file opens");
    snap.verify().expect("the golden file verifies");
    let h = snap.header();
    assert_eq!(h.source.description, "golden file of format version 1");
    assert_eq!(h.watermark.last_committed_tx, Some(1234));
    assert_eq!((h.node_count, h.relationship_count), (5, 4));
    let v = snap.view();
    let idx = |id| v.node_index(id).unwrap();
    assert!(v.has_label(idx(3), snap.label_code("A").unwrap()));
    assert!(v.has_label(idx(3), snap.label_code("B").unwrap()));
    assert!(v.has_label(idx(1_000_000), snap.label_code("B").unwrap()));
    let out = v.edges(idx(0), Direction::Outgoing);
    let child_a = out.of_type(snap.type_code("CHILD_A").unwrap());
    assert_eq!(child_a.neighbors, &[idx(1)]);
    assert_eq!(
        v.relationship_id(child_a.relationship(0).unwrap()),
        Some(10)
    );
    let into = v.edges(idx(1_000_000), Direction::Incoming);
    assert_eq!(into.neighbors, &[idx(3)]);
    assert_eq!(v.relationship_id(into.relationship(0).unwrap()), Some(13));
    assert_eq!(snap.column("A", "name").unwrap().str(idx(3)), Some("ab3"));
    assert_eq!(snap.column("B", "name").unwrap().str(idx(3)), Some("ab3"));
    assert_eq!(snap.column("B", "flag").unwrap().bool(idx(2)), Some(true));
    assert_eq!(snap.column("A", "score").unwrap().float(idx(1)), Some(0.5));
    assert_eq!(snap.column("Root", "depth").unwrap().int(idx(0)), Some(0));
    assert!(snap.might_contain(1_000_000));
}

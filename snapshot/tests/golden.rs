//! The golden files of format versions 1, 2 and 3 must stay readable: a format change that
//! breaks them is a deliberate version bump (FORMAT_VERSION, OLDEST_SUPPORTED and a new golden
//! file), never an accident. Version 1 has no column index: its lookups scan. Version 2 has no
//! hash tables: its equality seeks search the index.
//!
//! Regenerate the golden file of the current version (only together with a version bump) with
//! `NEOTRAV_WRITE_GOLDEN=1 cargo test -p neotrav-snapshot --test golden`. The older files were
//! written by their versions' builders and cannot be written again.

use std::path::PathBuf;

use neotrav_snapshot::{
    Direction, PropertyKind, PropertyValue, Snapshot, SnapshotBuilder, Source, Value, Watermark,
};

fn golden_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/format-v1.snap")
}

fn golden_v2_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/format-v2.snap")
}

fn golden_v3_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/format-v3.snap")
}

/// The version 1 golden file's graph, plus (version 2) a key of several kinds: `rank` is an int
/// on node 1, a float on node 2 and a string on node 3. The version 3 file holds the same graph.
fn write_golden_v3() {
    let mut b = SnapshotBuilder::new();
    b.source(Source {
        address: "bolt://127.0.0.1:7687".into(),
        database: "neo4j".into(),
        neo4j_version: "5.26.19".into(),
        description: "golden file of format version 3".into(),
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
    b.column("A", "rank", PropertyKind::Int).unwrap();
    b.column("B", "rank", PropertyKind::Int).unwrap();
    b.add_node(0, ["Root"], [("depth", Value::Int(0))]).unwrap();
    b.add_node(
        1,
        ["A"],
        [
            ("name", Value::String("a1".into())),
            ("score", Value::Float(0.5)),
            ("rank", Value::Int(1)),
        ],
    )
    .unwrap();
    b.add_node(
        2,
        ["B"],
        [
            ("flag", Value::Bool(true)),
            ("name", Value::String("b2".into())),
            ("rank", Value::Float(1.0)),
        ],
    )
    .unwrap();
    b.add_node(
        3,
        ["A", "B"],
        [
            ("flag", Value::Bool(false)),
            ("name", Value::String("ab3".into())),
            ("rank", Value::String("first".into())),
        ],
    )
    .unwrap();
    // Sparse ids beyond the dense run, so the id map section is exercised.
    b.add_node(1_000_000, ["B"], []).unwrap();
    b.add_relationship(10, "CHILD_A", 0, 1).unwrap();
    b.add_relationship(11, "CHILD_B", 0, 2).unwrap();
    b.add_relationship(12, "CHILD_A", 1, 3).unwrap();
    b.add_relationship(13, "LEAF", 3, 1_000_000).unwrap();
    b.write(&golden_v3_path()).unwrap();
}

#[test]
fn the_format_v1_golden_file_still_reads() {
    check_common(
        &Snapshot::open(golden_path()).expect("the golden file opens"),
        1,
    );
}

#[test]
fn the_format_v2_golden_file_still_reads() {
    let snap = Snapshot::open(golden_v2_path()).expect("the golden file opens");
    assert_eq!(snap.format_version(), 2);
    check_common(&snap, 2);
    check_ranks(&snap);
}

#[test]
fn the_format_v3_golden_file_reads() {
    if std::env::var_os("NEOTRAV_WRITE_GOLDEN").is_some() {
        write_golden_v3();
    }
    let snap = Snapshot::open(golden_v3_path()).expect("the golden file opens");
    assert_eq!(snap.format_version(), 3);
    check_common(&snap, 3);
    check_ranks(&snap);
    let kinds = |key: &str| {
        let h = snap.header();
        let c: Vec<_> = (0..h.columns.len())
            .filter(|&c| h.columns[c].key == key)
            .collect();
        c.iter()
            .map(|&c| {
                h.sections.iter().any(|s| {
                    s.kind == neotrav_snapshot::format::SectionKind::ColumnHash
                        && s.item == c as u32
                })
            })
            .collect::<Vec<bool>>()
    };
    // Hash tables for the int and string columns, none for floats and bools.
    assert_eq!(kinds("name"), [true]);
    assert_eq!(kinds("depth"), [true]);
    assert_eq!(kinds("score"), [false]);
    assert_eq!(kinds("flag"), [false]);
}

/// The key of several kinds (version 2 on).
fn check_ranks(snap: &Snapshot) {
    let idx = |id| snap.view().node_index(id).unwrap();
    let rank = snap.property("rank").unwrap();
    assert_eq!(rank.kinds().count(), 3);
    assert_eq!(rank.get(idx(1)), Some(PropertyValue::Int(1)));
    assert_eq!(rank.get(idx(2)), Some(PropertyValue::Float(1.0)));
    assert_eq!(rank.get(idx(3)), Some(PropertyValue::String("first")));
    assert_eq!(rank.seek(PropertyValue::Int(1)), [idx(1), idx(2)]);
    assert_eq!(rank.seek(PropertyValue::Float(1.0)), [idx(1), idx(2)]);
    assert_eq!(rank.seek(PropertyValue::String("first")), [idx(3)]);
    assert_eq!(rank.seek(PropertyValue::String("firs")), Vec::<u32>::new());
    assert_eq!(rank.seek(PropertyValue::Int(2)), Vec::<u32>::new());
    assert_eq!(rank.seek_prefix("fi"), [idx(3)]);
}

/// What every version holds; `version`'s file has no index when 1, so seeks scan.
fn check_common(snap: &Snapshot, version: u32) {
    snap.verify().expect("the golden file verifies");
    let h = snap.header();
    assert_eq!(
        h.source.description,
        format!("golden file of format version {version}")
    );
    let name = snap.property("name").unwrap();
    let ab3 = snap.view().node_index(3).unwrap();
    assert_eq!(name.seek(PropertyValue::String("ab3")), [ab3]);
    assert_eq!(name.seek_prefix("ab"), [ab3]);
    assert!(snap.property("nope").is_none());
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

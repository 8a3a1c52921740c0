//! A small hand-built snapshot the engine and sidecar tests share.

use std::path::Path;

use neotrav_snapshot::{PropertyKind, SnapshotBuilder, Value};

/// ```text
/// 0:Root -CHILD_A-> 1:A -CHILD_A-> 3:A
///                   1:A -CHILD_B-> 4:B(flag false)
/// 0:Root -CHILD_B-> 2:B(flag true) -CHILD_B-> 5:B(flag true)
///                   2:B            -CHILD_A-> 6:C(year 1999)
/// 3:A -CHILD_A-> 7:C(year 2000);  5:B -CHILD_B-> 8:C(year 1999)
/// ```
///
/// Writes the graph to `path`; `extra` adds that many more A nodes under Root (so two versions
/// of the file differ).
pub fn write(path: &Path, extra: u64) {
    let mut b = SnapshotBuilder::new();
    b.column("B", "flag", PropertyKind::Bool).unwrap();
    b.column("C", "year", PropertyKind::Int).unwrap();
    type Node<'a> = (u64, &'a str, Option<(&'a str, Value)>);
    let nodes: [Node<'_>; 9] = [
        (0, "Root", None),
        (1, "A", None),
        (2, "B", Some(("flag", Value::Bool(true)))),
        (3, "A", None),
        (4, "B", Some(("flag", Value::Bool(false)))),
        (5, "B", Some(("flag", Value::Bool(true)))),
        (6, "C", Some(("year", Value::Int(1999)))),
        (7, "C", Some(("year", Value::Int(2000)))),
        (8, "C", Some(("year", Value::Int(1999)))),
    ];
    for (id, label, prop) in nodes {
        b.add_node(id, [label], prop).unwrap();
    }
    let rels = [
        (0, "CHILD_A", 1),
        (0, "CHILD_B", 2),
        (1, "CHILD_A", 3),
        (1, "CHILD_B", 4),
        (2, "CHILD_B", 5),
        (2, "CHILD_A", 6),
        (3, "CHILD_A", 7),
        (5, "CHILD_B", 8),
    ];
    for (i, (s, t, e)) in rels.into_iter().enumerate() {
        b.add_relationship(100 + i as u64, t, s, e).unwrap();
    }
    for i in 0..extra {
        b.add_node(1000 + i, ["A"], None).unwrap();
        b.add_relationship(2000 + i, "CHILD_A", 0, 1000 + i)
            .unwrap();
    }
    b.write(path).unwrap();
}

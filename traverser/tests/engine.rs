//! The engine on a small hand-built snapshot: what APOC has no counterpart for
//! (`expandByLabel`, `where`, group-by, budgets, key lookups) and every request error.
//! The APOC semantics themselves are proven in `differential_apoc.rs`.

use neotrav_testkit::small;

use neotrav_snapshot::Snapshot;
use neotrav_traverser::engine::{Engine, EngineError};
use neotrav_wire::{Answer, Groups, OnExceed, ShortestPathRequest, TraverseRequest};
use serde_json::json;

fn engine() -> (Engine, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("small.snap");
    small::write(&path, 0);
    (Engine::new(Snapshot::open(&path).unwrap()), dir)
}

fn request(v: serde_json::Value) -> TraverseRequest {
    serde_json::from_value(v).unwrap()
}

fn nodes(e: &Engine, v: serde_json::Value) -> Vec<u64> {
    match e.traverse(&request(v)).unwrap().answer {
        Answer::Nodes(mut n) => {
            n.sort_unstable();
            n
        }
        other => panic!("expected nodes, got {other:?}"),
    }
}

fn error(e: &Engine, v: serde_json::Value) -> String {
    e.traverse(&request(v)).unwrap_err().to_string()
}

#[test]
fn expand_by_label_follows_each_labels_own_types() {
    let (e, _d) = engine();
    let by = json!({"Root": "CHILD_A>|CHILD_B>", "A": "CHILD_A>", "B": "CHILD_B>"});
    assert_eq!(
        nodes(
            &e,
            json!({"start": 0, "expandByLabel": by, "uniqueness": "NODE_GLOBAL"})
        ),
        vec![0, 1, 2, 3, 5, 7, 8]
    );
    // A node with none of the listed labels is not expanded, unless "*" says how.
    assert_eq!(
        nodes(&e, json!({"start": 0, "expandByLabel": {"A": "CHILD_A>"}})),
        vec![0]
    );
    assert_eq!(
        nodes(
            &e,
            json!({"start": 0, "expandByLabel": {"*": "CHILD_B>", "A": "CHILD_A>"}})
        ),
        vec![0, 2, 5, 8]
    );
    // Intersected with relationshipFilter.
    assert_eq!(
        nodes(
            &e,
            json!({"start": 0, "expandByLabel": by, "relationshipFilter": "CHILD_A>"})
        ),
        vec![0, 1, 3, 7]
    );
}

/// APOC's precedence: a non-blank `sequence` replaces both filters, and a non-empty new node
/// list name replaces its deprecated one (`whitelistNodes`, `blacklistNodes`).
#[test]
fn sequence_and_new_key_names_win_as_in_apoc() {
    let (e, _d) = engine();
    let seq = json!({"start": 0, "sequence": "Root,CHILD_A>,A", "uniqueness": "NODE_GLOBAL"});
    let alone = nodes(&e, seq.clone());
    assert!(alone.len() > 1, "{alone:?}");
    let mut both = seq.clone();
    both["labelFilter"] = json!("-A");
    both["relationshipFilter"] = json!("CHILD_B>");
    assert_eq!(nodes(&e, both.clone()), alone);
    // ... and the answer says what it ignored.
    let warnings = e.traverse(&request(both)).unwrap().stats.warnings;
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings[0].contains("`labelFilter` was ignored"),
        "{warnings:?}"
    );
    assert!(
        warnings[1].contains("`relationshipFilter` was ignored"),
        "{warnings:?}"
    );
    assert!(e.traverse(&request(seq)).unwrap().stats.warnings.is_empty());
    // A blank sequence is none: the filters apply.
    let blank = json!({"start": 0, "sequence": " ", "relationshipFilter": "CHILD_B>"});
    assert_eq!(
        nodes(&e, blank),
        nodes(&e, json!({"start": 0, "relationshipFilter": "CHILD_B>"}))
    );
    let all = nodes(&e, json!({"start": 0, "uniqueness": "NODE_GLOBAL"}));
    let some = all[1];
    let deny_new = nodes(
        &e,
        json!({"start": 0, "uniqueness": "NODE_GLOBAL", "denylistNodes": [some]}),
    );
    assert!(!deny_new.contains(&some));
    // Both names: the new one is used, the old one ignored.
    assert_eq!(
        nodes(
            &e,
            json!({"start": 0, "uniqueness": "NODE_GLOBAL", "denylistNodes": [some], "blacklistNodes": [0]})
        ),
        deny_new
    );
    // The old one alone still works.
    assert_eq!(
        nodes(
            &e,
            json!({"start": 0, "uniqueness": "NODE_GLOBAL", "blacklistNodes": [some]})
        ),
        deny_new
    );
    let allow = nodes(
        &e,
        json!({"start": 0, "uniqueness": "NODE_GLOBAL", "allowlistNodes": [some], "whitelistNodes": [all[2]]}),
    );
    assert_eq!(
        allow,
        nodes(
            &e,
            json!({"start": 0, "uniqueness": "NODE_GLOBAL", "whitelistNodes": [some]})
        )
    );
    assert!(!allow.contains(&all[2]), "{allow:?}");
    // APOC's `optional` is accepted and changes nothing (an empty answer stands for its null
    // row).
    assert_eq!(
        nodes(
            &e,
            json!({"start": 0, "optional": true, "uniqueness": "NODE_GLOBAL"})
        ),
        all
    );
    assert_eq!(
        nodes(
            &e,
            json!({"start": 0, "optional": true, "relationshipFilter": "NOPE>", "minLevel": 1})
        ),
        Vec::<u64>::new()
    );
}

#[test]
fn where_filters_included_nodes_and_count_counts_them() {
    let (e, _d) = engine();
    let r = request(
        json!({"start": 0, "uniqueness": "NODE_GLOBAL", "bfs": false,
        "where": [{"label": "B", "key": "flag", "op": "=", "value": true}], "return": "count"}),
    );
    let response = e.traverse(&r).unwrap();
    assert_eq!(response.answer, Answer::Count(2));
    assert_eq!(response.stats.nodes_visited, 9);
    assert!(!response.partial);
    assert_eq!(
        nodes(
            &e,
            json!({"start": 0, "where": [{"key": "year", "op": "IN", "value": [1999, 2001]}]})
        ),
        vec![6, 8]
    );
    assert_eq!(
        nodes(
            &e,
            json!({"start": 0, "where": [{"label": "B", "key": "flag", "op": "IS NULL"}]})
        ),
        Vec::<u64>::new(),
        "every B has a flag, and nodes without B fail a B predicate"
    );
}

#[test]
fn group_by_counts_distinct_nodes_per_value_in_value_order() {
    let (e, _d) = engine();
    let r =
        request(json!({"start": 0, "labelFilter": ">C", "return": {"groupBy": {"key": "year"}}}));
    assert_eq!(
        e.traverse(&r).unwrap().answer,
        Answer::Groups(Groups(vec![("1999".into(), 2), ("2000".into(), 1)]))
    );
    let r = request(json!({"start": 0, "return": {"groupBy": {"key": "flag", "label": "B"}}}));
    assert_eq!(
        e.traverse(&r).unwrap().answer,
        Answer::Groups(Groups(vec![
            ("false".into(), 1),
            ("true".into(), 2),
            ("null".into(), 6)
        ]))
    );
}

#[test]
fn paths_carry_relationship_ids_and_types() {
    let (e, _d) = engine();
    let r = request(
        json!({"start": 0, "relationshipFilter": "CHILD_B>", "minLevel": 2, "return": "paths"}),
    );
    let Answer::Paths(paths) = e.traverse(&r).unwrap().answer else {
        panic!()
    };
    assert_eq!(paths.len(), 2);
    assert_eq!(paths[0].nodes, vec![0, 2, 5]);
    assert_eq!(paths[0].relationships, vec![101, 104]);
    assert_eq!(paths[0].types, vec!["CHILD_B", "CHILD_B"]);
}

#[test]
fn budgets_stop_a_traversal_with_an_error_or_a_flagged_partial_answer() {
    let (e, _d) = engine();
    let err = error(&e, json!({"start": 0, "budget": {"maxVisited": 3}}));
    assert!(
        err.contains("more than 3 nodes") && err.contains("partial"),
        "{err}"
    );
    let r = request(
        json!({"start": 0, "return": "count", "budget": {"maxVisited": 3, "onExceed": "partial"}}),
    );
    let response = e.traverse(&r).unwrap();
    assert!(response.partial);
    assert_eq!(response.answer, Answer::Count(3));
    assert_eq!(r.budget.on_exceed, OnExceed::Partial);
    // maxDepth caps maxLevel.
    assert_eq!(
        nodes(&e, json!({"start": 0, "budget": {"maxDepth": 1}})),
        vec![0, 1, 2]
    );
    assert_eq!(
        nodes(&e, json!({"start": 0, "limit": 0})),
        Vec::<u64>::new()
    );
}

#[test]
fn start_nodes_by_id_element_id_or_key() {
    let (e, _d) = engine();
    assert_eq!(
        nodes(&e, json!({"start": "4:f00d:3", "maxLevel": 1})),
        vec![1, 3, 7]
    );
    assert_eq!(
        nodes(
            &e,
            json!({"start": {"label": "C", "key": "year", "value": 1999}, "maxLevel": 0})
        ),
        vec![6, 8]
    );
    let err = e.traverse(&request(json!({"start": 999}))).unwrap_err();
    assert!(matches!(err, EngineError::UnknownNode(999)), "{err}");
    assert!(err.to_string().contains("fresh"), "{err}");
}

#[test]
fn bad_requests_name_the_field_and_the_fault() {
    let (e, _d) = engine();
    for (req, field, words) in [
        (
            json!({"start": 0, "relationshipFilter": "<A>"}),
            "relationshipFilter",
            "both ways",
        ),
        (
            json!({"start": 0, "labelFilter": "+"}),
            "labelFilter",
            "names no label",
        ),
        (json!({"start": 0, "maxLevel": -5}), "maxLevel", "-5"),
        (json!({"start": 0, "limit": -3}), "limit", "-3"),
        (
            json!({"start": 0, "where": [{"key": "colour", "op": "=", "value": 1}]}),
            "where[0]",
            "--properties",
        ),
        (
            json!({"start": 0, "where": [{"key": "year", "op": "IN", "value": 1}]}),
            "where[0].value",
            "list",
        ),
        (
            json!({"start": 0, "where": [{"key": "year", "op": "IS NULL", "value": 1}]}),
            "where[0].value",
            "no value",
        ),
        (json!({"start": "4:x"}), "start[0]", "element id"),
        (
            json!({"start": 0, "budget": {"maxVisited": 0}}),
            "budget.maxVisited",
            "at least 1",
        ),
        (
            json!({"start": 0, "return": {"groupBy": {"key": "year", "label": "A"}}}),
            "return.groupBy",
            "A.year",
        ),
    ] {
        let err = e.traverse(&request(req.clone())).unwrap_err();
        let EngineError::Request(r) = &err else {
            panic!("{req}: expected a request error, got {err}")
        };
        assert_eq!(r.field, field, "{req}");
        assert!(r.message.contains(words), "{req}: {}", r.message);
    }
    let fresh = request(json!({"start": 0, "consistency": "fresh"}));
    assert!(matches!(e.traverse(&fresh), Err(EngineError::NoNeo4j)));
}

#[test]
fn shortest_paths_cross_relationships_either_way_unless_directed() {
    let (e, _d) = engine();
    let sp = |v: serde_json::Value| -> ShortestPathRequest { serde_json::from_value(v).unwrap() };
    let r = e.shortest_path(&sp(json!({"from": 3, "to": 5}))).unwrap();
    assert_eq!(r.length, Some(4));
    assert_eq!(r.paths[0].nodes, vec![3, 1, 0, 2, 5]);
    let r = e
        .shortest_path(&sp(
            json!({"from": 3, "to": 5, "relationshipFilter": "CHILD_A>|CHILD_B>"}),
        ))
        .unwrap();
    assert_eq!(r.length, None);
    assert!(r.paths.is_empty());
    let r = e
        .shortest_path(&sp(json!({"from": 0, "to": 8, "maxLevel": 2})))
        .unwrap();
    assert_eq!(r.length, None, "8 is three hops away");
    let r = e
        .shortest_path(&sp(
            json!({"from": {"label": "C", "key": "year", "value": 2000}, "to": 0, "all": true}),
        ))
        .unwrap();
    assert_eq!(r.length, Some(3));
    assert_eq!(r.paths.len(), 1);
    let err = e
        .shortest_path(&sp(
            json!({"from": {"label": "C", "key": "year", "value": 1999}, "to": 0}),
        ))
        .unwrap_err();
    assert!(
        err.to_string().contains("2 C nodes have year = 1999"),
        "{err}"
    );
}

/// `0:Root` with children `1:X(code 1)`, `2:X(code 1.0)`, `3:X(code "1")`, `4:X(code true)`,
/// `5:Y(code 1)`; `code` is exported for X only, so it holds four kinds.
fn mixed_engine() -> (Engine, tempfile::TempDir) {
    use neotrav_snapshot::{PropertyKind, SnapshotBuilder, Value};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.snap");
    let mut b = SnapshotBuilder::new();
    b.column("X", "code", PropertyKind::Int).unwrap();
    b.add_node(0, ["Root"], []).unwrap();
    let values = [
        Value::Int(1),
        Value::Float(1.0),
        Value::String("1".into()),
        Value::Bool(true),
    ];
    for (i, v) in values.into_iter().enumerate() {
        b.add_node(i as u64 + 1, ["X"], [("code", v)]).unwrap();
    }
    b.add_node(5, ["Y"], [("code", Value::Int(1))]).unwrap();
    for i in 1..=5u64 {
        b.add_relationship(100 + i, "HAS", 0, i).unwrap();
    }
    b.write(&path).unwrap();
    (Engine::new(Snapshot::open(&path).unwrap()), dir)
}

#[test]
fn keys_of_several_types_are_looked_up_with_cypher_equality() {
    let (e, _d) = mixed_engine();
    let start = |value: serde_json::Value| {
        nodes(
            &e,
            json!({"start": {"label": "X", "key": "code", "value": value}, "maxLevel": 0}),
        )
    };
    assert_eq!(start(json!(1)), vec![1, 2]);
    assert_eq!(start(json!(1.0)), vec![1, 2]);
    assert_eq!(start(json!("1")), vec![3]);
    assert_eq!(start(json!(true)), vec![4]);
    assert_eq!(start(json!(1.5)), Vec::<u64>::new());
    assert_eq!(
        nodes(
            &e,
            json!({"start": 0, "where": [{"key": "code", "op": "=", "value": 1}]})
        ),
        vec![1, 2]
    );
    assert_eq!(
        nodes(
            &e,
            json!({"start": 0, "where": [{"label": "X", "key": "code", "op": ">=", "value": 1}]})
        ),
        vec![1, 2]
    );
    let err = error(
        &e,
        json!({"start": {"label": "Y", "key": "code", "value": 1}}),
    );
    assert!(err.contains("Y.code"), "{err}");
}

#[test]
fn node_lists_take_key_selectors() {
    let (e, _d) = mixed_engine();
    assert_eq!(
        nodes(
            &e,
            json!({"start": 0, "allowlistNodes": [{"label": "X", "key": "code", "value": "1"}]})
        ),
        vec![0, 3]
    );
    assert_eq!(
        nodes(
            &e,
            json!({"start": 0, "denylistNodes": [{"label": "X", "key": "code", "value": 1.0}, 4]})
        ),
        vec![0, 3, 5]
    );
    assert_eq!(
        nodes(
            &e,
            json!({"start": 0, "endNodes": [{"label": "X", "key": "code", "value": true}]})
        ),
        vec![4]
    );
    let r = e
        .traverse(&request(
            json!({"start": 0, "terminatorNodes": [{"label": "X"}]}),
        ))
        .unwrap_err();
    let EngineError::Request(r) = r else {
        panic!("expected a request error")
    };
    assert_eq!(r.field, "terminatorNodes[0]");
    let path: ShortestPathRequest = serde_json::from_value(json!({
        "from": {"label": "X", "key": "code", "value": "1"},
        "to": {"label": "X", "key": "code", "value": true}
    }))
    .unwrap();
    assert!(e.shortest_path(&path).is_ok());
}

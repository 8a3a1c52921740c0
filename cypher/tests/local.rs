//! Statements answered from a small hand-built snapshot, with the answers worked out by hand.

use neotrav_cypher::{AnswerValue as V, Limits, Params, Prepared, parse};
use neotrav_snapshot::{PropertyKind, Snapshot, SnapshotBuilder, Value};

fn graph() -> (tempfile::TempDir, Snapshot) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.snap");
    let mut b = SnapshotBuilder::new();
    b.column("Artist", "name", PropertyKind::String).unwrap();
    b.column("Release", "year", PropertyKind::Int).unwrap();
    b.column("Genre", "name", PropertyKind::String).unwrap();
    for (id, name) in [(1, "Nina"), (2, "Otis"), (3, "Aretha")] {
        b.add_node(id, ["Artist"], [("name", Value::String(name.into()))])
            .unwrap();
    }
    for (id, year) in [(10, 1965), (11, 1967), (12, 1967)] {
        b.add_node(id, ["Release"], [("year", Value::Int(year))])
            .unwrap();
    }
    b.add_node(20, ["Genre"], [("name", Value::String("Soul".into()))])
        .unwrap();
    let rels = [
        (100, "BY", 10, 1),
        (101, "BY", 11, 1),
        (102, "BY", 11, 2),
        (103, "BY", 12, 3),
        (104, "IN", 10, 20),
        (105, "IN", 11, 20),
        (106, "IN", 12, 20),
    ];
    for (id, t, s, e) in rels {
        b.add_relationship(id, t, s, e).unwrap();
    }
    b.write(&path).unwrap();
    let snap = Snapshot::open(&path).unwrap();
    (dir, snap)
}

fn run(snap: &Snapshot, q: &str, params: serde_json::Value) -> Vec<Vec<V>> {
    let statement = parse(q).unwrap_or_else(|e| panic!("{q}: {e}"));
    let plan = match statement.plan(snap).unwrap_or_else(|e| panic!("{q}: {e}")) {
        Prepared::Local(p) => p,
        Prepared::Forward(f) => panic!("{q}: forwarded: {f}"),
    };
    let params = Params::from_json(&params).unwrap();
    plan.run(snap, &params, &Limits::default())
        .unwrap_or_else(|e| panic!("{q}: {e}"))
        .rows
}

fn s(x: &str) -> V {
    V::String(x.into())
}

#[test]
fn co_artists_counts_and_ordering() {
    let (_d, snap) = graph();
    let rows = run(
        &snap,
        "MATCH (a:Artist {name: $name})<-[:BY]-(r:Release)-[:BY]->(co:Artist) RETURN co.name AS co, count(r) AS n",
        serde_json::json!({"name": "Nina"}),
    );
    assert_eq!(rows, vec![vec![s("Otis"), V::Int(1)]]);
    let rows = run(
        &snap,
        "MATCH (r:Release)-[:BY]->(a:Artist) RETURN a.name AS name, count(*) AS releases ORDER BY releases DESC, name LIMIT 2",
        serde_json::json!({}),
    );
    assert_eq!(
        rows,
        vec![vec![s("Nina"), V::Int(2)], vec![s("Aretha"), V::Int(1)]]
    );
    let rows = run(
        &snap,
        "MATCH (g:Genre)<-[:IN]-(r:Release) WITH r.year AS year, count(*) AS n WHERE n > 1 RETURN year, n",
        serde_json::json!({}),
    );
    assert_eq!(rows, vec![vec![V::Int(1967), V::Int(2)]]);
}

#[test]
fn anti_patterns_optional_match_and_aggregates_over_nothing() {
    let (_d, snap) = graph();
    let rows = run(
        &snap,
        "MATCH (a:Artist) WHERE NOT (a)<-[:BY]-(:Release {year: 1965}) RETURN a.name ORDER BY a.name",
        serde_json::json!({}),
    );
    assert_eq!(rows, vec![vec![s("Aretha")], vec![s("Otis")]]);
    // Pattern predicates inside pattern predicates, each remembered per node it reads: artists
    // with a release that has an artist with no release of 1965.
    let rows = run(
        &snap,
        "MATCH (a:Artist)<-[:BY]-(r:Release) \
         WHERE EXISTS { MATCH (r)-[:BY]->(o:Artist) WHERE NOT (o)<-[:BY]-(:Release {year: 1965}) } \
         RETURN a.name, count(*) ORDER BY a.name",
        serde_json::json!({}),
    );
    assert_eq!(
        rows,
        vec![
            vec![s("Aretha"), V::Int(1)],
            vec![s("Nina"), V::Int(1)],
            vec![s("Otis"), V::Int(1)]
        ]
    );
    let rows = run(
        &snap,
        "MATCH (a:Artist) OPTIONAL MATCH (a)<-[:BY]-(r:Release {year: 1965}) RETURN a.name, r.year ORDER BY a.name",
        serde_json::json!({}),
    );
    assert_eq!(rows[0], vec![s("Aretha"), V::Null]);
    assert_eq!(rows[1], vec![s("Nina"), V::Int(1965)]);
    let rows = run(
        &snap,
        "MATCH (n:Nope) RETURN count(*), collect(n), sum(1), avg(1)",
        serde_json::json!({}),
    );
    assert_eq!(
        rows,
        vec![vec![V::Int(0), V::List(vec![]), V::Int(0), V::Null]]
    );
}

#[test]
fn variable_length_paths_and_shortest_paths() {
    let (_d, snap) = graph();
    let rows = run(
        &snap,
        "MATCH p = (a:Artist {name: 'Nina'})-[*1..4]-(b:Artist {name: 'Aretha'}) RETURN min(length(p))",
        serde_json::json!({}),
    );
    assert_eq!(rows, vec![vec![V::Int(4)]]);
    let rows = run(
        &snap,
        "MATCH p = shortestPath((a:Artist {name: 'Otis'})-[*]-(b:Artist {name: 'Aretha'})) RETURN length(p)",
        serde_json::json!({}),
    );
    assert_eq!(rows, vec![vec![V::Int(4)]]);
    let rows = run(
        &snap,
        "MATCH p = allShortestPaths((a:Artist {name: 'Nina'})-[*]-(b:Genre)) RETURN count(p)",
        serde_json::json!({}),
    );
    assert_eq!(rows, vec![vec![V::Int(2)]]);
}

#[test]
fn outside_the_subset_is_forwarded_and_writes_are_refused() {
    let (_d, snap) = graph();
    for q in [
        "CALL db.labels()",
        "MATCH (a:Artist) RETURN a.born",
        "MATCH ()-[r:BY]->() RETURN r.role",
        "MATCH (a:Artist) RETURN apoc.text.join([a.name], ',')",
    ] {
        let p = parse(q).unwrap().plan(&snap).unwrap();
        assert!(matches!(p, Prepared::Forward(_)), "{q}: {p:?}");
    }
    let e = parse("CREATE (n)").unwrap().plan(&snap).unwrap_err();
    assert!(e.to_string().contains("CREATE"), "{e}");
    let e = parse("MATCH (n RETURN n").unwrap_err();
    assert!(e.to_string().contains("line 1"), "{e}");
}

#[test]
fn limit_stops_the_matching_and_budgets_hold() {
    let (_d, snap) = graph();
    // Without early termination this enumerates every trail of the graph, many times over.
    let rows = run(
        &snap,
        "MATCH (a)-[*]-(b)-[*]-(c) RETURN a, b, c LIMIT 3",
        serde_json::json!({}),
    );
    assert_eq!(rows.len(), 3);
    let rows = run(
        &snap,
        "MATCH (r:Release) WITH r ORDER BY r.year DESC, id(r) LIMIT 2 RETURN r.year",
        serde_json::json!({}),
    );
    assert_eq!(rows, vec![vec![V::Int(1967)], vec![V::Int(1967)]]);
    let statement = parse("UNWIND range(1, 1000000000) AS x RETURN count(x)").unwrap();
    let Prepared::Local(plan) = statement.plan(&snap).unwrap() else {
        panic!("local")
    };
    let limits = Limits {
        max_memory: 64 << 20,
        ..Limits::default()
    };
    let e = plan.run(&snap, &Params::default(), &limits).unwrap_err();
    assert!(e.to_string().contains("maxMemory"), "{e}");
    let e = parse("MATCH (a) WHERE a.name = $missing RETURN a")
        .unwrap()
        .plan(&snap)
        .unwrap();
    let Prepared::Local(plan) = e else {
        panic!("local")
    };
    let e = plan
        .run(&snap, &Params::default(), &Limits::default())
        .unwrap_err();
    assert!(e.to_string().contains("$missing"), "{e}");
}

#[test]
fn a_key_of_mixed_types_compares_orders_and_seeks_as_cypher_does() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.snap");
    let mut b = SnapshotBuilder::new();
    b.column("T", "m", PropertyKind::Int).unwrap();
    let values = [
        Value::Int(1),
        Value::String("1".into()),
        Value::Float(1.0),
        Value::Bool(true),
        Value::Int(7),
        Value::Float(f64::NAN),
    ];
    for (i, v) in values.into_iter().enumerate() {
        b.add_node(i as u64, ["T"], [("m", v)]).unwrap();
    }
    b.add_node(99, ["T"], []).unwrap();
    b.write(&path).unwrap();
    let snap = Snapshot::open(&path).unwrap();
    let one = |q: &str| run(&snap, q, serde_json::json!({}));
    // The seek (an inline map) and the filter agree: 1 = 1.0, '1' <> 1, NaN equals nothing.
    assert_eq!(
        one("MATCH (n:T {m: 1}) RETURN count(*)"),
        vec![vec![V::Int(2)]]
    );
    assert_eq!(
        one("MATCH (n:T) WHERE n.m = 1 RETURN count(*)"),
        vec![vec![V::Int(2)]]
    );
    assert_eq!(
        one("MATCH (n:T) WHERE n.m > 0 RETURN count(*)"),
        vec![vec![V::Int(3)]]
    );
    assert_eq!(
        one("MATCH (n:T) WHERE n.m = '1' RETURN id(n)"),
        vec![vec![V::Int(1)]]
    );
    // ORDER BY across types: strings, booleans, numbers (NaN last among them), then null.
    let rows = one("MATCH (n:T) RETURN id(n) ORDER BY n.m, id(n)");
    let ids: Vec<V> = rows.into_iter().map(|mut r| r.remove(0)).collect();
    assert_eq!(
        ids,
        [1, 3, 0, 2, 4, 5, 99].map(V::Int).to_vec(),
        "'1', true, 1, 1.0, 7, NaN, null"
    );
    let rows = one("MATCH (n:T) RETURN max(n.m), min(n.m)");
    assert!(matches!(rows[0][0], V::Float(x) if x.is_nan()), "{rows:?}");
    assert_eq!(rows[0][1], V::String("1".into()));
}

/// What the openCypher TCK suite (tests/tck.rs) found: NaN compares false rather than null, the
/// smallest integer is a literal, comparisons chain (`a < b = c` is `a < b AND b = c`), and
/// `WITH ... WHERE` reads variables the WITH does not keep.
#[test]
fn tck_regressions() {
    let (_d, snap) = graph();
    let one = |q: &str| run(&snap, q, serde_json::json!({}));
    assert_eq!(
        one("RETURN 0.0 / 0.0 > 1 AS a, 0.0 / 0.0 <= 0.0 / 0.0 AS b, 0.0 / 0.0 = 0.0 / 0.0 AS c"),
        vec![vec![V::Bool(false), V::Bool(false), V::Bool(false)]]
    );
    assert_eq!(
        one(
            "RETURN -9223372036854775808 AS a, -0x8000000000000000 AS b, -0o1000000000000000000000 AS c"
        ),
        vec![vec![V::Int(i64::MIN), V::Int(i64::MIN), V::Int(i64::MIN)]]
    );
    assert_eq!(
        one("RETURN 1 < 2 = 2 AS chain, (1 < 2) = 2 AS nested, 3 > 2 > 1 AS down"),
        vec![vec![V::Bool(true), V::Bool(false), V::Bool(true)]]
    );
    // Release 12 is the only one not by Nina.
    assert_eq!(
        one(
            "MATCH (r:Release) OPTIONAL MATCH (r)-[b:BY]->(:Artist {name: 'Nina'}) WITH r WHERE b IS NULL RETURN r.year"
        ),
        vec![vec![V::Int(1967)]]
    );
}

/// Regression: a label scan's decoded node list was charged with the result ignored, so a scan
/// of many nodes ran past `max_memory` and answered.
#[test]
fn a_label_scan_past_max_memory_stops_with_the_budget_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.snap");
    let mut b = SnapshotBuilder::new();
    for id in 0..10_000u64 {
        b.add_node(id, ["N"], []).unwrap();
    }
    b.write(&path).unwrap();
    let snap = Snapshot::open(&path).unwrap();
    let Prepared::Local(plan) = parse("MATCH (n:N) RETURN count(*) AS n")
        .unwrap()
        .plan(&snap)
        .unwrap()
    else {
        panic!("local")
    };
    // The list of 10,000 nodes takes 40,000 bytes; the count itself needs about a hundred.
    let tight = Limits {
        max_memory: 4 << 10,
        ..Limits::default()
    };
    let e = plan.run(&snap, &Params::default(), &tight).unwrap_err();
    assert!(
        matches!(
            e,
            neotrav_cypher::CypherError::Budget {
                budget: "maxMemory",
                ..
            }
        ),
        "{e}"
    );
    let generous = Limits {
        max_memory: 1 << 20,
        ..Limits::default()
    };
    let answer = plan.run(&snap, &Params::default(), &generous).unwrap();
    assert_eq!(answer.rows, vec![vec![V::Int(10_000)]]);
}

/// Regression: a variable-length step recursed once per relationship of the path, so a long
/// path overflowed the stack (a 3,000-relationship path did on a 2 MiB stack) and aborted the
/// process. It walks with a stack of its own now.
#[test]
fn a_variable_length_path_longer_than_the_stack_is_walked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("line.snap");
    let mut b = SnapshotBuilder::new();
    let n = 4_000u64;
    b.add_node(0, ["S"], []).unwrap();
    for id in 1..n {
        b.add_node(id, ["N"], []).unwrap();
    }
    for id in 0..n - 1 {
        b.add_relationship(id, "NEXT", id, id + 1).unwrap();
    }
    b.write(&path).unwrap();
    let snap = Snapshot::open(&path).unwrap();
    let rows = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            run(
                &snap,
                "MATCH (a:S)-[r:NEXT*]->(b) RETURN count(*) AS paths, max(size(r)) AS longest",
                serde_json::json!({}),
            )
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(rows, vec![vec![V::Int(n as i64 - 1), V::Int(n as i64 - 1)]]);
}

#[test]
fn statements_too_deep_to_run_safely_are_forwarded_and_long_conditions_are_not() {
    let (_d, snap) = graph();
    let forward = |q: &str| match parse(q).unwrap().plan(&snap).unwrap() {
        Prepared::Forward(f) => f.reason,
        Prepared::Local(_) => panic!("{q}: planned locally"),
    };
    let sum = format!("RETURN 1{} AS x", " + 1".repeat(100));
    assert!(forward(&sum).contains("nested more than 64"));
    let clauses = format!("{}RETURN x", "WITH 1 AS x ".repeat(150));
    assert!(forward(&clauses).contains("more than 128 clauses and pattern steps"));
    let chain = format!("MATCH (a){} RETURN count(*)", "--()".repeat(150));
    assert!(forward(&chain).contains("more than 128 clauses and pattern steps"));
    // A chain of OR (or of AND) is one level, however long.
    let names: Vec<String> = (0..500).map(|i| format!("a.name = 'n{i}'")).collect();
    let q = format!(
        "MATCH (a:Artist) WHERE {} OR a.name = 'Nina' RETURN count(*)",
        names.join(" OR ")
    );
    assert_eq!(run(&snap, &q, serde_json::json!({})), vec![vec![V::Int(1)]]);
}

/// Regressions, each against what Neo4j 5.26 answered: `-9223372036854775808` was refused as
/// too large; `toInteger` of a float past the integers failed where Neo4j saturates, and of a
/// string trimmed spaces and saturated where Neo4j gives null or fails; `toFloat` of a string
/// read `Infinity` and `1f` as null where Java reads them; `abs` of the smallest integer failed
/// where Java's `Math.abs` gives it back.
#[test]
fn integer_literals_and_conversions_follow_neo4j() {
    let (_d, snap) = graph();
    let rows = run(
        &snap,
        "RETURN -9223372036854775808 AS a, -0x8000000000000000 AS b, toInteger(9.9e18) AS c, \
         toInteger(0.0 / 0.0) AS d, toInteger('9223372036854775806.9') AS e, toInteger(' 3 ') AS f, \
         toFloat(' 3 ') AS g, toFloat('Infinity') AS h, toFloat('1f') AS i, \
         abs(-9223372036854775808) AS j",
        serde_json::json!({}),
    );
    assert_eq!(
        rows,
        vec![vec![
            V::Int(i64::MIN),
            V::Int(i64::MIN),
            V::Int(i64::MAX),
            V::Int(0),
            V::Int(i64::MAX - 1),
            V::Null,
            V::Float(3.0),
            V::Float(f64::INFINITY),
            V::Float(1.0),
            V::Int(i64::MIN),
        ]]
    );
    for q in [
        "RETURN 9223372036854775808",
        "RETURN -(9223372036854775808)",
    ] {
        let e = parse(q).unwrap().plan(&snap).unwrap_err();
        assert!(e.to_string().contains("integer is too large"), "{q}: {e}");
    }
    let Prepared::Local(plan) = parse("RETURN toInteger('1e30')")
        .unwrap()
        .plan(&snap)
        .unwrap()
    else {
        panic!("local")
    };
    let e = plan
        .run(&snap, &Params::default(), &Limits::default())
        .unwrap_err();
    assert_eq!(e.to_string(), "integer, 1e30, is too large");
}

//! A MATCH's last expansion fused with the aggregation after it (`Expand ... grouped by` in the
//! plan) answers exactly as the unfused plan does: the same rows in the same order, the same
//! errors. Random graphs (mixed-type keys in half of them, integer-only in the rest, nulls, self-loops, parallel relationships, nodes the
//! key was not exported for, a hub whose expansions are large enough to group) and random
//! aggregations over them; each statement runs as written
//! (fused) and with `WITH *` after its MATCH (which keeps the rows apart).

use neotrav_cypher::{Limits, Params, Prepared, parse};
use neotrav_snapshot::{PropertyKind, Snapshot, SnapshotBuilder, Value};
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64;

fn graph(rng: &mut Pcg64, dir: &tempfile::TempDir, i: usize) -> Snapshot {
    let path = dir.path().join(format!("g{i}.snap"));
    let mut b = SnapshotBuilder::new();
    b.column("A", "k", PropertyKind::Int).unwrap();
    b.column("A", "s", PropertyKind::String).unwrap();
    b.column("B", "k", PropertyKind::Int).unwrap();
    b.column("B", "f", PropertyKind::Float).unwrap();
    let nodes = rng.random_range(1..40u64);
    // Half the graphs hold integers only under `k`, which groups through its integer reader.
    let mixed = rng.random_bool(0.5);
    for id in 0..nodes {
        // Label C has no exported key: reading one of its keys needs Neo4j.
        let labels: &[&str] = match rng.random_range(0..10) {
            0..=3 => &["A"],
            4..=7 => &["B"],
            8 => &["A", "B"],
            _ => &["C"],
        };
        let mut props = Vec::new();
        match rng.random_range(0..6) {
            0 => {}
            1 if mixed => props.push(("k", Value::String(format!("{}", rng.random_range(0..3))))),
            2 if mixed => props.push(("k", Value::Float(rng.random_range(0..3) as f64))),
            _ => props.push(("k", Value::Int(rng.random_range(0..4)))),
        }
        if rng.random_bool(0.7) {
            props.push((
                "s",
                Value::String(["x", "y", "z"][rng.random_range(0..3)].into()),
            ));
        }
        if rng.random_bool(0.5) {
            let f = [0.0, -0.0, 1.5, f64::NAN][rng.random_range(0..4)];
            props.push(("f", Value::Float(f)));
        }
        b.add_node(id, labels.iter().copied(), props).unwrap();
    }
    // A hub (node 0) in most graphs: an expansion of 16 relationships or more is grouped,
    // fewer go on a row at a time.
    let hub = if rng.random_bool(0.7) {
        rng.random_range(16..60)
    } else {
        0
    };
    for id in 0..rng.random_range(0..120u64) + hub {
        let t = ["T", "U"][rng.random_range(0..2)];
        let (mut s, mut e) = (rng.random_range(0..nodes), rng.random_range(0..nodes));
        if id < hub {
            if rng.random_bool(0.5) {
                s = 0;
            } else {
                e = 0;
            }
        }
        b.add_relationship(id, t, s, e).unwrap();
    }
    b.write(&path).unwrap();
    Snapshot::open(&path).unwrap()
}

fn pick<'a>(rng: &mut Pcg64, items: &[&'a str]) -> &'a str {
    items[rng.random_range(0..items.len())]
}

/// A statement whose plan fuses, when it does, and the same statement kept apart.
fn statement(rng: &mut Pcg64) -> (String, String) {
    let a = pick(rng, &["(a)", "(a:A)", "(a:B)", "(a:A {k: 1})"]);
    let hop = pick(
        rng,
        &["-[:T]->", "<-[:T]-", "-[:T|U]-", "-[r]-", "-[r:U]->", "-->"],
    );
    let b = pick(rng, &["(b)", "(b:A)", "(b:B)", "(b:C)", "(b:A:B)"]);
    let second = if rng.random_bool(0.3) {
        pick(rng, &["-[:T]-(c)", "<-[:U]-(c:A)"])
    } else {
        ""
    };
    let (from, to) = if second.is_empty() { (a, b) } else { ("", "") };
    let pattern = if second.is_empty() {
        format!("{from}{hop}{to}")
    } else {
        format!("{a}{hop}{b}{second}")
    };
    let last = if second.is_empty() { "b" } else { "c" };
    let mut filters = Vec::new();
    for _ in 0..rng.random_range(0..3) {
        let f = pick(
            rng,
            &[
                "@.k IS NOT NULL",
                "@.k IS NULL",
                "@.s IS NOT NULL",
                "@.k > 1",
                "a <> @",
                "@.s STARTS WITH 'x'",
                "NOT (@)-[:U]->(a)",
            ],
        );
        filters.push(f.replace('@', last));
    }
    let mut items = Vec::new();
    // A histogram: one key, presence tests on it only (the integer reader's shape).
    let histogram = rng.random_bool(0.25);
    if histogram {
        let tests = pick(
            rng,
            &[
                "",
                "@.k IS NOT NULL",
                "@.k IS NULL",
                "@.k IS NULL AND @.k IS NOT NULL",
            ],
        );
        filters = tests
            .split(" AND ")
            .filter(|t| !t.is_empty())
            .map(|t| t.replace('@', last))
            .collect();
        items.push(format!("{last}.k"));
    }
    let filter = if filters.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", filters.join(" AND "))
    };
    for _ in 0..rng.random_range(0..3) {
        if histogram {
            break;
        }
        let k = pick(
            rng,
            &[
                "@.k",
                "@.s",
                "@.f",
                "a.k",
                "@.k + 1",
                "toString(@.k)",
                "a.s",
            ],
        );
        let k = k.replace('@', last);
        if !items.contains(&k) {
            items.push(k);
        }
    }
    let keys = items.len();
    for _ in 0..rng.random_range(1..3) {
        let agg = pick(
            rng,
            &[
                "count(*)",
                "count(@)",
                "count(@.k)",
                "count(DISTINCT @.s)",
                "min(@.k)",
                "max(@.s)",
                "collect(DISTINCT @.k)",
                "count(DISTINCT a)",
                "sum(@.k)",
                "collect(@.s)",
                "max(@.f)",
            ],
        );
        let agg = agg.replace('@', last);
        if !items.contains(&agg) {
            items.push(agg);
        }
    }
    let ret: Vec<String> = items
        .iter()
        .enumerate()
        .map(|(i, e)| format!("{e} AS c{i}"))
        .collect();
    let order = if keys > 0 && rng.random_bool(0.5) {
        " ORDER BY c0 DESC".to_string()
    } else {
        String::new()
    };
    let tail = format!("RETURN {}{order}", ret.join(", "));
    (
        format!("MATCH {pattern}{filter} {tail}"),
        format!("MATCH {pattern}{filter} WITH * {tail}"),
    )
}

fn answer(snap: &Snapshot, q: &str) -> (String, bool) {
    let statement = parse(q).unwrap_or_else(|e| panic!("{q}: {e}"));
    match statement.plan(snap) {
        Ok(Prepared::Local(p)) => {
            let fused = p.to_string().contains("grouped by");
            let out = match p.run(snap, &Params::default(), &Limits::default()) {
                Ok(a) => format!("{:?}", a.rows),
                Err(e) => format!("error: {e}"),
            };
            (out, fused)
        }
        // The reason names a column of the text, which `WITH *` moves.
        Ok(Prepared::Forward(_)) => ("forward".into(), false),
        Err(e) => (format!("plan error: {e}"), false),
    }
}

#[test]
fn a_fused_expansion_answers_as_the_rows_it_stands_for() {
    let cases: usize = std::env::var("GROUPED_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Pcg64::seed_from_u64(7);
    let (mut fused, mut errors) = (0, 0);
    let mut snap = graph(&mut rng, &dir, 0);
    for i in 0..cases {
        if i % 50 == 49 {
            snap = graph(&mut rng, &dir, i);
        }
        let (q, apart) = statement(&mut rng);
        let (got, was_fused) = answer(&snap, &q);
        let (want, kept_apart) = answer(&snap, &apart);
        assert!(!kept_apart, "{apart}: a WITH * keeps the rows apart");
        assert_eq!(got, want, "case {i}: {q}");
        fused += usize::from(was_fused);
        errors += usize::from(got.starts_with("error"));
    }
    // The generator must reach the fused plan often, and its error paths too.
    assert!(
        fused > cases / 4,
        "only {fused} of {cases} statements fused"
    );
    assert!(
        errors > 0,
        "no statement failed: the error paths went untested"
    );
}

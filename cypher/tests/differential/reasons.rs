//! Every reason a statement is forwarded to Neo4j or refused, on a small hand-built snapshot.

use neotrav_cypher::{CypherError, Limits, Params, Prepared, parse};
use neotrav_snapshot::{PropertyKind, Snapshot, SnapshotBuilder, Value};
use serde_json::json;

fn snapshot(dir: &std::path::Path) -> Snapshot<memmap2::Mmap> {
    let path = dir.join("small.snap");
    let mut b = SnapshotBuilder::new();
    b.column("Artist", "name", PropertyKind::String).unwrap();
    b.column("Release", "year", PropertyKind::Int).unwrap();
    b.add_node(1, ["Artist"], [("name", Value::String("Nina".into()))])
        .unwrap();
    b.add_node(2, ["Release"], [("year", Value::Int(1999))])
        .unwrap();
    b.add_node(3, ["Release"], [("year", Value::Int(2001))])
        .unwrap();
    b.add_relationship(10, "BY", 2, 1).unwrap();
    b.add_relationship(11, "BY", 3, 1).unwrap();
    b.write(&path).unwrap();
    Snapshot::open(&path).unwrap()
}

fn plan(snap: &Snapshot<memmap2::Mmap>, text: &str) -> Result<Prepared, CypherError> {
    parse(text)?.plan(snap)
}

/// The statement is forwarded, naming a construct that contains `construct`.
fn forwarded(
    snap: &Snapshot<memmap2::Mmap>,
    text: &str,
    construct: &str,
    failures: &mut Vec<String>,
) {
    match plan(snap, text) {
        Ok(Prepared::Forward(f)) => {
            let named = format!("{} {}", f.construct, f.reason).to_lowercase();
            if !named.contains(&construct.to_lowercase()) {
                failures.push(format!(
                    "{text}: forwarded, but the reason does not name {construct:?}: {f:?}"
                ));
            }
            if f.line == 0 || f.column == 0 {
                failures.push(format!("{text}: forwarded without a position: {f:?}"));
            }
        }
        Ok(Prepared::Local(_)) => failures.push(format!("{text}: planned locally, not forwarded")),
        Err(e) => failures.push(format!("{text}: refused ({e:?}), not forwarded")),
    }
}

fn write(snap: &Snapshot<memmap2::Mmap>, text: &str, clause: &str, failures: &mut Vec<String>) {
    match plan(snap, text) {
        Err(CypherError::Write { construct }) => {
            if !construct.to_uppercase().contains(clause) {
                failures.push(format!(
                    "{text}: refused as a write of {construct:?}, not {clause}"
                ));
            }
        }
        Err(e) => failures.push(format!("{text}: refused as {e:?}, not as a write")),
        Ok(p) => failures.push(format!("{text}: not refused: {p:?}")),
    }
}

pub fn check() {
    let dir = tempfile::tempdir().unwrap();
    let snap = snapshot(dir.path());
    let mut failures = Vec::new();

    // Forwarded: procedures, relationship properties, a property not exported, functions outside
    // the subset.
    forwarded(&snap, "CALL db.labels()", "CALL", &mut failures);
    forwarded(
        &snap,
        "CALL db.labels() YIELD label RETURN label",
        "CALL",
        &mut failures,
    );
    forwarded(
        &snap,
        "MATCH (a:Artist) CALL apoc.path.expand(a, 'BY', null, 1, 2) YIELD path RETURN path",
        "CALL",
        &mut failures,
    );
    forwarded(
        &snap,
        "MATCH ()-[r:BY]->() RETURN r.weight",
        "weight",
        &mut failures,
    );
    forwarded(
        &snap,
        "MATCH (a)-[r]->(b) WHERE r.since > 2000 RETURN a",
        "since",
        &mut failures,
    );
    forwarded(
        &snap,
        "MATCH (a:Artist) RETURN a.country",
        "country",
        &mut failures,
    );
    forwarded(
        &snap,
        "MATCH (r:Release) WHERE r.title STARTS WITH 'A' RETURN r",
        "title",
        &mut failures,
    );
    forwarded(
        &snap,
        "MATCH (a:Artist {country: 'NO'}) RETURN a",
        "country",
        &mut failures,
    );
    forwarded(
        &snap,
        "MATCH (a:Artist) RETURN apoc.text.capitalize(a.name)",
        "apoc.text.capitalize",
        &mut failures,
    );
    forwarded(
        &snap,
        "RETURN nosuchfunction(1) AS x",
        "nosuchfunction",
        &mut failures,
    );

    // Refused: writes.
    write(
        &snap,
        "CREATE (a:Artist {name: 'Bo'})",
        "CREATE",
        &mut failures,
    );
    write(
        &snap,
        "MATCH (a:Artist) CREATE (a)-[:KNOWS]->(a)",
        "CREATE",
        &mut failures,
    );
    write(
        &snap,
        "MERGE (a:Artist {name: 'Nina'}) RETURN a",
        "MERGE",
        &mut failures,
    );
    write(
        &snap,
        "MATCH (a:Artist) SET a.name = 'x'",
        "SET",
        &mut failures,
    );
    write(&snap, "MATCH (a:Artist) DELETE a", "DELETE", &mut failures);
    write(
        &snap,
        "MATCH (a:Artist) DETACH DELETE a",
        "DELETE",
        &mut failures,
    );
    write(
        &snap,
        "MATCH (a:Artist) REMOVE a.name",
        "REMOVE",
        &mut failures,
    );

    // A syntax error: line and column of the first diagnostic.
    for (text, line, column) in [
        ("MATCH (a:Artist RETURN a", 1, 7),
        ("MATCH (a:Artist)\nRETURN a,, a.name", 2, 10),
        ("MATCH (a)\nWHERE a.name = \nRETURN a", 3, 8),
    ] {
        match parse(text) {
            Err(CypherError::Syntax(e)) => {
                if (e.line, e.column) != (line, column) {
                    failures.push(format!(
                        "{text:?}: syntax error at {}:{}, expected {line}:{column}: {}",
                        e.line, e.column, e.message
                    ));
                }
            }
            other => failures.push(format!("{text:?}: not a syntax error: {other:?}")),
        }
    }

    // A missing parameter is named (when planning or when running).
    let text = "MATCH (a:Artist {name: $who}) RETURN a.name AS name";
    let named = match plan(&snap, text) {
        Err(CypherError::MissingParameter { name }) => Some(name),
        Err(e) => {
            failures.push(format!("{text}: refused as {e:?}"));
            None
        }
        Ok(Prepared::Forward(f)) => {
            failures.push(format!("{text}: forwarded: {f:?}"));
            None
        }
        Ok(Prepared::Local(p)) => {
            let params = Params::from_json(&json!({"whom": "Nina"})).unwrap();
            match p.run(&snap, &params, &Limits::default()) {
                Err(CypherError::MissingParameter { name }) => Some(name),
                other => {
                    failures.push(format!("{text} without $who: {other:?}"));
                    None
                }
            }
        }
    };
    if let Some(name) = named.filter(|n| n != "who") {
        failures.push(format!(
            "{text}: the missing parameter is named {name:?}, not who"
        ));
    }

    // And the same statement with the parameter answers locally.
    if let Ok(Prepared::Local(p)) = plan(&snap, text) {
        let params = Params::from_json(&json!({"who": "Nina"})).unwrap();
        match p.run(&snap, &params, &Limits::default()) {
            Ok(a) if a.rows.len() == 1 => {}
            other => failures.push(format!("{text} with $who = 'Nina': {other:?}")),
        }
    }

    assert!(
        failures.is_empty(),
        "{} forwarding or refusal checks failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

//! The body of the `statement_plan` fuzz target, shared with the stable test that replays its
//! seeds (`cypher/tests/fuzz_seeds.rs`).
//!
//! [`run`] takes bytes as a statement (inputs that are not UTF-8 are skipped), parses it, plans
//! it onto [`snapshot`] and, when it plans locally, runs it with [`params`] under [`limits`]. It
//! also formats what it gets (plan, errors, forwarding reasons) and clones the statement, as the
//! server does. It never fails: any panic, abort or hang is the bug it looks for.

use std::sync::OnceLock;
use std::time::Duration;

use neotrav_cypher::{Limits, Params, Prepared, parse};
use neotrav_snapshot::{PropertyKind, Snapshot, SnapshotBuilder, Value};

/// What became of one input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    /// Not UTF-8: not a statement.
    NotUtf8,
    /// Refused by the parser (or by the size and nesting checks before it).
    Syntax,
    /// Planning refused it (a write, a semantic error).
    Refused,
    /// Planned to Neo4j.
    Forwarded,
    /// Ran on the snapshot and answered.
    Answered,
    /// Ran on the snapshot and stopped with an error (a budget, a run-time error, a missing
    /// parameter, or a property only Neo4j knows).
    Stopped,
}

/// The vocabulary of the differential suite's graphs (so that its statements plan and run):
/// labels `L0`–`L3`, some nodes with two; types `T0`–`T2` with
/// self-loops and parallel relationships; keys `key` (int), `num` (ints, floats, strings and
/// booleans), `name` (strings with shared prefixes), `score` (floats, NaN among them) and `flag`
/// (booleans), exported for every label; `idx` is not exported.
pub fn snapshot() -> &'static Snapshot {
    static SNAPSHOT: OnceLock<(tempfile::TempDir, Snapshot)> = OnceLock::new();
    &SNAPSHOT
        .get_or_init(|| {
            let dir = tempfile::tempdir().expect("a temporary directory");
            let path = dir.path().join("fuzz.snap");
            let mut b = SnapshotBuilder::new();
            let labels = ["L0", "L1", "L2", "L3"];
            let keys = [
                ("key", PropertyKind::Int),
                ("num", PropertyKind::Int),
                ("name", PropertyKind::String),
                ("score", PropertyKind::Float),
                ("flag", PropertyKind::Bool),
            ];
            for l in labels {
                for (k, kind) in keys {
                    b.column(l, k, kind).expect("a column");
                }
            }
            let names = ["al", "alp", "alpha", "Alpha", "be", "beta", "", "zed"];
            for i in 0..40u64 {
                // No unlabeled node: reading one's property is forwarded at run time, which
                // would stop most scans before they reach the rest of the executor.
                let node_labels: Vec<&str> = match i % 11 {
                    3 | 7 => vec![labels[i as usize % 4], labels[(i as usize + 1) % 4]],
                    _ => vec![labels[i as usize % 4]],
                };
                let mut props = vec![("key", Value::Int(i as i64))];
                let num = match i % 6 {
                    0 => None,
                    1 | 2 => Some(Value::Int(i as i64 % 7 - 2)),
                    3 => Some(Value::Float(i as f64 / 4.0)),
                    4 => Some(Value::String(names[i as usize % names.len()].into())),
                    _ => Some(Value::Bool(i % 4 == 1)),
                };
                props.extend(num.map(|v| ("num", v)));
                if i % 5 != 4 {
                    props.push((
                        "name",
                        Value::String(names[i as usize % names.len()].into()),
                    ));
                }
                match i % 9 {
                    0 => props.push(("score", Value::Float(f64::NAN))),
                    1..=3 => props.push(("score", Value::Float(i as f64))),
                    4..=6 => props.push(("score", Value::Float(i as f64 / 3.0 - 5.0))),
                    _ => {}
                }
                if i % 3 != 0 {
                    props.push(("flag", Value::Bool(i % 2 == 0)));
                }
                b.add_node(i, node_labels, props).expect("a node");
            }
            let types = ["T0", "T1", "T2"];
            let mut id = 0u64;
            for i in 0..40u64 {
                for (t, end) in [(i % 3, (i * 7 + 3) % 40), ((i + 1) % 3, (i + 1) % 40)] {
                    b.add_relationship(id, types[t as usize], i, end)
                        .expect("a relationship");
                    id += 1;
                }
                if i % 13 == 0 {
                    // A self-loop, and a parallel relationship of another type.
                    b.add_relationship(id, "T0", i, i).expect("a self-loop");
                    b.add_relationship(id + 1, "T2", i, (i + 1) % 40)
                        .expect("a parallel relationship");
                    id += 2;
                }
            }
            b.write(&path).expect("the snapshot is written");
            let snapshot = Snapshot::open(&path).expect("the snapshot opens");
            (dir, snapshot)
        })
        .1
}

/// Parameters `p0`–`p9` of assorted types (the grammar names its parameters so) and a few
/// common names.
pub fn params() -> &'static Params {
    static PARAMS: OnceLock<Params> = OnceLock::new();
    PARAMS.get_or_init(|| {
        Params::from_json(&serde_json::json!({
            "p0": 3, "p1": "al", "p2": 2.5, "p3": true, "p4": [1, 2, 3], "p5": null,
            "p6": {"k": 1, "name": "beta"}, "p7": -1, "p8": "alpha", "p9": 0.0,
            "name": "alp", "key": 7, "x": 1, "min": 2, "year": 1990, "limit": 5,
        }))
        .expect("the parameters are valid")
    })
}

/// Tight limits: each input runs in milliseconds.
pub fn limits() -> Limits {
    Limits {
        deadline: Duration::from_millis(100),
        max_memory: 1 << 20,
        max_work: 50_000,
        database_id: "fuzz".into(),
    }
}

/// Parses, plans and runs one input.
pub fn run(data: &[u8]) -> Outcome {
    let Ok(text) = std::str::from_utf8(data) else {
        return Outcome::NotUtf8;
    };
    let statement = match parse(text) {
        Ok(s) => s,
        Err(e) => {
            let _ = e.to_string();
            return Outcome::Syntax;
        }
    };
    let _ = statement.is_explain();
    let _ = statement.clone();
    let snapshot = snapshot();
    let plan = match statement.plan(snapshot) {
        Ok(Prepared::Local(plan)) => plan,
        Ok(Prepared::Forward(f)) => {
            let _ = f.to_string();
            return Outcome::Forwarded;
        }
        Err(e) => {
            let _ = e.to_string();
            return Outcome::Refused;
        }
    };
    let _ = plan.to_string();
    let _ = plan.fields();
    match plan.run(snapshot, params(), &limits()) {
        Ok(answer) => {
            assert_eq!(answer.fields.len(), plan.fields().len());
            for row in &answer.rows {
                assert_eq!(row.len(), answer.fields.len(), "a row of the wrong width");
            }
            Outcome::Answered
        }
        Err(e) => {
            let _ = e.to_string();
            Outcome::Stopped
        }
    }
}

//! Runs one statement of the bench's Cypher suite a fixed number of times on the Discogs 0.01
//! snapshot of the `cypher` criterion bench, for instruction counts that a busy machine does
//! not move:
//!
//! ```text
//! cargo bench -p neotrav-benches --bench cypher --no-run   # makes the snapshot once
//! cargo build --release -p neotrav-benches --example cypher_calls
//! valgrind --tool=callgrind --toggle-collect='*run_calls*' \
//!     target/release/examples/cypher_calls cypher-genre-years 32
//! ```
//!
//! With `--toggle-collect` only the timed loop is counted; divide by the count for
//! instructions per call.

use std::path::PathBuf;
use std::time::Duration;

use neotrav_benches::harness::statements::{Inputs, STATEMENTS, Statement};
use neotrav_cypher::{AnswerValue, Limits, Params, Plan, Prepared};
use neotrav_snapshot::Snapshot;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(name), Some(count)) = (args.next(), args.next()) else {
        eprintln!("usage: cypher_calls <statement name> <calls>");
        std::process::exit(2);
    };
    let count: usize = count.parse().expect("calls: a number");
    let Some(s) = STATEMENTS.iter().find(|s| s.name == name) else {
        let names: Vec<_> = STATEMENTS.iter().map(|s| s.name).collect();
        eprintln!("no statement {name}; the suite has {}", names.join(", "));
        std::process::exit(2);
    };
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench-data/discogs-0.01-42.snap");
    let snap = Snapshot::open(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run the cypher bench once to make it)",
            path.display()
        )
    });
    let plan = local(s.text, &snap);
    let artists = keys(
        "MATCH (a:Artist)<-[:BY]-(:Release) WHERE a.id <> 'a1' RETURN DISTINCT a.id ORDER BY a.id LIMIT 64",
        &snap,
    );
    let genres = keys("MATCH (g:Genre) RETURN g.name ORDER BY g.name", &snap);
    let inputs: Vec<Params> = (0..count)
        .map(|i| params(s, i, &artists, &genres))
        .collect();
    let rows = run_calls(&plan, &snap, &inputs);
    println!("{name}: {count} calls, {rows} rows");
}

#[inline(never)]
fn run_calls<D: AsRef<[u8]>>(plan: &Plan, snap: &Snapshot<D>, inputs: &[Params]) -> usize {
    inputs
        .iter()
        .map(|p| {
            plan.run(snap, p, &limits())
                .expect("the statement answers")
                .rows
                .len()
        })
        .sum()
}

fn params(s: &Statement, i: usize, artists: &[String], genres: &[String]) -> Params {
    let mut p = Params::default();
    let v = |v: &String| AnswerValue::String(v.clone());
    match s.inputs {
        Inputs::Artist => p.set("artist", &v(&artists[i % artists.len()])).unwrap(),
        Inputs::Genre => p.set("genre", &v(&genres[i % genres.len()])).unwrap(),
        Inputs::Pair => {
            p.set("a", &v(&artists[(2 * i) % artists.len()])).unwrap();
            p.set("b", &v(&artists[(2 * i + 1) % artists.len()]))
                .unwrap();
        }
    }
    p
}

fn limits() -> Limits {
    Limits {
        deadline: Duration::from_secs(600),
        max_memory: 1 << 30,
        ..Limits::default()
    }
}

fn local<D: AsRef<[u8]>>(text: &str, snap: &Snapshot<D>) -> Plan {
    match neotrav_cypher::parse(text).unwrap().plan(snap).unwrap() {
        Prepared::Local(p) => p,
        Prepared::Forward(f) => panic!("the snapshot would forward {text}: {f}"),
    }
}

fn keys<D: AsRef<[u8]>>(text: &str, snap: &Snapshot<D>) -> Vec<String> {
    local(text, snap)
        .run(snap, &Params::default(), &limits())
        .unwrap()
        .rows
        .into_iter()
        .map(|r| match &r[0] {
            AnswerValue::String(s) => s.clone(),
            other => panic!("{text} answered {other:?}"),
        })
        .collect()
}

//! Runs one statement of the bench's Cypher suite a fixed number of times on the Discogs 0.01
//! snapshot of the `cypher` criterion bench, for instruction counts that a busy machine does
//! not move:
//!
//! ```text
//! cargo build --release -p neotrav-benches --example cypher_calls
//! valgrind --tool=callgrind --toggle-collect='*run_calls*' \
//!     target/release/examples/cypher_calls cypher-genre-years 32
//! ```
//!
//! With `--toggle-collect` only the timed loop is counted; divide by the count for
//! instructions per call. A third argument picks another scale of the graph (`0.1`: the
//! bench's own, for time and cache misses rather than instructions); the loop's time is
//! printed.

use neotrav_benches::harness::statements::{
    STATEMENTS, limits, plan, rotating_params, suite_inputs,
};
use neotrav_benches::synthetic::generated;
use neotrav_cypher::{Params, Plan};
use neotrav_datasets::generate::discogs::Discogs;
use neotrav_snapshot::Snapshot;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(name), Some(count)) = (args.next(), args.next()) else {
        eprintln!("usage: cypher_calls <statement name> <calls>");
        std::process::exit(2);
    };
    let count: usize = count.parse().expect("calls: a number");
    let scale: f64 = args
        .next()
        .map_or(0.01, |s| s.parse().expect("scale: a number"));
    let Some(s) = STATEMENTS.iter().find(|s| s.name == name) else {
        let names: Vec<_> = STATEMENTS.iter().map(|s| s.name).collect();
        eprintln!("no statement {name}; the suite has {}", names.join(", "));
        std::process::exit(2);
    };
    let path = generated(
        &format!("discogs-{scale}-42.snap"),
        &Discogs::new(scale, 42).unwrap(),
    );
    let snap = Snapshot::open(&path).unwrap();
    let plan = plan(s.name, s.text, &snap).unwrap();
    let (artists, genres) = suite_inputs(&snap).unwrap();
    let inputs: Vec<Params> = (0..count)
        .map(|i| rotating_params(s.inputs, i, &artists, &genres))
        .collect();
    let started = std::time::Instant::now();
    let rows = run_calls(&plan, &snap, &inputs);
    let took = started.elapsed();
    println!(
        "{name}: {count} calls, {rows} rows, {:.1} µs per call",
        took.as_secs_f64() * 1e6 / count as f64
    );
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

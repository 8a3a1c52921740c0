//! Runs one traversal request many times in-process and prints the time per visited node: for
//! profiling (`perf record`) the engine's hot loop without criterion around it.
//!
//! `cargo run --release -p neotrav-traverser --example repeat -- SNAPSHOT SPEC.json [RUNS]`

use std::time::Instant;

use neotrav_traverser::engine::Engine;
use neotrav_wire::TraverseRequest;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(snapshot), Some(spec)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: repeat SNAPSHOT SPEC.json [RUNS]");
    };
    let runs: u32 = args.next().map_or(Ok(20), |r| r.parse())?;
    let engine = Engine::open(&snapshot)?;
    let request: TraverseRequest = serde_json::from_str(&std::fs::read_to_string(&spec)?)?;
    let mut times = Vec::with_capacity(runs as usize);
    let mut visited = 0;
    for _ in 0..runs.max(1) {
        let started = Instant::now();
        let response = engine.traverse(&request)?;
        times.push(started.elapsed().as_secs_f64());
        visited = response.stats.nodes_visited;
    }
    times.sort_by(f64::total_cmp);
    let (best, p50) = (times[0], times[times.len() / 2]);
    println!(
        "{visited} nodes visited; best of {runs}: {:.2} ms ({:.2} ns per visited node), p50 {:.2} ms",
        best * 1e3,
        best * 1e9 / visited.max(1) as f64,
        p50 * 1e3
    );
    Ok(())
}

//! Builds one synthetic snapshot and reports build time and throughput; run it under
//! `/usr/bin/time -v` for peak RSS.
//!
//! cargo run --release -p neotrav-benches --example build_synthetic -- OUT NODES RELATIONSHIPS

use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        eprintln!("usage: build_synthetic OUT NODES RELATIONSHIPS");
        std::process::exit(2);
    }
    let parse = |s: &str| -> u64 {
        s.parse().unwrap_or_else(|_| {
            eprintln!("not a count: {s}");
            std::process::exit(2)
        })
    };
    let (nodes, rels) = (parse(&args[2]), parse(&args[3]));
    let started = Instant::now();
    let summary = neotrav_benches::synthetic::write_graph(args[1].as_ref(), nodes, rels, 7)
        .unwrap_or_else(|e| {
            eprintln!("error: {e}");
            std::process::exit(1)
        });
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{} nodes, {} relationships, {} bytes in {:.1} s ({:.0} relationships/s, {:.1} bytes/node+rel)",
        summary.nodes,
        summary.relationships,
        summary.bytes,
        secs,
        summary.relationships as f64 / secs,
        summary.bytes as f64 / (summary.nodes + summary.relationships) as f64
    );
}

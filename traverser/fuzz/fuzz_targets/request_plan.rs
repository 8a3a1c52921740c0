//! Decodes arbitrary bytes as a traversal or shortest-path request (the sidecar's JSON), plans
//! it and runs it on a small dense graph under tight budgets: any panic, abort or hang is a
//! bug. The first byte chooses the request kind.
//!
//! cargo +nightly fuzz run request_plan -- -runs=1000000 -max_total_time=600
//! (from traverser/: `cargo +nightly fuzz run request_plan fuzz/corpus/request_plan fuzz/seeds/request_plan`;
//! the seeds are real requests; new inputs go to the ignored corpus directory)

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use neotrav_wire::{ShortestPathRequest, TraverseRequest};
use neotrav_snapshot::{PropertyKind, SnapshotBuilder, Value};
use neotrav_traverser::engine::Engine;
use neotrav_traverser::engine::plan::Limits;

/// 64 nodes of four labels, every pair joined by one of three types: walks explode fast.
fn engine() -> &'static Engine {
    static ENGINE: OnceLock<(tempfile::TempDir, Engine)> = OnceLock::new();
    &ENGINE
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("fuzz.snap");
            let mut b = SnapshotBuilder::new();
            b.column("A", "name", PropertyKind::String).unwrap();
            b.column("B", "year", PropertyKind::Int).unwrap();
            let labels = ["A", "B", "C", "D"];
            for id in 0..64u64 {
                let label = labels[id as usize % 4];
                let prop = match label {
                    "A" => Some(("name", Value::String(format!("n{}", id % 7)))),
                    "B" => Some(("year", Value::Int(1990 + (id % 5) as i64))),
                    _ => None,
                };
                b.add_node(id, [label], prop).unwrap();
            }
            let types = ["X", "Y", "Z"];
            let mut rel = 0;
            for s in 0..64u64 {
                for e in 0..64u64 {
                    if (s * 31 + e * 17) % 5 == 0 {
                        b.add_relationship(rel, types[(rel % 3) as usize], s, e).unwrap();
                        rel += 1;
                    }
                }
            }
            b.write(&path).unwrap();
            let engine = Engine::open(&path).unwrap().with_limits(Limits {
                max_visited: 200_000,
                deadline_ms: 100,
                max_memory: 8 << 20,
                default_memory: 4 << 20,
            });
            (dir, engine)
        })
        .1
}

fuzz_target!(|data: &[u8]| {
    let Some((&kind, json)) = data.split_first() else {
        return;
    };
    let engine = engine();
    if kind % 2 == 0 {
        if let Ok(req) = TraverseRequest::from_json(json) {
            let _ = engine.traverse(&req);
        }
    } else if let Ok(req) = serde_json::from_slice::<ShortestPathRequest>(json) {
        let _ = engine.shortest_path(&req);
    }
});

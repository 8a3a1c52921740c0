//! The Cypher executor in this process: parsing, planning and running the bench's Cypher suite
//! (`harness::statements::STATEMENTS`, the API-style statements `neotrav bench` times against
//! Neo4j) on the Discogs-shaped graph at scale 0.01 (338K nodes, seed 42), generated straight
//! into a snapshot.
//!
//! - `parse`: `neotrav_cypher::parse` of each statement's text (the sidecar caches parses and
//!   plans by text, so a request pays this once per statement and snapshot);
//! - `plan`: `Statement::plan` on the snapshot;
//! - `run`: `Plan::run` of a planned statement, one iteration per input (the inputs rotate over
//!   seeded random credited artists, or genres), the time a cached request spends in the
//!   executor.
//!
//! The inputs are found with the executor itself (`MATCH (a:Artist)<-[:BY]-() ...`), and each
//! statement is run once on each input before timing and must answer without error, so a
//! broken executor fails the bench instead of timing an error.
//!
//! cargo bench -p neotrav-benches --bench cypher

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use neotrav_benches::harness::statements::{STATEMENTS, limits, plan, rotating_params, strings};
use neotrav_benches::synthetic::{Rng, generated};
use neotrav_cypher::Params;
use neotrav_datasets::generate::discogs::Discogs;
use neotrav_snapshot::Snapshot;

/// Inputs per statement; each `run` iteration takes the next.
const INPUTS: usize = 32;

fn cypher(c: &mut Criterion) {
    let path = generated("discogs-0.01-42.snap", &Discogs::new(0.01, 42).unwrap());
    let snap = Snapshot::open(&path).unwrap();
    let mut artists = strings(
        "MATCH (a:Artist)<-[:BY]-(:Release) WHERE a.id <> 'a1' RETURN DISTINCT a.id",
        &snap,
    )
    .unwrap();
    let genres = strings("MATCH (g:Genre) RETURN g.name", &snap).unwrap();
    let mut rng = Rng::new(16);
    for i in (1..artists.len()).rev() {
        artists.swap(i, rng.below(i as u64 + 1) as usize);
    }

    let mut group = c.benchmark_group("cypher parse");
    for s in STATEMENTS {
        group.bench_function(s.name, |b| {
            b.iter(|| neotrav_cypher::parse(black_box(s.text)).unwrap())
        });
    }
    group.finish();

    let mut group = c.benchmark_group("cypher plan");
    for s in STATEMENTS {
        let statement = neotrav_cypher::parse(s.text).unwrap();
        group.bench_function(s.name, |b| b.iter(|| statement.plan(&snap).unwrap()));
    }
    group.finish();

    let mut group = c.benchmark_group("cypher run");
    for s in STATEMENTS {
        let plan = plan(s.name, s.text, &snap).unwrap();
        let inputs: Vec<Params> = (0..INPUTS)
            .map(|i| rotating_params(s.inputs, i, &artists, &genres))
            .collect();
        for p in &inputs {
            plan.run(&snap, p, &limits())
                .unwrap_or_else(|e| panic!("{}: {e}", s.name));
        }
        let mut next = 0;
        group.bench_function(s.name, |b| {
            b.iter(|| {
                next = (next + 1) % inputs.len();
                plan.run(&snap, &inputs[next], &limits())
                    .unwrap()
                    .rows
                    .len()
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    targets = cypher
}
criterion_main!(benches);

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
use std::path::PathBuf;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use neotrav_benches::harness::statements::{Inputs, STATEMENTS};
use neotrav_benches::synthetic::Rng;
use neotrav_cypher::{AnswerValue, Limits, Params, Plan, Prepared};
use neotrav_datasets::generate::Dataset;
use neotrav_datasets::generate::discogs::Discogs;
use neotrav_snapshot::{NoProgress, Snapshot};

/// Inputs per statement; each `run` iteration takes the next.
const INPUTS: usize = 32;

/// The Discogs snapshot in target/bench-data, generated the first time (or when the file there
/// was made from another description), shared with the `traverse` bench.
fn discogs() -> PathBuf {
    let dataset = Discogs::new(0.01, 42).unwrap();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench-data");
    std::fs::create_dir_all(&dir).expect("create target/bench-data");
    let path = dir.join("discogs-0.01-42.snap");
    let fresh =
        Snapshot::open(&path).is_ok_and(|s| s.header().source.description == dataset.describe());
    if !fresh {
        eprintln!("generating {} ({})", path.display(), dataset.describe());
        neotrav_datasets::to_snapshot::write(&dataset, &path, &NoProgress)
            .expect("write the benchmark snapshot");
    }
    path
}

fn limits() -> Limits {
    Limits {
        deadline: Duration::from_secs(60),
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

/// The first column of every row of `text`'s answer, as strings.
fn keys<D: AsRef<[u8]>>(text: &str, snap: &Snapshot<D>) -> Vec<String> {
    let answer = local(text, snap)
        .run(snap, &Params::default(), &limits())
        .unwrap();
    answer
        .rows
        .into_iter()
        .map(|r| match &r[0] {
            AnswerValue::String(s) => s.clone(),
            other => panic!("{text} answered {other:?}"),
        })
        .collect()
}

fn cypher(c: &mut Criterion) {
    let path = discogs();
    let snap = Snapshot::open(&path).unwrap();
    let mut artists = keys(
        "MATCH (a:Artist)<-[:BY]-(:Release) WHERE a.id <> 'a1' RETURN DISTINCT a.id",
        &snap,
    );
    let genres = keys("MATCH (g:Genre) RETURN g.name", &snap);
    let mut rng = Rng::new(16);
    for i in (1..artists.len()).rev() {
        artists.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let params = |inputs: Inputs, i: usize| -> Params {
        let mut p = Params::default();
        let s = |v: &String| AnswerValue::String(v.clone());
        match inputs {
            Inputs::Artist => p.set("artist", &s(&artists[i % artists.len()])).unwrap(),
            Inputs::Genre => p.set("genre", &s(&genres[i % genres.len()])).unwrap(),
            Inputs::Pair => {
                p.set("a", &s(&artists[(2 * i) % artists.len()])).unwrap();
                p.set("b", &s(&artists[(2 * i + 1) % artists.len()]))
                    .unwrap();
            }
        }
        p
    };

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
        let plan = local(s.text, &snap);
        let inputs: Vec<Params> = (0..INPUTS).map(|i| params(s.inputs, i)).collect();
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

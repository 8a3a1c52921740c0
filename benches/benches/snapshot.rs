//! Snapshot hot paths: open time against file size, and ns per label check, per neighbour and per
//! property read. Graph files are generated once into target/bench-data and reused.
//!
//! cargo bench -p neotrav-benches --bench snapshot

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use neotrav_benches::synthetic::{Rng, cached};
use neotrav_snapshot::{Direction, Snapshot};

/// (name, nodes, relationships): about 100 MiB, 1 GiB and 3 GiB files; the last has the counts
/// of the full Discogs graph (34M nodes, 134M relationships) and takes about a minute and 5.5 GiB
/// of memory to generate the first time.
const SIZES: [(&str, u64, u64); 3] = [
    ("100MiB", 1_000_000, 5_000_000),
    ("1GiB", 10_000_000, 52_000_000),
    ("3GiB", 34_000_000, 134_000_000),
];

fn open(c: &mut Criterion) {
    let mut group = c.benchmark_group("open");
    for (name, nodes, rels) in SIZES {
        let path = cached(name, nodes, rels);
        let bytes = std::fs::metadata(&path).unwrap().len();
        group.bench_with_input(
            BenchmarkId::from_parameter(format!("{name} ({bytes} bytes)")),
            &path,
            |b, path| {
                b.iter(|| black_box(Snapshot::open(path).unwrap()));
            },
        );
    }
    group.finish();
}

fn reads(c: &mut Criterion) {
    let (name, nodes, rels) = SIZES[0];
    let snap = Snapshot::open(cached(name, nodes, rels)).unwrap();
    let view = snap.view();
    let mut rng = Rng::new(11);
    let sample: Vec<u32> = (0..4096).map(|_| rng.below(nodes) as u32).collect();
    let label_a = snap.label_code("A").unwrap();
    let knows = snap.type_code("KNOWS").unwrap();
    let rank = snap.column("A", "rank").unwrap();
    let edges_in_sample: u64 = sample
        .iter()
        .map(|&n| view.edges(n, Direction::Outgoing).len() as u64)
        .sum();

    let mut group = c.benchmark_group("reads");
    group.throughput(Throughput::Elements(sample.len() as u64));
    group.bench_function("has_label", |b| {
        b.iter(|| {
            sample
                .iter()
                .filter(|&&n| view.has_label(n, label_a))
                .count()
        })
    });
    group.bench_function("node_index (dense ids)", |b| {
        b.iter(|| {
            sample
                .iter()
                .filter_map(|&n| view.node_index(u64::from(n)))
                .count()
        })
    });
    group.bench_function("int property", |b| {
        b.iter(|| sample.iter().filter_map(|&n| rank.int(n)).sum::<i64>())
    });
    group.bench_function("edges_of_type (lookup only)", |b| {
        b.iter(|| {
            sample
                .iter()
                .map(|&n| view.edges(n, Direction::Outgoing).of_type(knows).len())
                .sum::<usize>()
        })
    });
    group.throughput(Throughput::Elements(edges_in_sample));
    group.bench_function("neighbour iteration (per edge)", |b| {
        b.iter(|| {
            let mut sum = 0u64;
            for &n in &sample {
                for &m in view.edges(n, Direction::Outgoing).neighbors {
                    sum += u64::from(m);
                }
            }
            sum
        })
    });
    group.bench_function("neighbour iteration + label check (per edge)", |b| {
        b.iter(|| {
            let mut hits = 0u64;
            for &n in &sample {
                for &m in view.edges(n, Direction::Outgoing).neighbors {
                    hits += u64::from(view.has_label(m, label_a));
                }
            }
            hits
        })
    });
    group.finish();
}

/// A graph of `nodes` Artist nodes, each with a unique string `id` (`a<n>` in shuffled order)
/// and an int `year` (100 distinct values), in `target/bench-data`, made once.
fn key_graph(nodes: u64) -> std::path::PathBuf {
    use neotrav_snapshot::{PropertyKind, SnapshotBuilder, Value};
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench-data");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("keys-{nodes}.snap"));
    let current = Snapshot::open(&path)
        .is_ok_and(|s| s.format_version() == neotrav_snapshot::format::FORMAT_VERSION);
    if !current {
        let mut b = SnapshotBuilder::new();
        b.column("Artist", "id", PropertyKind::String).unwrap();
        b.column("Artist", "year", PropertyKind::Int).unwrap();
        for n in 0..nodes {
            // A bijection of 0..nodes when nodes is odd or a power of two: 2654435761 is odd.
            let id = n.wrapping_mul(2_654_435_761) % nodes;
            b.add_node(
                n,
                ["Artist"],
                [
                    ("id", Value::String(format!("a{id}"))),
                    ("year", Value::Int(1900 + (id % 100) as i64)),
                ],
            )
            .unwrap();
        }
        b.write(&path).unwrap();
    }
    path
}

/// `Property::seek` of one value: a key selector's lookup. On the 1M-node key graph, and on
/// the snapshot at `NEOTRAV_BENCH_SNAPSHOT` (its `Artist.id`, e.g. a Discogs snapshot) if set.
fn key_lookup(c: &mut Criterion) {
    use neotrav_snapshot::PropertyValue;
    let mut files = vec![("1M keys".to_string(), key_graph(1 << 20))];
    if let Some(p) = std::env::var_os("NEOTRAV_BENCH_SNAPSHOT") {
        files.push(("NEOTRAV_BENCH_SNAPSHOT".to_string(), p.into()));
    }
    let mut group = c.benchmark_group("key lookup");
    for (name, path) in files {
        let snap = Snapshot::open(&path).unwrap();
        let id = snap.property("id").expect("the snapshot has an id key");
        let artist = snap.label_code("Artist").unwrap();
        let nodes: Vec<u32> = snap
            .label_nodes(artist)
            .unwrap()
            .iter()
            .filter(|&n| id.get(n).is_some())
            .collect();
        let mut rng = Rng::new(5);
        let values: Vec<String> = (0..4096)
            .map(
                |_| match id.get(nodes[rng.below(nodes.len() as u64) as usize]) {
                    Some(PropertyValue::String(s)) => s.to_string(),
                    other => panic!("id is {other:?}"),
                },
            )
            .collect();
        group.throughput(Throughput::Elements(values.len() as u64));
        group.bench_function(format!("seek string, {name}"), |b| {
            b.iter(|| {
                values
                    .iter()
                    .map(|v| id.seek(PropertyValue::String(v)).len())
                    .sum::<usize>()
            })
        });
        if let Some(year) = snap.property("year") {
            group.throughput(Throughput::Elements(1));
            group.bench_function(format!("seek int (~1% of nodes each), {name}"), |b| {
                let mut y = 1900;
                b.iter(|| {
                    y = if y >= 1999 { 1900 } else { y + 1 };
                    black_box(year.seek(PropertyValue::Int(y)).len())
                })
            });
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = open, reads, key_lookup
}
criterion_main!(benches);

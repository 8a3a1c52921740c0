//! Adjacency representations side by side: the snapshot's CSR slices against roaring bitmaps of
//! the same neighbours, for iteration (low-degree nodes and hubs of a million neighbours), a
//! label-filtered frontier, and set intersection. Roaring is measured both as if the format
//! stored it (bitmaps built before timing, or deserialized from portable bytes in the loop) and
//! as built from the CSR slices at query time (the building inside the loop). Every variant's
//! answer is checked against the CSR one before timing. It also prints the bytes per edge each
//! representation needs for the whole graph. The figures and the conclusion drawn from them are
//! in `snapshot/FORMAT.md` ("Adjacency: why CSR, and where roaring pays").
//!
//! The graph is the 100 MiB synthetic graph of the `snapshot` bench (1M nodes, 5M relationships),
//! generated once into target/bench-data and shared with it. It has no node of a million
//! neighbours, so hubs are built here: sorted, distinct random neighbour lists of 1M entries,
//! "sparse" (drawn from 34M nodes, the size of the Discogs graph: about 1,900 per 65,536-wide
//! roaring container, so array containers) and "dense" (drawn from 4M nodes: about 16,000 per
//! container, so bitmap containers).
//!
//! cargo bench -p neotrav-benches --bench adjacency

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use neotrav_benches::synthetic::{Rng, cached};
use neotrav_snapshot::{Direction, Snapshot, View};
use roaring::{MultiOps, RoaringBitmap};

/// The `snapshot` bench's 100 MiB graph: same name, counts and seed, so either bench reuses the
/// file the other generated.
const GRAPH: (&str, u64, u64) = ("100MiB", 1_000_000, 5_000_000);

/// Neighbours in a hub.
const HUB_DEGREE: usize = 1_000_000;

/// Node counts the sparse and dense hubs draw their neighbours from.
const SPARSE_UNIVERSE: u64 = 34_000_000;
const DENSE_UNIVERSE: u64 = 4_000_000;

/// Low-degree nodes (or pairs, or short lists) per measured batch.
const BATCH: usize = 4096;

fn graph_path() -> PathBuf {
    let (name, nodes, rels) = GRAPH;
    cached(name, nodes, rels)
}

/// `len` distinct random values below `universe`, sorted: a hub's neighbour list as one
/// relationship type's CSR slice holds it.
fn hub(rng: &mut Rng, len: usize, universe: u64) -> Vec<u32> {
    let mut v: Vec<u32> = Vec::with_capacity(len + len / 8);
    while v.len() < len {
        v.extend((0..len - v.len()).map(|_| rng.below(universe) as u32));
        v.sort_unstable();
        v.dedup();
    }
    v
}

/// The distinct neighbours of a slice as a bitmap (CSR slices are sorted by type first, so
/// a node's all-types list is not sorted).
fn bitmap(neighbors: &[u32]) -> RoaringBitmap {
    neighbors.iter().copied().collect()
}

fn serialize(b: &RoaringBitmap) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(b.serialized_size());
    b.serialize_into(&mut bytes).unwrap();
    bytes
}

/// Both directions' neighbours of a node, into `out`.
fn both_ways(view: &View<'_>, node: u32, out: &mut Vec<u32>) {
    out.clear();
    out.extend_from_slice(view.edges(node, Direction::Outgoing).neighbors);
    out.extend_from_slice(view.edges(node, Direction::Incoming).neighbors);
}

/// Distinct nodes within two hops of `seeds` random nodes, both directions, sorted.
fn two_hop_frontier(view: &View<'_>, seeds: usize, rng: &mut Rng) -> Vec<u32> {
    let n = view.node_count() as u64;
    let mut frontier: Vec<u32> = (0..seeds).map(|_| rng.below(n) as u32).collect();
    for _ in 0..2 {
        let mut next = Vec::new();
        for &f in &frontier {
            for dir in Direction::BOTH {
                next.extend_from_slice(view.edges(f, dir).neighbors);
            }
        }
        next.sort_unstable();
        next.dedup();
        frontier = next;
    }
    frontier
}

/// Size of a sorted-slice intersection by merging.
fn merge_count(a: &[u32], b: &[u32]) -> usize {
    let (mut i, mut j, mut count) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                count += 1;
                i += 1;
                j += 1;
            }
        }
    }
    count
}

/// Size of the intersection of a short sorted slice with a long one: exponential (galloping)
/// search from the last position for each short value.
fn gallop_count(short: &[u32], long: &[u32]) -> usize {
    let (mut lo, mut count) = (0, 0);
    for &x in short {
        let mut step = 1;
        let mut hi = lo;
        while hi < long.len() && long[hi] < x {
            lo = hi + 1;
            hi += step;
            step *= 2;
        }
        let hi = hi.min(long.len());
        lo += long[lo..hi].partition_point(|&y| y < x);
        if lo < long.len() && long[lo] == x {
            count += 1;
            lo += 1;
        }
    }
    count
}

/// Bytes per edge of each representation for the whole graph, printed once.
fn report_sizes(snap: &Snapshot, view: &View<'_>, hubs: &[(&str, &[u32])]) {
    let n = view.node_count();
    let labels = snap.header().labels.len() as u32;
    for dir in Direction::BOTH {
        let (mut edges, mut distinct, mut per_node, mut per_type) = (0usize, 0u64, 0usize, 0usize);
        for i in 0..n as u32 {
            let e = view.edges(i, dir);
            edges += e.len();
            let all = bitmap(e.neighbors);
            distinct += all.len();
            per_node += all.serialized_size();
            let mut start = 0;
            while start < e.len() {
                let t = e.types[start];
                let end = start + e.types[start..].partition_point(|&x| x == t);
                per_type += bitmap(&e.neighbors[start..end]).serialized_size();
                start = end;
            }
        }
        let m = edges as f64;
        eprintln!(
            "bytes/edge {dir:?}: {edges} edges ({distinct} distinct node pairs); \
             CSR neighbours 4.00 + offsets {:.2}; roaring per node (all types) {:.2}; \
             roaring per (node, type) {:.2}",
            4.0 * (n as f64 + 1.0) / m,
            per_node as f64 / m,
            per_type as f64 / m,
        );
    }
    for &(name, list) in hubs {
        let size = bitmap(list).serialized_size();
        eprintln!(
            "bytes/edge hub {name}: {} neighbours, CSR 4.00, roaring {:.2}",
            list.len(),
            size as f64 / list.len() as f64,
        );
    }
    for l in 0..labels {
        let b = snap.label_nodes(l).unwrap();
        eprintln!(
            "label {l}: {} nodes, roaring {:.3} bytes per node of the graph (mask: 8.00)",
            b.len(),
            b.serialized_size() as f64 / n as f64,
        );
    }
}

fn iterate(c: &mut Criterion) {
    let snap = Snapshot::open(graph_path()).unwrap();
    let view = snap.view();
    let mut rng = Rng::new(11);
    let sample: Vec<u32> = (0..BATCH)
        .map(|_| rng.below(view.node_count() as u64) as u32)
        .collect();
    let sparse = hub(&mut rng, HUB_DEGREE, SPARSE_UNIVERSE);
    let dense = hub(&mut rng, HUB_DEGREE, DENSE_UNIVERSE);
    report_sizes(&snap, &view, &[("sparse", &sparse), ("dense", &dense)]);

    let mut group = c.benchmark_group("iterate");
    // Low degree: a batch of random nodes' outgoing edges.
    let maps: Vec<RoaringBitmap> = sample
        .iter()
        .map(|&n| bitmap(view.edges(n, Direction::Outgoing).neighbors))
        .collect();
    let bytes: Vec<Vec<u8>> = maps.iter().map(serialize).collect();
    let edges: u64 = maps.iter().map(RoaringBitmap::len).sum();
    eprintln!("iterate low-degree: {BATCH} nodes, {edges} distinct edges");
    group.throughput(Throughput::Elements(edges));
    group.bench_function("low-degree/CSR slice", |b| {
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
    group.bench_function("low-degree/roaring in memory", |b| {
        b.iter(|| maps.iter().flatten().map(u64::from).sum::<u64>())
    });
    group.bench_function("low-degree/roaring deserialized", |b| {
        b.iter(|| {
            let mut sum = 0u64;
            for bytes in &bytes {
                let map = RoaringBitmap::deserialize_from(&bytes[..]).unwrap();
                sum += map.iter().map(u64::from).sum::<u64>();
            }
            sum
        })
    });
    // Hubs.
    for (name, list) in [("sparse hub", &sparse), ("dense hub", &dense)] {
        let map = bitmap(list);
        let bytes = serialize(&map);
        group.throughput(Throughput::Elements(list.len() as u64));
        group.bench_function(format!("{name}/CSR slice"), |b| {
            b.iter(|| {
                black_box(&list[..])
                    .iter()
                    .map(|&m| u64::from(m))
                    .sum::<u64>()
            })
        });
        group.bench_function(format!("{name}/roaring in memory"), |b| {
            b.iter(|| black_box(&map).iter().map(u64::from).sum::<u64>())
        });
        group.bench_function(format!("{name}/roaring deserialized"), |b| {
            b.iter(|| {
                let map = RoaringBitmap::deserialize_from(black_box(&bytes[..])).unwrap();
                map.iter().map(u64::from).sum::<u64>()
            })
        });
    }
    group.finish();
}

fn frontier(c: &mut Criterion) {
    let snap = Snapshot::open(graph_path()).unwrap();
    let view = snap.view();
    let n = view.node_count();
    let label = snap.label_code("A").unwrap();
    let label_map = snap.label_nodes(label).unwrap();

    let mut group = c.benchmark_group("frontier");
    group.sample_size(10);
    group.bench_function("load label bitmap (per op)", |b| {
        b.iter(|| snap.label_nodes(label).unwrap().len())
    });

    let mut rng = Rng::new(13);
    let mut seen = vec![0u64; n.div_ceil(64)];
    let mut out: Vec<u32> = Vec::new();
    let mut buf = Vec::new();
    for seeds in [100, 1_000, 10_000] {
        let frontier = two_hop_frontier(&view, seeds, &mut rng);
        let per_node: Vec<RoaringBitmap> = frontier
            .iter()
            .map(|&f| {
                both_ways(&view, f, &mut buf);
                bitmap(&buf)
            })
            .collect();
        let frontier_map = RoaringBitmap::from_sorted_iter(frontier.iter().copied()).unwrap();
        let edges: u64 = frontier
            .iter()
            .map(|&f| Direction::BOTH.map(|d| view.edges(f, d).len() as u64))
            .map(|[a, b]| a + b)
            .sum();
        let size = frontier.len();
        eprintln!("frontier of {seeds} seeds: {size} nodes, {edges} edges out of it");

        // Next hop kept if labelled: per edge. The three give the same set.
        let mut csr = || {
            out.clear();
            for &f in &frontier {
                for dir in Direction::BOTH {
                    for &m in view.edges(f, dir).neighbors {
                        let (w, bit) = (m as usize / 64, 1u64 << (m % 64));
                        if view.has_label(m, label) && seen[w] & bit == 0 {
                            seen[w] |= bit;
                            out.push(m);
                        }
                    }
                }
            }
            for &m in &out {
                seen[m as usize / 64] = 0;
            }
            out.len() as u64
        };
        let insert = || {
            let mut next = RoaringBitmap::new();
            for &f in &frontier {
                for dir in Direction::BOTH {
                    next.extend(view.edges(f, dir).neighbors);
                }
            }
            next &= &label_map;
            next.len()
        };
        let sorted = || {
            let mut all = Vec::with_capacity(edges as usize);
            for &f in &frontier {
                for dir in Direction::BOTH {
                    all.extend_from_slice(view.edges(f, dir).neighbors);
                }
            }
            all.sort_unstable();
            all.dedup();
            let mut next = RoaringBitmap::from_sorted_iter(all).unwrap();
            next &= &label_map;
            next.len()
        };
        let union = || {
            let mut next: RoaringBitmap = per_node.iter().union();
            next &= &label_map;
            next.len()
        };
        let hits = csr();
        assert_eq!((insert(), sorted(), union()), (hits, hits, hits));
        eprintln!("  next hop: {hits} distinct nodes with the label");
        group.throughput(Throughput::Elements(edges));
        group.bench_function(
            BenchmarkId::new("expand+filter/CSR + label mask + bitset", size),
            |b| b.iter(&mut csr),
        );
        group.bench_function(
            BenchmarkId::new("expand+filter/CSR -> roaring insert, & label", size),
            |b| b.iter(insert),
        );
        group.bench_function(
            BenchmarkId::new("expand+filter/CSR -> sort, dedup -> roaring, & label", size),
            |b| b.iter(sorted),
        );
        group.bench_function(
            BenchmarkId::new("expand+filter/roaring per node: union, & label", size),
            |b| b.iter(union),
        );
        // The frontier itself kept if labelled: per frontier node.
        let kept = frontier
            .iter()
            .filter(|&&f| view.has_label(f, label))
            .count();
        assert_eq!(kept as u64, frontier_map.intersection_len(&label_map));
        group.throughput(Throughput::Elements(size as u64));
        group.bench_function(
            BenchmarkId::new("filter frontier/sorted vec + label mask", size),
            |b| {
                b.iter(|| {
                    frontier
                        .iter()
                        .filter(|&&f| view.has_label(f, label))
                        .count()
                })
            },
        );
        group.bench_function(
            BenchmarkId::new("filter frontier/roaring & label", size),
            |b| b.iter(|| frontier_map.intersection_len(&label_map)),
        );
        group.bench_function(
            BenchmarkId::new("filter frontier/sorted vec -> roaring, & label", size),
            |b| {
                b.iter(|| {
                    let map = RoaringBitmap::from_sorted_iter(frontier.iter().copied()).unwrap();
                    map.intersection_len(&label_map)
                })
            },
        );
    }
    group.finish();
}

fn intersect(c: &mut Criterion) {
    let snap = Snapshot::open(graph_path()).unwrap();
    let view = snap.view();
    let n = view.node_count() as u64;
    let mut rng = Rng::new(17);

    let mut group = c.benchmark_group("intersect");
    // Low-degree pairs that share a neighbour: two sources of one node's incoming edges; common
    // neighbours over all types of their outgoing edges. The slices are sorted by type first,
    // so the CSR side scans one list per value of the other (a handful of values each).
    let mut pairs = Vec::with_capacity(BATCH);
    while pairs.len() < BATCH {
        let sources = view
            .edges(rng.below(n) as u32, Direction::Incoming)
            .neighbors;
        if let Some(&b) = sources.iter().find(|&&s| s != sources[0]) {
            pairs.push((sources[0], b));
        }
    }
    let maps: Vec<(RoaringBitmap, RoaringBitmap)> = pairs
        .iter()
        .map(|&(a, b)| {
            let e = |x| bitmap(view.edges(x, Direction::Outgoing).neighbors);
            (e(a), e(b))
        })
        .collect();
    let common: u64 = maps.iter().map(|(a, b)| (a & b).len()).sum();
    eprintln!("low vs low: {BATCH} pairs, {common} common neighbours in all");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("low vs low (per pair)/CSR nested scan", |b| {
        b.iter(|| {
            let mut common = 0usize;
            for &(x, y) in &pairs {
                let (a, b) = (
                    view.edges(x, Direction::Outgoing).neighbors,
                    view.edges(y, Direction::Outgoing).neighbors,
                );
                common += a.iter().filter(|m| b.contains(m)).count();
            }
            common
        })
    });
    group.bench_function("low vs low (per pair)/roaring &", |b| {
        b.iter(|| maps.iter().map(|(a, b)| (a & b).len()).sum::<u64>())
    });

    // Hub against hub, and hub against short lists.
    for (name, universe) in [("sparse", SPARSE_UNIVERSE), ("dense", DENSE_UNIVERSE)] {
        let a = hub(&mut rng, HUB_DEGREE, universe);
        let b = hub(&mut rng, HUB_DEGREE, universe);
        let (ma, mb) = (bitmap(&a), bitmap(&b));
        let common = merge_count(&a, &b);
        assert_eq!(common as u64, (&ma & &mb).len());
        eprintln!(
            "{name} hubs: {} and {} neighbours, {common} common",
            a.len(),
            b.len(),
        );
        group.throughput(Throughput::Elements(1));
        group.bench_function(format!("{name} hub vs hub (per pair)/CSR merge"), |bch| {
            bch.iter(|| merge_count(black_box(&a), black_box(&b)))
        });
        group.bench_function(format!("{name} hub vs hub (per pair)/roaring &"), |bch| {
            bch.iter(|| (black_box(&ma) & black_box(&mb)).len())
        });
        group.bench_function(
            format!("{name} hub vs hub (per pair)/CSR -> 2 roaring, &"),
            |bch| {
                bch.iter(|| {
                    let build = |v: &[u32]| RoaringBitmap::from_sorted_iter(v.iter().copied());
                    let (ma, mb) = (build(&a).unwrap(), build(&b).unwrap());
                    (ma & mb).len()
                })
            },
        );
        if name == "sparse" {
            // Short lists of 10 from the same 34M nodes as the sparse hub, half of them in it.
            let short: Vec<Vec<u32>> = (0..BATCH)
                .map(|_| {
                    let mut v: Vec<u32> = (0..10)
                        .map(|i| match i % 2 {
                            0 => a[rng.below(a.len() as u64) as usize],
                            _ => rng.below(universe) as u32,
                        })
                        .collect();
                    v.sort_unstable();
                    v.dedup();
                    v
                })
                .collect();
            let short_maps: Vec<RoaringBitmap> = short.iter().map(|v| bitmap(v)).collect();
            let hits: usize = short.iter().map(|s| gallop_count(s, &a)).sum();
            let merged: usize = short.iter().map(|s| merge_count(s, &a)).sum();
            let anded: u64 = short_maps.iter().map(|s| (s & &ma).len()).sum();
            assert_eq!((merged, anded), (hits, hits as u64));
            eprintln!("sparse hub vs {BATCH} lists of 10: {hits} common in all");
            group.throughput(Throughput::Elements(BATCH as u64));
            group.bench_function("sparse hub vs low (per pair)/CSR galloping", |bch| {
                bch.iter(|| short.iter().map(|s| gallop_count(s, &a)).sum::<usize>())
            });
            group.bench_function("sparse hub vs low (per pair)/CSR binary search", |bch| {
                bch.iter(|| {
                    short
                        .iter()
                        .map(|s| s.iter().filter(|x| a.binary_search(x).is_ok()).count())
                        .sum::<usize>()
                })
            });
            group.bench_function("sparse hub vs low (per pair)/roaring &", |bch| {
                bch.iter(|| short_maps.iter().map(|s| (s & &ma).len()).sum::<u64>())
            });
            group.bench_function("sparse hub vs low (per pair)/roaring contains", |bch| {
                bch.iter(|| {
                    short
                        .iter()
                        .map(|s| s.iter().filter(|&&x| ma.contains(x)).count())
                        .sum::<usize>()
                })
            });
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .measurement_time(Duration::from_millis(1500))
        .warm_up_time(Duration::from_millis(300));
    targets = iterate, frontier, intersect
}
criterion_main!(benches);

//! The traversal engine end to end: [`Engine::traverse`] and [`Engine::shortest_path`] on
//! generated snapshots, requests given as the JSON a client sends.
//!
//! - `tree_2M`: the label-cache article's tree (`datasets::generate::tree`) at 2M nodes, fanout
//!   4, seed 42, from its `Root` (node 0): the article's traversal (depth first, `NODE_GLOBAL`,
//!   `A` nodes expanded through `CHILD_A`, `B` nodes through `CHILD_B`, counting `B` nodes with
//!   `flag = true`), the same with a plain relationship filter (the whole tree), the article's
//!   traversal cut at depth 5 and at depth 0 (the root alone: the fixed cost of a request), and a
//!   breadth-first count of the whole tree.
//! - `discogs_0.01`: the Discogs-shaped graph at scale 0.01 (338K nodes, seed 42): shortest paths
//!   of at most 6 hops between seeded random pairs of credited artists (artists with at least one
//!   relationship of the filter; the other 58% have none, and a search from them ends at once),
//!   over `BY|ON|IS|ALIAS_OF|MEMBER_OF|DERIVED_FROM` in both directions; and 2-hop
//!   breadth-first counts from seeded random credited artists over the same types.
//!
//! Criterion's throughput is the nodes the engine visited (`stats.nodesVisited`), so its
//! `elem/s` reads per visited node. Every request is run once before timing and its answer
//! checked against a plain walk of the snapshot written here (or against a column scan), so a
//! broken engine fails the bench instead of reporting a fast, wrong figure. At the end a table
//! gives criterion's time per iteration, the share of the timed wall clock this thread spent on
//! the CPU (`/proc/thread-self/stat`; below 100% the machine was busy and the wall figures hold
//! waiting), and from the on-CPU time: per query, per visited node and per relationship visited
//! (`stats.relationshipsVisited`). On a shared machine (a build or a fuzzer on the other core)
//! the figures still move by a third from run to run: compare runs made side by side.
//!
//! The snapshots are generated once into target/bench-data (next to the `snapshot` bench's
//! graphs) and reused while the generator's description of them is unchanged.
//!
//! cargo bench -p neotrav-benches --bench traverse

use std::collections::VecDeque;
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput};
use neotrav_benches::synthetic::{Rng, generated};
use neotrav_datasets::generate::discogs::Discogs;
use neotrav_datasets::generate::tree::Tree;
use neotrav_snapshot::{Direction, View};
use neotrav_traverser::engine::Engine;
use neotrav_wire::{
    Answer, ShortestPathRequest, ShortestPathResponse, TraverseRequest, TraverseResponse,
};
use serde_json::json;

/// The tree: nodes, fanout, seed (the `neotrav dataset` defaults but for the size).
const TREE: (u64, u32, u64) = (2_000_000, 4, 42);
/// The Discogs-shaped graph: scale, seed.
const DISCOGS: (f64, u64) = (0.01, 42);
/// Shortest-path queries (artist pairs) per measured iteration.
const PAIRS: usize = 32;
/// 2-hop counts (start artists) per measured iteration.
const STARTS: usize = 32;
/// The relationship filter of the Discogs requests (both directions).
const DISCOGS_TYPES: &str = "BY|ON|IS|ALIAS_OF|MEMBER_OF|DERIVED_FROM";

/// What one iteration of a benchmark did, and the time it was measured for, for the summary.
struct Record {
    group: &'static str,
    name: &'static str,
    queries: u64,
    nodes: u64,
    relationships: u64,
    /// Wall-clock and on-CPU time of every timed batch (warm-up included).
    wall: Duration,
    cpu: Duration,
}

static RECORDS: Mutex<Vec<Record>> = Mutex::new(Vec::new());

/// This thread's user and system time, from `/proc/thread-self/stat` (in clock ticks, taken
/// as 10 ms: `CLK_TCK` is 100 on Linux), or `None` where it cannot be read.
fn thread_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces: state is
    // field 3, utime 14 and stime 15.
    let mut rest = stat.get(stat.rfind(')')? + 2..)?.split(' ');
    let utime: u64 = rest.nth(11)?.parse().ok()?;
    let stime: u64 = rest.next()?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

/// Benchmarks `f` (one iteration: `queries` requests visiting `nodes` nodes and `relationships`
/// relationships) with throughput in visited nodes, and records it for the summary. Besides
/// criterion's wall clock, it adds up this thread's CPU time over the timed batches: on a busy
/// machine the share of the wall clock spent on the CPU tells how much of a figure is waiting.
fn bench<O>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    (group_name, name): (&'static str, &'static str),
    (queries, nodes, relationships): (u64, u64, u64),
    mut f: impl FnMut() -> O,
) {
    eprintln!(
        "{group_name}/{name}: {queries} queries per iteration visit {nodes} nodes and {relationships} relationships"
    );
    let (mut wall, mut cpu) = (Duration::ZERO, Duration::ZERO);
    group.throughput(Throughput::Elements(nodes));
    group.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let (cpu0, t0) = (thread_cpu(), Instant::now());
            for _ in 0..iters {
                black_box(f());
            }
            let t = t0.elapsed();
            wall += t;
            if let (Some(a), Some(b)) = (cpu0, thread_cpu()) {
                cpu += b.saturating_sub(a);
            }
            t
        })
    });
    RECORDS.lock().unwrap().push(Record {
        group: group_name,
        name,
        queries,
        nodes,
        relationships,
        wall,
        cpu,
    });
}

fn traverse_request(v: serde_json::Value) -> TraverseRequest {
    serde_json::from_value(v).expect("a valid traversal request")
}

fn run(engine: &Engine, req: &TraverseRequest) -> TraverseResponse {
    engine.traverse(req).expect("the traversal runs")
}

fn count(r: &TraverseResponse) -> u64 {
    assert!(!r.partial, "a budget cut the traversal short");
    match r.answer {
        Answer::Count(n) => n,
        ref other => panic!("asked for a count, got {other:?}"),
    }
}

/// Nodes reached from `start` within `max_depth` hops through the edges `follow` accepts
/// (node, direction, type code), the start included: a plain breadth-first walk of the view,
/// sharing nothing with the engine. `seen` is node-count long and is left cleared.
fn reach(
    view: &View<'_>,
    start: u32,
    max_depth: u32,
    seen: &mut [u32],
    follow: impl Fn(u32, Direction, u8) -> bool,
) -> Vec<u32> {
    const UNSEEN: u32 = u32::MAX;
    let mut out = vec![start];
    seen[start as usize] = 0;
    let mut queue = VecDeque::from([start]);
    while let Some(n) = queue.pop_front() {
        let d = seen[n as usize];
        if d >= max_depth {
            continue;
        }
        for dir in Direction::BOTH {
            let e = view.edges(n, dir);
            for (&m, &t) in e.neighbors.iter().zip(e.types) {
                if follow(n, dir, t) && seen[m as usize] == UNSEEN {
                    seen[m as usize] = d + 1;
                    out.push(m);
                    queue.push_back(m);
                }
            }
        }
    }
    for &n in &out {
        seen[n as usize] = UNSEEN;
    }
    out
}

fn criterion() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(5))
        .configure_from_args()
}

fn tree(c: &mut Criterion) {
    const GROUP: &str = "tree_2M";
    let (nodes, fanout, seed) = TREE;
    let dataset = Tree::new(nodes, fanout, seed).unwrap();
    let path = generated(&format!("tree-{nodes}-{fanout}-{seed}.snap"), &dataset);
    let engine = Engine::open(&path).unwrap();
    let snap = engine.snapshot();
    let view = snap.view();
    assert_eq!(view.node_count() as u64, nodes);

    // The expected answers, from the snapshot's own arrays.
    let code = |l| snap.label_code(l).unwrap();
    let (root, a, b) = (code("Root"), code("A"), code("B"));
    let child_a = snap.type_code("CHILD_A").unwrap() as u8;
    let child_b = snap.type_code("CHILD_B").unwrap() as u8;
    let flag = snap.column("B", "flag").unwrap();
    let start = view.node_index(0).unwrap();
    assert!(view.has_label(start, root), "node 0 is the Root");
    let flagged = |n: &u32| view.has_label(*n, b) && flag.bool(*n) == Some(true);
    let all_flagged = (0..nodes as u32).filter(flagged).count() as u64;
    let mut seen = vec![u32::MAX; view.node_count()];
    // The article's expander: Root follows both types, A nodes CHILD_A, B nodes CHILD_B.
    let by_label = |n: u32, dir: Direction, t: u8| {
        dir == Direction::Outgoing
            && (view.has_label(n, root)
                || (view.has_label(n, a) && t == child_a)
                || (view.has_label(n, b) && t == child_b))
    };
    let mut by_label_flagged = |depth| {
        reach(&view, start, depth, &mut seen, by_label)
            .iter()
            .filter(|n| flagged(n))
            .count() as u64
    };
    let (by_label_all, by_label_5) = (by_label_flagged(u32::MAX), by_label_flagged(5));
    let reached_all = reach(&view, start, u32::MAX, &mut seen, |_, d, _| {
        d == Direction::Outgoing
    });
    assert_eq!(reached_all.len() as u64, nodes, "the tree is connected");
    drop(reached_all);
    eprintln!(
        "{GROUP}: {nodes} nodes, {} relationships, {all_flagged} B nodes with flag = true",
        snap.header().relationship_count
    );

    let article = json!({
        "start": 0,
        "relationshipFilter": "CHILD_A>|CHILD_B>",
        "expandByLabel": {"Root": "CHILD_A>|CHILD_B>", "A": "CHILD_A>", "B": "CHILD_B>"},
        "labelFilter": "+A|+B",
        "uniqueness": "NODE_GLOBAL",
        "bfs": false,
        "where": [{"label": "B", "key": "flag", "op": "=", "value": true}],
        "return": "count"
    });
    let mut plain = article.clone();
    plain.as_object_mut().unwrap().remove("expandByLabel");
    let mut depth5 = article.clone();
    depth5["maxLevel"] = json!(5);
    // The fixed cost of a request: compiling it, resolving the start, the response.
    let mut depth0 = article.clone();
    depth0["maxLevel"] = json!(0);
    let bfs = json!({
        "start": 0,
        "relationshipFilter": "CHILD_A>|CHILD_B>",
        "uniqueness": "NODE_GLOBAL",
        "bfs": true,
        "return": "count"
    });
    let cases = [
        ("dfs_by_label", article, by_label_all),
        ("dfs_plain", plain, all_flagged),
        ("dfs_by_label_depth5", depth5, by_label_5),
        ("dfs_by_label_depth0", depth0, 0),
        ("bfs_full", bfs, nodes),
    ];

    let mut group = c.benchmark_group(GROUP);
    for (name, req, expected) in cases {
        let req = traverse_request(req);
        let r = run(&engine, &req);
        assert_eq!(count(&r), expected, "{GROUP}/{name}: wrong count");
        let (visited, rels) = (r.stats.nodes_visited, r.stats.relationships_visited);
        bench(&mut group, (GROUP, name), (1, visited, rels), || {
            run(&engine, black_box(&req))
        });
    }
    group.finish();
}

fn discogs(c: &mut Criterion) {
    const GROUP: &str = "discogs_0.01";
    let (scale, seed) = DISCOGS;
    let dataset = Discogs::new(scale, seed).unwrap();
    let path = generated(&format!("discogs-{scale}-{seed}.snap"), &dataset);
    let engine = Engine::open(&path).unwrap();
    let snap = engine.snapshot();
    let view = snap.view();
    let n = view.node_count();

    let mut wanted = [false; 256];
    for t in DISCOGS_TYPES.split('|') {
        let code = snap
            .type_code(t)
            .unwrap_or_else(|| panic!("no {t} relationships"));
        wanted[code as usize] = true;
    }
    let follow = |_: u32, _: Direction, t: u8| wanted[t as usize];
    let artist = snap.label_code("Artist").unwrap();
    let artists: Vec<u32> = (0..n as u32)
        .filter(|&i| view.has_label(i, artist))
        .collect();
    let credited: Vec<u32> = artists
        .iter()
        .copied()
        .filter(|&i| {
            Direction::BOTH.iter().any(|&d| {
                let e = view.edges(i, d);
                e.types.iter().any(|&t| wanted[t as usize])
            })
        })
        .collect();
    eprintln!(
        "{GROUP}: {n} nodes, {} relationships, {} artists of which {} credited",
        snap.header().relationship_count,
        artists.len(),
        credited.len()
    );
    let mut rng = Rng::new(seed);
    let mut pick = || credited[rng.below(credited.len() as u64) as usize];
    let id = |i: u32| view.node_id(i).unwrap();
    let mut seen = vec![u32::MAX; n];

    // Shortest paths: every answer's length against a plain breadth-first walk, every path
    // checked edge by edge.
    let pairs: Vec<(u32, u32)> = (0..PAIRS).map(|_| (pick(), pick())).collect();
    let requests: Vec<ShortestPathRequest> = pairs
        .iter()
        .map(|&(f, t)| {
            serde_json::from_value(json!({
                "from": id(f),
                "to": id(t),
                "relationshipFilter": DISCOGS_TYPES,
                "maxLevel": 6
            }))
            .expect("a valid shortest-path request")
        })
        .collect();
    let shortest = |reqs: &[ShortestPathRequest]| -> Vec<ShortestPathResponse> {
        reqs.iter()
            .map(|r| engine.shortest_path(r).expect("the search runs"))
            .collect()
    };
    let (mut found, mut visited, mut rels) = (0, 0, 0);
    for (&(f, t), r) in pairs.iter().zip(shortest(&requests)) {
        assert!(!r.partial, "a budget cut the search short");
        let expected = distance(&view, f, t, 6, &follow);
        assert_eq!(r.length, expected, "{GROUP}: shortest path {f} -> {t}");
        if let Some(len) = r.length {
            found += 1;
            assert_eq!(r.paths.len(), 1);
            check_path(&view, &wanted, &r.paths[0], id(f), id(t), len);
        }
        visited += r.stats.nodes_visited;
        rels += r.stats.relationships_visited;
    }
    eprintln!("{GROUP}/shortest_path: {found} of {PAIRS} pairs connected within 6 hops");
    let mut group = c.benchmark_group(GROUP);
    let work = (PAIRS as u64, visited, rels);
    bench(&mut group, (GROUP, "shortest_path"), work, || {
        shortest(black_box(&requests))
    });

    // 2-hop counts.
    let starts: Vec<u32> = (0..STARTS).map(|_| pick()).collect();
    let requests: Vec<TraverseRequest> = starts
        .iter()
        .map(|&s| {
            traverse_request(json!({
                "start": id(s),
                "relationshipFilter": DISCOGS_TYPES,
                "uniqueness": "NODE_GLOBAL",
                "bfs": true,
                "maxLevel": 2,
                "return": "count"
            }))
        })
        .collect();
    let (mut visited, mut rels) = (0, 0);
    for (&s, req) in starts.iter().zip(&requests) {
        let r = run(&engine, req);
        let expected = reach(&view, s, 2, &mut seen, follow).len() as u64;
        assert_eq!(count(&r), expected, "{GROUP}: 2-hop count from {s}");
        visited += r.stats.nodes_visited;
        rels += r.stats.relationships_visited;
    }
    let work = (STARTS as u64, visited, rels);
    bench(&mut group, (GROUP, "bfs_2hop"), work, || {
        requests
            .iter()
            .map(|r| count(&run(&engine, black_box(r))))
            .sum::<u64>()
    });
    group.finish();
}

/// The hop count from `from` to `to` if at most `max_depth` (both directions, accepted types),
/// by a plain breadth-first walk.
fn distance(
    view: &View<'_>,
    from: u32,
    to: u32,
    max_depth: u32,
    follow: &impl Fn(u32, Direction, u8) -> bool,
) -> Option<u32> {
    let mut dist = vec![u32::MAX; view.node_count()];
    dist[from as usize] = 0;
    let mut queue = VecDeque::from([from]);
    while let Some(n) = queue.pop_front() {
        let d = dist[n as usize];
        if n == to {
            return Some(d);
        }
        if d >= max_depth {
            continue;
        }
        for dir in Direction::BOTH {
            let e = view.edges(n, dir);
            for (&m, &t) in e.neighbors.iter().zip(e.types) {
                if follow(n, dir, t) && dist[m as usize] == u32::MAX {
                    dist[m as usize] = d + 1;
                    queue.push_back(m);
                }
            }
        }
    }
    None
}

/// A returned path joins `from` to `to` in `len` hops, each over a relationship of a wanted type
/// that the snapshot holds between the two nodes (either direction).
fn check_path(
    view: &View<'_>,
    wanted: &[bool; 256],
    p: &neotrav_wire::Path,
    from: u64,
    to: u64,
    len: u32,
) {
    assert_eq!(p.nodes.len(), len as usize + 1, "{p:?}");
    assert_eq!(p.relationships.len(), len as usize, "{p:?}");
    assert_eq!(p.types.len(), len as usize, "{p:?}");
    assert_eq!((p.nodes[0], p.nodes[len as usize]), (from, to), "{p:?}");
    for (i, (w, rel)) in p.nodes.windows(2).zip(&p.relationships).enumerate() {
        let (x, y) = (
            view.node_index(w[0]).unwrap(),
            view.node_index(w[1]).unwrap(),
        );
        let joined = Direction::BOTH.iter().any(|&d| {
            let e = view.edges(x, d);
            (0..e.len()).any(|k| {
                e.neighbors[k] == y
                    && wanted[e.types[k] as usize]
                    && e.relationship(k).and_then(|r| view.relationship_id(r)) == Some(*rel)
            })
        });
        assert!(joined, "hop {i} of {p:?} is not a wanted relationship");
    }
}

/// Criterion's estimate of one iteration of `group/name` in ns, if this process measured it.
fn estimate_ns(group: &str, name: &str, since: SystemTime) -> Option<f64> {
    let home = std::env::var_os("CRITERION_HOME")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("CARGO_TARGET_DIR").map(|d| PathBuf::from(d).join("criterion"))
        })
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/criterion"));
    let file = home.join(group).join(name).join("new/estimates.json");
    if std::fs::metadata(&file).ok()?.modified().ok()? < since {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).ok()?).ok()?;
    let point = |k: &str| v.get(k)?.get("point_estimate")?.as_f64();
    point("slope").or_else(|| point("mean"))
}

fn summary(since: SystemTime) {
    let records = RECORDS.lock().unwrap();
    let rows: Vec<String> = records
        .iter()
        .filter_map(|r| {
            let wall = estimate_ns(r.group, r.name, since)?;
            let share = if r.cpu > Duration::ZERO {
                (r.cpu.as_secs_f64() / r.wall.as_secs_f64()).min(1.0)
            } else {
                1.0
            };
            let cpu = wall * share;
            Some(format!(
                "{:<33} {:>11.3} ms {:>6.0}% {:>10.1} µs {:>9.1} ns {:>9.1} ns {:>9.1} ns",
                format!("{}/{}", r.group, r.name),
                wall / 1e6,
                share * 100.0,
                cpu / 1e3 / r.queries as f64,
                cpu / r.nodes as f64,
                cpu / r.relationships.max(1) as f64,
                wall / r.nodes as f64,
            ))
        })
        .collect();
    if rows.is_empty() {
        return;
    }
    println!(
        "\ncriterion's time per iteration; the share of it on the CPU; on-CPU time per query, per \
         visited node and per visited relationship; wall time per visited node\n{:<33} {:>14} {:>7} {:>13} {:>12} {:>12} {:>12}",
        "", "wall/iter", "on CPU", "cpu/query", "cpu/node", "cpu/rel", "wall/node"
    );
    for row in rows {
        println!("{row}");
    }
}

fn main() {
    let since = SystemTime::now();
    let mut c = criterion();
    tree(&mut c);
    discogs(&mut c);
    c.final_summary();
    summary(since);
}

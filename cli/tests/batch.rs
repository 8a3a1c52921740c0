//! Batch jobs (`neotrav_traverser::batch` and `neotrav batch`) on generated random snapshots:
//! batch answers equal one-at-a-time traversals, the bit-parallel BFS equals single-source
//! traversals, a job killed at a random point resumes with no record lost or repeated, and bad
//! input is reported before anything runs.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use neotrav_datasets::generate::random::Random;
use neotrav_snapshot::NoProgress;
use neotrav_testkit::{run, run_on, text};
use neotrav_traverser::batch::{
    self, Batch, BitParallel, Entry, Options, Outcome, Record, Spec, Start,
};
use neotrav_traverser::engine::Engine;
use neotrav_wire::{Answer, ShortestPathRequest, TraverseRequest};
use serde_json::{Value, json};

/// SplitMix64, so the sample does not depend on a crate's streams.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// A random multigraph snapshot (labels L0.., types T0.., key columns) in `dir`; node ids are
/// 0..nodes.
fn random_snapshot(dir: &Path, nodes: u64, degree: f64, seed: u64) -> PathBuf {
    let path = dir.join(format!("random-{nodes}-{seed}.snap"));
    let g = Random::new(nodes, degree, 4, 3, seed).unwrap();
    neotrav_datasets::to_snapshot::write(&g, &path, &NoProgress).unwrap();
    path
}

fn spec(v: Value) -> Spec {
    Spec::from_json(&v.to_string()).unwrap()
}

fn entries(ids: impl IntoIterator<Item = u64>) -> Vec<Entry> {
    ids.into_iter()
        .enumerate()
        .map(|(i, id)| Entry {
            start: Start::Node(id),
            line: i + 1,
        })
        .collect()
}

fn run_batch(engine: &Engine, spec: &Spec, bit_parallel: BitParallel, e: &[Entry]) -> Vec<Record> {
    let b = Batch::new(
        engine,
        spec,
        Options {
            bit_parallel,
            levels: false,
        },
    )
    .unwrap();
    let r = b.resolve(e);
    assert!(r.unknown.is_empty());
    b.run(&r.tasks, &|_| {})
}

/// The answer `engine.traverse` gives for the spec from one start.
fn alone(engine: &Engine, spec: &Value, start: u64) -> Outcome {
    let mut req = spec.clone();
    req["start"] = json!(start);
    let req: TraverseRequest = serde_json::from_value(req).unwrap();
    match engine.traverse(&req) {
        Ok(r) => Outcome::Traversal {
            answer: r.answer,
            partial: r.partial,
            levels: None,
        },
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

#[test]
fn batch_answers_equal_one_at_a_time_traversals() {
    let dir = tempfile::tempdir().unwrap();
    let n = 3000;
    let engine = Engine::open(random_snapshot(dir.path(), n, 3.0, 7)).unwrap();
    let specs = [
        json!({"maxLevel": 2, "uniqueness": "NODE_GLOBAL", "return": "count"}),
        json!({"maxLevel": 3, "relationshipFilter": "T0>|T1", "labelFilter": "-L3",
               "uniqueness": "NODE_GLOBAL", "return": "nodes"}),
        json!({"maxLevel": 2, "relationshipFilter": "T2", "return": "paths"}),
        json!({"maxLevel": 2, "uniqueness": "NODE_PATH", "bfs": false,
               "return": {"groupBy": {"key": "flag"}}}),
        json!({"minLevel": 1, "maxLevel": 3, "uniqueness": "NODE_GLOBAL", "bfs": false,
               "return": "count"}),
        json!({"maxLevel": 4, "uniqueness": "NODE_GLOBAL",
               "budget": {"maxVisited": 40, "onExceed": "partial"}, "return": "count"}),
        json!({"maxLevel": 4, "uniqueness": "NODE_GLOBAL",
               "budget": {"maxVisited": 40}, "return": "count"}),
    ];
    let mut rng = Rng(0xba7c4);
    let sample: Vec<u64> = (0..300).map(|_| rng.below(n)).collect();
    let mut partial = 0;
    let mut failed = 0;
    for s in &specs {
        for mode in [BitParallel::Auto, BitParallel::Never] {
            let got = run_batch(&engine, &spec(s.clone()), mode, &entries(sample.clone()));
            assert_eq!(got.len(), sample.len());
            for (r, &id) in got.iter().zip(&sample) {
                assert_eq!(r.start, Start::Node(id));
                assert_eq!(r.outcome, alone(&engine, s, id), "spec {s} start {id}");
                partial += u32::from(matches!(
                    r.outcome,
                    Outcome::Traversal { partial: true, .. }
                ));
                failed += u32::from(matches!(r.outcome, Outcome::Failed(_)));
            }
        }
    }
    // The budget specs did cut some starts short, and those answers matched too.
    assert!(
        partial > 0 && failed > 0,
        "{partial} partial, {failed} failed"
    );
}

#[test]
fn bit_parallel_bfs_equals_single_source_traversals() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(0x5eed);
    let filters = ["", "T0", "T0>", "<T1|T2", "T0>,<T1", ">"];
    let mut checked = 0;
    for case in 0..12u64 {
        let n = 50 + rng.below(1500);
        let degree = [0.5, 1.5, 3.0, 6.0][case as usize % 4];
        let engine = Engine::open(random_snapshot(dir.path(), n, degree, case)).unwrap();
        for _ in 0..4 {
            let max_level = [1, 2, 3, 5, -1][rng.below(5) as usize];
            let min_level = rng.below(3);
            let filter = filters[rng.below(filters.len() as u64) as usize];
            let mut s = json!({
                "uniqueness": "NODE_GLOBAL",
                "return": "count",
                "maxLevel": max_level,
                "minLevel": min_level,
                "relationshipFilter": filter,
            });
            if rng.below(4) == 0 {
                s["limit"] = json!(rng.below(20));
            }
            if rng.below(3) == 0 {
                s["beginSequenceAtStart"] = json!(false);
            }
            if rng.below(4) == 0 {
                s["budget"] = json!({"maxDepth": rng.below(3)});
            }
            let compiled = spec(s.clone());
            let b = Batch::new(&engine, &compiled, Options::default()).unwrap();
            assert!(b.bit_parallel(), "{s} should take the bit-parallel path");
            // Random starts, repeats included, more than one pass of 64.
            let sample: Vec<u64> = (0..150).map(|_| rng.below(n)).collect();
            let fast = run_batch(
                &engine,
                &compiled,
                BitParallel::Always,
                &entries(sample.clone()),
            );
            for (r, &id) in fast.iter().zip(&sample) {
                assert_eq!(
                    r.outcome,
                    alone(&engine, &s, id),
                    "case {case} spec {s} start {id}"
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 12 * 4 * 150);
}

#[test]
fn levels_are_distance_histograms() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(random_snapshot(dir.path(), 800, 2.0, 3)).unwrap();
    let s = json!({"uniqueness": "NODE_GLOBAL", "return": "count", "maxLevel": 3});
    let b = Batch::new(
        &engine,
        &spec(s.clone()),
        Options {
            bit_parallel: BitParallel::Auto,
            levels: true,
        },
    )
    .unwrap();
    let r = b.resolve(&entries(0..200));
    for rec in b.run(&r.tasks, &|_| {}) {
        let Start::Node(id) = rec.start else { panic!() };
        let Outcome::Traversal {
            answer: Answer::Count(count),
            levels: Some(levels),
            ..
        } = rec.outcome
        else {
            panic!("no levels: {rec:?}")
        };
        assert_eq!(levels.iter().sum::<u64>(), count);
        assert_eq!(levels[0], 1);
        // Nodes at distance exactly d: the d-hop count less the (d-1)-hop count.
        for (d, &at) in levels.iter().enumerate().skip(1) {
            let within = |k: usize| {
                let mut q = s.clone();
                q["maxLevel"] = json!(k);
                match alone(&engine, &q, id) {
                    Outcome::Traversal {
                        answer: Answer::Count(c),
                        ..
                    } => c,
                    other => panic!("{other:?}"),
                }
            };
            assert_eq!(at, within(d) - within(d - 1), "start {id} depth {d}");
        }
    }
    // A spec the bit-parallel search cannot answer says why.
    let nodes = spec(json!({"maxLevel": 2, "uniqueness": "NODE_GLOBAL"}));
    let e = Batch::new(
        &engine,
        &nodes,
        Options {
            bit_parallel: BitParallel::Always,
            levels: false,
        },
    )
    .err()
    .unwrap();
    assert!(e.to_string().contains("more than a count"), "{e}");
    let b = Batch::new(&engine, &nodes, Options::default()).unwrap();
    assert!(!b.bit_parallel());
}

#[test]
fn shortest_path_pairs_equal_single_searches() {
    let dir = tempfile::tempdir().unwrap();
    let n = 1000;
    let engine = Engine::open(random_snapshot(dir.path(), n, 3.0, 11)).unwrap();
    let v = json!({"kind": "shortestPath", "relationshipFilter": "T0|T1>", "maxLevel": 8});
    let b = Batch::new(&engine, &spec(v), Options::default()).unwrap();
    let mut rng = Rng(9);
    let text: String = (0..200)
        .map(|_| format!("{},{}\n", rng.below(n), rng.below(n)))
        .collect();
    let e = batch::parse_starts(&text, true).unwrap();
    let r = b.resolve(&e);
    let got = b.run(&r.tasks, &|_| {});
    let mut found = 0;
    for rec in &got {
        let Start::Pair(from, to) = rec.start else {
            panic!()
        };
        let req = ShortestPathRequest {
            from: from.into(),
            to: to.into(),
            relationship_filter: Some("T0|T1>".into()),
            max_level: 8,
            all: false,
            consistency: Default::default(),
            budget: Default::default(),
        };
        let want = engine.shortest_path(&req).unwrap();
        let Outcome::ShortestPath {
            length,
            paths,
            partial,
        } = &rec.outcome
        else {
            panic!()
        };
        assert_eq!(
            (length, paths, partial),
            (&want.length, &want.paths, &want.partial)
        );
        found += usize::from(length.is_some());
    }
    assert!(found > 10, "only {found} pairs connected");
}

/// `batch --snapshot SNAP --spec SPEC --starts STARTS --out OUT`.
fn batch_args<'a>(snap: &'a Path, spec: &'a Path, starts: &'a str, out: &'a Path) -> [&'a str; 9] {
    [
        "batch",
        "--snapshot",
        s(snap),
        "--spec",
        s(spec),
        "--starts",
        starts,
        "--out",
        s(out),
    ]
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn a_killed_job_resumes_without_gaps_or_repeats() {
    let dir = tempfile::tempdir().unwrap();
    let n = 20_000;
    let snap = random_snapshot(dir.path(), n, 4.0, 5);
    let spec_file = dir.path().join("spec.json");
    std::fs::write(
        &spec_file,
        json!({"maxLevel": 2, "uniqueness": "NODE_GLOBAL", "return": "nodes"}).to_string(),
    )
    .unwrap();
    // Starts in a scrambled order with repeats, so order mistakes cannot hide.
    let mut rng = Rng(0xdead);
    let starts: String = (0..n).map(|_| format!("{}\n", rng.below(n))).collect();
    let starts_file = dir.path().join("starts.txt");
    std::fs::write(&starts_file, starts).unwrap();
    for ext in ["jsonl", "csv"] {
        let full = dir.path().join(format!("full.{ext}"));
        let args = |out: &Path| -> Vec<String> {
            [
                "batch",
                "--snapshot",
                s(&snap),
                "--spec",
                s(&spec_file),
                "--starts",
                s(&starts_file),
                "--out",
                s(out),
                "--chunk",
                "64",
            ]
            .map(String::from)
            .to_vec()
        };
        let out = run(args(&full));
        assert!(out.status.success(), "{}", text(&out.stderr));
        let want = std::fs::read_to_string(&full).unwrap();
        let header = usize::from(ext == "csv");
        assert_eq!(want.lines().count(), n as usize + header);

        for attempt in 0..3u64 {
            let part = dir.path().join(format!("part{attempt}.{ext}"));
            let mut child = neotrav_testkit::neotrav()
                .args(args(&part))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            // Kill once some records are out, after a random extra delay.
            let deadline = std::time::Instant::now() + Duration::from_secs(60);
            while std::fs::metadata(&part).map_or(0, |m| m.len()) < 2000 {
                assert!(std::time::Instant::now() < deadline, "no output");
                std::thread::sleep(Duration::from_millis(5));
            }
            std::thread::sleep(Duration::from_millis(rng.below(150)));
            child.kill().unwrap();
            child.wait().unwrap();
            let mut cut = std::fs::read(&part).unwrap();
            let lines_before = cut.iter().filter(|&&b| b == b'\n').count();
            assert!(
                lines_before < n as usize,
                "the job finished before the kill: make it longer"
            );
            if attempt > 0 {
                // A half-written last line, as a crash in the middle of a write leaves.
                cut.extend_from_slice(if ext == "csv" {
                    b"123,4;5"
                } else {
                    b"{\"start\":12"
                });
                std::fs::write(&part, &cut).unwrap();
            }
            let mut resume = args(&part);
            resume.push("--resume".into());
            let out = run(&resume);
            assert!(out.status.success(), "{}", text(&out.stderr));
            let err = text(&out.stderr);
            assert!(err.contains("already answered"), "{err}");
            if attempt > 0 {
                assert!(err.contains("half-written"), "{err}");
            }
            assert_eq!(
                std::fs::read_to_string(&part).unwrap(),
                want,
                "{ext} attempt {attempt}: killed after {lines_before} lines"
            );
            // Resuming a finished job adds nothing.
            let out = run(&resume);
            assert!(out.status.success(), "{}", text(&out.stderr));
            assert_eq!(std::fs::read_to_string(&part).unwrap(), want);
        }
        // Another job's output is not continued.
        let other = dir.path().join("other.txt");
        std::fs::write(&other, "1\n2\n3\n").unwrap();
        let mut a = args(&full);
        a[6] = s(&other).to_string();
        a.push("--resume".into());
        let out = run(&a);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            text(&out.stderr).contains("another job"),
            "{}",
            text(&out.stderr)
        );
        assert_eq!(std::fs::read_to_string(&full).unwrap(), want);
    }
}

#[test]
fn bad_input_is_reported_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let snap = random_snapshot(dir.path(), 100, 2.0, 1);
    let spec_file = dir.path().join("spec.json");
    std::fs::write(&spec_file, r#"{"maxLevel": 2, "return": "count"}"#).unwrap();
    let starts = dir.path().join("starts.txt");
    let out = dir.path().join("out.jsonl");

    // Malformed lines: every one named by its line number, nothing written.
    std::fs::write(&starts, "1\n2\nthree\n\n# a comment\n4 5\n-6\n7\n").unwrap();
    let o = run(batch_args(&snap, &spec_file, s(&starts), &out));
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(err.contains("3 malformed"), "{err}");
    for line in ["line 3:", "line 6:", "line 7:"] {
        assert!(err.contains(line), "{line} missing: {err}");
    }
    assert!(!err.contains("line 8:"), "{err}");
    assert!(!out.exists());

    // Unknown ids: reported and skipped, or an error with --strict.
    std::fs::write(&starts, "1\n100000\n2\n99\n100\n").unwrap();
    let base = batch_args(&snap, &spec_file, s(&starts), &out);
    let strict: Vec<&str> = base.iter().copied().chain(["--strict"]).collect();
    let o = run(&strict);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(
        err.contains("line 2: node 100000") && err.contains("line 5: node 100"),
        "{err}"
    );
    assert!(!out.exists());
    let o = run(base);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("2 start(s) are not in the snapshot"));
    let written: Vec<Value> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ids: Vec<u64> = written
        .iter()
        .map(|v| v["start"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, vec![1, 2, 99]);
    assert!(written.iter().all(|v| v["count"].as_u64().unwrap() >= 1));

    // A spec error stops the job before it reads the starts (which are bad here too).
    let bad_spec = dir.path().join("bad.json");
    std::fs::write(&bad_spec, r#"{"relationshipFilter": "<T0>"}"#).unwrap();
    std::fs::write(&starts, "nonsense\n").unwrap();
    let out2 = dir.path().join("out2.jsonl");
    let o = run(batch_args(&snap, &bad_spec, s(&starts), &out2));
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(
        err.contains("relationshipFilter") && !err.contains("malformed"),
        "{err}"
    );
    assert!(!out2.exists());
    std::fs::write(&bad_spec, r#"{"maxLevl": 2}"#).unwrap();
    let o = run(batch_args(&snap, &bad_spec, "label:L0", &out2));
    assert!(text(&o.stderr).contains("maxLevl"), "{}", text(&o.stderr));

    // An existing output is not replaced; an unknown label is named.
    let o = run(base);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("already exists"));
    let o = run(batch_args(&snap, &spec_file, "label:Nope", &out2));
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("no label \"Nope\""),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn label_starts_and_csv_through_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let snap = random_snapshot(dir.path(), 500, 2.0, 2);
    let engine = Engine::open(&snap).unwrap();
    let spec_file = dir.path().join("spec.json");
    let v = json!({"maxLevel": 2, "uniqueness": "NODE_GLOBAL", "return": "count"});
    std::fs::write(&spec_file, v.to_string()).unwrap();
    let out = dir.path().join("out.csv");
    let o = run([
        "batch",
        "--snapshot",
        s(&snap),
        "--spec",
        s(&spec_file),
        "--starts",
        "label:L1",
        "--out",
        s(&out),
        "--threads",
        "2",
        "--levels",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("bit-parallel"));
    let csv = std::fs::read_to_string(&out).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("start,count,levels,partial,error"));
    let view = engine.snapshot().view();
    let want: Vec<u64> = engine
        .label_nodes("L1")
        .into_iter()
        .map(|i| view.node_id(i).unwrap())
        .collect();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), want.len());
    for (row, id) in rows.iter().zip(&want) {
        assert_eq!(row[0], id.to_string());
        let Outcome::Traversal {
            answer: Answer::Count(c),
            ..
        } = alone(&engine, &v, *id)
        else {
            panic!()
        };
        assert_eq!(row[1], c.to_string());
        let levels: u64 = row[2].split(';').map(|x| x.parse::<u64>().unwrap()).sum();
        assert_eq!(levels, c);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cypher_starts_run_read_only_against_neo4j() {
    let db = neotrav_neo4j::testkit::clean_graph().await;
    let server = db.server;
    let o = run_on(
        server,
        ["dataset", "load", "random", "--nodes", "400", "--seed", "4"],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("r.snap");
    let o = run_on(server, ["export", "--out", s(&snap)]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let spec_file = dir.path().join("spec.json");
    std::fs::write(
        &spec_file,
        r#"{"maxLevel": 2, "uniqueness": "NODE_GLOBAL", "return": "count"}"#,
    )
    .unwrap();

    // The ids a query returns, in its order, answer like the same ids from a file.
    let ids = neotrav_neo4j::testkit::rows(
        &db.graph,
        neo4rs::query("MATCH (n:L2) RETURN id(n) AS id ORDER BY id DESC"),
    )
    .await
    .unwrap();
    let ids: Vec<i64> = ids.iter().map(|r| r.get("id").unwrap()).collect();
    assert!(ids.len() > 10);
    let file = dir.path().join("ids.txt");
    std::fs::write(
        &file,
        ids.iter().map(|i| format!("{i}\n")).collect::<String>(),
    )
    .unwrap();
    let (a, b) = (dir.path().join("a.jsonl"), dir.path().join("b.jsonl"));
    let o = run_on(
        server,
        batch_args(
            &snap,
            &spec_file,
            "cypher:MATCH (n:L2) RETURN id(n) ORDER BY id(n) DESC",
            &a,
        ),
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = run_on(server, batch_args(&snap, &spec_file, s(&file), &b));
    assert!(o.status.success(), "{}", text(&o.stderr));
    let a = std::fs::read_to_string(&a).unwrap();
    assert_eq!(a.lines().count(), ids.len());
    assert_eq!(a, std::fs::read_to_string(&b).unwrap());

    // A query that writes is refused by Neo4j's read-only transaction; nothing was created.
    let c = dir.path().join("c.jsonl");
    let o = run_on(
        server,
        batch_args(
            &snap,
            &spec_file,
            "cypher:CREATE (n:Injected) RETURN id(n)",
            &c,
        ),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("read"), "{}", text(&o.stderr));
    let created = neotrav_neo4j::testkit::rows(
        &db.graph,
        neo4rs::query("MATCH (n:Injected) RETURN count(n) AS n"),
    )
    .await
    .unwrap();
    assert_eq!(created[0].get::<i64>("n").unwrap(), 0);
    // Values that are not ids are named with their row.
    let o = run_on(
        server,
        batch_args(
            &snap,
            &spec_file,
            "cypher:MATCH (n:L2) RETURN n.name, id(n) LIMIT 2",
            &c,
        ),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("row 1"), "{}", text(&o.stderr));
    assert!(!c.exists());
}

#[test]
fn shortest_path_pairs_through_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let n = 600;
    let snap = random_snapshot(dir.path(), n, 3.0, 12);
    let engine = Engine::open(&snap).unwrap();
    let spec_file = dir.path().join("path.json");
    std::fs::write(
        &spec_file,
        r#"{"from": 0, "to": 0, "maxLevel": 6, "all": true}"#,
    )
    .unwrap();
    let mut rng = Rng(31);
    let pairs: Vec<(u64, u64)> = (0..100).map(|_| (rng.below(n), rng.below(n))).collect();
    let starts = dir.path().join("pairs.txt");
    let lines: String = pairs.iter().map(|(a, b)| format!("{a}\t{b}\n")).collect();
    std::fs::write(&starts, lines).unwrap();
    let out = dir.path().join("paths.csv");
    let args = batch_args(&snap, &spec_file, s(&starts), &out);
    let o = run(args);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let csv = std::fs::read_to_string(&out).unwrap();
    let mut rows = csv.lines();
    assert_eq!(rows.next(), Some("from,to,length,paths,partial,error"));
    for (row, (a, b)) in rows.zip(&pairs) {
        let want = engine
            .shortest_path(&ShortestPathRequest {
                from: (*a).into(),
                to: (*b).into(),
                relationship_filter: None,
                max_level: 6,
                all: true,
                consistency: Default::default(),
                budget: Default::default(),
            })
            .unwrap();
        let length = want.length.map_or(String::new(), |l| l.to_string());
        assert!(
            row.starts_with(&format!("{a},{b},{length},")),
            "{row} vs {length}"
        );
        // The paths column is CSV-quoted JSON.
        let quoted = row.splitn(4, ',').nth(3).unwrap();
        let json_text = quoted
            .rsplitn(3, ',')
            .nth(2)
            .unwrap()
            .trim_matches('"')
            .replace("\"\"", "\"");
        let paths: Vec<neotrav_wire::Path> = serde_json::from_str(&json_text).unwrap();
        assert_eq!(paths, want.paths);
    }
    // Resuming the finished job reads the last pair back and adds nothing.
    let resume: Vec<&str> = args.iter().copied().chain(["--resume"]).collect();
    let o = run(&resume);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("100 of 100 starts already answered"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), csv);
    // A single id where a pair is expected is a malformed line.
    std::fs::write(&starts, "1 2\n3\n").unwrap();
    let o = run([
        "batch",
        "--snapshot",
        s(&snap),
        "--spec",
        s(&spec_file),
        "--starts",
        s(&starts),
        "--out",
        s(&dir.path().join("x.jsonl")),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("line 2:"), "{}", text(&o.stderr));
}

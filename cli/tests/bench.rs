//! `neotrav bench` end to end on small datasets: each dataset in its own bundled Neo4j, every
//! system answering, the digests equal, the JSON, markdown and SVG written, and no server left
//! running.

use neotrav_testkit::{run, text};
use serde_json::Value;

#[test]
fn bench_all_on_small_graphs_answers_equal_and_writes_its_report() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let md = dir.path().join("r.md");
    let env = dir.path().join("env");
    let out = run([
        "bench",
        "all",
        "--scale",
        "0.001",
        "--tree-nodes",
        "3000",
        "--runs",
        "2",
        "--heap",
        "1g",
        "--pagecache",
        "256m",
        "--dir",
        env.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
        "--report",
        md.to_str().unwrap(),
    ]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        text(&out.stdout).contains("every system's answers were equal"),
        "{stderr}"
    );
    let results: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(results["suite"], "all");
    assert_eq!(results["seed"], 42);
    assert!(
        results["neo4j_version"]
            .as_str()
            .unwrap()
            .starts_with("5.26.")
    );
    let cases = results["cases"].as_array().unwrap();
    let mut names: Vec<&str> = cases.iter().map(|c| c["name"].as_str().unwrap()).collect();
    names.dedup();
    assert_eq!(
        names,
        [
            "tree-3000/dfs-flag-count",
            "tree-3000/dfs-flag-count-depth5",
            "tree-3000/article",
            "tree-3000/article-depth5",
            "discogs-0.001/shortest-path",
            "discogs-0.001/explore-3-hops",
            "discogs-0.001/co-artists",
            "discogs-0.001/genre-years",
            "discogs-0.001/artist-labels",
            "discogs-0.001/top-artists-by-degree",
            "discogs-0.001/http-round-trip",
            "discogs-0.001/cypher-artist-by-key",
            "discogs-0.001/cypher-co-artists",
            "discogs-0.001/cypher-collaborators-by-year",
            "discogs-0.001/cypher-genre-breakdown",
            "discogs-0.001/cypher-artist-labels",
            "discogs-0.001/cypher-styles-to-explore",
            "discogs-0.001/cypher-shortest-path",
            "discogs-0.001/cypher-genre-years",
        ]
    );
    for name in names {
        let of: Vec<&Value> = cases.iter().filter(|c| c["name"] == name).collect();
        // The round trip is asked of the sidecar over HTTP and of Neo4j only.
        let least = if name.ends_with("/http-round-trip") {
            2
        } else {
            3
        };
        assert!(of.len() >= least, "{name}: {} systems", of.len());
        assert!(of.iter().any(|c| c["system"] == "cypher"), "{name}");
        for c in &of {
            assert_eq!(c["answer_digest"], of[0]["answer_digest"], "{name}");
            assert!(c["p50_ms"].as_f64().unwrap() > 0.0, "{c}");
            assert!(c["p50_ms"].as_f64() <= c["p99_ms"].as_f64(), "{c}");
        }
    }
    let sizes = |system: &str| {
        cases
            .iter()
            .filter(|c| c["system"] == system)
            .map(|c| c["answer_size"].as_u64().unwrap())
            .collect::<Vec<_>>()
    };
    // Answers are not trivially empty.
    assert!(sizes("neotrav").iter().filter(|&&s| s > 0).count() >= 8);
    assert!(cases.iter().any(|c| c["system"] == "gds"));
    assert!(cases.iter().any(|c| c["system"] == "apoc"));
    let report = std::fs::read_to_string(&md).unwrap();
    assert!(report.contains("| case (p50) | neotrav | neotrav-http | cypher |"));
    assert!(
        std::fs::read_to_string(dir.path().join("r.svg"))
            .unwrap()
            .starts_with("<svg")
    );
    // Every server it started was stopped.
    for home in std::fs::read_dir(dir.path().join("env/neo4j")).unwrap() {
        let pid = home.unwrap().path().join("neotrav-server.json");
        assert!(!pid.exists(), "{} left behind", pid.display());
    }
}

#[test]
fn bench_refuses_bad_flags_with_a_clear_error() {
    let out = run(["bench", "discogs", "--scale", "0"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("--scale 0: give a positive number"),
        "{stderr}"
    );
    let out = run(["bench", "everything"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("tree, discogs, all"));
}

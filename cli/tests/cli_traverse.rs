//! `neotrav traverse` and `neotrav path` through the binary: on a generated snapshot, and with
//! `"consistency": "fresh"` against the test kit's real Neo4j.

use neo4rs::query;
use neotrav_neo4j::testkit::{self, rows};
use neotrav_testkit::{run, run_on, text};

const SPEC: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../traverser/specs/article-dfs.json"
);

#[test]
fn traverse_and_path_on_a_generated_tree() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("tree.snap");
    let snap = snap.to_str().unwrap();
    let out = run([
        "dataset", "snapshot", "tree", "--nodes", "3000", "--out", snap,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    let out = run(["traverse", "--snapshot", snap, "--spec", SPEC, "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let count = json["count"].as_u64().expect("a count");
    assert!(count > 0);
    assert_eq!(json["partial"], false);
    assert!(json["stats"]["nodesVisited"].as_u64().unwrap() > count);

    let out = run(["traverse", "--snapshot", snap, "--spec", SPEC]);
    assert!(text(&out.stdout).contains(&format!("count: {count}")));

    // Root is node 0 in a generated tree; its last node is a leaf somewhere below.
    let out = run([
        "path",
        "--snapshot",
        snap,
        "--from",
        "0",
        "--to",
        "2999",
        "--types",
        "CHILD_A|CHILD_B",
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let length = json["length"].as_u64().expect("a path");
    assert_eq!(
        json["paths"][0]["nodes"].as_array().unwrap().len() as u64,
        length + 1
    );
    assert_eq!(json["paths"][0]["nodes"][0], 0);

    // Mistakes name what is wrong.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"start": 0, "relationshipFilter": "<A>"}"#).unwrap();
    let out = run([
        "traverse",
        "--snapshot",
        snap,
        "--spec",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("relationshipFilter"),
        "{}",
        text(&out.stderr)
    );
    std::fs::write(&bad, r#"{"start": 0, "uniqueness": "SOMETIMES"}"#).unwrap();
    let out = run([
        "traverse",
        "--snapshot",
        snap,
        "--spec",
        bad.to_str().unwrap(),
    ]);
    assert!(
        text(&out.stderr).contains("SOMETIMES"),
        "{}",
        text(&out.stderr)
    );
    let out = run([
        "traverse",
        "--snapshot",
        "/nonexistent.snap",
        "--spec",
        SPEC,
    ]);
    assert!(
        text(&out.stderr).contains("/nonexistent.snap"),
        "{}",
        text(&out.stderr)
    );
    let out = run(["path", "--snapshot", snap, "--from", "x", "--to", "1"]);
    assert!(
        text(&out.stderr).contains("--from"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fresh_traversals_see_invalidated_and_new_nodes() {
    let db = testkit::clean_graph().await;
    let server = db.server;
    let out = run_on(
        server,
        ["dataset", "load", "tree", "--nodes", "500", "--seed", "9"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("tree.snap");
    let snap = snap.to_str().unwrap();
    let out = run_on(server, ["export", "--out", snap, "--properties", "B.flag"]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    // A new B with flag true under Root, written after the export.
    let root = rows(
        &db.graph,
        query("MATCH (r:Root) CREATE (r)-[:CHILD_B]->(:B {flag: true}) RETURN id(r) AS id"),
    )
    .await
    .unwrap()[0]
        .get::<i64>("id")
        .unwrap();
    let spec = dir.path().join("fresh.json");
    let request =
        std::fs::read_to_string(SPEC)
            .unwrap()
            .replacen('{', r#"{"consistency": "fresh","#, 1);
    std::fs::write(&spec, request).unwrap();
    let spec = spec.to_str().unwrap();

    let count = |args: &[&str]| -> u64 {
        let out = run_on(server, args);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        json["count"].as_u64().unwrap()
    };
    let stale = count(&["traverse", "--snapshot", snap, "--spec", SPEC, "--json"]);
    let unseen = count(&["traverse", "--snapshot", snap, "--spec", spec, "--json"]);
    assert_eq!(
        unseen, stale,
        "Root is not invalidated: its new relationship is not seen"
    );
    let root = root.to_string();
    let seen = count(&[
        "traverse",
        "--snapshot",
        snap,
        "--spec",
        spec,
        "--json",
        "--invalidate",
        &root,
    ]);
    assert_eq!(seen, stale + 1, "the invalidated Root leads to the new B");
    let out = run_on(
        server,
        [
            "traverse",
            "--snapshot",
            snap,
            "--spec",
            spec,
            "--invalidate",
            &root,
        ],
    );
    assert!(
        text(&out.stdout).contains("misses: "),
        "{}",
        text(&out.stdout)
    );
}

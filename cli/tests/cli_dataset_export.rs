//! `neotrav dataset load|snapshot` and `neotrav export` through the binary, against the test
//! kit's real Neo4j.

use neotrav_neo4j::testkit;
use neotrav_testkit::{run, run_on, text};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_export_and_inspect_the_tree() {
    let db = testkit::clean_graph().await;
    let neo4j = db.server;
    let out = run_on(
        neo4j,
        ["dataset", "load", "tree", "--nodes", "2000", "--seed", "5"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("loaded 2000 nodes and 1999 relationships"));

    // Loading again into a graph with data is refused, naming the way out.
    let again = run_on(neo4j, ["dataset", "load", "tree", "--nodes", "2000"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        text(&again.stderr).contains("--replace"),
        "{}",
        text(&again.stderr)
    );

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tree.snap");
    let file_arg = file.to_str().unwrap();
    let out = run_on(
        neo4j,
        ["export", "--out", file_arg, "--properties", "B.flag"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("exported 2000 nodes and 1999 relationships"),
        "{}",
        text(&out.stdout)
    );
    let out = run_on(neo4j, ["snapshot", "inspect", file_arg]);
    let stdout = text(&out.stdout);
    for expect in [
        "nodes:         2000",
        "CHILD_A",
        "CHILD_B",
        "flag",
        "bool",
        "export started",
    ] {
        assert!(
            stdout.contains(expect),
            "{expect:?} missing from:\n{stdout}"
        );
    }

    // The export of the loaded tree and the tree generated straight into a snapshot hold the
    // same graph: same counts per label and type.
    let direct = dir.path().join("direct.snap");
    let out = run_on(
        neo4j,
        [
            "dataset",
            "snapshot",
            "tree",
            "--nodes",
            "2000",
            "--seed",
            "5",
            "--out",
            direct.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let counts = |path: &std::path::Path| {
        let out = run_on(
            neo4j,
            ["snapshot", "inspect", "--json", path.to_str().unwrap()],
        );
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (json["labels"].clone(), json["relationship_types"].clone())
    };
    assert_eq!(counts(&file), counts(&direct));

    // Bad input: an unknown label, a malformed list; the file stays as it was.
    let before = std::fs::read(&file).unwrap();
    let out = run_on(
        neo4j,
        ["export", "--out", file_arg, "--properties", "Nope.flag"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("\"Nope\" does not exist"),
        "{}",
        text(&out.stderr)
    );
    let out = run_on(neo4j, ["export", "--out", file_arg, "--properties", "flag"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("Label.key"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read(&file).unwrap(), before);
}

#[test]
fn bad_dataset_parameters_are_refused() {
    let out = run([
        "dataset",
        "snapshot",
        "discogs",
        "--scale",
        "0",
        "--out",
        "/nonexistent/x",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("--scale"),
        "{}",
        text(&out.stderr)
    );
}

//! `neotrav dataset load|snapshot` and `neotrav export` through the binary, against the test
//! kit's real Neo4j.

use std::process::Output;

use neotrav_neo4j::testkit;

fn neotrav(args: &[&str]) -> Output {
    let server = testkit::neo4j();
    neotrav_testkit::neotrav()
        .args(args)
        .env("NEO4J_URI", &server.uri)
        .env("NEO4J_USERNAME", &server.user)
        .env("NEO4J_PASSWORD", server.password.expose())
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_export_and_inspect_the_tree() {
    let _db = testkit::clean_graph().await;
    let out = neotrav(&["dataset", "load", "tree", "--nodes", "2000", "--seed", "5"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("loaded 2000 nodes and 1999 relationships"));

    // Loading again into a graph with data is refused, naming the way out.
    let again = neotrav(&["dataset", "load", "tree", "--nodes", "2000"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        text(&again.stderr).contains("--replace"),
        "{}",
        text(&again.stderr)
    );

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tree.snap");
    let file_arg = file.to_str().unwrap();
    let out = neotrav(&["export", "--out", file_arg, "--properties", "B.flag"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("exported 2000 nodes and 1999 relationships"),
        "{}",
        text(&out.stdout)
    );
    let out = neotrav(&["snapshot", "inspect", file_arg]);
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
    let out = neotrav(&[
        "dataset",
        "snapshot",
        "tree",
        "--nodes",
        "2000",
        "--seed",
        "5",
        "--out",
        direct.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let counts = |path: &std::path::Path| {
        let out = neotrav(&["snapshot", "inspect", "--json", path.to_str().unwrap()]);
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (json["labels"].clone(), json["relationship_types"].clone())
    };
    assert_eq!(counts(&file), counts(&direct));

    // Bad input: an unknown label, a malformed list; the file stays as it was.
    let before = std::fs::read(&file).unwrap();
    let out = neotrav(&["export", "--out", file_arg, "--properties", "Nope.flag"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("\"Nope\" does not exist"),
        "{}",
        text(&out.stderr)
    );
    let out = neotrav(&["export", "--out", file_arg, "--properties", "flag"]);
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
    let out = neotrav_testkit::neotrav()
        .args([
            "dataset",
            "snapshot",
            "discogs",
            "--scale",
            "0",
            "--out",
            "/nonexistent/x",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("--scale"),
        "{}",
        text(&out.stderr)
    );
}

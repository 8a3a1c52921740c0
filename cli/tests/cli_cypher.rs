//! `neotrav cypher` through the binary: on a snapshot file, and forwarding to the test kit's
//! real Neo4j.

use neo4rs::query;
use neotrav_neo4j::testkit::{self, rows};
use neotrav_testkit::{run, run_on, text};

#[test]
fn a_statement_runs_on_a_snapshot_file() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("small.snap");
    neotrav_testkit::small::write(&snap, 0);
    let snap = snap.to_str().unwrap();
    let statement = "MATCH (n:B) WHERE n.flag = $flag RETURN count(n) AS c";
    let out = run([
        "cypher",
        "--snapshot",
        snap,
        statement,
        "--param",
        "flag=true",
        "--format",
        "json",
    ]);
    if out.status.success() {
        // The planner answers it from the snapshot: nodes 2 and 5.
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(json["data"]["values"], serde_json::json!([[2]]), "{json}");
        assert_eq!(json["answeredBy"], "snapshot");
        let out = run([
            "cypher",
            "--snapshot",
            snap,
            statement,
            "--param",
            "flag=true",
        ]);
        assert!(
            text(&out.stdout).contains("answered by the snapshot"),
            "{}",
            text(&out.stdout)
        );
    } else {
        // Not yet answerable: refused without a Neo4j, naming what needs it.
        assert!(
            text(&out.stderr).contains("needs Neo4j"),
            "{}",
            text(&out.stderr)
        );
        assert!(text(&out.stderr).contains("--unsupported forward"));
    }

    // A syntax error shows the diagnostic with its caret; a bad flag names itself.
    let out = run(["cypher", "--snapshot", snap, "MATCH (n RETURN n"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("line 1, column") && err.contains('^'), "{err}");
    let out = run([
        "cypher",
        "--snapshot",
        snap,
        "RETURN 1",
        "--param",
        "novalue",
    ]);
    assert!(
        text(&out.stderr).contains("name=value"),
        "{}",
        text(&out.stderr)
    );
    let out = run([
        "cypher",
        "--snapshot",
        snap,
        "RETURN 1",
        "--params-json",
        "[1]",
    ]);
    assert!(
        text(&out.stderr).contains("--params-json"),
        "{}",
        text(&out.stderr)
    );
    let out = run(["cypher", "--snapshot", "/nonexistent.snap", "RETURN 1"]);
    assert!(
        text(&out.stderr).contains("/nonexistent.snap"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_snapshot_cannot_answer_is_forwarded_to_neo4j() {
    let db = testkit::clean_graph().await;
    rows(&db.graph, query("CREATE (:Zebra {name: 'z'})"))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("small.snap");
    neotrav_testkit::small::write(&snap, 0);
    let snap = snap.to_str().unwrap();
    // NEO4J_URI is set by run_on: forward is the default.
    let out = run_on(
        db.server,
        ["cypher", "--snapshot", snap, "CALL db.labels()"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(table.starts_with("label"), "{table}");
    assert!(
        table.contains("Zebra") && table.contains("answered by Neo4j"),
        "{table}"
    );

    let out = run_on(
        db.server,
        [
            "cypher",
            "--snapshot",
            snap,
            "MATCH (z:Zebra) RETURN z.name AS name, $n AS n",
            "--param",
            "n=7",
            "--format",
            "ndjson",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0], serde_json::json!({"fields": ["name", "n"]}));
    assert_eq!(lines[1], serde_json::json!(["z", 7]));
    assert_eq!(lines[2]["answeredBy"], "neo4j");

    let out = run_on(
        db.server,
        [
            "cypher",
            "--snapshot",
            snap,
            "--unsupported",
            "refuse",
            "CALL db.labels()",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("needs Neo4j"),
        "{}",
        text(&out.stderr)
    );
    let out = run_on(db.server, ["cypher", "--snapshot", snap, "CREATE (n)"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let n: i64 = testkit::single(&db.graph, query("MATCH (n) RETURN count(n) AS n"))
        .await
        .get("n")
        .unwrap();
    assert_eq!(n, 1);
}

//! `Client::cypher` against a sidecar in front of the test kit's Neo4j, and through the Cypher
//! fallback when the sidecar is unreachable.

use neo4rs::query;
use neotrav_client::Client;
use neotrav_client::fallback::Fallback;
use neotrav_client::wire::cypher::{CypherAnsweredBy, CypherRequest};
use neotrav_neo4j::testkit;
use neotrav_testkit::served;
use serde_json::json;

async fn closed_port() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

#[tokio::test]
async fn a_statement_is_answered_by_the_sidecar_or_the_fallback() {
    let db = testkit::clean_graph().await;
    let live = served::live(&db, &[]).await;
    let state =
        neotrav_server::AppState::new(live.path.clone(), Some(db.server.graph()), None).unwrap();
    let base = served::in_process(state).await;

    let client = Client::new(&base).unwrap();
    let r = client
        .cypher(&CypherRequest::new("CALL db.labels()"))
        .await
        .unwrap();
    assert_eq!(r.data.fields, ["label"]);
    assert!(r.data.values.contains(&vec![json!("Root")]), "{r:?}");
    assert!(r.forwarded_because.is_some() || r.answered_by == CypherAnsweredBy::Snapshot);
    let r = client
        .cypher_statement("MATCH (n:A) RETURN count(n) AS c, $x AS x", json!({"x": 2}))
        .await
        .unwrap();
    assert_eq!(r.data.values, vec![vec![json!(2), json!(2)]]);
    let e = client
        .cypher(&CypherRequest::new("MATCH (n RETURN n"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("cypher_syntax"), "{e}");

    let down = Client::builder(&closed_port().await)
        .retries(0)
        .fallback(Fallback::new(db.graph.clone()))
        .build()
        .unwrap();
    let r = down
        .cypher_statement("MATCH (n:A) RETURN count(n) AS c, $x AS x", json!({"x": 2}))
        .await
        .unwrap();
    assert_eq!(r.answered_by, CypherAnsweredBy::Neo4j);
    assert!(
        r.forwarded_because
            .as_deref()
            .unwrap()
            .contains("unreachable"),
        "{r:?}"
    );
    assert_eq!(r.data.values, vec![vec![json!(2), json!(2)]]);
    // The fallback only reads.
    assert!(
        down.cypher(&CypherRequest::new("CREATE (n)"))
            .await
            .is_err()
    );
    let n: i64 = testkit::single(&db.graph, query("MATCH (n) RETURN count(n) AS n"))
        .await
        .get("n")
        .unwrap();
    assert_eq!(n, 4);
}

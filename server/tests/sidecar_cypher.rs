//! `POST /v1/cypher` and `POST /db/{name}/query/v2` against the test kit's real Neo4j: who
//! answers, the error answers and their shapes, the encodings, NDJSON, and that the answers
//! equal Neo4j's own, whoever gave them (the snapshot or Neo4j).

use neo4rs::query;
use neotrav_neo4j::testkit::{self, CleanGraph};
use neotrav_server::{AppState, Unsupported};
use neotrav_testkit::served;
use serde_json::{Value, json};

struct Sidecar {
    base: String,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Sidecar {
    async fn post(&self, path: &str, accept: &str, body: Value) -> (u16, String) {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .header("accept", accept)
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    async fn cypher(&self, body: Value) -> (u16, Value) {
        let (status, text) = self.post("/v1/cypher", "application/json", body).await;
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
}

/// The live graph, exported, served in-process with Neo4j (`tune` adjusts the state).
async fn sidecar(db: &CleanGraph, tune: impl FnOnce(AppState) -> AppState) -> Sidecar {
    let live = served::live(db, &[("B", "flag")]).await;
    let state = AppState::new(live.path.clone(), Some(db.server.graph()), None).unwrap();
    let base = served::in_process(tune(state)).await;
    Sidecar {
        base,
        client: reqwest::Client::new(),
        _dir: live.dir,
    }
}

async fn node_count(db: &CleanGraph) -> i64 {
    testkit::single(&db.graph, query("MATCH (n) RETURN count(n) AS n"))
        .await
        .get("n")
        .unwrap()
}

#[tokio::test]
async fn a_procedure_call_is_forwarded_with_its_reason() {
    let db = testkit::clean_graph().await;
    let s = sidecar(&db, |s| s).await;
    let (status, body) = s.cypher(json!({"statement": "CALL db.labels()"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["answeredBy"], "neo4j", "{body}");
    assert!(
        body["forwardedBecause"]
            .as_str()
            .is_some_and(|r| !r.is_empty()),
        "{body}"
    );
    assert_eq!(body["data"]["fields"], json!(["label"]));
    assert!(
        body["data"]["values"]
            .as_array()
            .unwrap()
            .contains(&json!(["Root"])),
        "{body}"
    );
}

#[tokio::test]
async fn a_write_is_refused_and_nothing_is_written() {
    let db = testkit::clean_graph().await;
    let s = sidecar(&db, |s| s).await;
    let before = node_count(&db).await;
    for statement in ["CREATE (n)", "MATCH (n:Root) SET n.x = 1 RETURN n"] {
        let (status, body) = s.cypher(json!({ "statement": statement })).await;
        assert_eq!(status, 400, "{statement}: {body}");
        let code = body["error"]["code"].as_str().unwrap();
        // The planner refuses it (cypher_write), or Neo4j does, in its read transaction.
        assert!(
            code == "cypher_write"
                || (code == "neo4j_refused"
                    && body["error"]["details"]["neo4jCode"]
                        .as_str()
                        .unwrap()
                        .starts_with("Neo.ClientError.")),
            "{statement}: {body}"
        );
    }
    assert_eq!(node_count(&db).await, before);
    let x: i64 = testkit::single(
        &db.graph,
        query("MATCH (n) WHERE n.x IS NOT NULL RETURN count(n) AS n"),
    )
    .await
    .get("n")
    .unwrap();
    assert_eq!(x, 0);
}

#[tokio::test]
async fn a_syntax_error_is_400_with_its_line_and_column() {
    let db = testkit::clean_graph().await;
    let s = sidecar(&db, |s| s).await;
    let (status, body) = s
        .cypher(json!({"statement": "MATCH (n)\nRETURN n ORDER"}))
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "cypher_syntax", "{body}");
    assert_eq!(body["error"]["details"]["line"], 2, "{body}");
    assert!(body["error"]["details"]["column"].as_u64().unwrap() >= 1);
    assert!(
        body["error"]["details"]["rendered"]
            .as_str()
            .unwrap()
            .contains("RETURN n ORDER"),
        "{body}"
    );
    let (status, text) = s
        .post(
            "/db/neo4j/query/v2",
            "application/json",
            json!({"statement": "MATCH (n RETURN n"}),
        )
        .await;
    assert_eq!(status, 400, "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        body["errors"][0]["code"],
        "Neo.ClientError.Statement.SyntaxError"
    );
}

#[tokio::test]
async fn a_missing_parameter_is_400_naming_it() {
    let db = testkit::clean_graph().await;
    let s = sidecar(&db, |s| s).await;
    let (status, body) = s
        .cypher(json!({"statement": "MATCH (n:B) WHERE n.flag = $wanted RETURN count(n) AS c"}))
        .await;
    assert_eq!(status, 400, "{body}");
    let e = &body["error"];
    assert!(
        (e["code"] == "cypher_parameter" && e["details"]["parameter"] == "wanted")
            || (e["code"] == "neo4j_refused"
                && e["details"]["neo4jCode"] == "Neo.ClientError.Statement.ParameterMissing"
                && e["message"].as_str().unwrap().contains("wanted")),
        "{body}"
    );
    let (status, body) = s
        .cypher(
            json!({"statement": "MATCH (n:B) WHERE n.flag = $wanted RETURN count(n) AS c",
                       "parameters": {"wanted": true}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["values"], json!([[1]]));
}

#[tokio::test]
async fn the_query_api_path_answers_plain_and_typed() {
    let db = testkit::clean_graph().await;
    let s = sidecar(&db, |s| s).await;
    let request = json!({"statement": "MATCH (n:B) RETURN n.flag AS flag, $x AS x",
                         "parameters": {"x": {"$type": "Integer", "_value": "5"}}});
    let r = s
        .client
        .post(format!("{}/db/neo4j/query/v2", s.base))
        .header("content-type", "application/vnd.neo4j.query")
        .header("accept", "application/vnd.neo4j.query")
        .body(request.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["data"]["fields"], json!(["flag", "x"]), "{body}");
    assert_eq!(
        body["data"]["values"],
        json!([[{"$type": "Boolean", "_value": true}, {"$type": "Integer", "_value": "5"}]]),
        "{body}"
    );
    let (status, text) = s
        .post("/db/neo4j/query/v2", "application/json", request.clone())
        .await;
    assert_eq!(status, 200, "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["data"]["values"], json!([[true, 5]]), "{body}");
    let (status, text) = s
        .post("/db/other/query/v2", "application/json", request)
        .await;
    assert_eq!(status, 404, "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        body["errors"][0]["code"],
        "Neo.ClientError.Database.DatabaseNotFound"
    );
}

#[tokio::test]
async fn refuse_gives_422_naming_the_construct() {
    let db = testkit::clean_graph().await;
    let s = sidecar(&db, |s| s.with_unsupported(Unsupported::Refuse)).await;
    let (status, body) = s.cypher(json!({"statement": "CALL db.labels()"})).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "cypher_unsupported", "{body}");
    let d = &body["error"]["details"];
    assert!(
        d["construct"].as_str().is_some_and(|c| !c.is_empty()),
        "{body}"
    );
    assert!(d["line"].as_u64().is_some() && d["column"].as_u64().is_some());
}

#[tokio::test]
async fn ndjson_lines_parse() {
    let db = testkit::clean_graph().await;
    let s = sidecar(&db, |s| s).await;
    let (status, text) = s
        .post(
            "/v1/cypher",
            "application/x-ndjson",
            json!({"statement": "UNWIND range(1, 5) AS i RETURN i"}),
        )
        .await;
    assert_eq!(status, 200, "{text}");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 7, "{text}");
    assert_eq!(lines[0], json!({"fields": ["i"]}));
    assert_eq!(lines[1], json!([1]));
    assert_eq!(lines[5], json!([5]));
    assert!(lines[6]["answeredBy"].is_string(), "{text}");
    assert_eq!(lines[6]["stats"]["rows"], 5);
}

#[tokio::test]
async fn explain_gives_a_plan_and_no_rows() {
    let db = testkit::clean_graph().await;
    let s = sidecar(&db, |s| s).await;
    let (status, body) = s
        .cypher(json!({"statement": "EXPLAIN MATCH (n:A) RETURN count(n) AS c"}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["plan"].as_str().is_some_and(|p| !p.is_empty()),
        "{body}"
    );
    assert_eq!(body["data"]["values"], json!([]));
}

/// A statement's rows as a sorted list of their plain JSON: a multiset.
fn multiset(values: &Value) -> Vec<String> {
    let mut rows: Vec<String> = values
        .as_array()
        .unwrap()
        .iter()
        .map(Value::to_string)
        .collect();
    rows.sort();
    rows
}

#[tokio::test]
async fn match_answers_equal_neo4js_own() {
    let db = testkit::clean_graph().await;
    let s = sidecar(&db, |s| s).await;
    let database_id = neotrav_neo4j::forward::database_id(&db.graph)
        .await
        .unwrap()
        .unwrap();
    for statement in [
        "MATCH (n:A) RETURN count(n) AS c",
        "MATCH (r:Root)-[:CHILD_A]->(a) RETURN elementId(a) AS e",
        "MATCH (n) RETURN labels(n) AS l, elementId(n) AS e",
        "MATCH (:Root)-[r]->(m) RETURN type(r) AS t, elementId(m) AS m",
        "MATCH (b:B) RETURN b.flag AS flag, elementId(b) AS e",
        "MATCH (r:Root)-[:CHILD_A*1..2]->(a:A) RETURN elementId(a) AS a",
    ] {
        let (status, body) = s.cypher(json!({ "statement": statement })).await;
        assert_eq!(status, 200, "{statement}: {body}");
        let own = neotrav_neo4j::forward::forward(&db.graph, &database_id, statement, &[])
            .await
            .unwrap();
        let own_values = Value::Array(
            own.rows
                .iter()
                .map(|r| {
                    Value::Array(
                        r.iter()
                            .map(|v| v.encode(neotrav_wire::cypher::Encoding::Plain))
                            .collect(),
                    )
                })
                .collect(),
        );
        assert_eq!(body["data"]["fields"], json!(own.fields), "{statement}");
        assert_eq!(
            multiset(&body["data"]["values"]),
            multiset(&own_values),
            "{statement}: answered by {}",
            body["answeredBy"]
        );
    }
}

#[tokio::test]
async fn neo4j_down_during_a_forward_is_503() {
    let db = testkit::clean_graph().await;
    let live = served::live(&db, &[]).await;
    drop(db);
    let port = neotrav_neo4j::testkit::free_port().unwrap();
    let graph = neotrav_neo4j::bundled::connect(
        &format!("bolt://127.0.0.1:{port}"),
        "neo4j",
        &neotrav_neo4j::bundled::Password::new("x"),
    )
    .unwrap();
    let state = AppState::new(live.path.clone(), Some(graph), None)
        .unwrap()
        .with_neo4j_timeout(std::time::Duration::from_secs(5));
    let base = served::in_process(state).await;
    let r = reqwest::Client::new()
        .post(format!("{base}/v1/cypher"))
        .json(&json!({"statement": "CALL db.labels()"}))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "neo4j_unavailable", "{body}");
}

#[tokio::test]
async fn both_routes_are_in_the_openapi_document() {
    let doc = serde_json::to_value(<neotrav_server::ApiDoc as utoipa::OpenApi>::openapi()).unwrap();
    assert!(doc["paths"]["/v1/cypher"]["post"].is_object());
    assert!(doc["paths"]["/db/{name}/query/v2"]["post"].is_object());
}

#[tokio::test]
async fn the_query_api_path_refuses_a_missing_token_in_its_own_shape() {
    let db = testkit::clean_graph().await;
    let live = served::live(&db, &[("B", "flag")]).await;
    let state = AppState::new(
        live.path.clone(),
        Some(db.server.graph()),
        Some("t0ken-s3cret".into()),
    )
    .unwrap();
    let base = served::in_process(state).await;
    let client = reqwest::Client::new();
    let body = json!({"statement": "RETURN 1 AS one"});
    for (path, bearer) in [
        ("/db/neo4j/query/v2", None),
        ("/db/neo4j/query/v2", Some("Bearer wrong")),
        ("/v1/cypher", None),
    ] {
        let mut r = client.post(format!("{base}{path}")).json(&body);
        if let Some(b) = bearer {
            r = r.header("authorization", b);
        }
        let r = r.send().await.unwrap();
        assert_eq!(r.status(), 401, "{path}");
        let answer: Value = r.json().await.unwrap();
        assert!(!answer.to_string().contains("t0ken-s3cret"), "{answer}");
        if path.starts_with("/db/") {
            assert_eq!(
                answer["errors"][0]["code"], "Neo.ClientError.Security.Unauthorized",
                "{answer}"
            );
        } else {
            assert_eq!(answer["error"]["code"], "unauthorized", "{answer}");
        }
    }
    let r = client
        .post(format!("{base}/db/neo4j/query/v2"))
        .header("authorization", "Bearer t0ken-s3cret")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

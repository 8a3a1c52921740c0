//! The sidecar's routes, called in-process through its router
//! (`tower::ServiceExt::oneshot`, [`neotrav_testkit::router`]): every endpoint, the error
//! shape, the bearer token, and a hot swap under load with no failed request. Two tests serve
//! on a socket, because they test the typed client (`neotrav_client`) over HTTP: the one that
//! calls every endpoint, and the one with Neo4j behind a proxy that goes down. Connections
//! themselves are `sidecar_connections.rs`'s.

use neotrav_testkit::router::{Answer, Method, Payload, call};
use neotrav_testkit::served;
use neotrav_testkit::small;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use axum::Router;
use neotrav_server::{AppState, router};
use serde_json::{Value, json};

const TOKEN: &str = "s3cret-token";
const BEARER: (&str, &str) = ("authorization", "Bearer s3cret-token");

/// The sidecar's router over `state`.
fn app(state: AppState) -> Router {
    router(Arc::new(state))
}

/// POSTs `body` as JSON to `path`, without a token.
async fn post_json(app: &Router, path: &str, body: Value) -> Answer {
    call(app, Method::POST, path, Payload::Json(body), &[]).await
}

/// GETs `path`, without a token.
async fn get(app: &Router, path: &str) -> Answer {
    call(app, Method::GET, path, Payload::Empty, &[]).await
}

struct Server {
    app: Router,
    dir: tempfile::TempDir,
}

/// The small graph, with [`TOKEN`], and the folder that holds it.
fn small_state() -> (AppState, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("small.snap");
    small::write(&path, 0);
    let state = AppState::new(path, None, Some(TOKEN.to_string())).unwrap();
    (state, dir)
}

fn start() -> Server {
    let (state, dir) = small_state();
    Server {
        app: app(state),
        dir,
    }
}

impl Server {
    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let a = call(
            &self.app,
            Method::POST,
            path,
            Payload::Json(body),
            &[BEARER],
        )
        .await;
        (a.status.as_u16(), a.json())
    }

    async fn get(&self, path: &str) -> (u16, String) {
        let a = call(&self.app, Method::GET, path, Payload::Empty, &[BEARER]).await;
        (a.status.as_u16(), a.text())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_answer_and_errors_have_one_shape() {
    let s = start();
    assert_eq!(s.get("/healthz").await.0, 200);
    assert_eq!(s.get("/readyz").await.0, 200);

    let (status, body) = s
        .post(
            "/v1/traverse",
            json!({"start": 0, "uniqueness": "NODE_GLOBAL",
                   "where": [{"label": "B", "key": "flag", "op": "=", "value": true}], "return": "count"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["count"], 2);
    assert_eq!(body["stats"]["nodesVisited"], 9);

    let (status, body) = s
        .post(
            "/v1/neighbors",
            json!({"node": 0, "relationshipFilter": "CHILD_A>|CHILD_B>"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["nodes"], json!([1, 2]));

    let (status, body) = s
        .post("/v1/shortest-path", json!({"from": 3, "to": 5}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["length"], 4);

    let (status, body) = s
        .post(
            "/v1/traverse",
            json!({"start": 0, "relationshipFilter": "<A>"}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "bad_request");
    assert_eq!(body["error"]["details"]["field"], "relationshipFilter");

    let (status, body) = s
        .post(
            "/v1/traverse",
            json!({"start": 0, "uniqueness": "SOMETIMES"}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("SOMETIMES"),
        "{body}"
    );

    let (status, body) = s.post("/v1/traverse", json!({"start": 424242})).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "unknown_node");

    let (status, body) = s
        .post(
            "/v1/traverse",
            json!({"start": 0, "budget": {"maxVisited": 2}}),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["code"], "budget_exceeded");

    let (status, body) = s
        .post("/v1/traverse", json!({"start": 0, "consistency": "fresh"}))
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "no_neo4j");

    let r = call(
        &s.app,
        Method::POST,
        "/v1/traverse",
        Payload::Raw("{not json".into()),
        &[BEARER, ("content-type", "application/json")],
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["code"], "bad_request");

    let (status, body) = s.post("/v1/invalidate", json!({"ids": [1, 2, 2]})).await;
    assert_eq!(status, 200);
    assert_eq!(body["dirty"], 2);
    let (status, info) = s.get("/v1/snapshot").await;
    assert_eq!(status, 200);
    let info: Value = serde_json::from_str(&info).unwrap();
    assert_eq!(info["nodes"], 9);
    assert_eq!(info["dirty"], 2);
    assert_eq!(info["generation"], 1);

    let (status, _) = s.get("/v1/nothing-here").await;
    assert_eq!(status, 404);

    let (status, metrics) = s.get("/metrics").await;
    assert_eq!(status, 200);
    for expect in [
        r#"neotrav_http_requests_total{endpoint="/v1/traverse",status="200"} 1"#,
        r#"neotrav_http_requests_total{endpoint="/v1/traverse",status="400"} 3"#,
        r#"neotrav_http_requests_total{endpoint="/v1/traverse",status="404"} 1"#,
        r#"neotrav_http_request_duration_seconds_count{endpoint="/v1/neighbors"} 1"#,
        "neotrav_snapshot_age_seconds",
        "neotrav_misses_total 0",
    ] {
        assert!(metrics.contains(expect), "{expect} not in\n{metrics}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_guards_everything_but_health() {
    let s = start();
    for (token, expect) in [(None, 401), (Some("wrong"), 401), (Some(TOKEN), 200)] {
        let bearer = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> = bearer
            .iter()
            .map(|b| ("authorization", b.as_str()))
            .collect();
        let r = call(
            &s.app,
            Method::GET,
            "/v1/snapshot",
            Payload::Empty,
            &headers,
        )
        .await;
        assert_eq!(r.status, expect);
        if expect == 401 {
            let body = r.json();
            assert_eq!(body["error"]["code"], "unauthorized");
            assert!(!body.to_string().contains(TOKEN));
        }
    }
    assert_eq!(get(&s.app, "/healthz").await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hot_swap_under_load_fails_no_request() {
    let s = Arc::new(start());
    let next = s.dir.path().join("next.snap");
    small::write(&next, 5);
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let mut load = Vec::new();
    for _ in 0..4 {
        let (s, stop, ok, failed) = (s.clone(), stop.clone(), ok.clone(), failed.clone());
        load.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let (status, body) = s
                    .post(
                        "/v1/traverse",
                        json!({"start": 0, "uniqueness": "NODE_GLOBAL", "return": "count"}),
                    )
                    .await;
                // Either snapshot's answer, never an error.
                if status == 200 && (body["count"] == 9 || body["count"] == 14) {
                    ok.fetch_add(1, Ordering::Relaxed);
                } else {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    let paths = [
        next.to_str().unwrap().to_string(),
        s.dir
            .path()
            .join("small.snap")
            .to_str()
            .unwrap()
            .to_string(),
    ];
    for i in 0..20 {
        let (status, info) = s
            .post("/v1/snapshot/reload", json!({"path": paths[i % 2]}))
            .await;
        assert_eq!(status, 200, "{info}");
        assert_eq!(info["generation"], i as u64 + 2);
    }
    stop.store(true, Ordering::Relaxed);
    for l in load {
        l.await.unwrap();
    }
    assert_eq!(failed.load(Ordering::Relaxed), 0);
    assert!(
        ok.load(Ordering::Relaxed) > 20,
        "too little load to mean anything"
    );

    // The last reload loaded small.snap again (9 nodes); a failed reload keeps it and says so.
    let (status, body) = s
        .post("/v1/snapshot/reload", json!({"path": "missing.snap"}))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "reload_failed");
    assert_eq!(s.get("/readyz").await.0, 503);
    let (status, body) = s
        .post(
            "/v1/traverse",
            json!({"start": 0, "uniqueness": "NODE_GLOBAL", "return": "count"}),
        )
        .await;
    assert_eq!((status, body["count"].clone()), (200, json!(9)));
    let (status, _) = s.post("/v1/snapshot/reload", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(s.get("/readyz").await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fresh_requests_read_invalidated_nodes_from_neo4j() {
    use neo4rs::query;
    use neotrav_neo4j::testkit::{self, rows};

    let db = testkit::clean_graph().await;
    let served::Live {
        dir: _dir,
        path,
        root,
    } = served::live(&db, &[("B", "flag")]).await;
    // Written after the export.
    rows(
        &db.graph,
        query("MATCH (r:Root) CREATE (r)-[:CHILD_B]->(:B {flag: true})"),
    )
    .await
    .unwrap();

    let app = app(AppState::new(path, Some(db.server.graph()), None).unwrap());
    let post = |path: &'static str, body: Value| {
        let app = app.clone();
        async move {
            let r = post_json(&app, path, body).await;
            (r.status.as_u16(), r.json())
        }
    };
    let count = |consistency: &'static str| {
        json!({"start": {"label": "Root"}, "uniqueness": "NODE_GLOBAL", "consistency": consistency,
               "where": [{"label": "B", "key": "flag", "op": "=", "value": true}], "return": "count"})
    };
    let (status, body) = post("/v1/traverse", count("fresh")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["count"], 1,
        "Root is not invalidated yet: its new relationship is not seen"
    );
    let (status, _) = post("/v1/invalidate", json!({"ids": [root]})).await;
    assert_eq!(status, 200);
    let (status, body) = post("/v1/traverse", count("fresh")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["count"], 2, "{body}");
    assert!(body["stats"]["misses"].as_u64().unwrap() >= 2, "{body}");
    assert!(
        body["stats"]["cypherRoundTrips"].as_u64().unwrap() >= 1,
        "{body}"
    );
    let (_, body) = post("/v1/traverse", count("snapshot")).await;
    assert_eq!(body["count"], 1, "snapshot answers stay as of the export");
    assert_eq!(body["stats"]["cypherRoundTrips"], 0);

    // A node neither has: the message says so, and does not suggest asking fresh.
    let nowhere = 987_654_321u64;
    for (consistency, says) in [
        ("snapshot", "Ask with \"consistency\": \"fresh\""),
        ("fresh", "is in neither the snapshot nor Neo4j"),
    ] {
        let (status, body) = post(
            "/v1/neighbors",
            json!({"node": nowhere, "consistency": consistency}),
        )
        .await;
        assert_eq!(status, 404, "{body}");
        assert_eq!(body["error"]["code"], "unknown_node");
        assert_eq!(body["error"]["details"]["id"], nowhere);
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{consistency}: {message}");
        if consistency == "fresh" {
            assert!(!message.contains("Ask with"), "{message}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn neo4j_down_fails_fresh_requests_with_503_and_snapshot_requests_keep_working() {
    use neotrav_neo4j::bundled::{self, Password};

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("small.snap");
    small::write(&path, 0);
    // Nothing listens on the port.
    let port = neotrav_neo4j::testkit::free_port().unwrap();
    let password = Password::new("not-the-real-one");
    let graph = bundled::connect(&format!("bolt://127.0.0.1:{port}"), "neo4j", &password).unwrap();
    let app = app(AppState::new(path, Some(graph), None).unwrap());
    // A fresh request with no miss needs no Neo4j; node 0 invalidated is a miss.
    let r = post_json(
        &app,
        "/v1/neighbors",
        json!({"node": 0, "consistency": "fresh"}),
    )
    .await;
    assert_eq!(r.status, 200);
    let r = post_json(&app, "/v1/invalidate", json!({"ids": [0]})).await;
    assert_eq!(r.status, 200);
    for (consistency, expect) in [("fresh", 503), ("snapshot", 200)] {
        let r = post_json(
            &app,
            "/v1/neighbors",
            json!({"node": 0, "consistency": consistency}),
        )
        .await;
        assert_eq!(r.status, expect);
        let body = r.text();
        assert!(!body.contains("not-the-real-one"), "{body}");
        if expect == 503 {
            assert!(body.contains("neo4j_unavailable"), "{body}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_key_is_refused_by_name_unless_the_request_is_lenient() {
    let server = start();
    let post_authed = |_: &Router, path: &'static str, body: Value| {
        call(
            &server.app,
            Method::POST,
            path,
            Payload::Json(body),
            &[BEARER],
        )
    };
    let app = server.app.clone();
    // APOC's own `pathFilter`, which neotrav has no use for, and a typo.
    let apoc = json!({"start": 0, "maxLevel": 1, "pathFilter": "x", "uniquness": "NODE_GLOBAL"});
    let r = post_authed(&app, "/v1/traverse", apoc.clone()).await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("pathFilter"), "{}", r.text());
    let mut lenient = apoc.clone();
    lenient["lenient"] = json!(true);
    let r = post_authed(&app, "/v1/traverse", lenient.clone()).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let warnings = r.json()["stats"]["warnings"].clone();
    let warnings: Vec<String> = serde_json::from_value(warnings).unwrap();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("`pathFilter` was ignored")),
        "{warnings:?}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("`uniquness` was ignored")),
        "{warnings:?}"
    );
    // The same answer as without the unknown keys.
    let plain = post_authed(&app, "/v1/traverse", json!({"start": 0, "maxLevel": 1})).await;
    assert!(
        r.json()["nodes"].as_array().is_some_and(|p| !p.is_empty()),
        "{}",
        r.text()
    );
    assert_eq!(r.json()["nodes"], plain.json()["nodes"], "{}", plain.text());
    // Lenient does not excuse a bad value of a known key.
    lenient["maxLevel"] = json!("two");
    let r = post_authed(&app, "/v1/traverse", lenient).await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("invalid type"), "{}", r.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_neo4j_that_never_answers_does_not_hold_up_cypher_answered_from_the_snapshot() {
    use neotrav_neo4j::bundled::{self, Password};
    use std::time::{Duration, Instant};

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("small.snap");
    small::write(&path, 0);
    // Accepts connections and never says a word: the Bolt handshake hangs.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = silent.accept().await {
            held.push(stream);
        }
    });
    let graph = bundled::connect(
        &format!("bolt://127.0.0.1:{port}"),
        "neo4j",
        &Password::new("x"),
    )
    .unwrap();
    let state = AppState::new(path, Some(graph), None)
        .unwrap()
        .with_neo4j_timeout(Duration::from_secs(20));
    let app = app(state);
    let count = json!({"statement": "MATCH (n) RETURN count(n) AS n"});
    let nodes = json!({"statement": "MATCH (n) WHERE id(n) = 0 RETURN n"});
    // The first request waits a little for the database id of element ids, not Neo4j's
    // timeout; the rest do not wait for it at all.
    let t = Instant::now();
    let r = post_json(&app, "/v1/cypher", count.clone()).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    let t = Instant::now();
    for body in [&count, &nodes].repeat(10) {
        let r = post_json(&app, "/v1/cypher", body.clone()).await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json()["answeredBy"], "snapshot");
    }
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    let r = post_json(&app, "/v1/cypher", nodes).await;
    // Until Neo4j tells it, a node's element id carries no database id.
    let id = r.json()["data"]["values"][0][0]["elementId"].clone();
    assert!(
        id.as_str().is_some_and(|id| id.starts_with("4::")),
        "{}",
        r.text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_typed_client_calls_every_endpoint() {
    use neotrav_client::{Client, ClientError};
    use neotrav_wire::{NeighborsRequest, ReturnForm, ShortestPathRequest, TraverseRequest};

    // On a socket: the client speaks HTTP.
    let (state, _dir) = small_state();
    let base = served::in_process(state).await;
    let client = Client::builder(&base).token(TOKEN).build().unwrap();
    let mut r = TraverseRequest::from_start(0u64);
    r.return_form = ReturnForm::Count;
    r.uniqueness = neotrav_wire::Uniqueness::NodeGlobal;
    let response = client.traverse(&r).await.unwrap();
    assert_eq!(response.answer, neotrav_wire::Answer::Count(9));
    let n: NeighborsRequest = serde_json::from_value(json!({"node": 0})).unwrap();
    assert_eq!(
        client.neighbors(&n).await.unwrap().answer,
        neotrav_wire::Answer::Nodes(vec![1, 2])
    );
    let sp: ShortestPathRequest = serde_json::from_value(json!({"from": 3, "to": 5})).unwrap();
    assert_eq!(client.shortest_path(&sp).await.unwrap().length, Some(4));
    assert_eq!(client.invalidate(&[4, 5]).await.unwrap().dirty, 2);
    assert_eq!(client.snapshot().await.unwrap().dirty, 2);
    assert_eq!(client.reload(None).await.unwrap().generation, 2);
    assert!(client.ready().await.unwrap());

    let err = client
        .traverse(&TraverseRequest::from_start(777u64))
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            ClientError::Api {
                status: 404,
                code: neotrav_wire::ErrorCode::UnknownNode,
                ..
            }
        ),
        "{err}"
    );
    let anonymous = Client::new(&base).unwrap();
    let err = anonymous.snapshot().await.unwrap_err();
    assert!(matches!(err, ClientError::Api { status: 401, .. }), "{err}");

    let port = neotrav_neo4j::testkit::free_port().unwrap();
    let nobody = Client::builder(&format!("http://127.0.0.1:{port}"))
        .retries(1)
        .build()
        .unwrap();
    let err = nobody.snapshot().await.unwrap_err();
    assert!(
        matches!(err, ClientError::Unreachable { .. }) && err.is_transient(),
        "{err}"
    );
    assert!(matches!(
        Client::new("ftp://x"),
        Err(ClientError::BadUrl(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_answers_get_413_or_come_as_ndjson_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("small.snap");
    small::write(&path, 200);
    let state = AppState::new(path, None, None)
        .unwrap()
        .with_max_response_bytes(800);
    let app = app(state);
    let all = json!({"start": 0, "uniqueness": "NODE_GLOBAL", "return": "nodes"});
    let r = post_json(&app, "/v1/traverse", all.clone()).await;
    assert_eq!(r.status, 413);
    let body = r.json();
    assert_eq!(body["error"]["code"], "response_too_large");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("x-ndjson")
    );

    // Small answers are unaffected.
    let small = json!({"start": 0, "uniqueness": "NODE_GLOBAL", "return": "count"});
    let r = post_json(&app, "/v1/traverse", small).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["count"], 209);

    // As NDJSON, under the cap: one node per line, then the stats.
    let some = json!({"start": 0, "uniqueness": "NODE_GLOBAL", "maxLevel": 1, "limit": 30});
    let ndjson = [("accept", "application/x-ndjson")];
    let r = call(
        &app,
        Method::POST,
        "/v1/traverse",
        Payload::Json(some),
        &ndjson,
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["content-type"], "application/x-ndjson");
    let text = r.text();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 31);
    assert_eq!(lines[0]["node"], 0);
    assert!(lines[30]["stats"]["nodesVisited"].as_u64().unwrap() >= 30);
    // Past the cap, the stream ends with an error line.
    let r = call(
        &app,
        Method::POST,
        "/v1/traverse",
        Payload::Json(all),
        &ndjson,
    )
    .await;
    let text = r.text();
    let last = text.lines().last().unwrap_or("");
    assert!(last.contains("response_too_large"), "{last}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_json_is_generated_from_the_wire_types() {
    use neotrav_wire::{Budget, TraverseRequest};

    let s = start();
    // No token needed: the document holds no data.
    let r = get(&s.app, "/openapi.json").await;
    assert_eq!(r.status, 200);
    let doc = r.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{doc}");
    for route in [
        "/v1/traverse",
        "/v1/neighbors",
        "/v1/shortest-path",
        "/v1/invalidate",
        "/v1/snapshot",
        "/v1/snapshot/reload",
        "/metrics",
        "/healthz",
        "/readyz",
        "/openapi.json",
        "/v1/cypher",
        "/db/{name}/query/v2",
    ] {
        assert!(doc["paths"][route].is_object(), "{route} missing");
    }
    // Every route the router answers is documented, and nothing else.
    assert_eq!(doc["paths"].as_object().unwrap().len(), 12);
    let schemas = &doc["components"]["schemas"];
    for name in [
        "TraverseRequest",
        "ShortestPathRequest",
        "NeighborsRequest",
        "TraverseResponse",
        "ErrorBody",
        "SnapshotInfo",
    ] {
        assert!(schemas[name].is_object(), "schema {name} missing");
    }
    // The schema's property names are the serde names: every key a full request serializes
    // to is a documented property.
    let mut request = TraverseRequest::from_start(0u64);
    request.relationship_filter = Some("A>".into());
    request.label_filter = Some("+B".into());
    request.budget = Budget {
        max_visited: Some(10),
        ..Budget::default()
    };
    let props = schemas["TraverseRequest"]["properties"]
        .as_object()
        .unwrap();
    for key in serde_json::to_value(&request)
        .unwrap()
        .as_object()
        .unwrap()
        .keys()
    {
        assert!(props.contains_key(key), "`{key}` is not in the schema");
    }
    for key in [
        "where",
        "return",
        "expandByLabel",
        "relationshipFilter",
        "budget",
    ] {
        assert!(props.contains_key(key), "`{key}` is not in the schema");
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_capacity_requests_get_503_with_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("small.snap");
    small::write(&path, 0);
    // No traversal may run and one request may wait: the first waits, the second is shed.
    let state = AppState::new(path, None, None).unwrap().with_capacity(0, 1);
    let app = app(state);
    let waiting = tokio::spawn({
        let app = app.clone();
        async move { post_json(&app, "/v1/neighbors", json!({"node": 0})).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let r = post_json(&app, "/v1/traverse", json!({"start": 0, "return": "count"})).await;
    assert_eq!(r.status, 503);
    assert_eq!(r.headers["retry-after"], "1");
    let body = r.json();
    assert_eq!(body["error"]["code"], "over_capacity", "{body}");
    assert!(
        !waiting.is_finished(),
        "the queued request waits for a turn"
    );
    // Everything that runs no traversal still answers.
    for route in ["/healthz", "/readyz", "/v1/snapshot", "/openapi.json"] {
        assert_eq!(get(&app, route).await.status, 200, "{route}");
    }
    waiting.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_refresh_keeps_serving_and_shows_in_readyz() {
    use neotrav_neo4j::bundled::{self, Password};
    use neotrav_neo4j::export::{ExportOptions, Origin};

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("small.snap");
    small::write(&path, 0);
    let before = std::fs::read(&path).unwrap();
    // Without Neo4j there is nothing to re-export from.
    let alone = app(AppState::new(path.clone(), None, None).unwrap());
    let r = post_json(&alone, "/v1/snapshot/reload", json!({"export": true})).await;
    assert_eq!(r.status, 409);
    assert_eq!(r.json()["error"]["code"], "no_export");

    // Neo4j unreachable: the refresh fails, the old snapshot serves, the file is untouched.
    let port = neotrav_neo4j::testkit::free_port().unwrap();
    let graph = bundled::connect(
        &format!("bolt://127.0.0.1:{port}"),
        "neo4j",
        &Password::new("refresh-secret"),
    )
    .unwrap();
    let origin = Origin {
        address: format!("bolt://127.0.0.1:{port}"),
        database: String::new(),
    };
    let state = AppState::new(path.clone(), Some(graph), None)
        .unwrap()
        .with_export(origin, ExportOptions::default());
    let app = app(state);
    let r = post_json(&app, "/v1/snapshot/reload", json!({"export": true})).await;
    assert_eq!(r.status, 422);
    let body = r.text();
    assert!(body.contains("reload_failed"), "{body}");
    assert!(!body.contains("refresh-secret"), "{body}");
    assert_eq!(get(&app, "/readyz").await.status, 503);
    let r = post_json(&app, "/v1/neighbors", json!({"node": 0})).await;
    assert_eq!(r.status, 200);
    let metrics = get(&app, "/metrics").await.text();
    assert!(
        metrics.contains("neotrav_reload_failures_total 1"),
        "{metrics}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
    // Both at once is a bad request.
    let r = post_json(
        &app,
        "/v1/snapshot/reload",
        json!({"export": true, "path": "/x.snap"}),
    )
    .await;
    assert_eq!(r.status, 400);
}

/// A TCP proxy in front of Neo4j that can be cut and restored: Neo4j going down and coming
/// back, as the sidecar sees it.
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    cut: Arc<tokio::sync::Notify>,
}

impl Proxy {
    async fn start(target: std::net::SocketAddr) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let cut = Arc::new(tokio::sync::Notify::new());
        let (up2, cut2) = (up.clone(), cut.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                if !up2.load(Ordering::SeqCst) {
                    continue; // dropped: connection refused, in effect
                }
                let cut = cut2.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        () = cut.notified() => {}
                    }
                });
            }
        });
        Proxy { port, up, cut }
    }

    fn down(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cut.notify_waiters();
    }

    fn up(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn neo4j_going_down_and_coming_back_and_a_refresh_through_it() {
    use neo4rs::query;
    use neotrav_neo4j::bundled;
    use neotrav_neo4j::export::{self, ExportOptions, Origin};
    use neotrav_neo4j::testkit::{self, rows};
    use neotrav_snapshot::NoProgress;

    let db = testkit::clean_graph().await;
    rows(
        &db.graph,
        query("CREATE (r:Root {name: 'r'})-[:CHILD_A]->(:A)-[:CHILD_A]->(:A)"),
    )
    .await
    .unwrap();
    let root = rows(&db.graph, query("MATCH (r:Root) RETURN id(r) AS id"))
        .await
        .unwrap()[0]
        .get::<i64>("id")
        .unwrap() as u64;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("live.snap");
    let target: std::net::SocketAddr = db.server.uri.trim_start_matches("bolt://").parse().unwrap();
    let proxy = Proxy::start(target).await;
    let proxied = format!("bolt://127.0.0.1:{}", proxy.port);
    let origin = Origin {
        address: proxied.clone(),
        database: String::new(),
    };
    export::export(
        &db.graph,
        &origin,
        &ExportOptions::default(),
        &path,
        &NoProgress,
    )
    .await
    .unwrap();
    let graph = bundled::connect(&proxied, &db.server.user, &db.server.password).unwrap();
    let state = AppState::new(path, Some(graph), None)
        .unwrap()
        .with_export(origin, ExportOptions::default());
    // On a socket: the typed client speaks HTTP to the sidecar, the proxy carries Bolt.
    let base = served::in_process(state).await;
    let client = neotrav_client::Client::builder(&base)
        .retries(0)
        .build()
        .unwrap();
    let fresh_count = || {
        let mut r = neotrav_wire::TraverseRequest::from_start(root);
        r.uniqueness = neotrav_wire::Uniqueness::NodeGlobal;
        r.return_form = neotrav_wire::ReturnForm::Count;
        r.consistency = neotrav_wire::Consistency::Fresh;
        r
    };
    client.invalidate(&[root]).await.unwrap();
    let answer = client.traverse(&fresh_count()).await.unwrap();
    assert_eq!(answer.answer, neotrav_wire::Answer::Count(3));

    proxy.down();
    match client.traverse(&fresh_count()).await {
        Err(neotrav_client::ClientError::Api { status, code, .. }) => {
            assert_eq!((status, code.as_str()), (503, "neo4j_unavailable"));
        }
        other => panic!("expected 503 with Neo4j down, got {other:?}"),
    }
    let mut snapshot_only = fresh_count();
    snapshot_only.consistency = neotrav_wire::Consistency::Snapshot;
    assert_eq!(
        client.traverse(&snapshot_only).await.unwrap().answer,
        neotrav_wire::Answer::Count(3),
        "snapshot requests keep working with Neo4j down"
    );
    assert!(client.refresh().await.is_err(), "no export with Neo4j down");
    assert!(!client.ready().await.unwrap());

    proxy.up();
    // The driver may hand out one connection that died with the cut before it reconnects.
    let mut back = None;
    for _ in 0..5 {
        if let Ok(r) = client.traverse(&fresh_count()).await {
            back = Some(r);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(
        back.expect("fresh requests work again once Neo4j is back")
            .answer,
        neotrav_wire::Answer::Count(3)
    );

    // A refresh sees a write made after the first export, swaps it in, and the ids
    // invalidated before it started are in the new snapshot, so no longer dirty.
    rows(
        &db.graph,
        query("MATCH (r:Root) CREATE (r)-[:CHILD_B]->(:B)"),
    )
    .await
    .unwrap();
    assert_eq!(
        client.traverse(&snapshot_only).await.unwrap().answer,
        neotrav_wire::Answer::Count(3)
    );
    let info = client.refresh().await.unwrap();
    assert_eq!(info.generation, 2);
    assert_eq!(info.nodes, 4);
    assert_eq!(info.dirty, 0);
    assert!(
        client.ready().await.unwrap(),
        "a good refresh clears /readyz"
    );
    assert_eq!(
        client.traverse(&snapshot_only).await.unwrap().answer,
        neotrav_wire::Answer::Count(4)
    );
}

/// A small statement runs on the worker that read its request; one past that path's work cap
/// stops there and runs again on the blocking pool with its own budget, answering the same as
/// if it had gone there first, again and again (also once it is sent straight to the pool); a
/// budget below the cap is the request's own and is reported as exceeded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cypher_past_the_inline_work_cap_is_answered_in_full() {
    let s = start();
    let statement = |n: u64| json!({"statement": format!("UNWIND range(1, {n}) AS x RETURN count(*) AS c, sum(x) AS s")});
    for n in [10u64, 100_000, 10, 100_000, 250_000] {
        for _ in 0..3 {
            let (status, body) = s.post("/v1/cypher", statement(n)).await;
            assert_eq!(status, 200, "{body}");
            assert_eq!(body["data"]["values"], json!([[n, n * (n + 1) / 2]]), "{n}");
            assert_eq!(body["answeredBy"], "snapshot");
        }
    }
    let mut small_budget = statement(100_000);
    small_budget["budget"] = json!({"maxVisited": 1000});
    let (status, body) = s.post("/v1/cypher", small_budget).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "budget_exceeded", "{body}");
}

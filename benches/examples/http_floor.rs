//! What a call costs over HTTP, against its floor: one client, one connection, calls in turn,
//! on the Discogs 0.01 snapshot of the `cypher` criterion bench. The floors are a bare axum
//! handler (`GET` answering `ok`, and `POST` parsing the same JSON body the sidecar gets and
//! answering a small object), served in the same process by the same runtime as the sidecar,
//! through the sidecar's own accept loop. Every endpoint is called once per round, so drift on
//! a busy machine moves them all alike; the table gives each one's p50 and its excess over the
//! floor and over the statement's in-process time.
//!
//! ```text
//! cargo run --release -p neotrav-benches --example http_floor -- 3000
//! ```
//!
//! `HTTP_FLOOR_SCALE=0.1` runs it on the bench's own scale; `HTTP_FLOOR_STATEMENTS=a,b` times
//! those statements of the suite instead of the small ones.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::routing::{get, post};
use neotrav_benches::harness::statements::{
    Inputs, STATEMENTS, limits, plan, rotating_params, suite_inputs,
};
use neotrav_benches::synthetic::generated;
use neotrav_client::Client;
use neotrav_datasets::generate::discogs::Discogs;
use neotrav_server::{AppState, router};
use neotrav_snapshot::Snapshot;
use neotrav_testkit::served::serve_router;
use neotrav_wire::Budget;
use neotrav_wire::cypher::{CypherRequest, Encoding, Value as Wire};

/// The statements small enough that the HTTP path's own cost shows.
const SMALL: &[&str] = &[
    "cypher-artist-by-key",
    "cypher-co-artists",
    "cypher-genre-breakdown",
    "cypher-artist-labels",
    "cypher-shortest-path",
];

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .map_or(2000, |n| n.parse().expect("rounds: a number"));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(run(rounds));
}

async fn run(rounds: usize) {
    let scale: f64 = std::env::var("HTTP_FLOOR_SCALE")
        .map_or(0.01, |s| s.parse().expect("HTTP_FLOOR_SCALE: a number"));
    let path = generated(
        &format!("discogs-{scale}-42.snap"),
        &Discogs::new(scale, 42).unwrap(),
    );
    let snap = Snapshot::open(&path).unwrap();
    let (artists, genres) = suite_inputs(&snap).unwrap();

    let sidecar = serve_router(router(Arc::new(
        AppState::new(path.clone(), None, None).unwrap(),
    )))
    .await;
    let bare = serve_router(
        axum::Router::new()
            .route("/", get(|| async { "ok" }))
            .route(
                "/",
                post(|Json(v): Json<CypherRequest>| async move {
                    Json(serde_json::json!({ "ok": v.statement.len() }))
                }),
            )
            // Busy for `us` microseconds on the worker, as a statement run inline is.
            .route(
                "/spin/{us}",
                get(
                    |axum::extract::Path(us): axum::extract::Path<u64>| async move {
                        let t = Instant::now();
                        while t.elapsed() < Duration::from_micros(us) {
                            std::hint::spin_loop();
                        }
                        "ok"
                    },
                ),
            ),
    )
    .await;
    let client = Client::builder(&sidecar)
        .timeout(Duration::from_secs(60))
        .retries(0)
        .build()
        .unwrap();
    let http = reqwest::Client::new();

    let chosen = std::env::var("HTTP_FLOOR_STATEMENTS").ok();
    let names: Vec<&str> = match &chosen {
        Some(list) => list.split(',').collect(),
        None => SMALL.to_vec(),
    };
    let statements: Vec<_> = names
        .iter()
        .map(|name| {
            STATEMENTS
                .iter()
                .find(|s| s.name == *name)
                .unwrap_or_else(|| panic!("HTTP_FLOOR_STATEMENTS: no statement {name}"))
        })
        .collect();
    let plans: Vec<_> = statements
        .iter()
        .map(|s| plan(s.name, s.text, &snap).unwrap())
        .collect();
    let request = |s: &neotrav_benches::harness::statements::Statement, i: usize| {
        let pick = |list: &[String], k: usize| Wire::String(list[k % list.len()].clone());
        let values: Vec<(&str, Wire)> = match s.inputs {
            Inputs::Artist => vec![("artist", pick(&artists, i))],
            Inputs::Genre => vec![("genre", pick(&genres, i))],
            Inputs::Pair => vec![
                ("a", pick(&artists, 2 * i)),
                ("b", pick(&artists, 2 * i + 1)),
            ],
        };
        let mut r = CypherRequest::new(s.text);
        r.budget = Some(Budget {
            max_memory: Some(1 << 30),
            ..Budget::default()
        });
        for (n, v) in &values {
            r.parameters.insert((*n).into(), v.encode(Encoding::Plain));
        }
        (r, rotating_params(s.inputs, i, &artists, &genres))
    };

    let mut names = vec![
        "bare GET".to_string(),
        "bare POST".into(),
        "GET /readyz".into(),
        format!("{} HTTP, undecoded", statements[0].name),
    ];
    for s in &statements {
        names.push(format!("{} in-process", s.name));
        names.push(format!("{} HTTP", s.name));
    }
    let mut times: Vec<Vec<Duration>> = vec![Vec::with_capacity(rounds); names.len()];
    let warm = rounds / 10;
    // `HTTP_FLOOR_ONLY=cypher` (`cypherK`: the K-th statement), `=spinN` (a bare handler busy
    // for N µs) or `=bare`: only that call,
    // untimed (for `perf stat`), then the handler's own time and the server's.
    let only = std::env::var("HTTP_FLOOR_ONLY").ok();
    let mut handler_us = Vec::new();
    for round in 0..warm + rounds {
        let mut at = 0;
        let mut time = |t: Duration, at: &mut usize| {
            if round >= warm {
                times[*at].push(t);
            }
            *at += 1;
        };
        if let Some(k) = only.as_deref().and_then(|o| o.strip_prefix("cypher")) {
            let (body, _) = request(statements[k.parse::<usize>().unwrap_or(0)], round);
            let t = Instant::now();
            let remote = client.cypher(&body).await.unwrap();
            let took = t.elapsed();
            times[0].push(took);
            times[1].push(took.saturating_sub(Duration::from_micros(remote.stats.elapsed_us)));
            handler_us.push(remote.stats.elapsed_us);
            continue;
        }
        if let Some(us) = only.as_deref().and_then(|o| o.strip_prefix("spin")) {
            let t = Instant::now();
            let r = http.get(format!("{bare}/spin/{us}")).send().await.unwrap();
            r.bytes().await.unwrap();
            let took = t.elapsed();
            times[0].push(took);
            times[1].push(took.saturating_sub(Duration::from_micros(us.parse().unwrap_or(0))));
            handler_us.push(us.parse().unwrap_or(0));
            continue;
        }
        if only.as_deref().is_some_and(|o| o == "bare") {
            let (body, _) = request(statements[0], round);
            let r = http.post(&bare).json(&body).send().await.unwrap();
            r.bytes().await.unwrap();
            continue;
        }
        let t = Instant::now();
        let r = http.get(&bare).send().await.unwrap();
        r.bytes().await.unwrap();
        time(t.elapsed(), &mut at);
        let (body, _) = request(statements[0], round);
        let t = Instant::now();
        let r = http.post(&bare).json(&body).send().await.unwrap();
        assert!(r.status().is_success());
        r.bytes().await.unwrap();
        time(t.elapsed(), &mut at);
        let t = Instant::now();
        assert!(client.ready().await.unwrap());
        time(t.elapsed(), &mut at);
        let (body, _) = request(statements[0], round);
        let t = Instant::now();
        let r = http
            .post(format!("{sidecar}/v1/cypher"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
        r.bytes().await.unwrap();
        time(t.elapsed(), &mut at);
        for (s, p) in statements.iter().zip(&plans) {
            let (body, params) = request(s, round);
            let t = Instant::now();
            let local = p.run(&snap, &params, &limits()).unwrap();
            time(t.elapsed(), &mut at);
            let t = Instant::now();
            let remote = client.cypher(&body).await.unwrap();
            time(t.elapsed(), &mut at);
            assert_eq!(local.rows.len(), remote.data.values.len(), "{}", s.name);
        }
    }
    if only.is_some() {
        handler_us.sort_unstable();
        if let Some(p50) = handler_us.get(handler_us.len() / 2) {
            let [call, outside] = [0, 1].map(|i| {
                times[i].sort();
                times[i][times[i].len() / 2].as_secs_f64() * 1e6
            });
            println!(
                "the handler's own time (stats.elapsedUs): p50 {p50} µs; the call's: p50 \
                 {call:.1} µs; the call's time outside the handler: p50 {outside:.1} µs"
            );
        }
        let metrics = http
            .get(format!("{sidecar}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for line in metrics
            .lines()
            .filter(|l| l.contains("duration") && (l.contains("_sum") || l.contains("_count")))
        {
            println!("{line}");
        }
        return;
    }
    let p50 = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2].as_secs_f64() * 1e6
    };
    let p50s: Vec<f64> = times.iter_mut().map(p50).collect();
    println!("{rounds} rounds, p50 in µs (one connection, calls in turn)\n");
    println!("| call | p50 | over bare POST | over in-process |");
    println!("|---|---|---|---|");
    for (i, name) in names.iter().enumerate() {
        let over_floor = if i >= 2 {
            format!("{:+.1}", p50s[i] - p50s[1])
        } else {
            String::new()
        };
        let over_local = if name.ends_with(" HTTP") {
            format!("{:+.1}", p50s[i] - p50s[i - 1])
        } else {
            String::new()
        };
        println!("| {name} | {:.1} | {over_floor} | {over_local} |", p50s[i]);
    }
}

//! `consistency: "fresh"` against APOC on the live graph, after random writes.
//!
//! A random graph is loaded and exported; then Neo4j is changed behind the snapshot's back (new
//! nodes and relationships, added and removed labels, changed key properties, deleted
//! relationships and nodes) and every touched node is invalidated, as an application that knows
//! what it wrote would do. Fresh answers must then equal APOC's (and Cypher's shortest paths)
//! on the live graph, while snapshot answers still describe the export; each request pays at
//! most one Cypher round trip per expansion step.

use neotrav_testkit::differential as common;

use std::collections::BTreeSet;
use std::sync::Arc;

use common::{Rng, ShortestCase, check_case, env_u64, fixture, label, random_request};
use neo4rs::{Graph, query};
use neotrav_neo4j::miss::Neo4jSource;
use neotrav_neo4j::testkit::{self, rows};
use neotrav_traverser::engine::EngineError;
use neotrav_traverser::engine::fresh::DirtySet;
use neotrav_wire::{Consistency, NodeSelector, TraverseRequest};

async fn ids(graph: &Graph, q: &str) -> Vec<u64> {
    rows(graph, query(q))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.get::<i64>("id").unwrap() as u64)
        .collect()
}

async fn one_row_ids(graph: &Graph, q: neo4rs::Query) -> Vec<u64> {
    rows(graph, q)
        .await
        .unwrap()
        .into_iter()
        .flat_map(|r| r.get::<Vec<i64>>("ids").unwrap())
        .map(|i| i as u64)
        .collect()
}

/// Changes the graph at random and returns the nodes an application would invalidate.
async fn random_writes(graph: &Graph, rng: &mut Rng, old: &[u64]) -> BTreeSet<u64> {
    let mut touched = BTreeSet::new();
    // New nodes first: Neo4j may reuse a deleted node's id for a node created later.
    let mut new = Vec::new();
    for _ in 0..8 {
        let (a, b) = (label(rng), label(rng));
        let q = format!(
            "CREATE (n:`{a}`:`{b}` {{score: $score, flag: $flag, name: $name}}) RETURN id(n) AS id"
        );
        let q = query(&q)
            .param("score", rng.below(101) as i64 - 50)
            .param("flag", rng.chance(50))
            .param("name", format!("n{}", rng.below(1000)));
        let id = rows(graph, q).await.unwrap()[0].get::<i64>("id").unwrap() as u64;
        new.push(id);
    }
    let everyone: Vec<u64> = old.iter().chain(&new).copied().collect();
    for _ in 0..25 {
        let (a, b) = (*rng.pick(&everyone), *rng.pick(&everyone));
        let t = format!("T{}", rng.below(3));
        let q = format!(
            "MATCH (a) WHERE id(a) = $a MATCH (b) WHERE id(b) = $b CREATE (a)-[:`{t}`]->(b)"
        );
        rows(graph, query(&q).param("a", a as i64).param("b", b as i64))
            .await
            .unwrap();
        touched.extend([a, b]);
    }
    for _ in 0..6 {
        let n = *rng.pick(old);
        let l = label(rng);
        let q = if rng.chance(50) {
            format!("MATCH (n) WHERE id(n) = $n SET n:`{l}`")
        } else {
            format!("MATCH (n) WHERE id(n) = $n REMOVE n:`{l}`")
        };
        rows(graph, query(&q).param("n", n as i64)).await.unwrap();
        touched.insert(n);
    }
    for _ in 0..6 {
        let n = *rng.pick(old);
        let q = "MATCH (n) WHERE id(n) = $n SET n.score = $v, n.flag = NULL";
        rows(
            graph,
            query(q)
                .param("n", n as i64)
                .param("v", rng.below(101) as i64 - 50),
        )
        .await
        .unwrap();
        touched.insert(n);
    }
    let q = "MATCH (a)-[r]->(b) WITH a, r, b ORDER BY id(r) SKIP $skip LIMIT 10 \
             DELETE r RETURN [id(a), id(b)] AS ids";
    touched.extend(one_row_ids(graph, query(q).param("skip", rng.below(40) as i64)).await);
    for _ in 0..3 {
        let n = *rng.pick(old);
        let q = "MATCH (n) WHERE id(n) = $n \
                 WITH n, [(n)--(m) WHERE m <> n | id(m)] + [id(n)] AS ids \
                 DETACH DELETE n RETURN ids";
        touched.extend(one_row_ids(graph, query(q).param("n", n as i64)).await);
    }
    touched
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fresh_answers_equal_apoc_on_the_live_graph() {
    let cases = env_u64("NEOTRAV_DIFF_CASES", 1200) / 4;
    let base = env_u64("NEOTRAV_DIFF_SEED", 20_261_126);
    let db = testkit::clean_graph().await;
    let seed = base + 500;
    let f = fixture(&db.graph, &db.server.uri, 60, 2.5, seed).await;
    let mut rng = Rng(seed);
    let old = f.ids.clone();
    let touched = random_writes(&db.graph, &mut rng, &old).await;
    let live = ids(&db.graph, "MATCH (n) RETURN id(n) AS id").await;
    let mut dirty = DirtySet::new();
    dirty.insert(touched.iter().copied());
    let engine = Arc::new(f.engine);
    let dirty = Arc::new(dirty);
    let mut source = Some(Neo4jSource::new(
        db.server.graph(),
        tokio::runtime::Handle::current(),
    ));

    let (mut checked, mut with_misses, mut changed) = (0u64, 0u64, 0u64);
    for case in 0..cases {
        let (mut r, check) = random_request(&mut rng, &live);
        r.consistency = Consistency::Fresh;
        let (engine2, dirty2, req) = (engine.clone(), dirty.clone(), r.clone());
        let mut src = source.take().unwrap();
        let (result, src) = tokio::task::spawn_blocking(move || {
            let result = engine2.traverse_fresh(&req, &dirty2, &mut src);
            (result, src)
        })
        .await
        .unwrap();
        source = Some(src);
        let context = || {
            format!(
                "seed {seed}, case {case} ({check:?})\nrequest: {}",
                serde_json::to_string(&r).unwrap()
            )
        };
        let response = result.unwrap_or_else(|e| panic!("neotrav failed: {e}\n{}", context()));
        // At most one round trip per expansion step: per level breadth-first (plus the
        // starts), per expanded node depth-first.
        let s = &response.stats;
        let steps = if r.bfs {
            match r.max_level {
                -1 => s.nodes_visited + 2,
                m => m as u64 + 2,
            }
        } else {
            s.nodes_visited + 1
        };
        assert!(
            s.cypher_round_trips <= steps,
            "{} round trips for {steps} steps\n{}",
            s.cypher_round_trips,
            context()
        );
        with_misses += u64::from(s.misses > 0);
        let snapshot_only = TraverseRequest {
            consistency: Consistency::Snapshot,
            ..r.clone()
        };
        let before = engine.traverse(&snapshot_only).map(|a| a.answer);
        changed += u64::from(before.ok().as_ref() != Some(&response.answer));
        if let Err(e) = check_case(&db.graph, response.answer, &r, &check).await {
            panic!("{e}\n{}", context());
        }
        checked += 1;
    }
    eprintln!(
        "fresh cases: {checked}, with misses: {with_misses}, answers the writes changed: {changed}"
    );
    assert!(
        with_misses * 2 >= checked,
        "too few cases met a miss: {with_misses}"
    );
    assert!(
        changed * 10 >= checked,
        "the writes changed too few answers: {changed}"
    );

    // Shortest paths on the live graph.
    let mut found = 0;
    for case in 0..cases / 2 {
        let Some(sp) = ShortestCase::random(&mut rng, &live) else {
            continue;
        };
        let (engine2, dirty2, req) = (engine.clone(), dirty.clone(), sp.request(true));
        let mut src = source.take().unwrap();
        let (result, src) = tokio::task::spawn_blocking(move || {
            let result = engine2.shortest_path_fresh(&req, &dirty2, &mut src);
            (result, src)
        })
        .await
        .unwrap();
        source = Some(src);
        found += u64::from(
            sp.check(&db.graph, &result.expect("shortest path"), case)
                .await,
        );
    }
    assert!(found > 0, "no shortest-path case had a path");

    // A deleted start node is unknown to Neo4j: a clear error, not an empty answer.
    let gone = old.iter().find(|id| !live.contains(id)).copied().unwrap();
    let mut req = TraverseRequest::from_start(NodeSelector::Id(gone));
    req.consistency = Consistency::Fresh;
    let (engine2, dirty2) = (engine.clone(), dirty.clone());
    let mut src = source.take().unwrap();
    let err = tokio::task::spawn_blocking(move || engine2.traverse_fresh(&req, &dirty2, &mut src))
        .await
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(err, EngineError::NotInNeo4j { id, .. } if id == gone),
        "{err}"
    );
    assert!(!err.to_string().contains("Ask with"), "{err}");
}

//! The engine against the real APOC path expander and Cypher on the bundled Neo4j.
//!
//! Random graphs (the `random` dataset: several labels per node, self-loops, parallel
//! relationships, nullable properties) are loaded into Neo4j and exported; then seeded random
//! requests over every option run on both, and the answers must be equal:
//!
//! - end-node sets equal `apoc.path.expandConfig`'s (with `where` as a Cypher `WHERE` on the
//!   end node, `groupBy` as a Cypher aggregation), whole path sets where APOC's are
//!   deterministic (path uniqueness and `NONE`);
//! - shortest-path lengths and `all` path sets equal Cypher's `shortestPath` and
//!   `allShortestPaths`.
//!
//! Where APOC's answer depends on the order Neo4j's store returns relationships (`NODE_LEVEL`,
//! `RELATIONSHIP_LEVEL`, `RELATIONSHIP_GLOBAL`, and `limit`), the check is weaker and says so:
//! neotrav's answer must lie within APOC's answer for the same request with uniqueness `NONE`
//! (or without the limit).
//!
//! `NEOTRAV_DIFF_CASES` sets the number of traversal cases (default 1,200 across four graphs);
//! `NEOTRAV_DIFF_SEED` the base seed. A failure prints the seed, the case and the request.

use neotrav_testkit::differential as common;

use std::collections::HashMap;

use common::{Rng, ShortestCase, check_case, env_u64, fixture, ours, random_request};
use neotrav_neo4j::testkit;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traversals_equal_apoc_on_random_graphs() {
    let cases = env_u64("NEOTRAV_DIFF_CASES", 1200);
    let base = env_u64("NEOTRAV_DIFF_SEED", 20_261_126);
    let db = testkit::clean_graph().await;
    let graphs: [(u64, f64); 4] = [(40, 2.0), (60, 2.5), (80, 3.0), (50, 3.5)];
    let mut tally: HashMap<String, u64> = HashMap::new();
    for (g, &(nodes, degree)) in graphs.iter().enumerate() {
        let seed = base + g as u64;
        let f = fixture(&db.graph, &db.server.uri, nodes, degree, seed).await;
        let per = cases / graphs.len() as u64;
        for case in 0..per {
            let mut rng = Rng(seed.wrapping_mul(1_000_003).wrapping_add(case));
            let (r, check) = random_request(&mut rng, &f.ids);
            match check_case(&db.graph, ours(&f.engine, &r), &r, &check).await {
                Ok(size) => {
                    *tally.entry(format!("{check:?}")).or_default() += 1;
                    if size > 1 {
                        *tally.entry("answers of 2+ nodes".into()).or_default() += 1;
                    }
                }
                Err(e) => panic!(
                    "graph seed {seed} ({nodes} nodes, degree {degree}), case {case} ({check:?}): {e}\nrequest: {}",
                    serde_json::to_string(&r).unwrap()
                ),
            }
        }
    }
    eprintln!("differential cases passed: {tally:?}");
    let checked: u64 = ["Exact", "WithinNone", "WithinUnlimited"]
        .iter()
        .map(|k| tally.get(*k).copied().unwrap_or(0))
        .sum();
    assert_eq!(checked, cases / 4 * 4);
    // The generator must make cases that reach past their start nodes, or equality means
    // little.
    let rich = tally.get("answers of 2+ nodes").copied().unwrap_or(0);
    assert!(
        rich * 3 >= checked,
        "only {rich} of {checked} answers had 2+ nodes"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shortest_paths_equal_cypher() {
    let cases = env_u64("NEOTRAV_DIFF_CASES", 1200) / 4;
    let base = env_u64("NEOTRAV_DIFF_SEED", 20_261_126);
    let db = testkit::clean_graph().await;
    let seed = base + 99;
    let f = fixture(&db.graph, &db.server.uri, 70, 3.0, seed).await;
    let mut rng = Rng(seed);
    let mut found = 0;
    for case in 0..cases {
        let Some(sp) = ShortestCase::random(&mut rng, &f.ids) else {
            continue;
        };
        let mine = f
            .engine
            .shortest_path(&sp.request(false))
            .expect("shortest path");
        found += u64::from(sp.check(&db.graph, &mine, case).await);
    }
    eprintln!("shortest-path cases: {cases}, with a path: {found}");
    assert!(
        found > cases / 5,
        "too few cases had a path to mean anything: {found}"
    );
}

/// Labels with a `:` in their name (an IRI, `foo:bar`), written `\:` in a label filter as APOC
/// reads it (its `LabelMatcher`; the cases of APOC's own LabelSequenceTest and NodeFilterTest):
/// the same end nodes as `apoc.path.expandConfig`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escaped_colons_in_label_filters_equal_apoc() {
    use neo4rs::query;
    use neotrav_neo4j::testkit::rows;
    use neotrav_traverser::engine::Engine;
    use neotrav_wire::{ReturnForm, TraverseRequest};

    let db = testkit::clean_graph().await;
    rows(
        &db.graph,
        query(
            "CREATE (s:Start)-[:R]->(:`foo:bar`)-[:R]->(:`http://www.w3.org/2002/07/owl#Class`)\
                    -[:R]->(:Other)-[:R]->(:`foo:bar`:Baz), (s)-[:R]->(:foo)-[:R]->(:bar)",
        ),
    )
    .await
    .unwrap();
    let start = rows(&db.graph, query("MATCH (s:Start) RETURN id(s) AS id"))
        .await
        .unwrap()[0]
        .get::<i64>("id")
        .unwrap() as u64;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("escaped.snap");
    neotrav_testkit::served::export_graph(&db, &[], &out).await;
    let engine = Engine::open(&out).expect("open");
    let filters = [
        r"+Start|foo\:bar|Other",
        r"/http\://www.w3.org/2002/07/owl#Class",
        r">http\://www.w3.org/2002/07/owl#Class",
        r"-foo\:bar",
        r">foo\:bar:Baz",
        r"+Start|foo|>bar",
        r">:Other",
    ];
    for f in filters {
        let mut r = TraverseRequest::from_start(start);
        r.relationship_filter = Some("R>".into());
        r.label_filter = Some(f.into());
        r.return_form = ReturnForm::Nodes;
        let size = check_case(&db.graph, ours(&engine, &r), &r, &common::Check::Exact)
            .await
            .unwrap_or_else(|e| panic!("labelFilter {f}: {e}"));
        assert!(size > 0, "labelFilter {f} found nothing on either side");
    }
}

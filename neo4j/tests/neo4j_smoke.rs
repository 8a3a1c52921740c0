//! Smoke test of the bundled Neo4j through the test kit: writes and reads back a graph with
//! neo4rs, and checks that APOC and GDS answer on the same instance.

use neo4rs::query;
use neotrav_neo4j::testkit;

const NODES: i64 = 10_000;
const BATCH: i64 = 2_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_reads_and_runs_apoc_and_gds() {
    let db = testkit::clean_graph().await;
    let g = &db.graph;

    // 10,000 nodes in UNWIND batches, then a ring of 10,000 relationships over them.
    for start in (0..NODES).step_by(BATCH as usize) {
        let ids: Vec<i64> = (start..start + BATCH).collect();
        g.run(query("UNWIND $ids AS i CREATE (:Smoke {i: i})").param("ids", ids))
            .await
            .unwrap();
    }
    g.run(query("CREATE INDEX smoke_i FOR (n:Smoke) ON (n.i)"))
        .await
        .unwrap();
    testkit::rows(g, query("CALL db.awaitIndexes(60)"))
        .await
        .unwrap();
    for start in (0..NODES).step_by(BATCH as usize) {
        let ids: Vec<i64> = (start..start + BATCH).collect();
        g.run(
            query(
                "UNWIND $ids AS i \
                 MATCH (a:Smoke {i: i}), (b:Smoke {i: (i + 1) % $n}) \
                 CREATE (a)-[:NEXT]->(b)",
            )
            .param("ids", ids)
            .param("n", NODES),
        )
        .await
        .unwrap();
    }

    let row = testkit::single(
        g,
        query(
            "MATCH (n:Smoke) WITH count(n) AS nodes \
             MATCH (:Smoke)-[r:NEXT]->(:Smoke) RETURN nodes, count(r) AS rels",
        ),
    )
    .await;
    assert_eq!(row.get::<i64>("nodes").unwrap(), NODES);
    assert_eq!(row.get::<i64>("rels").unwrap(), NODES);

    // Read back: every node has exactly one successor, i + 1 mod n.
    let row = testkit::single(
        g,
        query(
            "MATCH (a:Smoke)-[:NEXT]->(b:Smoke) WHERE b.i <> (a.i + 1) % $n RETURN count(*) AS bad",
        )
        .param("n", NODES),
    )
    .await;
    assert_eq!(row.get::<i64>("bad").unwrap(), 0);

    let row = testkit::single(
        g,
        query("RETURN apoc.version() AS apoc, gds.version() AS gds"),
    )
    .await;
    assert!(row.get::<String>("apoc").unwrap().starts_with("5.26."));
    assert!(row.get::<String>("gds").unwrap().starts_with("2.13."));

    // The APOC path expander: 5 hops along the ring from node 0, node-global uniqueness.
    let row = testkit::single(g, query(
            "MATCH (s:Smoke {i: 0}) \
             CALL apoc.path.expandConfig(s, {relationshipFilter: 'NEXT>', minLevel: 1, maxLevel: 5, uniqueness: 'NODE_GLOBAL'}) \
             YIELD path RETURN collect(last(nodes(path)).i) AS reached",
        )).await;
    let mut reached = row.get::<Vec<i64>>("reached").unwrap();
    reached.sort_unstable();
    assert_eq!(reached, vec![1, 2, 3, 4, 5]);

    // GDS: project the ring and run a BFS from node 0 to depth 3. (A read-only procedure must be
    // pulled: `Graph::run` discards its result and Neo4j then skips running it.)
    let projected = testkit::single(
        g,
        query("CALL gds.graph.project('smoke', 'Smoke', 'NEXT') YIELD relationshipCount RETURN relationshipCount"),
    )
    .await;
    assert_eq!(projected.get::<i64>("relationshipCount").unwrap(), NODES);
    let row = testkit::single(
        g,
        query(
            "MATCH (s:Smoke {i: 0}) \
             CALL gds.bfs.stream('smoke', {sourceNode: s, maxDepth: 3}) YIELD nodeIds \
             RETURN [id IN nodeIds | gds.util.asNode(id).i] AS visited",
        ),
    )
    .await;
    assert_eq!(row.get::<Vec<i64>>("visited").unwrap(), vec![0, 1, 2, 3]);
}

#[tokio::test]
async fn a_clean_graph_is_empty() {
    let db = testkit::clean_graph().await;
    let g = &db.graph;
    g.run(query("CREATE (:Leftover)-[:R]->(:Leftover)"))
        .await
        .unwrap();
    g.run(query("CREATE INDEX leftover_x FOR (n:Leftover) ON (n.x)"))
        .await
        .unwrap();
    g.run(query(
        "CREATE CONSTRAINT leftover_id FOR (n:Leftover) REQUIRE n.id IS UNIQUE",
    ))
    .await
    .unwrap();
    testkit::rows(
        g,
        query("CALL gds.graph.project('leftover', 'Leftover', 'R')"),
    )
    .await
    .unwrap();
    drop(db);

    let db = testkit::clean_graph().await;
    let g = &db.graph;
    let row = testkit::single(g, query("MATCH (n) RETURN count(n) AS n")).await;
    assert_eq!(row.get::<i64>("n").unwrap(), 0);
    let row = testkit::single(
        g,
        query("SHOW INDEXES YIELD type WHERE type <> 'LOOKUP' RETURN count(*) AS n"),
    )
    .await;
    assert_eq!(
        row.get::<i64>("n").unwrap(),
        0,
        "indexes and constraints are dropped"
    );
    let row = testkit::single(
        g,
        query("CALL gds.graph.list() YIELD graphName RETURN count(*) AS n"),
    )
    .await;
    assert_eq!(row.get::<i64>("n").unwrap(), 0, "GDS graphs are dropped");
}

#[tokio::test]
async fn the_server_is_tied_to_this_process() {
    let server = testkit::neo4j();
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", server.pid)).unwrap();
    let cmdline = String::from_utf8_lossy(&cmdline);
    assert!(
        cmdline.contains(&format!("-Dneotrav.parent.pid={}", std::process::id())),
        "{cmdline}"
    );
}

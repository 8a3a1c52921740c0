//! The Cypher fallback against the sidecar, both on the bundled Neo4j.
//!
//! A random graph is loaded into Neo4j and exported into a snapshot that a sidecar serves
//! in-process. Seeded random requests (the differential suites' generator) are asked of the
//! running sidecar and, through a client whose sidecar address is a closed port, of the
//! fallback; the answers must be equal (as sets where the order is not part of the contract,
//! within the unlimited answer where `limit` picks an order-dependent prefix). Then: the client
//! switches to the fallback when the sidecar stops and back when it returns; fields the
//! fallback cannot express are refused, naming the field; the fallback cannot write.
//!
//! `NEOTRAV_FALLBACK_CASES` sets the number of traversal cases (default 400);
//! `NEOTRAV_DIFF_SEED` the base seed.

use neotrav_testkit::differential as common;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use common::{Rng, ShortestCase, env_u64, fixture, label_step, random_request, rel_step};
use neotrav_client::fallback::Fallback;
use neotrav_client::{Client, ClientError};
use neotrav_neo4j::testkit;
use neotrav_server::{AppState, router};
use neotrav_wire::{
    Answer, AnsweredBy, NeighborsRequest, NodeSelector, ReturnForm, ShortestPathRequest,
    TraverseRequest, TraverseResponse, Uniqueness,
};

/// A sidecar serving `snapshot` on `addr` (port 0: a free one) until `stop` is sent.
struct Sidecar {
    addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

async fn serve(snapshot: &std::path::Path, addr: &str) -> Sidecar {
    let state = AppState::new(snapshot.to_path_buf(), None, None).expect("sidecar state");
    let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, router(Arc::new(state)))
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    });
    Sidecar { addr, stop, task }
}

impl Sidecar {
    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.unwrap();
    }
}

/// A loopback URL where nothing listens.
async fn closed_port() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

fn fallback_client(url: &str, graph: &neo4rs::Graph) -> Client {
    Client::builder(url)
        .retries(0)
        .fallback(Fallback::new(graph.clone()))
        .build()
        .unwrap()
}

/// Whether the engine's answer to `r` depends on the store's relationship order, so that the
/// fallback must refuse it (and the field it names).
fn order_dependent(r: &TraverseRequest) -> Option<&'static str> {
    match r.uniqueness {
        Uniqueness::NodeLevel | Uniqueness::RelationshipLevel | Uniqueness::RelationshipGlobal => {
            Some("uniqueness")
        }
        Uniqueness::NodeGlobal
            if !r.bfs
                && (r.max_level != -1
                    || r.min_level > 1
                    || r.sequence.is_some()
                    || !r.begin_sequence_at_start
                    || r.relationship_filter
                        .as_deref()
                        .is_some_and(|f| f.contains(','))
                    || r.label_filter.as_deref().is_some_and(|f| f.contains(','))) =>
        {
            Some("bfs")
        }
        _ => None,
    }
}

type PathKey = (Vec<u64>, Vec<u64>, Vec<String>);

fn path_set(a: &Answer) -> BTreeSet<PathKey> {
    let Answer::Paths(p) = a else {
        panic!("not paths: {a:?}")
    };
    p.iter()
        .map(|p| (p.nodes.clone(), p.relationships.clone(), p.types.clone()))
        .collect()
}

fn node_set(a: &[u64]) -> BTreeSet<u64> {
    let set: BTreeSet<u64> = a.iter().copied().collect();
    assert_eq!(set.len(), a.len(), "duplicate nodes in {a:?}");
    set
}

/// The end nodes of an answer (nodes, or the last node of each path).
fn ends(a: &Answer) -> BTreeSet<u64> {
    match a {
        Answer::Nodes(n) => node_set(n),
        Answer::Paths(p) => p.iter().map(|p| *p.nodes.last().unwrap()).collect(),
        other => panic!("no end nodes in {other:?}"),
    }
}

/// Compares the sidecar's answer and the fallback's; returns the answer's size.
fn compare(
    r: &TraverseRequest,
    sidecar: &TraverseResponse,
    fallback: &TraverseResponse,
) -> Result<usize, String> {
    if fallback.stats.answered_by != AnsweredBy::CypherFallback {
        return Err(format!("answered by {:?}", fallback.stats.answered_by));
    }
    if sidecar.stats.answered_by != AnsweredBy::Sidecar {
        return Err(format!("answered by {:?}", sidecar.stats.answered_by));
    }
    match (&sidecar.answer, &fallback.answer) {
        (Answer::Nodes(a), Answer::Nodes(b)) => {
            let (a, b) = (node_set(a), node_set(b));
            (a == b).then_some(a.len()).ok_or(format!(
                "nodes differ:\n sidecar only  {:?}\n fallback only {:?}",
                a.difference(&b).collect::<Vec<_>>(),
                b.difference(&a).collect::<Vec<_>>()
            ))
        }
        // Under NODE_GLOBAL the path that reaches a node first (which of two parallel
        // relationships, which parent) follows the relationship order, the snapshot's or the
        // store's; the nodes reached do not (as in the differential suite).
        (a @ Answer::Paths(_), b @ Answer::Paths(_)) if r.uniqueness == Uniqueness::NodeGlobal => {
            let (a, b) = (ends(a), ends(b));
            (a == b).then_some(a.len()).ok_or(format!(
                "end nodes differ:\n sidecar only  {:?}\n fallback only {:?}",
                a.difference(&b).collect::<Vec<_>>(),
                b.difference(&a).collect::<Vec<_>>()
            ))
        }
        (a @ Answer::Paths(_), b @ Answer::Paths(_)) => {
            let (a, b) = (path_set(a), path_set(b));
            (a == b).then_some(a.len()).ok_or(format!(
                "paths differ:\n sidecar only  {:?}\n fallback only {:?}",
                a.difference(&b).take(5).collect::<Vec<_>>(),
                b.difference(&a).take(5).collect::<Vec<_>>()
            ))
        }
        (Answer::Count(a), Answer::Count(b)) => (a == b)
            .then_some(*a as usize)
            .ok_or(format!("count: sidecar {a}, fallback {b}")),
        // Group keys and their order are part of the contract.
        (Answer::Groups(a), Answer::Groups(b)) => (a == b)
            .then_some(a.0.len())
            .ok_or(format!("groups: sidecar {a:?}, fallback {b:?}")),
        (a, b) => Err(format!("shapes differ: {a:?} / {b:?}")),
    }
    .map_err(|e| format!("{e}\nrequest: {}", serde_json::to_string(r).unwrap()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fallback_answers_equal_the_sidecars_on_random_graphs() {
    let cases = env_u64("NEOTRAV_FALLBACK_CASES", 400);
    let base = env_u64("NEOTRAV_DIFF_SEED", 20_261_126);
    let db = testkit::clean_graph().await;
    let mut tally: BTreeMap<&str, u64> = BTreeMap::new();
    let graphs: [(u64, f64); 2] = [(50, 2.5), (70, 3.0)];
    for (g, &(nodes, degree)) in graphs.iter().enumerate() {
        let seed = base + 500 + g as u64;
        let f = fixture(&db.graph, &db.server.uri, nodes, degree, seed).await;
        let sidecar = serve(&f._dir.path().join("random.snap"), "127.0.0.1:0").await;
        let direct = Client::new(&sidecar.url()).unwrap();
        let down = fallback_client(&closed_port().await, &db.graph);
        for case in 0..cases / graphs.len() as u64 {
            let mut rng = Rng(seed.wrapping_mul(1_000_003).wrapping_add(case));
            let (mut r, _) = random_request(&mut rng, &f.ids);
            // Some starts by element id or by label, which the fallback resolves itself.
            if rng.chance(10)
                && let Some(NodeSelector::Id(id)) = r.start.as_slice().first().cloned()
            {
                r.start = NodeSelector::ElementId(format!("4:any-database:{id}")).into();
            } else if rng.chance(5) {
                r.start = NodeSelector::Label {
                    label: common::label(&mut rng),
                }
                .into();
                r.max_level = 1;
            }
            let context = format!("graph seed {seed}, case {case}");
            let theirs = direct.traverse(&r).await.expect("sidecar");
            let mine = match down.traverse(&r).await {
                Err(ClientError::Unsupported { field, .. }) => {
                    assert_eq!(
                        Some(field.as_str()),
                        order_dependent(&r),
                        "{context}: refused {}",
                        serde_json::to_string(&r).unwrap()
                    );
                    *tally.entry("refused as order-dependent").or_default() += 1;
                    continue;
                }
                other => other.unwrap_or_else(|e| panic!("{context}: {e}")),
            };
            assert_eq!(order_dependent(&r), None, "{context}: answered");
            if r.limit >= 0 {
                // The first `limit` paths depend on the store's order: the fallback's answer
                // lies within the unlimited one, with as many paths as the limit allows.
                let unlimited = TraverseRequest {
                    limit: -1,
                    return_form: ReturnForm::Paths,
                    ..r.clone()
                };
                let all = direct.traverse(&unlimited).await.expect("sidecar");
                let limited = down
                    .traverse(&TraverseRequest {
                        return_form: ReturnForm::Paths,
                        ..r.clone()
                    })
                    .await
                    .expect("fallback");
                let request = serde_json::to_string(&r).unwrap();
                if r.uniqueness == Uniqueness::NodeGlobal {
                    // One path per node, whose route follows the relationship order (see
                    // `compare`): the nodes are what must agree.
                    let (all, limited) = (ends(&all.answer), ends(&limited.answer));
                    assert!(
                        limited.is_subset(&all),
                        "{context}: outside the answer: {request}"
                    );
                    assert_eq!(
                        limited.len(),
                        all.len().min(r.limit as usize),
                        "{context}: not `limit` nodes: {request}"
                    );
                } else {
                    let (all, limited) = (path_set(&all.answer), path_set(&limited.answer));
                    assert!(
                        limited.is_subset(&all),
                        "{context}: outside the answer: {:?}\nrequest: {request}",
                        limited.difference(&all).take(3).collect::<Vec<_>>(),
                    );
                    assert_eq!(
                        limited.len(),
                        all.len().min(r.limit as usize),
                        "{context}: not `limit` paths: {request}"
                    );
                }
                if let Answer::Nodes(_) | Answer::Paths(_) = mine.answer {
                    assert!(
                        ends(&mine.answer).is_subset(&ends(&all.answer)),
                        "{context}"
                    );
                }
                *tally.entry("within the unlimited answer").or_default() += 1;
                continue;
            }
            match compare(&r, &theirs, &mine) {
                Ok(size) => {
                    *tally.entry("equal").or_default() += 1;
                    if size > 1 {
                        *tally.entry("equal, 2+ nodes, paths or groups").or_default() += 1;
                    }
                }
                Err(e) => panic!("{context}: {e}"),
            }
        }
        sidecar.stop().await;
    }
    eprintln!("fallback cases: {tally:?}");
    let equal = tally.get("equal").copied().unwrap_or(0);
    let rich = tally
        .get("equal, 2+ nodes, paths or groups")
        .copied()
        .unwrap_or(0);
    assert!(equal * 2 >= cases, "only {equal} of {cases} compared equal");
    assert!(
        rich * 3 >= equal,
        "only {rich} of {equal} answers had 2+ entries"
    );
    assert!(
        tally
            .get("refused as order-dependent")
            .copied()
            .unwrap_or(0)
            > 0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fallback_neighbors_and_shortest_paths_equal_the_sidecars() {
    let base = env_u64("NEOTRAV_DIFF_SEED", 20_261_126);
    let db = testkit::clean_graph().await;
    let seed = base + 600;
    let f = fixture(&db.graph, &db.server.uri, 60, 3.0, seed).await;
    let sidecar = serve(&f._dir.path().join("random.snap"), "127.0.0.1:0").await;
    let direct = Client::new(&sidecar.url()).unwrap();
    let down = fallback_client(&closed_port().await, &db.graph);
    let mut rng = Rng(seed);

    let (mut neighbours, mut reached) = (0, 0);
    for case in 0..100 {
        let r = NeighborsRequest {
            node: NodeSelector::Id(*rng.pick(&f.ids)),
            relationship_filter: rng.chance(80).then(|| rel_step(&mut rng)),
            label_filter: rng.chance(30).then(|| label_step(&mut rng)),
            predicates: if rng.chance(20) {
                vec![common::predicate(&mut rng)]
            } else {
                Vec::new()
            },
            return_form: if rng.chance(30) {
                ReturnForm::Count
            } else {
                ReturnForm::Nodes
            },
            limit: -1,
            consistency: Default::default(),
        };
        let theirs = direct.neighbors(&r).await.expect("sidecar");
        let mine = down.neighbors(&r).await.expect("fallback");
        let size = compare(&r.to_traversal(), &theirs, &mine)
            .unwrap_or_else(|e| panic!("neighbors case {case}: {e}"));
        neighbours += 1;
        reached += u64::from(size > 1);
    }
    assert!(
        reached * 4 >= neighbours,
        "only {reached} had 2+ neighbours"
    );

    let (mut asked, mut found) = (0, 0);
    for case in 0..150 {
        let Some(sp) = ShortestCase::random(&mut rng, &f.ids) else {
            continue;
        };
        let r = sp.request(false);
        let theirs = direct.shortest_path(&r).await.expect("sidecar");
        let mine = down.shortest_path(&r).await.expect("fallback");
        let context = format!(
            "shortest case {case}: {}",
            serde_json::to_string(&r).unwrap()
        );
        assert_eq!(mine.stats.answered_by, AnsweredBy::CypherFallback);
        assert_eq!(mine.length, theirs.length, "{context}");
        let set = |p: &[neotrav_wire::Path]| -> BTreeSet<PathKey> {
            p.iter()
                .map(|p| (p.nodes.clone(), p.relationships.clone(), p.types.clone()))
                .collect()
        };
        if r.all {
            assert_eq!(set(&mine.paths), set(&theirs.paths), "{context}");
        } else if let Some(p) = mine.paths.first() {
            // One shortest path, perhaps another one: a real path between the two nodes.
            assert_eq!(mine.paths.len(), 1, "{context}");
            assert_eq!(p.nodes.first(), Some(&sp.from), "{context}");
            assert_eq!(p.nodes.last(), Some(&sp.to), "{context}");
            assert_eq!(p.nodes.len(), p.relationships.len() + 1, "{context}");
            assert!(p.types.iter().all(|t| sp.types.contains(t)), "{context}");
        }
        asked += 1;
        found += u64::from(mine.length.is_some());
    }
    assert!(found * 5 > asked, "only {found} of {asked} had a path");

    // A path from a node to itself has length 0, as in the engine.
    let id = f.ids[0];
    let itself = ShortestPathRequest {
        from: NodeSelector::Id(id),
        to: NodeSelector::ElementId(format!("4:db:{id}")),
        relationship_filter: None,
        max_level: -1,
        all: false,
        consistency: Default::default(),
        budget: Default::default(),
    };
    let theirs = direct.shortest_path(&itself).await.expect("sidecar");
    let mine = down.shortest_path(&itself).await.expect("fallback");
    assert_eq!(mine.length, Some(0));
    assert_eq!(mine.length, theirs.length);
    assert_eq!(mine.paths, theirs.paths);
    sidecar.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_switches_to_the_fallback_and_back() {
    let db = testkit::clean_graph().await;
    let f = fixture(&db.graph, &db.server.uri, 30, 2.5, 7).await;
    let snapshot = f._dir.path().join("random.snap");
    let sidecar = serve(&snapshot, "127.0.0.1:0").await;
    let addr = sidecar.addr;
    let client = Client::builder(&sidecar.url())
        .retries(1)
        .timeout(Duration::from_secs(10))
        .fallback(Fallback::new(db.graph.clone()))
        .fallback_recheck(Duration::from_millis(300))
        .build()
        .unwrap();
    let mut r = TraverseRequest::from_start(f.ids[0]);
    r.uniqueness = Uniqueness::NodeGlobal;
    r.max_level = 2;

    let up = client.traverse(&r).await.unwrap();
    assert_eq!(up.stats.answered_by, AnsweredBy::Sidecar);

    sidecar.stop().await;
    let down = client.traverse(&r).await.unwrap();
    assert_eq!(down.stats.answered_by, AnsweredBy::CypherFallback);
    assert!(down.stats.cypher_round_trips >= 1);
    compare(&r, &up, &down).unwrap();
    // While the sidecar is known to be down, calls go straight to the fallback.
    let again = client.traverse(&r).await.unwrap();
    assert_eq!(again.stats.answered_by, AnsweredBy::CypherFallback);
    // Calls the fallback does not cover still fail as unreachable.
    assert!(matches!(
        client.snapshot().await,
        Err(ClientError::Unreachable { .. })
    ));

    // The sidecar comes back on the same address; after the recheck interval the client uses it.
    let sidecar = serve(&snapshot, &addr.to_string()).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let back = client.traverse(&r).await.unwrap();
    assert_eq!(back.stats.answered_by, AnsweredBy::Sidecar);
    assert_eq!(back.answer, up.answer);
    let n = NeighborsRequest {
        node: NodeSelector::Id(f.ids[0]),
        relationship_filter: None,
        label_filter: None,
        predicates: Vec::new(),
        return_form: ReturnForm::Nodes,
        limit: -1,
        consistency: Default::default(),
    };
    assert_eq!(
        client.neighbors(&n).await.unwrap().stats.answered_by,
        AnsweredBy::Sidecar
    );
    sidecar.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fallback_refuses_what_it_cannot_express_and_cannot_write() {
    let db = testkit::clean_graph().await;
    let f = fixture(&db.graph, &db.server.uri, 20, 2.0, 11).await;
    let sidecar = serve(&f._dir.path().join("random.snap"), "127.0.0.1:0").await;
    let up = fallback_client(&sidecar.url(), &db.graph);
    let down = fallback_client(&closed_port().await, &db.graph);

    let mut by_label = TraverseRequest::from_start(f.ids[0]);
    by_label.expand_by_label = Some(BTreeMap::from([("L0".to_string(), "T0>".to_string())]));
    // The sidecar answers it; the fallback refuses, naming the field.
    let answered = up.traverse(&by_label).await.unwrap();
    assert_eq!(answered.stats.answered_by, AnsweredBy::Sidecar);
    match down.traverse(&by_label).await {
        Err(e @ ClientError::Unsupported { .. }) => {
            assert!(e.to_string().contains("expandByLabel"), "{e}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }

    let refusals = [
        (
            TraverseRequest {
                label_filter: Some(">*".into()),
                ..TraverseRequest::from_start(f.ids[0])
            },
            "labelFilter",
        ),
        (
            TraverseRequest {
                uniqueness: Uniqueness::NodeLevel,
                ..TraverseRequest::from_start(f.ids[0])
            },
            "uniqueness",
        ),
        (
            TraverseRequest {
                end_nodes: vec![NodeSelector::Label { label: "L1".into() }],
                ..TraverseRequest::from_start(f.ids[0])
            },
            "endNodes",
        ),
    ];
    for (r, field) in refusals {
        match down.traverse(&r).await {
            Err(ClientError::Unsupported { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: expected a refusal, got {other:?}"),
        }
    }
    let mixed = ShortestPathRequest {
        from: NodeSelector::Id(f.ids[0]),
        to: NodeSelector::Id(f.ids[1]),
        relationship_filter: Some("T0>|<T1".into()),
        max_level: 4,
        all: true,
        consistency: Default::default(),
        budget: Default::default(),
    };
    match down.shortest_path(&mixed).await {
        Err(ClientError::Unsupported { field, .. }) => assert_eq!(field, "relationshipFilter"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    // With order-dependent answers allowed, APOC answers a NODE_LEVEL request.
    let lenient = Client::builder(&closed_port().await)
        .retries(0)
        .fallback(Fallback::new(db.graph.clone()).allow_order_dependent(true))
        .build()
        .unwrap();
    let level = TraverseRequest {
        uniqueness: Uniqueness::NodeLevel,
        max_level: 2,
        ..TraverseRequest::from_start(f.ids[0])
    };
    let Answer::Nodes(n) = lenient.traverse(&level).await.unwrap().answer else {
        panic!("not nodes")
    };
    assert!(n.contains(&f.ids[0]));
    // An unknown start node is an error, not an empty answer.
    let missing = TraverseRequest::from_start(u64::from(u32::MAX));
    assert!(matches!(
        down.traverse(&missing).await,
        Err(ClientError::Fallback { .. })
    ));

    // Its queries run in read transactions: Neo4j refuses a write.
    let write = neotrav_neo4j::cypher::rows(
        &db.graph,
        neo4rs::query("CREATE (n:FallbackWrite) RETURN id(n) AS id"),
        true,
    )
    .await;
    assert!(write.is_err(), "a write went through: {write:?}");
    let count = testkit::single(
        &db.graph,
        neo4rs::query("MATCH (n:FallbackWrite) RETURN count(n) AS c"),
    )
    .await;
    assert_eq!(count.get::<i64>("c").unwrap(), 0);
    sidecar.stop().await;
}

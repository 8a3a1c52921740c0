//! Forwarding against the bundled Neo4j: values come back with the shapes and element ids
//! Neo4j's own `elementId()` gives, and the read transaction refuses writes.

use neo4rs::query;
use neotrav_neo4j::forward::{ForwardError, database_id, forward};
use neotrav_neo4j::testkit::{self, clean_graph};
use neotrav_wire::cypher::Value;

#[tokio::test]
async fn values_come_back_with_neo4js_element_ids_and_shapes() {
    let db = clean_graph().await;
    let g = &db.graph;
    let ids = testkit::single(
        g,
        query(
            "CREATE (a:Artist {name: 'Nina', born: date('1933-02-21')})-[r:KNOWS {since: 1960}]->(b:Artist:Singer {name: 'Ray'}) \
             RETURN elementId(a) AS a, elementId(b) AS b, elementId(r) AS r",
        ),
    )
    .await;
    let (ea, eb, er): (String, String, String) = (
        ids.get("a").unwrap(),
        ids.get("b").unwrap(),
        ids.get("r").unwrap(),
    );
    let dbid = database_id(g).await.unwrap().expect("a node gives the id");
    assert!(ea.starts_with(&format!("4:{dbid}:")), "{ea} vs {dbid}");
    assert!(er.starts_with(&format!("5:{dbid}:")), "{er} vs {dbid}");

    let answer = forward(
        g,
        &dbid,
        "MATCH p = (a:Artist {name: $name})-[r:KNOWS]->(b) \
         RETURN a, r, p, [1, 2.5, 'x'] AS list, {k: $n} AS map, a.born AS born, \
                datetime('2024-01-02T03:04:05Z') AS at, point({x: 1, y: 2}) AS pt",
        &[
            ("name".into(), Value::String("Nina".into())),
            ("n".into(), Value::Int(7)),
        ],
    )
    .await
    .unwrap();
    assert_eq!(
        answer.fields,
        ["a", "r", "p", "list", "map", "born", "at", "pt"]
    );
    assert_eq!(answer.rows.len(), 1);
    let row = &answer.rows[0];
    let Value::Node(a) = &row[0] else {
        panic!("a node: {:?}", row[0])
    };
    assert_eq!(a.element_id, ea);
    assert_eq!(a.labels, ["Artist"]);
    assert_eq!(
        a.properties,
        [
            (
                "born".to_string(),
                Value::Other {
                    type_name: "Date".into(),
                    text: "1933-02-21".into()
                }
            ),
            ("name".to_string(), Value::String("Nina".into())),
        ]
    );
    let Value::Relationship(r) = &row[1] else {
        panic!("a relationship: {:?}", row[1])
    };
    assert_eq!(
        (
            &r.element_id,
            &r.start_node_element_id,
            &r.end_node_element_id
        ),
        (&er, &ea, &eb)
    );
    assert_eq!(r.rel_type, "KNOWS");
    assert_eq!(r.properties, [("since".to_string(), Value::Int(1960))]);
    let Value::Path(p) = &row[2] else {
        panic!("a path: {:?}", row[2])
    };
    assert_eq!(p.nodes.len(), 2);
    assert_eq!(p.nodes[1].element_id, eb);
    assert_eq!(p.relationships[0], *r);
    assert_eq!(
        row[3],
        Value::List(vec![
            Value::Int(1),
            Value::Float(2.5),
            Value::String("x".into())
        ])
    );
    assert_eq!(row[4], Value::Map(vec![("k".into(), Value::Int(7))]));
    assert!(
        matches!(&row[5], Value::Other { type_name, text } if type_name == "Date" && text == "1933-02-21")
    );
    assert!(
        matches!(&row[6], Value::Other { type_name, text } if (type_name == "OffsetDateTime" || type_name == "ZonedDateTime") && text.starts_with("2024-01-02T03:04:05Z")),
        "{:?}",
        row[6]
    );
    assert!(
        matches!(&row[7], Value::Other { type_name, text } if type_name == "Point" && text == "SRID=7203;POINT (1.0 2.0)"),
        "{:?}",
        row[7]
    );
}

#[tokio::test]
async fn a_write_is_refused_by_neo4j_and_nothing_is_written() {
    let db = clean_graph().await;
    let g = &db.graph;
    assert_eq!(
        database_id(g).await.unwrap(),
        None,
        "an empty graph has no id to give"
    );
    let err = forward(g, "", "CREATE (n:Written) RETURN n", &[])
        .await
        .unwrap_err();
    let ForwardError::Refused { code, .. } = &err else {
        panic!("Neo4j's refusal, not {err:?}")
    };
    assert!(code.starts_with("Neo.ClientError"), "{code}");
    let n = testkit::single(g, query("MATCH (n) RETURN count(n) AS n")).await;
    assert_eq!(n.get::<i64>("n").unwrap(), 0);
}

#[tokio::test]
async fn a_procedure_call_is_answered() {
    let db = clean_graph().await;
    let g = &db.graph;
    testkit::rows(g, query("CREATE (:Zebra)")).await.unwrap();
    let answer = forward(g, "", "CALL db.labels()", &[]).await.unwrap();
    assert_eq!(answer.fields, ["label"]);
    assert!(answer.rows.contains(&vec![Value::String("Zebra".into())]));
}

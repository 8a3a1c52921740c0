//! Running a statement on Neo4j over Bolt and reading its rows into the wire value model.
//!
//! Not `neotrav_neo4j::forward::forward`: it reads each row's values in that row's own key
//! order (a neo4rs row is a hash map, whose order differs from row to row) but puts them in the
//! order found for the first row, so columns trade places from the second row on. This reads
//! every row by field name instead.

use neo4rs::{BoltType, Graph, query};
use neotrav_cypher::AnswerValue as Value;
use neotrav_wire::cypher::{Node, Path, Relationship};
use serde_json::Value as Json;

/// What Neo4j answered: the field names of its first row (sorted; none without rows) and the
/// rows, holding `fields` in order (Bolt rows reach us as maps).
pub struct NeoAnswer {
    pub keys: Option<Vec<String>>,
    pub rows: Vec<Vec<Value>>,
}

/// Runs `text` in a read transaction.
pub async fn run(
    graph: &Graph,
    text: &str,
    params: &serde_json::Map<String, Json>,
    fields: &[String],
    db: &str,
) -> Result<NeoAnswer, String> {
    let mut q = query(text);
    for (k, v) in params {
        q = q.param(k, neotrav_neo4j::value::json(v));
    }
    let rows = neotrav_neo4j::cypher::rows(graph, q, true)
        .await
        .map_err(|e| e.to_string())?;
    let keys = rows.first().map(|row| {
        let mut k: Vec<String> = row.keys().iter().map(|k| k.value.clone()).collect();
        k.sort();
        k
    });
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let mut values = Vec::with_capacity(fields.len());
        for f in fields {
            match row.get::<BoltType>(f) {
                Ok(b) => values.push(value(&b, db)),
                Err(_) => values.push(Value::Other {
                    type_name: "Missing".into(),
                    text: f.clone(),
                }),
            }
        }
        out.push(values);
    }
    Ok(NeoAnswer { keys, rows: out })
}

fn node_eid(db: &str, id: i64) -> String {
    format!("4:{db}:{id}")
}

fn node(n: &neo4rs::BoltNode, db: &str) -> Node {
    Node {
        element_id: node_eid(db, n.id.value),
        labels: n
            .labels
            .value
            .iter()
            .map(|l| match l {
                BoltType::String(s) => s.value.clone(),
                other => format!("{other:?}"),
            })
            .collect(),
        properties: map(&n.properties, db),
    }
}

fn map(m: &neo4rs::BoltMap, db: &str) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = m
        .value
        .iter()
        .map(|(k, v)| (k.value.clone(), value(v, db)))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// One Bolt value as the wire model holds it.
pub fn value(b: &BoltType, db: &str) -> Value {
    match b {
        BoltType::Null(_) => Value::Null,
        BoltType::Boolean(x) => Value::Bool(x.value),
        BoltType::Integer(x) => Value::Int(x.value),
        BoltType::Float(x) => Value::Float(x.value),
        BoltType::String(x) => Value::String(x.value.clone()),
        BoltType::List(l) => Value::List(l.value.iter().map(|v| value(v, db)).collect()),
        BoltType::Map(m) => Value::Map(map(m, db)),
        BoltType::Node(n) => Value::Node(node(n, db)),
        BoltType::Relation(r) => Value::Relationship(Relationship {
            element_id: format!("5:{db}:{}", r.id.value),
            start_node_element_id: node_eid(db, r.start_node_id.value),
            end_node_element_id: node_eid(db, r.end_node_id.value),
            rel_type: r.typ.value.clone(),
            properties: map(&r.properties, db),
        }),
        BoltType::Path(p) => {
            let nodes: Vec<Node> = p.nodes().iter().map(|n| node(n, db)).collect();
            let rels = p.rels();
            let idx: Vec<i64> = p.indices().iter().map(|i| i.value).collect();
            let mut out = Path {
                nodes: vec![nodes[0].clone()],
                relationships: Vec::new(),
            };
            let mut cur = 0usize;
            for pair in idx.chunks(2) {
                let (ri, ni) = (pair[0], pair[1] as usize);
                let r = &rels[(ri.unsigned_abs() - 1) as usize];
                let (s, e) = if ri > 0 { (cur, ni) } else { (ni, cur) };
                out.relationships.push(Relationship {
                    element_id: format!("5:{db}:{}", r.id.value),
                    start_node_element_id: nodes[s].element_id.clone(),
                    end_node_element_id: nodes[e].element_id.clone(),
                    rel_type: r.typ.value.clone(),
                    properties: map(&r.properties, db),
                });
                out.nodes.push(nodes[ni].clone());
                cur = ni;
            }
            Value::Path(out)
        }
        other => Value::Other {
            type_name: "Other".into(),
            text: format!("{other:?}"),
        },
    }
}

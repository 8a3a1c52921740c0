//! Running a statement on Neo4j: `neotrav_neo4j::forward`, the sidecar's own forwarder (a read
//! transaction over Bolt, rows in the wire value model), so the suite also proves what the
//! sidecar answers when it forwards.

use neo4rs::Graph;
use neotrav_cypher::AnswerValue as Value;
use neotrav_neo4j::forward::forward;
use serde_json::Value as Json;

/// What Neo4j answered: its field names (sorted; none without rows) and the rows, holding
/// the expected `fields` in order.
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
    let params: Vec<(String, Value)> = params
        .iter()
        .map(|(k, v)| (k.clone(), Value::from_parameter(v).expect("a parameter")))
        .collect();
    let answer = forward(graph, db, text, &params)
        .await
        .map_err(|e| e.to_string())?;
    let keys = (!answer.rows.is_empty()).then(|| {
        let mut k = answer.fields.clone();
        k.sort();
        k
    });
    // forward() recovers the RETURN order from the text; the expected order is known here.
    let at: Vec<Option<usize>> = fields
        .iter()
        .map(|f| answer.fields.iter().position(|g| g == f))
        .collect();
    let rows = answer
        .rows
        .into_iter()
        .map(|row| {
            at.iter()
                .map(|i| i.map_or(Value::Null, |i| row[i].clone()))
                .collect()
        })
        .collect();
    Ok(NeoAnswer { keys, rows })
}

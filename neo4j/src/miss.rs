//! The Neo4j [`MissSource`]: what `consistency: "fresh"` reads from Neo4j when the snapshot
//! does not know a node or the node was invalidated since the export.
//!
//! One parameterised, read-only query per batch of misses; every call under a deadline.

use std::time::{Duration, Instant};

use neo4rs::{BoltType, Graph as Neo4jGraph, query};
use neotrav_traverser::engine::fresh::{FetchedNode, MissSource};
use neotrav_traverser::engine::{EngineError, RequestError};

/// Reads misses from Neo4j over Bolt, in read-only transactions. Every call has a deadline
/// ([`Neo4jSource::with_deadline`]); past it the call is given up (its future dropped, which
/// returns the connection to neo4rs's pool: the pool's recycle check drains the answers still
/// owed and sends `RESET` before handing it out again, and discards it when a read was cut
/// mid-message or Neo4j does not answer within 5 s) and the request fails with
/// [`EngineError::Neo4jTimeout`].
pub struct Neo4jSource {
    graph: Neo4jGraph,
    runtime: tokio::runtime::Handle,
    trips: u64,
    time: Duration,
    /// The longest one call may take.
    timeout: Duration,
    /// When the request must be done, if it has a deadline.
    deadline: Option<Instant>,
}

const FETCH: &str = "UNWIND $ids AS i \
     OPTIONAL MATCH (n) WHERE id(n) = i \
     RETURN i, n IS NOT NULL AS found, coalesce(labels(n), []) AS labels, \
            [k IN $keys | n[k]] AS props, \
            [(n)-[r]->(m) | [id(r), type(r), id(m)]] AS outgoing, \
            [(n)<-[r]-(m) | [id(r), type(r), id(m)]] AS incoming";

impl Neo4jSource {
    /// A source on `graph`, blocking on `runtime` (call it from outside the runtime's worker
    /// threads, e.g. in `spawn_blocking`).
    pub fn new(graph: Neo4jGraph, runtime: tokio::runtime::Handle) -> Neo4jSource {
        Neo4jSource {
            graph,
            runtime,
            trips: 0,
            time: Duration::ZERO,
            // No call outlives the longest request deadline unless told otherwise.
            timeout: Duration::from_millis(
                neotrav_traverser::engine::plan::Limits::default().deadline_ms,
            ),
            deadline: None,
        }
    }

    /// Gives each call at most `timeout` (unless set, the default ceiling of
    /// `budget.deadlineMs`, 120 s), and no more than what is left until `deadline`.
    pub fn with_deadline(mut self, timeout: Duration, deadline: Option<Instant>) -> Neo4jSource {
        self.timeout = timeout;
        self.deadline = deadline;
        self
    }

    fn rows(&mut self, q: neo4rs::Query) -> Result<Vec<neo4rs::Row>, EngineError> {
        let started = Instant::now();
        let left = self
            .deadline
            .map(|d| d.saturating_duration_since(started))
            .filter(|&left| left < self.timeout);
        let limit = left.unwrap_or(self.timeout);
        let timed_out = EngineError::Neo4jTimeout {
            ms: limit.as_millis() as u64,
            deadline: left.is_some(),
        };
        if limit.is_zero() {
            return Err(timed_out);
        }
        // The whole call, pool checkout included, is under the limit.
        let result = self.runtime.block_on(tokio::time::timeout(
            limit,
            crate::cypher::rows(&self.graph, q, true),
        ));
        self.trips += 1;
        self.time += started.elapsed();
        match result {
            Err(_) => Err(timed_out),
            Ok(rows) => rows.map_err(|e| EngineError::Neo4j(Box::new(e))),
        }
    }
}

fn field<T: TryFrom<BoltType>>(row: &neo4rs::Row, name: &str) -> Result<T, EngineError> {
    row.get::<BoltType>(name)
        .ok()
        .and_then(|v| T::try_from(v).ok())
        .ok_or_else(|| EngineError::Neo4j(format!("unexpected `{name}` in a miss row").into()))
}

fn list(v: BoltType) -> Result<Vec<BoltType>, EngineError> {
    match v {
        BoltType::List(l) => Ok(l.value),
        _ => Err(EngineError::Neo4j("expected a list in a miss row".into())),
    }
}

impl MissSource for Neo4jSource {
    fn fetch(&mut self, ids: &[u64], keys: &[String]) -> Result<Vec<FetchedNode>, EngineError> {
        let ids: Vec<i64> = ids.iter().map(|&i| i as i64).collect();
        let rows = self.rows(query(FETCH).param("ids", ids).param("keys", keys.to_vec()))?;
        rows.iter()
            .map(|row| {
                let rels = |name: &str| -> Result<Vec<(u64, String, u64)>, EngineError> {
                    list(field(row, name)?)?
                        .into_iter()
                        .map(|triple| match list(triple)?.as_slice() {
                            [
                                BoltType::Integer(r),
                                BoltType::String(ty),
                                BoltType::Integer(m),
                            ] => Ok((r.value as u64, ty.value.clone(), m.value as u64)),
                            _ => Err(EngineError::Neo4j("bad relationship in a miss row".into())),
                        })
                        .collect()
                };
                let props = list(field(row, "props")?)?;
                Ok(FetchedNode {
                    id: field::<i64>(row, "i")? as u64,
                    exists: field(row, "found")?,
                    labels: field(row, "labels")?,
                    properties: props.iter().map(crate::value::owned_prop).collect(),
                    relationships: [rels("outgoing")?, rels("incoming")?],
                })
            })
            .collect()
    }

    fn lookup(
        &mut self,
        label: &str,
        key: &str,
        value: &neotrav_wire::Scalar,
    ) -> Result<Vec<u64>, EngineError> {
        let label = quoted_label(label)?;
        let q = format!("MATCH (n:{label}) WHERE n[$key] = $value RETURN id(n) AS id");
        let q = query(&q).param("key", key);
        let q = q.param("value", crate::value::scalar(value));
        self.rows(q)?
            .iter()
            .map(|row| field::<i64>(row, "id").map(|i| i as u64))
            .collect()
    }

    fn label_ids(&mut self, label: &str) -> Result<Vec<u64>, EngineError> {
        let label = quoted_label(label)?;
        let q = format!("MATCH (n:{label}) RETURN id(n) AS id ORDER BY id");
        self.rows(query(&q))?
            .iter()
            .map(|row| field::<i64>(row, "id").map(|i| i as u64))
            .collect()
    }

    fn round_trips(&self) -> (u64, Duration) {
        (self.trips, self.time)
    }
}

fn quoted_label(label: &str) -> Result<String, EngineError> {
    crate::cypher::quote("label", label)
        .map_err(|e| EngineError::Request(RequestError::new("start", e.to_string())))
}

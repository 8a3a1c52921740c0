//! Rows back into the sidecar's answer shapes, and APOC's own answers for a request (what the
//! differential suites compare the engine with).

use neo4rs::{BoltType, Graph, Row};

use super::translate::{Rows, expand_query, query};
use super::{read_rows, unsupported};
use crate::ClientError;
use crate::wire::{Groups, Path, TraverseRequest};

pub(super) fn ids(row: &Row, key: &str) -> Result<Vec<u64>, ClientError> {
    let v: Vec<i64> = row.get(key).map_err(|e| bad_row(key, &e))?;
    Ok(v.into_iter().map(|x| x as u64).collect())
}

pub(super) fn bad_row(key: &str, e: &impl std::fmt::Display) -> ClientError {
    ClientError::Fallback {
        message: format!("Neo4j's answer has no readable `{key}`: {e}"),
    }
}

pub(super) fn path(row: &Row) -> Result<Path, ClientError> {
    Ok(Path {
        nodes: ids(row, "nodes")?,
        relationships: ids(row, "rels")?,
        types: row.get("types").map_err(|e| bad_row("types", &e))?,
    })
}

/// APOC's paths for `r` from `starts` (node ids): every distinct path whose end node passes
/// `where`, at most `limit`, in APOC's order.
pub async fn apoc_paths(
    graph: &Graph,
    r: &TraverseRequest,
    starts: &[u64],
) -> Result<Vec<Path>, ClientError> {
    let (text, params) = expand_query(r, starts, Rows::Paths)?;
    read_rows(graph, query(&text, params))
        .await?
        .iter()
        .map(path)
        .collect()
}

/// The `groupBy` answer for `r` from `starts`: the distinct end nodes of APOC's paths counted
/// per value, keyed and ordered as the engine keys and orders them.
pub async fn apoc_groups(
    graph: &Graph,
    r: &TraverseRequest,
    starts: &[u64],
) -> Result<Groups, ClientError> {
    let (text, params) = expand_query(r, starts, Rows::Values)?;
    let rows = read_rows(graph, query(&text, params)).await?;
    group(&rows)
}

pub(super) fn group(rows: &[Row]) -> Result<Groups, ClientError> {
    // (kind, numeric value, integer, text): numbers, then booleans, then strings.
    let mut values: Vec<((u8, f64, i64, String), String)> = Vec::new();
    let mut nulls = 0;
    for row in rows {
        let v: BoltType = row.get("v").map_err(|e| bad_row("v", &e))?;
        let entry = match v {
            BoltType::Null(_) => {
                nulls += 1;
                continue;
            }
            BoltType::Integer(i) => (
                (0, i.value as f64, i.value, String::new()),
                i.value.to_string(),
            ),
            BoltType::Float(x) => ((0, x.value, 0, String::new()), format!("{:?}", x.value)),
            BoltType::Boolean(b) => (
                (1, 0.0, i64::from(b.value), String::new()),
                b.value.to_string(),
            ),
            BoltType::String(s) => ((2, 0.0, 0, s.value.clone()), s.value),
            other => {
                return Err(unsupported(
                    "return.groupBy",
                    format!("a value the engine cannot group by: {other:?}"),
                ));
            }
        };
        values.push(entry);
    }
    // Ints and floats are separate groups (1 and 1.0), as in the engine.
    values.sort_by(|(a, ta), (b, tb)| {
        a.0.cmp(&b.0)
            .then(a.1.total_cmp(&b.1))
            .then(a.2.cmp(&b.2))
            .then(a.3.cmp(&b.3))
            .then(ta.cmp(tb))
    });
    let mut out: Vec<(String, u64)> = Vec::new();
    let mut last: Option<&(u8, f64, i64, String)> = None;
    for (k, text) in &values {
        let same = last.is_some_and(|l| {
            l.0 == k.0 && l.1.to_bits() == k.1.to_bits() && l.2 == k.2 && l.3 == k.3
        }) && out.last().is_some_and(|(t, _)| t == text);
        if same {
            out.last_mut().expect("a group").1 += 1;
        } else {
            out.push((text.clone(), 1));
        }
        last = Some(k);
    }
    if nulls > 0 {
        out.push(("null".into(), nulls));
    }
    Ok(Groups(out))
}

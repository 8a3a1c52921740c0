//! The snapshot's side of a comparison, shared by the differential and TCK suites: exporting
//! the test kit's graph into a snapshot ([`export_to`]) and answering a statement from it
//! ([`ours`]).

use std::path::Path;

use memmap2::Mmap;
use neo4rs::Graph;
use neotrav_cypher::{CypherError, Forward, Limits, Params, Prepared, parse};
use neotrav_neo4j::export::{self, ExportOptions, Origin};
use neotrav_snapshot::{NoProgress, Snapshot};
use serde_json::Value as Json;

/// What the snapshot did with a statement.
pub enum Ours {
    Answer(neotrav_cypher::Answer),
    /// Forwarded when planned, or (`true`) only once running reached what the snapshot lacks.
    Forward(Forward, bool),
    Error(CypherError),
}

impl Ours {
    /// Why it was forwarded, `construct: reason`, prefixed `(at run time)` when found running.
    pub fn reason(f: &Forward, at_run_time: bool) -> String {
        let when = if at_run_time { "(at run time) " } else { "" };
        format!("{when}{}: {}", f.construct, f.reason)
    }
}

/// Parses, plans and runs `text` on the snapshot.
pub fn ours(
    snap: &Snapshot<Mmap>,
    text: &str,
    params: &serde_json::Map<String, Json>,
    database_id: &str,
) -> Ours {
    let statement = match parse(text) {
        Ok(s) => s,
        Err(e) => return Ours::Error(e),
    };
    let plan = match statement.plan(snap) {
        Ok(Prepared::Local(plan)) => plan,
        Ok(Prepared::Forward(f)) => return Ours::Forward(f, false),
        Err(e) => return Ours::Error(e),
    };
    let params = match Params::from_map(params) {
        Ok(p) => p,
        Err(e) => return Ours::Error(e),
    };
    let limits = Limits {
        database_id: database_id.to_string(),
        ..Limits::default()
    };
    match plan.run(snap, &params, &limits) {
        Ok(a) => Ours::Answer(a),
        Err(CypherError::NeedsNeo4j(f)) => Ours::Forward(f, true),
        Err(e) => Ours::Error(e),
    }
}

/// Exports the graph `graph` is connected to (the test kit's server at `uri`) into a snapshot
/// at `out`, with `properties` (`(label, key)`) as its key columns.
pub async fn export_to(graph: &Graph, uri: &str, properties: &[(String, String)], out: &Path) {
    let origin = Origin {
        address: uri.to_string(),
        database: String::new(),
    };
    let options = ExportOptions {
        properties: properties.to_vec(),
        ..ExportOptions::default()
    };
    export::export(graph, &origin, &options, out, &NoProgress)
        .await
        .expect("export");
}

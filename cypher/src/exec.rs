//! Running a plan.
use neotrav_snapshot::Snapshot;

use crate::ir::Query;
use crate::{Answer, CypherError, Limits, Params};

pub(crate) fn run<D: AsRef<[u8]>>(
    query: &Query,
    _snapshot: &Snapshot<D>,
    _params: &Params,
    _limits: &Limits,
) -> Result<Answer, CypherError> {
    Ok(Answer {
        fields: query.fields.clone(),
        rows: Vec::new(),
    })
}

//! Syntax tree to plan.
use neotrav_snapshot::Snapshot;
use open_cypher::ast::Program;

use crate::error::{CypherError, Forward};
use crate::ir::Query;

pub(crate) enum Stop {
    Forward(Forward),
    Error(CypherError),
}

pub(crate) fn compile<D: AsRef<[u8]>>(
    _text: &str,
    _program: &Program,
    _snapshot: &Snapshot<D>,
) -> Result<Query, Stop> {
    Err(Stop::Forward(Forward {
        construct: "MATCH".into(),
        reason: "the planner is not written yet".into(),
        line: 1,
        column: 1,
    }))
}

pub(crate) fn is_explain(_program: &Program) -> bool {
    false
}

//! Read-only Cypher over a snapshot.
//!
//! A statement goes through three steps:
//!
//! 1. [`parse`]: the openCypher parser (`open-cypher`, the 2024.3 grammar) gives a syntax tree,
//!    or a [`CypherError::Syntax`] with the line, column and what was expected.
//! 2. [`Statement::plan`]: the tree is planned onto one snapshot: variables become row slots,
//!    labels and types become codes, properties become the snapshot's columns. A statement that
//!    writes is refused ([`CypherError::Write`]); one that reads something the snapshot does not
//!    hold (a procedure, a relationship property, a property that was not exported, a function
//!    outside the subset) plans to [`Prepared::Forward`], naming the construct, so the caller can
//!    send it to Neo4j or refuse it.
//! 3. [`Plan::run`]: the plan is executed over the snapshot with the request's parameters,
//!    within [`Limits`] (rows held, bytes held, wall clock), and gives an [`Answer`] in the
//!    value model of Neo4j's Query API ([`neotrav_wire::cypher`]).
//!
//! The subset and what happens to everything outside it are listed in `cypher/README.md`.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use neotrav_cypher::{Limits, Params, Prepared, parse};
//! use neotrav_snapshot::{PropertyKind, Snapshot, SnapshotBuilder, Value};
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("g.snap");
//! let mut b = SnapshotBuilder::new();
//! b.column("Artist", "name", PropertyKind::String)?;
//! b.add_node(1, ["Artist"], [("name", Value::String("Nina".into()))])?;
//! b.add_node(2, ["Release"], [])?;
//! b.add_node(3, ["Release"], [])?;
//! b.add_relationship(10, "BY", 2, 1)?;
//! b.add_relationship(11, "BY", 3, 1)?;
//! b.write(&path)?;
//! let snap = Snapshot::open(&path)?;
//!
//! let statement = parse("MATCH (a:Artist {name: $name})<-[:BY]-(r) RETURN a.name AS name, count(r) AS releases")?;
//! let Prepared::Local(plan) = statement.plan(&snap)? else { panic!("answerable") };
//! let params = Params::from_json(&serde_json::json!({"name": "Nina"}))?;
//! let answer = plan.run(&snap, &params, &Limits::default())?;
//! assert_eq!(answer.fields, ["name", "releases"]);
//! assert_eq!(answer.rows.len(), 1);
//! # Ok(())
//! # }
//! ```

mod compile;
mod error;
mod eval;
mod exec;
mod expr;
mod ir;
mod output;
mod pipe;
mod rewrite;
mod value;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub use error::{CypherError, Forward, SyntaxError};
pub use neotrav_wire::cypher::Value as AnswerValue;

use neotrav_snapshot::Snapshot;

/// Statements longer than this are refused before parsing.
pub const MAX_STATEMENT_BYTES: usize = 64 << 10;

/// Brackets nested deeper than this are refused before parsing (the planner and the syntax tree's
/// destructor recurse on nesting).
pub const MAX_NESTING: usize = 64;

/// Operators chained deeper than this in one expression (`a + b + …`, `NOT NOT …`, `x.a.b…`),
/// counted with those of the expressions around it, are refused before parsing, for the same
/// reason. Planning forwards an expression nested deeper than [`MAX_PLAN_DEPTH`] (a chain of
/// `AND` or of `OR` counts once).
pub const MAX_CHAIN: usize = 2048;

/// Statements with more `UNION`s than this are refused before parsing (the parser recurses on
/// them).
pub const MAX_UNIONS: usize = 256;

/// Expressions nested deeper than this (after `AND` and `OR` chains are flattened) are
/// forwarded to Neo4j: evaluation recurses on nesting.
pub const MAX_PLAN_DEPTH: usize = 64;

/// A statement part (a `UNION` branch) of more clauses and pattern steps than this, counted
/// with those of its pattern predicates and subqueries, is forwarded to Neo4j: a row recurses
/// through them.
pub const MAX_PLAN_STEPS: usize = 128;

/// A parsed statement, not yet planned. Cloning it is cheap: the syntax tree is shared (a deep
/// tree's derived `Clone` and `Debug` recurse deeper than its destructor, so neither is used).
#[derive(Clone)]
pub struct Statement {
    text: String,
    /// What was parsed: the text, or a work-around for a parser gap (`rewrite.rs`).
    rewrite: rewrite::Rewrite,
    program: Arc<open_cypher::ast::Program>,
}

impl fmt::Debug for Statement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Statement")
            .field("text", &self.text)
            .finish_non_exhaustive()
    }
}

/// Parses one statement.
pub fn parse(text: &str) -> Result<Statement, CypherError> {
    error::check_size(text)?;
    let (rewrite, parsed) = match open_cypher::parse(text) {
        Ok(p) => (rewrite::Rewrite::none(text), p),
        Err(e) => match rewrite::rewrite(text)
            .and_then(|r| open_cypher::parse(&r.text).ok().map(|p| (r, p)))
        {
            Some(ok) => ok,
            None => return Err(SyntaxError::of(text, &e)),
        },
    };
    Ok(Statement {
        text: text.to_owned(),
        rewrite,
        program: Arc::new(parsed.program),
    })
}

impl Statement {
    /// The statement's text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Plans the statement onto `snapshot`.
    pub fn plan<D: AsRef<[u8]>>(&self, snapshot: &Snapshot<D>) -> Result<Prepared, CypherError> {
        match compile::compile(&self.text, &self.rewrite, &self.program, snapshot) {
            Ok(query) => Ok(Prepared::Local(Plan { query })),
            Err(compile::Stop::Forward(f)) => Ok(Prepared::Forward(f)),
            Err(compile::Stop::Error(e)) => Err(e),
        }
    }

    /// Whether the statement starts with `EXPLAIN` (or `PROFILE`).
    pub fn is_explain(&self) -> bool {
        compile::is_explain(&self.program)
    }
}

/// What planning decided.
#[derive(Debug)]
pub enum Prepared {
    /// The snapshot answers it.
    Local(Plan),
    /// Neo4j has to: the construct that forces it.
    Forward(Forward),
}

/// A statement planned onto one snapshot. Runs any number of times, with any parameters, on
/// that snapshot (codes and columns are the snapshot's).
#[derive(Debug)]
pub struct Plan {
    query: ir::Query,
}

impl Plan {
    /// Column names, in RETURN order.
    pub fn fields(&self) -> &[String] {
        &self.query.fields
    }

    /// Whether the statement asked only for its plan (`EXPLAIN`).
    pub fn is_explain(&self) -> bool {
        self.query.explain
    }

    /// Runs the plan.
    pub fn run<D: AsRef<[u8]>>(
        &self,
        snapshot: &Snapshot<D>,
        params: &Params,
        limits: &Limits,
    ) -> Result<Answer, CypherError> {
        exec::run(&self.query, snapshot, params, limits).map_err(|e| *e)
    }
}

impl fmt::Display for Plan {
    /// The plan, one operator a line, as `EXPLAIN` shows it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.query.fmt(f)
    }
}

/// A statement's parameters.
#[derive(Debug, Clone, Default)]
pub struct Params {
    values: hashbrown::HashMap<String, value::Val>,
}

impl Params {
    /// Reads parameters from a JSON object (plain or Query-API typed values).
    pub fn from_json(v: &serde_json::Value) -> Result<Params, CypherError> {
        let serde_json::Value::Object(o) = v else {
            return Err(CypherError::BadParameter {
                name: String::new(),
                message: "parameters must be a JSON object".into(),
            });
        };
        Params::from_map(o)
    }

    /// Reads parameters from the `parameters` of a request.
    pub fn from_map(o: &serde_json::Map<String, serde_json::Value>) -> Result<Params, CypherError> {
        let mut values = hashbrown::HashMap::with_capacity(o.len());
        for (k, v) in o {
            let v = AnswerValue::from_parameter(v).map_err(|e| CypherError::BadParameter {
                name: k.clone(),
                message: e.0,
            })?;
            let v = value::Val::from_param(&v).map_err(|message| CypherError::BadParameter {
                name: k.clone(),
                message,
            })?;
            values.insert(k.clone(), v);
        }
        Ok(Params { values })
    }

    /// Sets one parameter.
    pub fn set(&mut self, name: &str, v: &AnswerValue) -> Result<(), CypherError> {
        let v = value::Val::from_param(v).map_err(|message| CypherError::BadParameter {
            name: name.to_owned(),
            message,
        })?;
        self.values.insert(name.to_owned(), v);
        Ok(())
    }

    pub(crate) fn get(&self, name: &str) -> Option<&value::Val> {
        self.values.get(name)
    }
}

/// What one run may spend.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Wall clock.
    pub deadline: Duration,
    /// Bytes held at once (rows, hash tables, sort buffers), counted as capacity.
    pub max_memory: u64,
    /// Units of work: rows produced, relationships followed, and list elements built or
    /// scanned by expressions (eight to a unit; a string's bytes at 64 to a unit).
    pub max_work: u64,
    /// The database's id, for element ids (`4:<id>:<node id>`); empty when unknown.
    pub database_id: String,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            deadline: Duration::from_secs(10),
            max_memory: 256 << 20,
            max_work: 1 << 32,
            database_id: String::new(),
        }
    }
}

/// An answer: fields and rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// Column names, in RETURN order.
    pub fields: Vec<String>,
    /// The rows.
    pub rows: Vec<Vec<AnswerValue>>,
}

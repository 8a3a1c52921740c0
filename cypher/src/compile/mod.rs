//! Syntax tree to plan: names to slots, labels and types to codes, properties to the snapshot's
//! columns, patterns to binding steps; and the decision to forward a statement, naming what
//! forces it.
//!
//! [`compile`] walks a statement's clauses with one `Compiler`, whose methods are split by
//! what they compile:
//!
//! - `catalog`: the snapshot's names (labels, types, exported keys) and whether a key was
//!   exported for a node's labels;
//! - `pattern`: `MATCH` and the patterns in it, resolved to chains of slots and codes;
//! - `plan`: the order in which a chain's nodes and relationships are bound (anchor, index
//!   seek, label scan, expansions) and where each filter runs;
//! - `project`: `WITH` and `RETURN`: items, aggregation, `DISTINCT`, `ORDER BY`, `SKIP`,
//!   `LIMIT`;
//! - `expression`: expressions and function calls;
//! - `subquery`: pattern predicates, `EXISTS { }` and `COUNT { }`.

mod catalog;
mod expression;
mod fuse;
mod pattern;
mod plan;
mod project;
mod subquery;

use catalog::Catalog;

use hashbrown::HashMap;
use neotrav_snapshot::Snapshot;
use open_cypher::Span;
use open_cypher::ast::{ClauseKind, Expr as Ast, Program, QueryKind, SingleQuery, StatementKind};

use crate::MAX_PLAN_STEPS;
use crate::error::{CypherError, Forward, line_column};
use crate::expr::Expr;
use crate::ir::{Agg, Branch, Clause, Match, NodeCheck, Query};
use crate::rewrite::Rewrite;

/// Why compiling stopped.
pub(crate) enum Stop {
    Forward(Forward),
    Error(CypherError),
}

impl From<CypherError> for Stop {
    fn from(e: CypherError) -> Stop {
        Stop::Error(e)
    }
}

type R<T> = Result<T, Stop>;

/// The nodes of a chain: slot, labels, and inline property values still to compile.
type NodeChecks<'a> = Vec<(usize, NodeCheck, Vec<(usize, &'a Ast)>)>;

/// What a variable holds, as far as the plan knows.
#[derive(Debug, Clone, PartialEq)]
enum Kind {
    /// A node with at least these labels.
    Node(Vec<u32>),
    Rel,
    RelList,
    Path,
    Value,
}

#[derive(Debug, Clone)]
struct Var {
    slot: usize,
    kind: Kind,
}

type Scope = HashMap<String, Var>;

pub(crate) fn is_explain(program: &Program) -> bool {
    program
        .statements
        .first()
        .is_some_and(|s| matches!(&s.kind, StatementKind::Query(q) if q.mode.is_some()))
}

pub(crate) fn compile<D: AsRef<[u8]>>(
    text: &str,
    rewrite: &Rewrite,
    program: &Program,
    snapshot: &Snapshot<D>,
) -> R<Query> {
    let Some(statement) = program.statements.first() else {
        return Err(CypherError::Semantic("the statement is empty".into()).into());
    };
    let StatementKind::Query(q) = &statement.kind else {
        return Err(CypherError::Semantic("the statement does not parse".into()).into());
    };
    let mut c = Compiler {
        text,
        rewrite,
        snap: Catalog::of(snapshot),
        width: 0,
        props: Vec::new(),
        depth: 0,
        units: 0,
    };
    c.refuse_writes(&q.query)?;
    let QueryKind::Regular(rq) = &q.query.kind else {
        return Err(CypherError::Semantic("the statement does not parse".into()).into());
    };
    let mut branches = Vec::new();
    let mut fields: Option<Vec<String>> = None;
    let mut union_distinct = false;
    let mut parts = vec![&rq.head];
    for u in &rq.unions {
        union_distinct |= !matches!(u.operator.kind, open_cypher::ast::UnionOperator::All);
        parts.push(&u.query);
    }
    for part in parts {
        let (mut clauses, f, outputs) = c.single(part)?;
        fuse::fuse(&mut clauses);
        if let Some(prev) = &fields
            && prev != &f
        {
            return Err(CypherError::Semantic(
                "all sub queries in a UNION must have the same return column names".into(),
            )
            .into());
        }
        fields = Some(f);
        branches.push(Branch { clauses, outputs });
    }
    Ok(Query {
        fields: fields.unwrap_or_default(),
        branches,
        union_distinct,
        width: c.width,
        props: c.props,
        explain: q.mode.is_some(),
    })
}
struct Compiler<'t> {
    text: &'t str,
    rewrite: &'t Rewrite,
    snap: Catalog,
    width: usize,
    props: Vec<String>,
    /// How deep the expression being compiled nests (see [`crate::MAX_PLAN_DEPTH`]).
    depth: usize,
    /// Clauses and pattern steps of the statement part being compiled (see
    /// [`crate::MAX_PLAN_STEPS`]).
    units: usize,
}
/// Aggregates found while compiling one projection.
#[derive(Default)]
struct AggCtx {
    aggs: Vec<Agg>,
    allowed: bool,
}

impl<'t> Compiler<'t> {
    fn slot(&mut self) -> usize {
        self.width += 1;
        self.width - 1
    }

    fn forward(&self, span: Span, construct: &str, reason: impl Into<String>) -> Stop {
        let (line, column) = line_column(self.text, self.rewrite.orig(span.start));
        Stop::Forward(Forward {
            construct: construct.to_owned(),
            reason: reason.into(),
            line,
            column,
        })
    }

    fn src(&self, span: Span) -> &'t str {
        self.text
            .get(self.rewrite.orig(span.start)..self.rewrite.orig(span.end))
            .unwrap_or("")
    }

    fn semantic(&self, span: Span, msg: impl Into<String>) -> Stop {
        let (line, column) = line_column(self.text, self.rewrite.orig(span.start));
        Stop::Error(CypherError::Semantic(format!(
            "{} (line {line}, column {column})",
            msg.into()
        )))
    }

    fn prop(&mut self, key: &str) -> usize {
        if let Some(i) = self.props.iter().position(|k| k == key) {
            return i;
        }
        self.props.push(key.to_owned());
        self.props.len() - 1
    }

    /// Writes anywhere in the statement are refused outright, before any forwarding decision.
    fn refuse_writes(&self, q: &open_cypher::ast::Query) -> R<()> {
        let QueryKind::Regular(rq) = &q.kind else {
            return Ok(());
        };
        let mut singles = vec![&rq.head];
        singles.extend(rq.unions.iter().map(|u| &u.query));
        for s in singles {
            for clause in &s.kind.clauses {
                let name = match &clause.kind {
                    ClauseKind::Create(_) | ClauseKind::Insert(_) => "CREATE",
                    ClauseKind::Merge(_) => "MERGE",
                    ClauseKind::Delete(_) => "DELETE",
                    ClauseKind::Set(_) => "SET",
                    ClauseKind::Remove(_) => "REMOVE",
                    ClauseKind::Foreach(_) => "FOREACH",
                    ClauseKind::Call(call) => {
                        if let open_cypher::ast::CallTarget::Subquery { query, .. } = &call.target {
                            self.refuse_writes(query)?;
                        }
                        continue;
                    }
                    _ => continue,
                };
                return Err(CypherError::Write {
                    construct: name.to_owned(),
                }
                .into());
            }
        }
        Ok(())
    }

    fn single(&mut self, q: &SingleQuery) -> R<(Vec<Clause>, Vec<String>, Vec<usize>)> {
        let mut scope = Scope::new();
        let mut clauses = Vec::new();
        let n = q.kind.clauses.len();
        self.units = 0;
        for (i, clause) in q.kind.clauses.iter().enumerate() {
            let last = i + 1 == n;
            self.units += 1;
            match &clause.kind {
                ClauseKind::Match(m) => {
                    let steps = self.match_steps(m, &mut scope)?;
                    clauses.push(Clause::Match(Match {
                        optional: m.optional,
                        steps,
                    }));
                }
                ClauseKind::Unwind(u) => {
                    let expr = self.expr(&u.expression, &scope, &mut AggCtx::default())?;
                    let slot = self.slot();
                    scope.insert(
                        u.variable.kind.text.clone(),
                        Var {
                            slot,
                            kind: Kind::Value,
                        },
                    );
                    clauses.push(Clause::Unwind { expr, slot });
                }
                ClauseKind::With(w) => {
                    let (p, _, _) =
                        self.projection(&w.projection, w.where_clause.as_ref(), &mut scope, true)?;
                    clauses.push(Clause::Project(Box::new(p)));
                }
                ClauseKind::Return(r) => {
                    if !last {
                        return Err(self.semantic(
                            clause.span,
                            "RETURN can only be used at the end of the query",
                        ));
                    }
                    let (p, fields, outputs) =
                        self.projection(&r.projection, None, &mut scope, false)?;
                    clauses.push(Clause::Project(Box::new(p)));
                    if self.units > MAX_PLAN_STEPS {
                        return Err(self.forward(
                            q.span,
                            "a long statement",
                            format!(
                                "statements of more than {MAX_PLAN_STEPS} clauses and pattern steps run on Neo4j"
                            ),
                        ));
                    }
                    return Ok((clauses, fields, outputs));
                }
                ClauseKind::Call(_) => {
                    return Err(self.forward(
                        clause.span,
                        "CALL",
                        "procedure calls and CALL subqueries run on Neo4j",
                    ));
                }
                ClauseKind::LoadCsv(_) => {
                    return Err(self.forward(clause.span, "LOAD CSV", "LOAD CSV runs on Neo4j"));
                }
                ClauseKind::Use(_) => {
                    return Err(self.forward(clause.span, "USE", "USE selects a graph on Neo4j"));
                }
                _ => {
                    let word = self
                        .src(clause.span)
                        .split_whitespace()
                        .next()
                        .unwrap_or("");
                    return Err(self.forward(
                        clause.span,
                        word,
                        format!("the {word} clause is outside the subset the snapshot answers"),
                    ));
                }
            }
        }
        Err(self.semantic(
            q.span,
            "a query must end with RETURN (neotrav answers reads only)",
        ))
    }
}

fn split_and(e: Expr, out: &mut Vec<Expr>) {
    match e {
        Expr::And(v) => v.into_iter().for_each(|x| split_and(x, out)),
        x => out.push(x),
    }
}

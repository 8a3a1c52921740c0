//! Syntax tree to plan: names to slots, labels and types to codes, properties to the snapshot's
//! columns, patterns to binding steps; and the decision to forward a statement, naming what
//! forces it.

use std::sync::Arc;

use hashbrown::HashMap;
use neotrav_snapshot::{Direction, Snapshot};
use open_cypher::Span;
use open_cypher::ast::{
    BinaryOperator, ClauseKind, Expr as Ast, ExprKind, IntegerLiteral, IntegerRadix, IsPredicate,
    LabelExpression, LabelExpressionKind, LiteralKind, MatchClause, NodePattern, ParameterName,
    PathFactorKind, Pattern, PatternPart, Program, ProjectionClause, ProjectionItemKind,
    QuantifierKind, QueryKind, RelationshipDirection, RelationshipPattern, SetQuantifier,
    SingleQuery, SortDirection, StatementKind, SubqueryExpressionKind, UnaryOperator,
};

use crate::error::{CypherError, Forward, line_column};
use crate::expr::{AggFunc, ArOp, CmpOp, Expr, Func, StrOp};
use crate::ir::{
    Agg, Branch, Clause, Match, NodeCheck, Project, Query, RelSpec, Source, Step, Steps,
};
use crate::rewrite::Rewrite;
use crate::value::Val;

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
        let (clauses, f, outputs) = c.single(part)?;
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

/// The snapshot's names, looked up once.
struct Catalog {
    labels: HashMap<String, u32>,
    types: HashMap<String, u32>,
    /// key -> label codes it was exported for.
    keys: HashMap<String, Vec<u32>>,
}

impl Catalog {
    fn of<D: AsRef<[u8]>>(s: &Snapshot<D>) -> Catalog {
        let h = s.header();
        let mut keys: HashMap<String, Vec<u32>> = HashMap::new();
        for c in &h.columns {
            keys.entry(c.key.clone())
                .or_default()
                .extend(c.labels.iter().copied());
        }
        Catalog {
            labels: h
                .labels
                .iter()
                .enumerate()
                .map(|(i, l)| (l.clone(), i as u32))
                .collect(),
            types: h
                .relationship_types
                .iter()
                .enumerate()
                .map(|(i, t)| (t.clone(), i as u32))
                .collect(),
            keys,
        }
    }
}

struct Compiler<'t> {
    text: &'t str,
    rewrite: &'t Rewrite,
    snap: Catalog,
    width: usize,
    props: Vec<String>,
}

/// A relationship of a pattern chain.
struct RelPat<'a> {
    ast: &'a RelationshipPattern,
    span: Span,
    slot: Option<usize>,
    bound: bool,
    var_len: Option<(u32, u32)>,
    spec: RelSpec,
}

/// A pattern part, resolved.
struct Chain<'a> {
    nodes: Vec<usize>,
    rels: Vec<RelPat<'a>>,
    path: Option<usize>,
    shortest: Option<bool>,
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
        for (i, clause) in q.kind.clauses.iter().enumerate() {
            let last = i + 1 == n;
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

    // ---- MATCH ----

    fn match_steps(&mut self, m: &MatchClause, scope: &mut Scope) -> R<Steps> {
        if let Some(mode) = &m.mode {
            return Err(self.forward(mode.span, self.src(mode.span), "path modes run on Neo4j"));
        }
        let outer: Vec<usize> = scope.values().map(|v| v.slot).collect();
        let mut bound: Vec<usize> = outer.clone();
        let mut declared: Vec<usize> = Vec::new();
        let chains = self.chains(&m.pattern, scope, &mut declared, true)?;
        let mut filters = Vec::new();
        if let Some(w) = &m.where_clause {
            let e = self.expr(w, scope, &mut AggCtx::default())?;
            split_and(e, &mut filters);
        }
        let mut steps = self.plan_chains(chains, scope, &mut bound, filters)?;
        steps.binds = declared;
        steps.outer = outer;
        steps.rel_unique = true;
        Ok(steps)
    }

    /// Resolves the variables of a pattern: new ones get slots and enter `scope`.
    fn chains<'a>(
        &mut self,
        pattern: &'a Pattern,
        scope: &mut Scope,
        declared: &mut Vec<usize>,
        may_declare: bool,
    ) -> R<Vec<(Chain<'a>, NodeChecks<'a>)>> {
        let mut out = Vec::new();
        let mut rel_names: Vec<&str> = Vec::new();
        for part in &pattern.parts {
            out.push(self.chain(part, scope, declared, may_declare, &mut rel_names)?);
        }
        Ok(out)
    }

    #[allow(clippy::type_complexity)]
    fn chain<'a>(
        &mut self,
        part: &'a PatternPart,
        scope: &mut Scope,
        declared: &mut Vec<usize>,
        may_declare: bool,
        rel_names: &mut Vec<&'a str>,
    ) -> R<(Chain<'a>, NodeChecks<'a>)> {
        if let Some(sel) = &part.kind.selector {
            return Err(self.forward(
                sel.span,
                self.src(sel.span),
                "path selectors (SHORTEST k, ANY) run on Neo4j",
            ));
        }
        let mut factors: &[open_cypher::ast::PathFactor] = &part.kind.path.kind.factors;
        let mut shortest = None;
        if let [f] = factors
            && let PathFactorKind::LegacyShortest { all, pattern } = &f.kind
        {
            shortest = Some(*all);
            factors = &pattern.kind.factors;
        }
        let mut nodes = Vec::new();
        let mut checks = Vec::new();
        let mut rels = Vec::new();
        for f in factors {
            match &f.kind {
                PathFactorKind::Node(n) => {
                    let (slot, check, props) =
                        self.node(n, f.span, scope, declared, may_declare)?;
                    nodes.push(slot);
                    checks.push((slot, check, props));
                }
                PathFactorKind::Relationship(r) => {
                    rels.push(self.rel(r, f.span, scope, declared, may_declare, rel_names)?);
                }
                PathFactorKind::LegacyShortest { .. } => {
                    return Err(self.forward(
                        f.span,
                        "shortestPath",
                        "shortestPath inside a longer pattern runs on Neo4j",
                    ));
                }
                _ => {
                    return Err(self.forward(
                        f.span,
                        self.src(f.span),
                        "quantified path patterns run on Neo4j",
                    ));
                }
            }
        }
        if nodes.len() != rels.len() + 1 {
            return Err(self.semantic(part.span, "a pattern alternates nodes and relationships"));
        }
        if shortest.is_some() {
            if rels.len() != 1 {
                return Err(self.semantic(
                    part.span,
                    "shortestPath requires a pattern with a single relationship",
                ));
            }
            if rels[0].var_len.is_none() {
                rels[0].var_len = Some((1, 1));
            }
            if rels[0].slot.is_none() {
                rels[0].slot = Some(self.slot());
            }
        }
        let path = match &part.kind.binding {
            Some(name) => {
                if scope.contains_key(&name.kind.text) {
                    return Err(self.semantic(
                        name.span,
                        format!("variable `{}` already declared", name.kind.text),
                    ));
                }
                let slot = self.slot();
                scope.insert(
                    name.kind.text.clone(),
                    Var {
                        slot,
                        kind: Kind::Path,
                    },
                );
                declared.push(slot);
                for r in &mut rels {
                    if r.slot.is_none() {
                        r.slot = Some(self.slot());
                    }
                }
                Some(slot)
            }
            None => None,
        };
        Ok((
            Chain {
                nodes,
                rels,
                path,
                shortest,
            },
            checks,
        ))
    }

    #[allow(clippy::type_complexity)]
    fn node<'a>(
        &mut self,
        n: &'a NodePattern,
        span: Span,
        scope: &mut Scope,
        declared: &mut Vec<usize>,
        may_declare: bool,
    ) -> R<(usize, NodeCheck, Vec<(usize, &'a Ast)>)> {
        if let Some(w) = &n.where_clause {
            return Err(self.forward(
                w.span,
                "WHERE inside a node pattern",
                "WHERE inside a node pattern runs on Neo4j",
            ));
        }
        let mut check = NodeCheck::default();
        if let Some(l) = &n.labels {
            self.labels(l, &mut check)?;
        }
        let slot = match &n.variable {
            Some(v) => match scope.get_mut(&v.kind.text) {
                Some(var) => {
                    match &mut var.kind {
                        Kind::Node(known) => {
                            for l in &check.labels {
                                if !known.contains(l) {
                                    known.push(*l);
                                }
                            }
                        }
                        Kind::Value => var.kind = Kind::Node(check.labels.clone()),
                        _ => {
                            return Err(self.semantic(
                                v.span,
                                format!("variable `{}` is not a node", v.kind.text),
                            ));
                        }
                    }
                    var.slot
                }
                None => {
                    if !may_declare {
                        return Err(self.forward(
                            v.span,
                            self.src(span),
                            "a pattern predicate that introduces a variable runs on Neo4j",
                        ));
                    }
                    let slot = self.slot();
                    scope.insert(
                        v.kind.text.clone(),
                        Var {
                            slot,
                            kind: Kind::Node(check.labels.clone()),
                        },
                    );
                    declared.push(slot);
                    slot
                }
            },
            None => self.slot(),
        };
        let mut props = Vec::new();
        if let Some(p) = &n.properties {
            let ExprKind::Map(entries) = &p.kind else {
                return Err(self.forward(
                    p.span,
                    self.src(p.span),
                    "a property map given as an expression runs on Neo4j",
                ));
            };
            for e in entries {
                let idx = self.prop(&e.key.kind.text);
                props.push((idx, &e.value));
            }
        }
        Ok((slot, check, props))
    }

    fn labels(&self, l: &LabelExpression, check: &mut NodeCheck) -> R<()> {
        match &l.kind {
            LabelExpressionKind::Name(n) => match self.snap.labels.get(&n.kind.text) {
                Some(&code) => {
                    if !check.labels.contains(&code) {
                        check.labels.push(code);
                    }
                }
                None => check.impossible = true,
            },
            LabelExpressionKind::And(v) => {
                for x in v {
                    self.labels(x, check)?;
                }
            }
            LabelExpressionKind::Parenthesized(x) => self.labels(x, check)?,
            _ => {
                return Err(self.forward(
                    l.span,
                    self.src(l.span),
                    "label expressions other than conjunctions (`:A:B`, `:A&B`) run on Neo4j",
                ));
            }
        }
        Ok(())
    }

    fn rel<'a>(
        &mut self,
        r: &'a RelationshipPattern,
        span: Span,
        scope: &mut Scope,
        declared: &mut Vec<usize>,
        may_declare: bool,
        rel_names: &mut Vec<&'a str>,
    ) -> R<RelPat<'a>> {
        if let Some(p) = &r.properties {
            return Err(self.forward(
                p.span,
                self.src(p.span),
                "relationship properties are not in the snapshot",
            ));
        }
        if let Some(w) = &r.where_clause {
            return Err(self.forward(
                w.span,
                "WHERE inside a relationship pattern",
                "WHERE inside a relationship pattern runs on Neo4j",
            ));
        }
        if let Some(q) = &r.graph_quantifier {
            return Err(self.forward(
                q.span,
                self.src(q.span),
                "quantified relationships run on Neo4j",
            ));
        }
        let var_len = match &r.legacy_quantifier {
            None => None,
            Some(q) => {
                let num = |s: &Option<String>, default: u32| -> R<u32> {
                    match s {
                        None => Ok(default),
                        Some(t) => t.parse::<u32>().map_err(|_| {
                            self.semantic(q.span, format!("`{t}` is not a valid path length"))
                        }),
                    }
                };
                Some(match &q.kind {
                    QuantifierKind::ZeroOrMore => (1, u32::MAX),
                    QuantifierKind::OneOrMore => (1, u32::MAX),
                    QuantifierKind::Optional => (0, 1),
                    QuantifierKind::Fixed(t) => {
                        let n = num(&Some(t.clone()), 1)?;
                        (n, n)
                    }
                    QuantifierKind::Range { lower, upper } => {
                        (num(lower, 1)?, num(upper, u32::MAX)?)
                    }
                    _ => {
                        return Err(self.forward(
                            q.span,
                            self.src(q.span),
                            "this quantifier runs on Neo4j",
                        ));
                    }
                })
            }
        };
        let types = match &r.labels {
            None => Some(Vec::new()),
            Some(l) => {
                let mut names = Vec::new();
                self.rel_types(l, &mut names)?;
                // `:A|A` is `:A`: each relationship matches once.
                let mut codes: Vec<u32> = names
                    .iter()
                    .filter_map(|n| self.snap.types.get(*n).copied())
                    .collect();
                codes.sort_unstable();
                codes.dedup();
                if codes.is_empty() { None } else { Some(codes) }
            }
        };
        let dir = match r.direction.kind {
            RelationshipDirection::Right => Some(Direction::Outgoing),
            RelationshipDirection::Left => Some(Direction::Incoming),
            _ => None,
        };
        let (slot, bound) = match &r.variable {
            Some(v) => {
                let name = v.kind.text.as_str();
                if rel_names.contains(&name) {
                    return Err(self.semantic(
                        v.span,
                        format!("cannot use the same relationship variable `{name}` for multiple relationships"),
                    ));
                }
                rel_names.push(name);
                match scope.get(name) {
                    Some(var) => {
                        if var_len.is_some() || var.kind != Kind::Rel {
                            return Err(self.forward(
                                v.span,
                                self.src(span),
                                "a relationship variable bound before the MATCH runs on Neo4j unless it is a single relationship",
                            ));
                        }
                        (Some(var.slot), true)
                    }
                    None => {
                        if !may_declare {
                            return Err(self.forward(
                                v.span,
                                self.src(span),
                                "a pattern predicate that introduces a variable runs on Neo4j",
                            ));
                        }
                        let slot = self.slot();
                        scope.insert(
                            name.to_owned(),
                            Var {
                                slot,
                                kind: if var_len.is_some() {
                                    Kind::RelList
                                } else {
                                    Kind::Rel
                                },
                            },
                        );
                        declared.push(slot);
                        (Some(slot), false)
                    }
                }
            }
            None => (None, false),
        };
        Ok(RelPat {
            ast: r,
            span,
            slot,
            bound,
            var_len,
            spec: RelSpec { types, dir },
        })
    }

    fn rel_types<'a>(&self, l: &'a LabelExpression, out: &mut Vec<&'a str>) -> R<()> {
        match &l.kind {
            LabelExpressionKind::Name(n) => out.push(&n.kind.text),
            LabelExpressionKind::Or(v) => {
                for x in v {
                    self.rel_types(x, out)?;
                }
            }
            LabelExpressionKind::Parenthesized(x) => self.rel_types(x, out)?,
            _ => {
                return Err(self.forward(
                    l.span,
                    self.src(l.span),
                    "relationship type expressions other than alternatives (`:A|B`) run on Neo4j",
                ));
            }
        }
        Ok(())
    }

    /// Orders the chains' steps: each chain from its cheapest anchor, chains that touch bound
    /// variables first; filters go right after the step that binds the last slot they read.
    #[allow(clippy::type_complexity)]
    fn plan_chains(
        &mut self,
        chains: Vec<(Chain<'_>, NodeChecks<'_>)>,
        scope: &Scope,
        bound: &mut Vec<usize>,
        mut filters: Vec<Expr>,
    ) -> R<Steps> {
        // Inline property maps become filters (`n.k = v`), and node checks merge per slot.
        let mut node_checks: HashMap<usize, NodeCheck> = HashMap::new();
        let mut chains_only = Vec::new();
        for (chain, checks) in chains {
            for (slot, check, props) in checks {
                let entry = node_checks.entry(slot).or_default();
                for l in check.labels {
                    if !entry.labels.contains(&l) {
                        entry.labels.push(l);
                    }
                }
                entry.impossible |= check.impossible;
                for (prop, value) in props {
                    let v = self.expr(value, scope, &mut AggCtx::default())?;
                    self.check_prop_known(slot, prop, scope, value.span)?;
                    filters.push(Expr::Cmp(
                        CmpOp::Eq,
                        Box::new(Expr::Prop(Box::new(Expr::Slot(slot)), prop)),
                        Box::new(v),
                    ));
                }
            }
            chains_only.push(chain);
        }
        let mut steps: Vec<Step> = Vec::new();
        let mut pending: Vec<(Expr, Vec<usize>)> = filters
            .into_iter()
            .map(|e| {
                let mut s = Vec::new();
                e.slots(&mut s);
                (e, s)
            })
            .collect();
        let mut place =
            |steps: &mut Vec<Step>, bound: &[usize], pending: &mut Vec<(Expr, Vec<usize>)>| {
                let mut i = 0;
                while i < pending.len() {
                    if pending[i].1.iter().all(|s| bound.contains(s)) {
                        steps.push(Step::Filter(pending.swap_remove(i).0));
                    } else {
                        i += 1;
                    }
                }
            };
        place(&mut steps, bound, &mut pending);
        let mut remaining: Vec<Chain> = chains_only;
        while !remaining.is_empty() {
            // The chain with the cheapest anchor.
            let mut best = (usize::MAX, 0usize, 0usize);
            for (ci, ch) in remaining.iter().enumerate() {
                for (ni, &slot) in ch.nodes.iter().enumerate() {
                    let cost = self.anchor_cost(slot, bound, &node_checks, &pending);
                    if cost < best.0 {
                        best = (cost, ci, ni);
                    }
                }
            }
            let (_, ci, anchor) = best;
            let chain = remaining.swap_remove(ci);
            let anchor = if chain.shortest.is_some() { 0 } else { anchor };
            self.bind_node(
                chain.nodes[anchor],
                &mut steps,
                bound,
                &node_checks,
                &pending,
            );
            place(&mut steps, bound, &mut pending);
            if let Some(all) = chain.shortest {
                let to = chain.nodes[1];
                self.bind_node(to, &mut steps, bound, &node_checks, &pending);
                place(&mut steps, bound, &mut pending);
                let r = &chain.rels[0];
                let (min, max) = r.var_len.unwrap_or((1, 1));
                if min > 1 {
                    return Err(self.forward(
                        r.span,
                        self.src(r.span),
                        "shortestPath with a minimal length above 1 runs on Neo4j",
                    ));
                }
                let rel = r.slot.expect("shortest paths get a relationship slot");
                steps.push(Step::Shortest {
                    from: chain.nodes[0],
                    to,
                    rel,
                    spec: r.spec.clone(),
                    min,
                    max,
                    all,
                });
                bound.push(rel);
            } else {
                for k in anchor..chain.rels.len() {
                    self.expand(
                        &chain.rels[k],
                        chain.nodes[k],
                        chain.nodes[k + 1],
                        false,
                        &mut steps,
                        bound,
                        &node_checks,
                    )?;
                    place(&mut steps, bound, &mut pending);
                }
                for k in (0..anchor).rev() {
                    self.expand(
                        &chain.rels[k],
                        chain.nodes[k + 1],
                        chain.nodes[k],
                        true,
                        &mut steps,
                        bound,
                        &node_checks,
                    )?;
                    place(&mut steps, bound, &mut pending);
                }
            }
            if let Some(path) = chain.path {
                steps.push(Step::BindPath {
                    slot: path,
                    start: chain.nodes[0],
                    rels: chain
                        .rels
                        .iter()
                        .map(|r| {
                            (
                                r.slot.expect("paths get relationship slots"),
                                r.var_len.is_some(),
                            )
                        })
                        .collect(),
                });
                bound.push(path);
                place(&mut steps, bound, &mut pending);
            }
        }
        if let Some((e, _)) = pending.pop() {
            // Only reachable with a slot that is never bound: a bug in planning, not user input.
            steps.push(Step::Filter(e));
        }
        let _ = &mut place;
        Ok(Steps {
            steps,
            ..Steps::default()
        })
    }

    fn check_prop_known(&self, slot: usize, prop: usize, scope: &Scope, span: Span) -> R<()> {
        let key = &self.props[prop];
        let labels = scope
            .values()
            .find(|v| v.slot == slot)
            .and_then(|v| match &v.kind {
                Kind::Node(l) => Some(l.clone()),
                _ => None,
            });
        if let Some(labels) = labels
            && !labels.is_empty()
            && !self.key_covers(key, &labels)
        {
            return Err(self.forward(
                span,
                key,
                format!("property `{key}` was not exported for these labels"),
            ));
        }
        Ok(())
    }

    fn key_covers(&self, key: &str, labels: &[u32]) -> bool {
        self.snap
            .keys
            .get(key)
            .is_some_and(|ls| labels.iter().any(|l| ls.contains(l)))
    }

    fn anchor_cost(
        &self,
        slot: usize,
        bound: &[usize],
        checks: &HashMap<usize, NodeCheck>,
        pending: &[(Expr, Vec<usize>)],
    ) -> usize {
        if bound.contains(&slot) {
            return 0;
        }
        if self.seek_for(slot, bound, checks, pending).is_some() {
            return 1;
        }
        match checks.get(&slot) {
            Some(c) if c.impossible => 1,
            Some(c) if !c.labels.is_empty() => 2,
            _ => 3,
        }
    }

    /// An equality filter `slot.key = e` whose `e` is known before the slot is bound, on a key
    /// exported for one of the node's labels: an index seek.
    fn seek_for(
        &self,
        slot: usize,
        bound: &[usize],
        checks: &HashMap<usize, NodeCheck>,
        pending: &[(Expr, Vec<usize>)],
    ) -> Option<Source> {
        let labels = checks
            .get(&slot)
            .map(|c| c.labels.clone())
            .unwrap_or_default();
        for (e, slots) in pending {
            let Expr::Cmp(CmpOp::Eq, a, b) = e else {
                continue;
            };
            for (p, v) in [(a, b), (b, a)] {
                if let Expr::Prop(target, prop) = p.as_ref()
                    && matches!(target.as_ref(), Expr::Slot(s) if *s == slot)
                    && slots.iter().all(|s| *s == slot || bound.contains(s))
                    && !v.reads(slot)
                {
                    let key = &self.props[*prop];
                    let label = labels
                        .iter()
                        .copied()
                        .find(|l| self.snap.keys.get(key).is_some_and(|ls| ls.contains(l)));
                    if let Some(label) = label {
                        return Some(Source::Seek {
                            prop: *prop,
                            value: v.as_ref().clone(),
                            label: Some(label),
                        });
                    }
                }
            }
        }
        None
    }

    fn bind_node(
        &self,
        slot: usize,
        steps: &mut Vec<Step>,
        bound: &mut Vec<usize>,
        checks: &HashMap<usize, NodeCheck>,
        pending: &[(Expr, Vec<usize>)],
    ) {
        let check = checks.get(&slot).cloned().unwrap_or_default();
        if bound.contains(&slot) {
            steps.push(Step::Check { slot, check });
            return;
        }
        let source = if check.impossible {
            Source::Nothing
        } else if let Some(seek) = self.seek_for(slot, bound, checks, pending) {
            seek
        } else if let Some(&l) = check.labels.first() {
            Source::Label(l)
        } else {
            Source::All
        };
        steps.push(Step::Scan {
            slot,
            source,
            check,
        });
        bound.push(slot);
    }

    #[allow(clippy::too_many_arguments)]
    fn expand(
        &mut self,
        r: &RelPat<'_>,
        from: usize,
        to: usize,
        reversed: bool,
        steps: &mut Vec<Step>,
        bound: &mut Vec<usize>,
        checks: &HashMap<usize, NodeCheck>,
    ) -> R<()> {
        let _ = r.ast;
        let mut spec = r.spec.clone();
        if reversed {
            spec.dir = spec.dir.map(|d| match d {
                Direction::Outgoing => Direction::Incoming,
                Direction::Incoming => Direction::Outgoing,
            });
        }
        let to_bound = bound.contains(&to);
        let check = checks.get(&to).cloned().unwrap_or_default();
        match r.var_len {
            None => {
                steps.push(Step::Expand {
                    from,
                    rel: r.slot,
                    to,
                    to_bound,
                    spec,
                    check,
                    rel_bound: r.bound,
                });
            }
            Some((min, max)) => {
                let rel = match r.slot {
                    Some(s) => s,
                    None => self.slot(),
                };
                steps.push(Step::VarExpand {
                    from,
                    rel,
                    to,
                    to_bound,
                    spec,
                    check,
                    min,
                    max,
                    reversed,
                });
                bound.push(rel);
            }
        }
        if let Some(s) = r.slot {
            bound.push(s);
        }
        bound.push(to);
        Ok(())
    }

    // ---- projections ----

    fn projection(
        &mut self,
        p: &ProjectionClause,
        filter: Option<&Ast>,
        scope: &mut Scope,
        is_with: bool,
    ) -> R<(Project, Vec<String>, Vec<usize>)> {
        if let Some(o) = &p.offset {
            return Err(self.forward(o.span, "OFFSET", "OFFSET runs on Neo4j (use SKIP)"));
        }
        let mut ctx = AggCtx {
            aggs: Vec::new(),
            allowed: true,
        };
        let mut items: Vec<(Expr, usize)> = Vec::new();
        let mut names: Vec<String> = Vec::new();
        let mut texts: Vec<&str> = Vec::new();
        let mut kinds: Vec<Kind> = Vec::new();
        let mut has_agg: Vec<bool> = Vec::new();
        for item in &p.items {
            match &item.kind {
                ProjectionItemKind::Wildcard => {
                    let mut vars: Vec<(&String, &Var)> =
                        scope.iter().filter(|(k, _)| !k.starts_with("  ")).collect();
                    vars.sort_by(|a, b| a.0.cmp(b.0));
                    if vars.is_empty() {
                        return Err(self.semantic(
                            item.span,
                            "RETURN * is not allowed when there are no variables in scope",
                        ));
                    }
                    for (name, var) in vars {
                        let slot = self.slot();
                        items.push((Expr::Slot(var.slot), slot));
                        names.push(name.clone());
                        texts.push("");
                        kinds.push(var.kind.clone());
                        has_agg.push(false);
                    }
                }
                ProjectionItemKind::Expression { expression, alias } => {
                    let before = ctx.aggs.len();
                    let e = self.expr(expression, scope, &mut ctx)?;
                    let name = match alias {
                        Some(a) => a.kind.text.clone(),
                        None => {
                            if is_with && !matches!(expression.kind, ExprKind::Variable(_)) {
                                return Err(self.semantic(
                                    expression.span,
                                    "expression in WITH must be aliased (use AS)",
                                ));
                            }
                            match &expression.kind {
                                ExprKind::Variable(v) => v.kind.text.clone(),
                                _ => self.src(expression.span).to_owned(),
                            }
                        }
                    };
                    if names.contains(&name) {
                        return Err(self.semantic(
                            item.span,
                            format!("multiple result columns with the same name `{name}` are not supported"),
                        ));
                    }
                    let kind = match &expression.kind {
                        ExprKind::Variable(v) => scope
                            .get(&v.kind.text)
                            .map_or(Kind::Value, |v| v.kind.clone()),
                        _ => Kind::Value,
                    };
                    let slot = self.slot();
                    items.push((e, slot));
                    names.push(name);
                    texts.push(self.src(expression.span));
                    kinds.push(kind);
                    has_agg.push(ctx.aggs.len() > before);
                }
                _ => {
                    return Err(self.forward(
                        item.span,
                        self.src(item.span),
                        "this projection item runs on Neo4j",
                    ));
                }
            }
        }
        let aggregating = !ctx.aggs.is_empty();
        let distinct = matches!(
            p.quantifier.as_ref().map(|q| q.kind),
            Some(SetQuantifier::Distinct)
        );
        // The scope after the projection.
        let mut next = Scope::new();
        for ((name, (_, slot)), kind) in names.iter().zip(&items).zip(&kinds) {
            next.insert(
                name.clone(),
                Var {
                    slot: *slot,
                    kind: kind.clone(),
                },
            );
        }
        // ORDER BY sees the projected names and, when rows are not regrouped, the old ones too.
        let mut order = Vec::new();
        if let Some(ob) = &p.order_by {
            let mut order_scope = if aggregating || distinct {
                Scope::new()
            } else {
                scope.clone()
            };
            for (k, v) in &next {
                order_scope.insert(k.clone(), v.clone());
            }
            for s in &ob.items {
                if let Some(n) = &s.nulls {
                    return Err(self.forward(
                        n.span,
                        "NULLS FIRST/LAST",
                        "NULLS FIRST/LAST runs on Neo4j",
                    ));
                }
                let text = self.src(s.expression.span);
                let e = match texts.iter().position(|t| !t.is_empty() && *t == text) {
                    Some(i) => Expr::Slot(items[i].1),
                    None => {
                        let mut octx = AggCtx {
                            aggs: std::mem::take(&mut ctx.aggs),
                            allowed: aggregating,
                        };
                        let e = self.expr(&s.expression, &order_scope, &mut octx)?;
                        ctx.aggs = octx.aggs;
                        e
                    }
                };
                let desc = matches!(
                    s.direction.as_ref().map(|d| d.kind),
                    Some(SortDirection::Descending)
                );
                order.push((e, desc));
            }
        }
        let empty = Scope::new();
        let mut plain = AggCtx::default();
        let skip = match &p.skip {
            Some(e) => Some(self.expr(e, &empty, &mut plain)?),
            None => None,
        };
        let limit = match &p.limit {
            Some(e) => Some(self.expr(e, &empty, &mut plain)?),
            None => None,
        };
        // WHERE sees the projected names and, when rows are not regrouped, the old ones too
        // (as ORDER BY does, and Neo4j: `OPTIONAL MATCH (a)-[r]->(b) WITH b WHERE r IS NULL`).
        let filter = match filter {
            Some(w) => {
                let mut filter_scope = if aggregating || distinct {
                    Scope::new()
                } else {
                    scope.clone()
                };
                for (k, v) in &next {
                    filter_scope.insert(k.clone(), v.clone());
                }
                Some(self.expr(w, &filter_scope, &mut AggCtx::default())?)
            }
            None => None,
        };
        let keys = (0..items.len()).filter(|&i| !has_agg[i]).collect();
        let visible: Vec<usize> = items.iter().map(|(_, s)| *s).collect();
        *scope = next;
        Ok((
            Project {
                items,
                aggs: ctx.aggs,
                keys,
                distinct,
                order,
                skip,
                limit,
                filter,
                visible: visible.clone(),
            },
            names,
            visible,
        ))
    }

    // ---- expressions ----

    fn expr(&mut self, e: &Ast, scope: &Scope, ctx: &mut AggCtx) -> R<Expr> {
        let b = |x: Expr| Box::new(x);
        Ok(match &e.kind {
            ExprKind::Literal(l) => Expr::Const(match &l.kind {
                LiteralKind::Null => Val::Null,
                LiteralKind::Boolean(v) => Val::Bool(*v),
                LiteralKind::Integer(i) => {
                    if !matches!(
                        i.radix,
                        IntegerRadix::Decimal | IntegerRadix::Hexadecimal | IntegerRadix::Octal
                    ) {
                        return Err(self.forward(
                            e.span,
                            self.src(e.span),
                            "this literal runs on Neo4j",
                        ));
                    }
                    match int_literal(i).and_then(|v| i64::try_from(v).ok()) {
                        Some(v) => Val::Int(v),
                        None => {
                            return Err(
                                self.semantic(e.span, format!("integer is too large: {}", i.text))
                            );
                        }
                    }
                }
                LiteralKind::Float(f) => match f.text.replace('_', "").parse::<f64>() {
                    Ok(v) if v.is_finite() => Val::Float(v),
                    _ => {
                        return Err(self.semantic(
                            e.span,
                            format!("floating point number is too large: {}", f.text),
                        ));
                    }
                },
                LiteralKind::String(s) => Val::str(&s.value),
                _ => {
                    return Err(self.forward(
                        e.span,
                        self.src(e.span),
                        "this literal runs on Neo4j",
                    ));
                }
            }),
            ExprKind::Variable(v) => match scope.get(&v.kind.text) {
                Some(var) => Expr::Slot(var.slot),
                None => {
                    return Err(
                        self.semantic(v.span, format!("variable `{}` not defined", v.kind.text))
                    );
                }
            },
            ExprKind::Parameter(p) => Expr::Param(Arc::from(match &p.name {
                ParameterName::Named(n) | ParameterName::Positional(n) => n.as_str(),
                _ => {
                    return Err(self.forward(
                        e.span,
                        self.src(e.span),
                        "this parameter runs on Neo4j",
                    ));
                }
            })),
            ExprKind::List(items) => Expr::List(
                items
                    .iter()
                    .map(|x| self.expr(x, scope, ctx))
                    .collect::<R<_>>()?,
            ),
            ExprKind::Map(entries) => Expr::Map(
                entries
                    .iter()
                    .map(|me| {
                        Ok((
                            Arc::from(me.key.kind.text.as_str()),
                            self.expr(&me.value, scope, ctx)?,
                        ))
                    })
                    .collect::<R<_>>()?,
            ),
            // `-9223372036854775808` is minus a literal one past i64::MAX.
            ExprKind::Unary { operator, operand }
                if matches!(operator.kind, UnaryOperator::Minus)
                    && matches!(&operand.kind, ExprKind::Literal(l)
                        if matches!(&l.kind, LiteralKind::Integer(i) if int_literal(i) == Some(1 << 63))) =>
            {
                Expr::Const(Val::Int(i64::MIN))
            }
            ExprKind::Unary { operator, operand } => {
                let x = self.expr(operand, scope, ctx)?;
                match operator.kind {
                    UnaryOperator::Plus => x,
                    UnaryOperator::Minus => match x {
                        Expr::Const(Val::Int(i)) => Expr::Const(Val::Int(i.wrapping_neg())),
                        Expr::Const(Val::Float(f)) => Expr::Const(Val::Float(-f)),
                        x => Expr::Neg(b(x)),
                    },
                    UnaryOperator::Not => Expr::Not(b(x)),
                    _ => {
                        return Err(self.forward(
                            e.span,
                            self.src(e.span),
                            "this operator runs on Neo4j",
                        ));
                    }
                }
            }
            ExprKind::Binary {
                left,
                operator,
                right,
            } => {
                let l = self.expr(left, scope, ctx)?;
                let r = self.expr(right, scope, ctx)?;
                use BinaryOperator as B;
                // `a < b = c` is a chain, `a < b AND b = c`; the parser folds it as
                // `(a < b) = c` (a written `(a < b) = c` is Parenthesized, so not this).
                if let ExprKind::Binary {
                    operator: inner,
                    right: middle,
                    ..
                } = &left.kind
                    && let (Some(_), Some(op)) = (cmp_op(inner.kind), cmp_op(operator.kind))
                {
                    let m = self.expr(middle, scope, ctx)?;
                    return Ok(Expr::And(vec![l, Expr::Cmp(op, b(m), b(r))]));
                }
                match operator.kind {
                    B::Or => Expr::Or(vec![l, r]),
                    B::And => Expr::And(vec![l, r]),
                    B::Xor => Expr::Xor(b(l), b(r)),
                    B::Equal => Expr::Cmp(CmpOp::Eq, b(l), b(r)),
                    B::NotEqual => Expr::Cmp(CmpOp::Ne, b(l), b(r)),
                    B::Less => Expr::Cmp(CmpOp::Lt, b(l), b(r)),
                    B::LessEqual => Expr::Cmp(CmpOp::Le, b(l), b(r)),
                    B::Greater => Expr::Cmp(CmpOp::Gt, b(l), b(r)),
                    B::GreaterEqual => Expr::Cmp(CmpOp::Ge, b(l), b(r)),
                    B::In => Expr::In(b(l), b(r)),
                    B::StartsWith => Expr::Str(StrOp::StartsWith, b(l), b(r)),
                    B::EndsWith => Expr::Str(StrOp::EndsWith, b(l), b(r)),
                    B::Contains => Expr::Str(StrOp::Contains, b(l), b(r)),
                    B::Add => Expr::Arith(ArOp::Add, b(l), b(r)),
                    B::Subtract => Expr::Arith(ArOp::Sub, b(l), b(r)),
                    B::Multiply => Expr::Arith(ArOp::Mul, b(l), b(r)),
                    B::Divide => Expr::Arith(ArOp::Div, b(l), b(r)),
                    B::Remainder => Expr::Arith(ArOp::Rem, b(l), b(r)),
                    B::Power => Expr::Arith(ArOp::Pow, b(l), b(r)),
                    _ => {
                        return Err(self.forward(
                            operator.span,
                            self.src(operator.span),
                            format!("the operator `{}` runs on Neo4j", self.src(operator.span)),
                        ));
                    }
                }
            }
            ExprKind::Is {
                expression,
                negated,
                predicate,
            } => {
                let x = self.expr(expression, scope, ctx)?;
                match predicate {
                    IsPredicate::Null => Expr::IsNull(b(x), *negated),
                    IsPredicate::Label(l) => {
                        let mut check = NodeCheck::default();
                        self.labels(l, &mut check)?;
                        let mut codes: Vec<Option<u32>> =
                            check.labels.into_iter().map(Some).collect();
                        if check.impossible {
                            codes.push(None);
                        }
                        let e = Expr::HasLabels(b(x), codes);
                        if *negated { Expr::Not(b(e)) } else { e }
                    }
                    _ => {
                        return Err(self.forward(
                            e.span,
                            self.src(e.span),
                            "type and normalization predicates run on Neo4j",
                        ));
                    }
                }
            }
            ExprKind::Property { expression, key } => {
                let target = self.expr(expression, scope, ctx)?;
                let prop = self.prop(&key.kind.text);
                if let ExprKind::Variable(v) = &expression.kind
                    && let Some(var) = scope.get(&v.kind.text)
                {
                    match &var.kind {
                        Kind::Rel | Kind::RelList => {
                            return Err(self.forward(
                                e.span,
                                self.src(e.span),
                                "relationship properties are not in the snapshot",
                            ));
                        }
                        Kind::Node(labels) => {
                            if !self.key_covers(&key.kind.text, labels)
                                && !self.snap.keys.contains_key(&key.kind.text)
                            {
                                return Err(self.forward(
                                    e.span,
                                    self.src(e.span),
                                    format!("property `{}` is not in the snapshot (export it with --properties Label.{})", key.kind.text, key.kind.text),
                                ));
                            }
                            if !labels.is_empty() && !self.key_covers(&key.kind.text, labels) {
                                return Err(self.forward(
                                    e.span,
                                    self.src(e.span),
                                    format!(
                                        "property `{}` was not exported for the labels of `{}`",
                                        key.kind.text, v.kind.text
                                    ),
                                ));
                            }
                        }
                        _ => {}
                    }
                }
                Expr::Prop(b(target), prop)
            }
            ExprKind::Index { expression, index } => Expr::Index(
                b(self.expr(expression, scope, ctx)?),
                b(self.expr(index, scope, ctx)?),
            ),
            ExprKind::Function(f) => self.function(e, f, scope, ctx)?,
            ExprKind::Case(c) => Expr::Case {
                operand: match &c.operand {
                    Some(o) => Some(b(self.expr(o, scope, ctx)?)),
                    None => None,
                },
                whens: {
                    let mut w = Vec::new();
                    for alt in &c.alternatives {
                        let then = self.expr(&alt.then, scope, ctx)?;
                        for cond in &alt.when {
                            w.push((self.expr(cond, scope, ctx)?, then.clone()));
                        }
                    }
                    w
                },
                otherwise: match &c.else_expression {
                    Some(x) => Some(b(self.expr(x, scope, ctx)?)),
                    None => None,
                },
            },
            ExprKind::Pattern(p) => Expr::Exists(Arc::new(self.sub_pattern(p, None, scope)?)),
            ExprKind::Subquery(s) => {
                let is_count = match s.kind.kind {
                    SubqueryExpressionKind::Exists => false,
                    SubqueryExpressionKind::Count => true,
                    _ => {
                        return Err(self.forward(
                            e.span,
                            "COLLECT { }",
                            "COLLECT subqueries run on Neo4j",
                        ));
                    }
                };
                let steps = Arc::new(self.subquery(e.span, &s.query, scope)?);
                if is_count {
                    Expr::Count(steps)
                } else {
                    Expr::Exists(steps)
                }
            }
            ExprKind::Parenthesized(x) => self.expr(x, scope, ctx)?,
            _ => {
                return Err(self.forward(
                    e.span,
                    self.src(e.span),
                    "this expression runs on Neo4j",
                ));
            }
        })
    }

    fn subquery(&mut self, span: Span, q: &open_cypher::ast::Query, scope: &Scope) -> R<Steps> {
        let QueryKind::Regular(rq) = &q.kind else {
            return Err(self.semantic(span, "the subquery does not parse"));
        };
        if !rq.unions.is_empty() {
            return Err(self.forward(
                span,
                "UNION in EXISTS",
                "UNION inside a subquery runs on Neo4j",
            ));
        }
        let clauses = &rq.head.kind.clauses;
        match clauses.as_slice() {
            [c] | [c, _] => {
                if let [_, r] = clauses.as_slice()
                    && !matches!(r.kind, ClauseKind::Return(_))
                {
                    return Err(self.forward(
                        span,
                        self.src(r.span),
                        "subqueries of more than one MATCH run on Neo4j",
                    ));
                }
                let ClauseKind::Match(m) = &c.kind else {
                    return Err(self.forward(
                        span,
                        self.src(c.span),
                        "subqueries other than one MATCH run on Neo4j",
                    ));
                };
                if m.optional || m.mode.is_some() {
                    return Err(self.forward(
                        span,
                        self.src(c.span),
                        "this subquery runs on Neo4j",
                    ));
                }
                self.sub_pattern(&m.pattern, m.where_clause.as_ref(), scope)
            }
            _ => Err(self.forward(
                span,
                self.src(span),
                "subqueries other than one MATCH run on Neo4j",
            )),
        }
    }

    /// A pattern evaluated against a row: its new variables are local to it.
    fn sub_pattern(&mut self, p: &Pattern, filter: Option<&Ast>, scope: &Scope) -> R<Steps> {
        let mut inner = scope.clone();
        let outer: Vec<usize> = scope.values().map(|v| v.slot).collect();
        let mut declared = Vec::new();
        let chains = self.chains(p, &mut inner, &mut declared, true)?;
        let mut filters = Vec::new();
        if let Some(w) = filter {
            let e = self.expr(w, &inner, &mut AggCtx::default())?;
            split_and(e, &mut filters);
        }
        let mut bound = outer.clone();
        let mut steps = self.plan_chains(chains, &inner, &mut bound, filters)?;
        steps.binds = declared;
        steps.outer = outer;
        steps.rel_unique = true;
        Ok(steps)
    }

    fn function(
        &mut self,
        e: &Ast,
        f: &open_cypher::ast::FunctionInvocation,
        scope: &Scope,
        ctx: &mut AggCtx,
    ) -> R<Expr> {
        let name: Vec<&str> = f.name.parts.iter().map(|p| p.kind.text.as_str()).collect();
        let full = name.join(".");
        if name.len() != 1 {
            return Err(self.forward(
                e.span,
                &full,
                format!("the function `{full}` runs on Neo4j"),
            ));
        }
        let lower = full.to_lowercase();
        let distinct = matches!(
            f.quantifier.as_ref().map(|q| q.kind),
            Some(SetQuantifier::Distinct)
        );
        if let Some(func) = AggFunc::of(&lower) {
            if !ctx.allowed {
                return Err(self.semantic(
                    e.span,
                    format!("invalid use of aggregating function {full}(...) in this context"),
                ));
            }
            let (func, arg) = match (func, f.arguments.as_slice()) {
                (AggFunc::Count, [a]) if matches!(a.kind, ExprKind::Wildcard) => {
                    (AggFunc::CountStar, None)
                }
                (_, [a]) => {
                    let mut inner = AggCtx::default();
                    (func, Some(self.expr(a, scope, &mut inner)?))
                }
                _ => {
                    return Err(self.forward(
                        e.span,
                        &full,
                        format!("{full} with {} arguments runs on Neo4j", f.arguments.len()),
                    ));
                }
            };
            let slot = self.slot();
            ctx.aggs.push(Agg {
                func,
                distinct,
                arg,
                slot,
            });
            return Ok(Expr::Slot(slot));
        }
        if distinct {
            return Err(self.semantic(e.span, format!("DISTINCT is not allowed with {full}()")));
        }
        let Some((func, lo, hi)) = Func::of(&lower) else {
            return Err(self.forward(
                e.span,
                &full,
                format!("the function `{full}` is outside the subset the snapshot answers"),
            ));
        };
        let n = f.arguments.len();
        if n < lo || n > hi {
            return Err(self.semantic(
                e.span,
                format!(
                    "{full}() takes {lo}{} arguments, {n} given",
                    if hi == lo {
                        String::new()
                    } else if hi == usize::MAX {
                        " or more".into()
                    } else {
                        format!(" to {hi}")
                    }
                ),
            ));
        }
        let args = f
            .arguments
            .iter()
            .map(|a| self.expr(a, scope, ctx))
            .collect::<R<Vec<_>>>()?;
        Ok(Expr::Func(func, args))
    }
}

fn split_and(e: Expr, out: &mut Vec<Expr>) {
    match e {
        Expr::And(v) => v.into_iter().for_each(|x| split_and(x, out)),
        x => out.push(x),
    }
}

/// The value of an integer literal, before it has to fit an i64 (`None` past i128 too).
fn int_literal(i: &IntegerLiteral) -> Option<i128> {
    let (digits, radix) = match i.radix {
        IntegerRadix::Decimal => (i.text.as_str(), 10),
        IntegerRadix::Hexadecimal => (i.text.trim_start_matches("0x").trim_start_matches("0X"), 16),
        IntegerRadix::Octal => (i.text.trim_start_matches("0o").trim_start_matches("0O"), 8),
        _ => return None,
    };
    let digits: String = digits.chars().filter(|c| *c != '_').collect();
    i128::from_str_radix(&digits, radix).ok()
}

/// The comparison a binary operator is, if it is one.
fn cmp_op(op: BinaryOperator) -> Option<CmpOp> {
    use BinaryOperator as B;
    Some(match op {
        B::Equal => CmpOp::Eq,
        B::NotEqual => CmpOp::Ne,
        B::Less => CmpOp::Lt,
        B::LessEqual => CmpOp::Le,
        B::Greater => CmpOp::Gt,
        B::GreaterEqual => CmpOp::Ge,
        _ => return None,
    })
}

//! Pattern predicates, `EXISTS { }` and `COUNT { }`: patterns evaluated against a row.

use open_cypher::Span;
use open_cypher::ast::{ClauseKind, Expr as Ast, Pattern, QueryKind};

use crate::ir::Steps;

use super::{AggCtx, Compiler, R, Scope, split_and};

impl Compiler<'_> {
    pub(super) fn subquery(
        &mut self,
        span: Span,
        q: &open_cypher::ast::Query,
        scope: &Scope,
    ) -> R<Steps> {
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
    pub(super) fn sub_pattern(
        &mut self,
        p: &Pattern,
        filter: Option<&Ast>,
        scope: &Scope,
    ) -> R<Steps> {
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
        steps.reads = Some(steps.outer_reads());
        Ok(steps)
    }
}

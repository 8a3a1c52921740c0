//! `WITH` and `RETURN`: items, aggregates, `DISTINCT`, `ORDER BY`, `SKIP` and `LIMIT`, and the
//! scope after them.

use open_cypher::ast::{
    Expr as Ast, ExprKind, ProjectionClause, ProjectionItemKind, SetQuantifier, SortDirection,
};

use crate::expr::Expr;
use crate::ir::Project;

use super::{AggCtx, Compiler, Kind, R, Scope, Var};

impl Compiler<'_> {
    pub(super) fn projection(
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
}

//! `MATCH` and its patterns: variables to slots, labels and types to codes, quantifiers to
//! length bounds.

use neotrav_snapshot::Direction;
use open_cypher::Span;
use open_cypher::ast::{
    Expr as Ast, ExprKind, LabelExpression, LabelExpressionKind, MatchClause, NodePattern,
    PathFactorKind, Pattern, PatternPart, QuantifierKind, RelationshipDirection,
    RelationshipPattern,
};

use crate::ir::{NodeCheck, RelSpec, Steps};

use super::{AggCtx, Compiler, Kind, NodeChecks, R, Scope, Var, split_and};

/// A relationship of a pattern chain.
pub(super) struct RelPat<'a> {
    pub(super) ast: &'a RelationshipPattern,
    pub(super) span: Span,
    pub(super) slot: Option<usize>,
    pub(super) bound: bool,
    pub(super) var_len: Option<(u32, u32)>,
    pub(super) spec: RelSpec,
}

/// A pattern part, resolved.
pub(super) struct Chain<'a> {
    pub(super) nodes: Vec<usize>,
    pub(super) rels: Vec<RelPat<'a>>,
    pub(super) path: Option<usize>,
    pub(super) shortest: Option<bool>,
}

impl<'t> Compiler<'t> {
    pub(super) fn match_steps(&mut self, m: &MatchClause, scope: &mut Scope) -> R<Steps> {
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
    pub(super) fn chains<'a>(
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

    pub(super) fn labels(&self, l: &LabelExpression, check: &mut NodeCheck) -> R<()> {
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
}

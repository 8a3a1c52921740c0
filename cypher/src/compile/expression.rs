//! Expressions and function calls; a construct outside the subset forwards the statement.

use std::sync::Arc;

use open_cypher::ast::{
    BinaryOperator, Expr as Ast, ExprKind, IntegerLiteral, IntegerRadix, IsPredicate, LiteralKind,
    ParameterName, SetQuantifier, SubqueryExpressionKind, UnaryOperator,
};

use crate::MAX_PLAN_DEPTH;
use crate::expr::{AggFunc, ArOp, CmpOp, Expr, Func, StrOp};
use crate::ir::{Agg, NodeCheck};
use crate::value::Val;

use super::{AggCtx, Compiler, Kind, R, Scope};

impl Compiler<'_> {
    /// Compiles an expression; one nested deeper than [`MAX_PLAN_DEPTH`] is forwarded.
    pub(super) fn expr(&mut self, e: &Ast, scope: &Scope, ctx: &mut AggCtx) -> R<Expr> {
        if self.depth >= MAX_PLAN_DEPTH {
            return Err(self.forward(
                e.span,
                "a deeply nested expression",
                format!("expressions nested more than {MAX_PLAN_DEPTH} deep run on Neo4j"),
            ));
        }
        self.depth += 1;
        let compiled = self.expr_at(e, scope, ctx);
        self.depth -= 1;
        compiled
    }

    fn expr_at(&mut self, e: &Ast, scope: &Scope, ctx: &mut AggCtx) -> R<Expr> {
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
                        Expr::Const(Val::Int(i)) if i != i64::MIN => Expr::Const(Val::Int(-i)),
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
            } if matches!(operator.kind, BinaryOperator::And | BinaryOperator::Or) => {
                // `a OR b OR c` parses as `(a OR b) OR c`: the chain's operands, left to right,
                // without recursing down it (a long chain is one level, not one per operator).
                let and = matches!(operator.kind, BinaryOperator::And);
                let same = |o: &BinaryOperator| {
                    matches!(
                        (and, o),
                        (true, BinaryOperator::And) | (false, BinaryOperator::Or)
                    )
                };
                let mut operands = vec![right.as_ref()];
                let mut rest = left.as_ref();
                while let ExprKind::Binary {
                    left,
                    operator,
                    right,
                } = &rest.kind
                    && same(&operator.kind)
                {
                    operands.push(right.as_ref());
                    rest = left.as_ref();
                }
                operands.push(rest);
                let items = operands
                    .into_iter()
                    .rev()
                    .map(|x| self.expr(x, scope, ctx))
                    .collect::<R<Vec<_>>>()?;
                if and {
                    Expr::And(items)
                } else {
                    Expr::Or(items)
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

//! Planned expressions: variables are row slots, properties are indices into the plan's
//! property table, labels are codes.

use std::sync::Arc;

use crate::ir::Steps;
use crate::value::Val;

/// A planned expression.
#[derive(Debug, Clone)]
pub(crate) enum Expr {
    Const(Val),
    Param(Arc<str>),
    Slot(usize),
    /// `e.key`: the property table's entry `prop`.
    Prop(Box<Expr>, usize),
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Xor(Box<Expr>, Box<Expr>),
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    Arith(ArOp, Box<Expr>, Box<Expr>),
    Neg(Box<Expr>),
    Str(StrOp, Box<Expr>, Box<Expr>),
    In(Box<Expr>, Box<Expr>),
    IsNull(Box<Expr>, bool),
    List(Vec<Expr>),
    Map(Vec<(Arc<str>, Expr)>),
    Func(Func, Vec<Expr>),
    /// `e:A:B`: `None` is a label the snapshot does not have (never true).
    HasLabels(Box<Expr>, Vec<Option<u32>>),
    /// A pattern predicate or `EXISTS { ... }`: true when the steps match at least once.
    Exists(Arc<Steps>),
    /// `COUNT { ... }`: how many times the steps match.
    Count(Arc<Steps>),
    Case {
        operand: Option<Box<Expr>>,
        whens: Vec<(Expr, Expr)>,
        otherwise: Option<Box<Expr>>,
    },
    Index(Box<Expr>, Box<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ArOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Pow,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StrOp {
    StartsWith,
    EndsWith,
    Contains,
}

/// The scalar functions the snapshot answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Func {
    Id,
    ElementId,
    Labels,
    Type,
    StartNode,
    EndNode,
    Size,
    Length,
    Nodes,
    Relationships,
    Head,
    Last,
    Tail,
    Coalesce,
    ToString,
    ToInteger,
    ToFloat,
    ToBoolean,
    Abs,
    Sign,
    Ceil,
    Floor,
    Round,
    Sqrt,
    ToLower,
    ToUpper,
    Trim,
    LTrim,
    RTrim,
    Replace,
    Substring,
    Left,
    Right,
    Split,
    Reverse,
    Range,
}

impl Func {
    /// The function of a name (lower-cased), with its arity range.
    pub fn of(name: &str) -> Option<(Func, usize, usize)> {
        use Func::*;
        Some(match name {
            "id" => (Id, 1, 1),
            "elementid" => (ElementId, 1, 1),
            "labels" => (Labels, 1, 1),
            "type" => (Type, 1, 1),
            "startnode" => (StartNode, 1, 1),
            "endnode" => (EndNode, 1, 1),
            "size" => (Size, 1, 1),
            "length" => (Length, 1, 1),
            "nodes" => (Nodes, 1, 1),
            "relationships" => (Relationships, 1, 1),
            "head" => (Head, 1, 1),
            "last" => (Last, 1, 1),
            "tail" => (Tail, 1, 1),
            "coalesce" => (Coalesce, 1, usize::MAX),
            "tostring" => (ToString, 1, 1),
            "tointeger" => (ToInteger, 1, 1),
            "tofloat" => (ToFloat, 1, 1),
            "toboolean" => (ToBoolean, 1, 1),
            "abs" => (Abs, 1, 1),
            "sign" => (Sign, 1, 1),
            "ceil" => (Ceil, 1, 1),
            "floor" => (Floor, 1, 1),
            "round" => (Round, 1, 1),
            "sqrt" => (Sqrt, 1, 1),
            "tolower" => (ToLower, 1, 1),
            "toupper" => (ToUpper, 1, 1),
            "trim" => (Trim, 1, 1),
            "ltrim" => (LTrim, 1, 1),
            "rtrim" => (RTrim, 1, 1),
            "replace" => (Replace, 3, 3),
            "substring" => (Substring, 2, 3),
            "left" => (Left, 2, 2),
            "right" => (Right, 2, 2),
            "split" => (Split, 2, 2),
            "reverse" => (Reverse, 1, 1),
            "range" => (Range, 2, 3),
            _ => return None,
        })
    }
}

/// Aggregate functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AggFunc {
    CountStar,
    Count,
    Collect,
    Sum,
    Avg,
    Min,
    Max,
}

impl AggFunc {
    pub fn of(name: &str) -> Option<AggFunc> {
        Some(match name {
            "count" => AggFunc::Count,
            "collect" => AggFunc::Collect,
            "sum" => AggFunc::Sum,
            "avg" => AggFunc::Avg,
            "min" => AggFunc::Min,
            "max" => AggFunc::Max,
            _ => return None,
        })
    }
}

impl Expr {
    /// Whether the expression reads `slot`.
    pub fn reads(&self, slot: usize) -> bool {
        let mut v = Vec::new();
        self.slots(&mut v);
        v.contains(&slot)
    }

    /// Every slot the expression reads (including from inside pattern predicates).
    pub fn slots(&self, out: &mut Vec<usize>) {
        match self {
            Expr::Slot(s) => out.push(*s),
            Expr::Exists(steps) | Expr::Count(steps) => out.extend(steps.outer.iter().copied()),
            _ => self.for_each_child(|e| e.slots(out)),
        }
    }

    /// Calls `f` on each direct sub-expression (none for slots, constants, parameters and
    /// pattern predicates, whose reads are their steps' `outer` slots).
    pub fn for_each_child(&self, mut f: impl FnMut(&Expr)) {
        match self {
            Expr::Slot(_) | Expr::Const(_) | Expr::Param(_) | Expr::Exists(_) | Expr::Count(_) => {}
            Expr::Prop(e, _)
            | Expr::Not(e)
            | Expr::Neg(e)
            | Expr::IsNull(e, _)
            | Expr::HasLabels(e, _) => f(e),
            Expr::And(v) | Expr::Or(v) | Expr::List(v) | Expr::Func(_, v) => v.iter().for_each(f),
            Expr::Xor(a, b)
            | Expr::Cmp(_, a, b)
            | Expr::Arith(_, a, b)
            | Expr::Str(_, a, b)
            | Expr::In(a, b)
            | Expr::Index(a, b) => {
                f(a);
                f(b);
            }
            Expr::Map(m) => m.iter().for_each(|(_, e)| f(e)),
            Expr::Case {
                operand,
                whens,
                otherwise,
            } => {
                operand.iter().for_each(|o| f(o));
                for (w, t) in whens {
                    f(w);
                    f(t);
                }
                otherwise.iter().for_each(|o| f(o));
            }
        }
    }
}

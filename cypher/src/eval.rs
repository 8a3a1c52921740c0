//! Expression evaluation, with Cypher's null logic, integer overflow checks and type errors.

use std::cmp::Ordering;

use crate::error::{CypherError, Forward};
use crate::exec::Ctx;
use crate::expr::{ArOp, CmpOp, Expr, Func, StrOp};
use crate::value::{Val, compare, equals};

type R<T> = Result<T, Box<CypherError>>;

fn type_error(what: &str, v: &Val) -> Box<CypherError> {
    Box::new(CypherError::Runtime(format!(
        "type mismatch: {what}, but was {}",
        v.type_name()
    )))
}

fn tri(v: &Val, what: &str) -> R<Option<bool>> {
    match v {
        Val::Null => Ok(None),
        Val::Bool(b) => Ok(Some(*b)),
        other => Err(type_error(what, other)),
    }
}

fn opt_bool(b: Option<bool>) -> Val {
    b.map_or(Val::Null, Val::Bool)
}

impl Ctx<'_> {
    /// Whether a predicate holds (`null` does not).
    pub fn truthy(&self, e: &Expr, row: &[Val]) -> R<bool> {
        match self.eval(e, row)? {
            Val::Bool(b) => Ok(b),
            Val::Null => Ok(false),
            other => Err(type_error("expected a BOOLEAN predicate", &other)),
        }
    }

    pub fn eval(&self, e: &Expr, row: &[Val]) -> R<Val> {
        Ok(match e {
            Expr::Const(v) => v.clone(),
            Expr::Param(name) => match self.params.get(name) {
                Some(v) => v.clone(),
                None => {
                    return Err(Box::new(CypherError::MissingParameter {
                        name: name.to_string(),
                    }));
                }
            },
            Expr::Slot(s) => row.get(*s).cloned().unwrap_or(Val::Null),
            Expr::Prop(target, prop) => {
                // The common case, a node variable's property, without a copy of the slot.
                if let Expr::Slot(s) = **target
                    && let Some(v @ Val::Node(_)) = row.get(s)
                {
                    return self.property(v, *prop);
                }
                let t = self.eval(target, row)?;
                self.property(&t, *prop)?
            }
            Expr::Not(x) => {
                opt_bool(tri(&self.eval(x, row)?, "NOT expects a BOOLEAN")?.map(|b| !b))
            }
            Expr::And(v) => {
                let mut unknown = false;
                for x in v {
                    match tri(&self.eval(x, row)?, "AND expects BOOLEANs")? {
                        Some(false) => return Ok(Val::Bool(false)),
                        None => unknown = true,
                        Some(true) => {}
                    }
                }
                if unknown { Val::Null } else { Val::Bool(true) }
            }
            Expr::Or(v) => {
                let mut unknown = false;
                for x in v {
                    match tri(&self.eval(x, row)?, "OR expects BOOLEANs")? {
                        Some(true) => return Ok(Val::Bool(true)),
                        None => unknown = true,
                        Some(false) => {}
                    }
                }
                if unknown { Val::Null } else { Val::Bool(false) }
            }
            Expr::Xor(a, b) => {
                let a = tri(&self.eval(a, row)?, "XOR expects BOOLEANs")?;
                let b = tri(&self.eval(b, row)?, "XOR expects BOOLEANs")?;
                match (a, b) {
                    (Some(a), Some(b)) => Val::Bool(a != b),
                    _ => Val::Null,
                }
            }
            Expr::Cmp(op, a, b) => {
                let a = self.eval(a, row)?;
                let b = self.eval(b, row)?;
                // NaN is a number, so `<` and friends are false for it, not null (as in Neo4j).
                let nan = |v: &Val| matches!(v, Val::Float(f) if f.is_nan());
                let number = |v: &Val| matches!(v, Val::Int(_) | Val::Float(_));
                if !matches!(op, CmpOp::Eq | CmpOp::Ne)
                    && number(&a)
                    && number(&b)
                    && (nan(&a) || nan(&b))
                {
                    return Ok(Val::Bool(false));
                }
                opt_bool(match op {
                    CmpOp::Eq => equals(&a, &b),
                    CmpOp::Ne => equals(&a, &b).map(|x| !x),
                    CmpOp::Lt => compare(&a, &b).map(|o| o == Ordering::Less),
                    CmpOp::Le => compare(&a, &b).map(|o| o != Ordering::Greater),
                    CmpOp::Gt => compare(&a, &b).map(|o| o == Ordering::Greater),
                    CmpOp::Ge => compare(&a, &b).map(|o| o != Ordering::Less),
                })
            }
            Expr::Arith(op, a, b) => {
                let v = arith(*op, self.eval(a, row)?, self.eval(b, row)?)?;
                self.tick_size(&v)?;
                v
            }
            Expr::Neg(x) => match self.eval(x, row)? {
                Val::Null => Val::Null,
                Val::Int(i) => Val::Int(i.checked_neg().ok_or_else(overflow)?),
                Val::Float(f) => Val::Float(-f),
                other => return Err(type_error("unary minus expects a number", &other)),
            },
            Expr::Str(op, a, b) => match (self.eval(a, row)?, self.eval(b, row)?) {
                (Val::Str(a), Val::Str(b)) => Val::Bool(match op {
                    StrOp::StartsWith => a.starts_with(&*b),
                    StrOp::EndsWith => a.ends_with(&*b),
                    StrOp::Contains => a.contains(&*b),
                }),
                _ => Val::Null,
            },
            Expr::In(a, b) => {
                let a = self.eval(a, row)?;
                match self.eval(b, row)? {
                    Val::Null => Val::Null,
                    Val::List(l) => {
                        self.tick((l.len() >> 3) as u64)?;
                        let mut unknown = false;
                        for x in l.iter() {
                            match equals(&a, x) {
                                Some(true) => return Ok(Val::Bool(true)),
                                None => unknown = true,
                                Some(false) => {}
                            }
                        }
                        if unknown { Val::Null } else { Val::Bool(false) }
                    }
                    other => {
                        return Err(type_error("IN expects a LIST on its right", &other));
                    }
                }
            }
            Expr::IsNull(x, negated) => {
                // A node variable's property: whether it is there, without reading it.
                if let Expr::Prop(target, prop) = &**x
                    && let Expr::Slot(s) = **target
                    && let Some(Val::Node(n)) = row.get(s)
                {
                    return Ok(Val::Bool(self.has_property(*n, *prop)? == *negated));
                }
                Val::Bool(self.eval(x, row)?.is_null() != *negated)
            }
            Expr::List(v) => {
                let items = v.iter().map(|x| self.eval(x, row)).collect::<R<Vec<_>>>()?;
                Val::List(items.into())
            }
            Expr::Map(m) => {
                let items = m
                    .iter()
                    .map(|(k, x)| Ok((k.clone(), self.eval(x, row)?)))
                    .collect::<R<Vec<_>>>()?;
                Val::Map(items.into())
            }
            Expr::HasLabels(x, labels) => match self.eval(x, row)? {
                Val::Null => Val::Null,
                Val::Node(n) => Val::Bool(
                    labels
                        .iter()
                        .all(|l| l.is_some_and(|l| self.view.has_label(n, l))),
                ),
                other => {
                    return Err(type_error("a label predicate expects a NODE", &other));
                }
            },
            Expr::Exists(steps) => Val::Bool(self.count_matches(steps, row, true)? > 0),
            Expr::Count(steps) => Val::Int(self.count_matches(steps, row, false)? as i64),
            Expr::Case {
                operand,
                whens,
                otherwise,
            } => {
                let subject = match operand {
                    Some(o) => Some(self.eval(o, row)?),
                    None => None,
                };
                for (w, then) in whens {
                    let hit = match &subject {
                        Some(s) => equals(s, &self.eval(w, row)?) == Some(true),
                        None => self.truthy(w, row)?,
                    };
                    if hit {
                        return self.eval(then, row);
                    }
                }
                match otherwise {
                    Some(o) => self.eval(o, row)?,
                    None => Val::Null,
                }
            }
            Expr::Index(a, i) => match (self.eval(a, row)?, self.eval(i, row)?) {
                (Val::Null, _) | (_, Val::Null) => Val::Null,
                (Val::List(l), Val::Int(i)) => {
                    let n = l.len() as i64;
                    let at = if i < 0 { n + i } else { i };
                    if (0..n).contains(&at) {
                        l[at as usize].clone()
                    } else {
                        Val::Null
                    }
                }
                (Val::Map(m), Val::Str(k)) => m
                    .iter()
                    .find(|(key, _)| *key == k)
                    .map_or(Val::Null, |(_, v)| v.clone()),
                (Val::Node(_), Val::Str(_)) | (Val::Rel(_), Val::Str(_)) => {
                    return Err(Box::new(CypherError::NeedsNeo4j(Forward {
                        construct: "[]".into(),
                        reason: "dynamic property access runs on Neo4j".into(),
                        line: 1,
                        column: 1,
                    })));
                }
                (l, _) => {
                    return Err(type_error(
                        "[] expects a LIST with an INTEGER or a MAP with a STRING",
                        &l,
                    ));
                }
            },
            Expr::Func(f, args) => {
                let vals = args
                    .iter()
                    .map(|x| self.eval(x, row))
                    .collect::<R<Vec<_>>>()?;
                self.func(*f, vals)?
            }
        })
    }

    fn func(&self, f: Func, mut a: Vec<Val>) -> R<Val> {
        use Func::*;
        let first = a.first().cloned().unwrap_or(Val::Null);
        if f != Coalesce && first.is_null() {
            return Ok(Val::Null);
        }
        Ok(match f {
            Id => match first {
                Val::Node(n) => Val::Int(self.node_id(n) as i64),
                Val::Rel(r) => Val::Int(self.rel_id(r.idx) as i64),
                other => {
                    return Err(type_error("id() expects a NODE or RELATIONSHIP", &other));
                }
            },
            ElementId => match first {
                Val::Node(n) => Val::str(&self.node_element_id(n)),
                Val::Rel(r) => Val::str(&self.rel_element_id(r.idx)),
                other => {
                    return Err(type_error(
                        "elementId() expects a NODE or RELATIONSHIP",
                        &other,
                    ));
                }
            },
            Labels => match first {
                Val::Node(n) => Val::List(
                    self.labels_of(n)
                        .into_iter()
                        .map(Val::str)
                        .collect::<Vec<_>>()
                        .into(),
                ),
                other => return Err(type_error("labels() expects a NODE", &other)),
            },
            Type => match first {
                Val::Rel(r) => Val::str(self.rel_type(r.idx)),
                other => {
                    return Err(type_error("type() expects a RELATIONSHIP", &other));
                }
            },
            StartNode | EndNode => match first {
                Val::Rel(r) => Val::Node(if f == StartNode { r.start } else { r.end }),
                other => {
                    return Err(type_error(
                        "startNode()/endNode() expect a RELATIONSHIP",
                        &other,
                    ));
                }
            },
            Size => match first {
                Val::List(l) => Val::Int(l.len() as i64),
                Val::Str(s) => Val::Int(s.encode_utf16().count() as i64),
                other => {
                    return Err(type_error("size() expects a STRING or LIST", &other));
                }
            },
            Length => match first {
                Val::Path(p) => Val::Int(p.rels.len() as i64),
                other => return Err(type_error("length() expects a PATH", &other)),
            },
            Nodes => match first {
                Val::Path(p) => Val::List(
                    p.nodes
                        .iter()
                        .map(|&n| Val::Node(n))
                        .collect::<Vec<_>>()
                        .into(),
                ),
                other => return Err(type_error("nodes() expects a PATH", &other)),
            },
            Relationships => match first {
                Val::Path(p) => Val::List(
                    p.rels
                        .iter()
                        .map(|&r| Val::Rel(r))
                        .collect::<Vec<_>>()
                        .into(),
                ),
                other => {
                    return Err(type_error("relationships() expects a PATH", &other));
                }
            },
            Head | Last | Tail => match first {
                Val::List(l) => match f {
                    Head => l.first().cloned().unwrap_or(Val::Null),
                    Last => l.last().cloned().unwrap_or(Val::Null),
                    _ => Val::List(l.iter().skip(1).cloned().collect::<Vec<_>>().into()),
                },
                other => {
                    return Err(type_error("head()/last()/tail() expect a LIST", &other));
                }
            },
            Coalesce => a.into_iter().find(|v| !v.is_null()).unwrap_or(Val::Null),
            ToString => match first {
                Val::Str(s) => Val::Str(s),
                Val::Int(i) => Val::str(&i.to_string()),
                Val::Float(x) => Val::str(&java_double(x)),
                Val::Bool(b) => Val::str(if b { "true" } else { "false" }),
                other => {
                    return Err(type_error(
                        "toString() expects a STRING, number or BOOLEAN",
                        &other,
                    ));
                }
            },
            ToInteger => match first {
                Val::Int(i) => Val::Int(i),
                Val::Float(x) => float_to_int(x),
                Val::Bool(b) => Val::Int(b as i64),
                Val::Str(s) => parse_int(&s)?,
                other => {
                    return Err(type_error(
                        "toInteger() expects a STRING, number or BOOLEAN",
                        &other,
                    ));
                }
            },
            ToFloat => match first {
                Val::Int(i) => Val::Float(i as f64),
                Val::Float(x) => Val::Float(x),
                Val::Str(s) => parse_float(&s).map_or(Val::Null, Val::Float),
                other => {
                    return Err(type_error("toFloat() expects a STRING or number", &other));
                }
            },
            ToBoolean => match first {
                Val::Bool(b) => Val::Bool(b),
                Val::Int(i) => Val::Bool(i != 0),
                Val::Str(s) => match s.trim().to_ascii_lowercase().as_str() {
                    "true" => Val::Bool(true),
                    "false" => Val::Bool(false),
                    _ => Val::Null,
                },
                other => {
                    return Err(type_error(
                        "toBoolean() expects a STRING, INTEGER or BOOLEAN",
                        &other,
                    ));
                }
            },
            Abs => match first {
                // Java's Math.abs, as Neo4j: the smallest integer is its own absolute value.
                Val::Int(i) => Val::Int(i.wrapping_abs()),
                Val::Float(x) => Val::Float(x.abs()),
                other => return Err(type_error("abs() expects a number", &other)),
            },
            Sign => match first {
                Val::Int(i) => Val::Int(i.signum()),
                Val::Float(x) => Val::Int(if x > 0.0 {
                    1
                } else if x < 0.0 {
                    -1
                } else {
                    0
                }),
                other => return Err(type_error("sign() expects a number", &other)),
            },
            Ceil | Floor | Round | Sqrt => {
                let x = match first {
                    Val::Int(i) => i as f64,
                    Val::Float(x) => x,
                    other => {
                        return Err(type_error("a math function expects a number", &other));
                    }
                };
                Val::Float(match f {
                    Ceil => x.ceil(),
                    Floor => x.floor(),
                    // Java's Math.round: half up.
                    Round => (x + 0.5).floor(),
                    _ => x.sqrt(),
                })
            }
            ToLower | ToUpper | Trim | LTrim | RTrim | Reverse => match first {
                Val::Str(s) => Val::str(&match f {
                    ToLower => s.to_lowercase(),
                    ToUpper => s.to_uppercase(),
                    Trim => s.trim().to_owned(),
                    LTrim => s.trim_start().to_owned(),
                    RTrim => s.trim_end().to_owned(),
                    _ => s.chars().rev().collect(),
                }),
                Val::List(l) if f == Reverse => {
                    Val::List(l.iter().rev().cloned().collect::<Vec<_>>().into())
                }
                other => {
                    return Err(type_error("a string function expects a STRING", &other));
                }
            },
            Replace => match (&a[0], &a[1], &a[2]) {
                (Val::Str(s), Val::Str(x), Val::Str(y)) => Val::str(&s.replace(&**x, y)),
                (_, Val::Null, _) | (_, _, Val::Null) => Val::Null,
                _ => {
                    return Err(Box::new(CypherError::Runtime(
                        "replace() expects STRINGs".into(),
                    )));
                }
            },
            Substring | Left | Right => {
                let Val::Str(s) = &a[0] else {
                    return Err(type_error(
                        "substring()/left()/right() expect a STRING",
                        &a[0],
                    ));
                };
                let units: Vec<u16> = s.encode_utf16().collect();
                let int = |v: &Val, what: &str| -> R<Option<i64>> {
                    match v {
                        Val::Int(i) if *i < 0 => Err(Box::new(CypherError::Runtime(format!(
                            "{what} must be non-negative, but was {i}"
                        )))),
                        Val::Int(i) => Ok(Some(*i)),
                        Val::Null => Ok(None),
                        other => Err(type_error(&format!("{what} must be an INTEGER"), other)),
                    }
                };
                let n = units.len() as i64;
                let (from, len) = match f {
                    Substring => {
                        let Some(start) = int(&a[1], "start")? else {
                            return Ok(Val::Null);
                        };
                        let len = match a.get(2) {
                            Some(v) => match int(v, "length")? {
                                Some(l) => l,
                                None => return Ok(Val::Null),
                            },
                            None => i64::MAX,
                        };
                        (start.min(n), len)
                    }
                    Left => {
                        let Some(l) = int(&a[1], "length")? else {
                            return Ok(Val::Null);
                        };
                        (0, l)
                    }
                    _ => {
                        let Some(l) = int(&a[1], "length")? else {
                            return Ok(Val::Null);
                        };
                        ((n - l).max(0), l)
                    }
                };
                let to = from.saturating_add(len).min(n);
                Val::str(&String::from_utf16_lossy(
                    &units[from as usize..to as usize],
                ))
            }
            Split => match (&a[0], &a[1]) {
                (Val::Str(s), Val::Str(d)) => Val::List(
                    if d.is_empty() {
                        s.chars()
                            .map(|c| Val::str(&c.to_string()))
                            .collect::<Vec<_>>()
                    } else {
                        s.split(&**d).map(Val::str).collect::<Vec<_>>()
                    }
                    .into(),
                ),
                (_, Val::Null) => Val::Null,
                _ => {
                    return Err(Box::new(CypherError::Runtime(
                        "split() expects STRINGs".into(),
                    )));
                }
            },
            Range => {
                let mut ints = Vec::with_capacity(3);
                for v in a.drain(..) {
                    match v {
                        Val::Int(i) => ints.push(i),
                        other => {
                            return Err(type_error("range() expects INTEGERs", &other));
                        }
                    }
                }
                let (lo, hi, step) = (ints[0], ints[1], ints.get(2).copied().unwrap_or(1));
                if step == 0 {
                    return Err(Box::new(CypherError::Runtime(
                        "step argument to range() can't be 0".into(),
                    )));
                }
                let count = if (step > 0 && hi < lo) || (step < 0 && hi > lo) {
                    0
                } else {
                    ((hi as i128 - lo as i128) / step as i128 + 1) as u128
                };
                self.charge(count.min(u64::MAX as u128) as u64 * 16)?;
                self.tick((count >> 3).min(u64::MAX as u128) as u64)?;
                let mut out = Vec::with_capacity(count as usize);
                let mut x = lo as i128;
                for _ in 0..count {
                    out.push(Val::Int(x as i64));
                    x += step as i128;
                }
                Val::List(out.into())
            }
        })
    }
}

fn overflow() -> CypherError {
    CypherError::Runtime("integer overflow (long overflow)".into())
}

fn arith(op: ArOp, a: Val, b: Val) -> R<Val> {
    use Val::*;
    Ok(match (op, a, b) {
        (_, Null, _) | (_, _, Null) => Null,
        (ArOp::Add, Str(x), Str(y)) => Val::str(&format!("{x}{y}")),
        (ArOp::Add, Str(x), Int(y)) => Val::str(&format!("{x}{y}")),
        (ArOp::Add, Str(x), Float(y)) => Val::str(&format!("{x}{}", java_double(y))),
        (ArOp::Add, Int(x), Str(y)) => Val::str(&format!("{x}{y}")),
        (ArOp::Add, Float(x), Str(y)) => Val::str(&format!("{}{y}", java_double(x))),
        (ArOp::Add, Str(x), Bool(y)) => Val::str(&format!("{x}{y}")),
        (ArOp::Add, Bool(x), Str(y)) => Val::str(&format!("{x}{y}")),
        (ArOp::Add, List(x), List(y)) => {
            List(x.iter().chain(y.iter()).cloned().collect::<Vec<_>>().into())
        }
        (ArOp::Add, List(x), y) => List(
            x.iter()
                .cloned()
                .chain(std::iter::once(y))
                .collect::<Vec<_>>()
                .into(),
        ),
        (ArOp::Add, x, List(y)) => List(
            std::iter::once(x)
                .chain(y.iter().cloned())
                .collect::<Vec<_>>()
                .into(),
        ),
        (op, Int(x), Int(y)) => match op {
            ArOp::Add => Int(x.checked_add(y).ok_or_else(overflow)?),
            ArOp::Sub => Int(x.checked_sub(y).ok_or_else(overflow)?),
            ArOp::Mul => Int(x.checked_mul(y).ok_or_else(overflow)?),
            ArOp::Div => {
                if y == 0 {
                    return Err(Box::new(CypherError::Runtime("/ by zero".into())));
                }
                Int(x.checked_div(y).ok_or_else(overflow)?)
            }
            ArOp::Rem => {
                if y == 0 {
                    return Err(Box::new(CypherError::Runtime("/ by zero".into())));
                }
                Int(x.checked_rem(y).unwrap_or(0))
            }
            ArOp::Pow => Float((x as f64).powf(y as f64)),
        },
        (op, x @ (Int(_) | Float(_)), y @ (Int(_) | Float(_))) => {
            let f = |v: Val| match v {
                Int(i) => i as f64,
                Float(f) => f,
                _ => unreachable!("numbers only"),
            };
            let (x, y) = (f(x), f(y));
            Float(match op {
                ArOp::Add => x + y,
                ArOp::Sub => x - y,
                ArOp::Mul => x * y,
                ArOp::Div => x / y,
                ArOp::Rem => x % y,
                ArOp::Pow => x.powf(y),
            })
        }
        (_, x, y) => {
            return Err(Box::new(CypherError::Runtime(format!(
                "type mismatch: cannot apply an arithmetic operator to {} and {}",
                x.type_name(),
                y.type_name()
            ))));
        }
    })
}

/// `toInteger` of a float, as Neo4j's (a Java `(long)` cast): toward zero, saturating at the
/// ends of the integers, NaN to 0. Rust's `as` is the same cast.
fn float_to_int(x: f64) -> Val {
    Val::Int(x as i64)
}

/// `toInteger` of a string, as Neo4j's: a Java long (`Long.parseLong`: a sign and decimal
/// digits, no spaces), else a decimal (`BigDecimal`: a sign, digits, a fraction, an exponent)
/// taken toward zero, which must lie within the integers ("integer, s, is too large");
/// anything else is null.
fn parse_int(text: &str) -> R<Val> {
    // Java reads the digits of every script in the Basic Multilingual Plane (`'٣'` is 3).
    let s = &*ascii_digits(text);
    if let Ok(i) = s.parse::<i64>() {
        return Ok(Val::Int(i));
    }
    let Some((negative, digits, point)) = decimal(s) else {
        return Ok(Val::Null);
    };
    if digits.is_empty() {
        return Ok(Val::Int(0));
    }
    // The value is 0.digits * 10^point: the integer part is the first `point` digits.
    let too_large = || {
        Box::new(CypherError::Runtime(format!(
            "integer, {text}, is too large"
        )))
    };
    let whole = usize::try_from(point.max(0)).unwrap_or(usize::MAX);
    let (int, frac) = digits.split_at(whole.min(digits.len()));
    let zeros = whole.saturating_sub(digits.len());
    let fraction = frac.iter().any(|&d| d != 0);
    if int.len() + zeros > 19 {
        return Err(too_large());
    }
    let mut magnitude: u128 = 0;
    for &d in int {
        magnitude = magnitude * 10 + u128::from(d);
    }
    magnitude *= 10u128.pow(zeros as u32);
    let limit = if negative {
        1u128 << 63
    } else {
        (1u128 << 63) - 1
    };
    if magnitude > limit || (magnitude == limit && fraction) {
        return Err(too_large());
    }
    let m = magnitude as i128;
    Ok(Val::Int((if negative { -m } else { m }) as i64))
}

/// The first digit (zero) of each run of ten decimal digits (Unicode category Nd) in the Basic
/// Multilingual Plane: Java's `Character.digit(c, 10)` reads these, one UTF-16 unit at a time
/// (so digits outside the plane, two units each, are not digits to it).
const BMP_DIGIT_ZEROS: [u32; 37] = [
    0x0030, 0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6,
    0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80,
    0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0,
    0xFF10,
];

/// `s` with every decimal digit Java's `Character.digit(c, 10)` reads written as its ASCII
/// digit (borrowed when `s` is ASCII already).
fn ascii_digits(s: &str) -> std::borrow::Cow<'_, str> {
    if s.is_ascii() {
        return s.into();
    }
    s.chars()
        .map(|c| {
            let u = c as u32;
            let zero = BMP_DIGIT_ZEROS.partition_point(|&z| z <= u);
            match zero.checked_sub(1).map(|i| BMP_DIGIT_ZEROS[i]) {
                Some(z) if u - z < 10 => char::from(b'0' + (u - z) as u8),
                _ => c,
            }
        })
        .collect::<String>()
        .into()
}

/// A decimal as Java's `BigDecimal(String)` reads it: an optional sign, digits with an
/// optional point (at least one digit), an optional exponent. Gives the sign, the significant
/// digits (leading zeros dropped) and where the point goes: the value is `0.digits * 10^point`.
fn decimal(s: &str) -> Option<(bool, Vec<u8>, i64)> {
    let (negative, rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let exponent: i64 = match exponent {
        None => 0,
        Some(e) => {
            let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            // BigDecimal refuses exponents past 32 bits.
            i64::from(e.parse::<i32>().ok()?)
        }
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() && frac.is_empty()
        || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let all: Vec<u8> = int.bytes().chain(frac.bytes()).map(|b| b - b'0').collect();
    let lead = all.iter().take_while(|&&d| d == 0).count();
    let point = (int.len() as i64 - lead as i64).saturating_add(exponent);
    Some((negative, all[lead..].to_vec(), point))
}

/// `toFloat` of a string, as Neo4j's (Java's `Double.parseDouble`): surrounding spaces and
/// control characters are ignored; `NaN` and `Infinity` with an optional sign; a decimal with
/// an optional `f` or `d` suffix, or a hexadecimal float (`0x1.8p1`, [`hex_float`]). Anything
/// else is null.
fn parse_float(s: &str) -> Option<f64> {
    let t = s.trim_matches(|c: char| c <= ' ');
    let (sign, rest) = match t.as_bytes().first()? {
        b'-' => (-1.0, &t[1..]),
        b'+' => (1.0, &t[1..]),
        _ => (1.0, t),
    };
    match rest {
        "NaN" => return Some(f64::NAN),
        "Infinity" => return Some(sign * f64::INFINITY),
        _ => {}
    }
    let number = rest.strip_suffix(['f', 'F', 'd', 'D']).unwrap_or(rest);
    if let Some(hex) = number
        .strip_prefix("0x")
        .or_else(|| number.strip_prefix("0X"))
    {
        return hex_float(hex).map(|x| sign * x);
    }
    // Rust also reads `inf`, `nan` and a second sign, Java does not: digits, a point and an
    // exponent only.
    if number.starts_with(['+', '-'])
        || !number
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return None;
    }
    number.parse::<f64>().ok().map(|x| sign * x)
}

/// The digits of a hexadecimal float after its `0x`, as Java reads them: hex digits with an
/// optional point (at least one digit), then a binary exponent, `p` and a decimal integer
/// (required). Rounded to the nearest double (ties to even): the first 30 significant digits
/// are kept, and any nonzero digit past them is a sticky bit below those.
fn hex_float(h: &str) -> Option<f64> {
    let (significand, exponent) = h.split_once(['p', 'P'])?;
    let digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Past any double's range either way; saturating keeps the sign of a huge exponent.
    let mut exp: i64 = digits
        .bytes()
        .fold(0i64, |e, b| {
            e.saturating_mul(10).saturating_add(i64::from(b - b'0'))
        })
        .min(1 << 20);
    if exponent.starts_with('-') {
        exp = -exp;
    }
    let (int, frac) = significand.split_once('.').unwrap_or((significand, ""));
    if int.is_empty() && frac.is_empty()
        || !int
            .bytes()
            .chain(frac.bytes())
            .all(|b| b.is_ascii_hexdigit())
    {
        return None;
    }
    let (mut m, mut kept, mut dropped, mut sticky) = (0u128, 0u32, 0i64, false);
    for (i, b) in int.bytes().chain(frac.bytes()).enumerate() {
        let d = u128::from((b as char).to_digit(16)?);
        let fraction = i >= int.len();
        if kept < 30 && (m != 0 || d != 0) {
            m = m << 4 | d;
            kept += 1;
            if fraction {
                exp -= 4;
            }
        } else if m == 0 {
            // A leading zero: after the point it scales what follows.
            if fraction {
                exp -= 4;
            }
        } else {
            sticky |= d != 0;
            if !fraction {
                dropped += 1;
            }
        }
    }
    if m == 0 {
        return Some(0.0);
    }
    let mut x = (m | u128::from(sticky)) as f64;
    let mut e = exp + 4 * dropped;
    // Scaled in steps that stay exact until the last one.
    while e > 0 && x.is_finite() {
        let step = e.min(1000);
        x *= 2f64.powi(step as i32);
        e -= step;
    }
    while e < 0 && x != 0.0 {
        let step = e.max(-1000);
        x *= 2f64.powi(step as i32);
        e -= step;
    }
    Some(x)
}

/// A float as Java's `Double.toString` writes it (what Neo4j's `toString` returns).
pub(crate) fn java_double(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    if x == 0.0 {
        return if x.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    let a = x.abs();
    if (1e-3..1e7).contains(&a) {
        let s = format!("{x}");
        if s.contains('.') { s } else { format!("{s}.0") }
    } else {
        // Shortest digits in scientific form: d.dddE[-]n.
        let s = format!("{x:e}");
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let mantissa = if mantissa.contains('.') {
            mantissa.to_owned()
        } else {
            format!("{mantissa}.0")
        };
        format!("{mantissa}E{exp}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `toInteger` of a string: the integer, or None for null (an error fails the test).
    fn int(s: &str) -> Option<i64> {
        match parse_int(s) {
            Ok(Val::Int(i)) => Some(i),
            Ok(Val::Null) => None,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn floats_print_as_java_prints_them() {
        assert_eq!(java_double(1.0), "1.0");
        assert_eq!(java_double(0.1), "0.1");
        assert_eq!(java_double(1e7), "1.0E7");
        assert_eq!(java_double(1.5e-4), "1.5E-4");
        assert_eq!(java_double(-2.5e20), "-2.5E20");
    }

    #[test]
    fn arithmetic_checks_overflow_and_division_by_zero() {
        assert!(arith(ArOp::Add, Val::Int(i64::MAX), Val::Int(1)).is_err());
        assert!(arith(ArOp::Div, Val::Int(1), Val::Int(0)).is_err());
        assert!(matches!(
            arith(ArOp::Div, Val::Int(7), Val::Int(2)),
            Ok(Val::Int(3))
        ));
        assert!(
            matches!(arith(ArOp::Div, Val::Float(1.0), Val::Int(0)), Ok(Val::Float(f)) if f.is_infinite())
        );
        assert!(
            matches!(arith(ArOp::Add, Val::str("a"), Val::Int(1)), Ok(Val::Str(s)) if &*s == "a1")
        );
        assert!(matches!(
            arith(ArOp::Mul, Val::Null, Val::Int(1)),
            Ok(Val::Null)
        ));
    }

    /// What Neo4j 5.26 answered for each (the differential suite's Neo4j).
    #[test]
    fn to_integer_and_to_float_read_strings_and_floats_as_neo4j_does() {
        for (s, want) in [
            ("2.7", Some(2)),
            ("-2.7", Some(-2)),
            ("+5", Some(5)),
            ("5.", Some(5)),
            (".5", Some(0)),
            ("1e3", Some(1000)),
            ("1E+2", Some(100)),
            ("07", Some(7)),
            ("-0", Some(0)),
            ("9223372036854775807.0", Some(i64::MAX)),
            ("9223372036854775806.9", Some(i64::MAX - 1)),
            ("-9223372036854775808.0", Some(i64::MIN)),
            ("0e999", Some(0)),
            ("0.000", Some(0)),
            (" 3 ", None),
            ("3 ", None),
            ("NaN", None),
            ("Infinity", None),
            ("0x1F", None),
            ("1_000", None),
            ("1f", None),
            ("", None),
        ] {
            assert_eq!(int(s), want, "toInteger('{s}')");
        }
        for s in [
            "9.9e18",
            "1e30",
            "-1e30",
            "9223372036854775808",
            "9223372036854775807.5",
        ] {
            let e = parse_int(s).unwrap_err().to_string();
            assert_eq!(e, format!("integer, {s}, is too large"));
        }
        assert!(parse_int("-9223372036854775808.5").is_err());
        for (x, want) in [
            (9.9e18, i64::MAX),
            (-1e30, i64::MIN),
            (f64::INFINITY, i64::MAX),
            (f64::NAN, 0),
            (-2.9, -2),
        ] {
            assert!(matches!(float_to_int(x), Val::Int(i) if i == want), "{x}");
        }
        for (s, want) in [
            (" 3 ", Some(3.0)),
            ("Infinity", Some(f64::INFINITY)),
            ("+Infinity", Some(f64::INFINITY)),
            ("-Infinity", Some(f64::NEG_INFINITY)),
            ("1f", Some(1.0)),
            ("1d", Some(1.0)),
            ("-0", Some(-0.0)),
            ("1L", None),
            ("infinity", None),
            ("inf", None),
            ("0x10", None),
            (" ", None),
            ("+-5", None),
        ] {
            assert_eq!(parse_float(s), want, "toFloat('{s}')");
        }
        assert!(parse_float("NaN").is_some_and(f64::is_nan));
    }

    /// Java's `Long.parseLong` and `BigDecimal` read the decimal digits of every script in the
    /// Basic Multilingual Plane; `Double.parseDouble` reads ASCII digits only, and hexadecimal
    /// floats. Each answer is what Neo4j 5.26 (the bench's) answered.
    #[test]
    fn to_integer_reads_any_scripts_digits_and_to_float_reads_hexadecimal_floats() {
        for (s, want) in [
            ("\u{663}", Some(3)),
            ("-\u{661}\u{662}", Some(-12)),
            ("\u{663}.\u{665}", Some(3)),
            ("\u{967}e\u{662}", Some(100)),
            ("\u{ff17}", Some(7)),
            // Outside the plane: two UTF-16 units, neither a digit to Java.
            ("\u{1d7d1}", None),
            ("\u{663}x", None),
        ] {
            assert_eq!(int(s), want, "toInteger('{s}')");
        }
        assert_eq!(parse_float("\u{663}"), None);
        for (s, want) in [
            ("0x1p3", Some(8.0)),
            ("0X1.8P1", Some(3.0)),
            ("-0x.8p0", Some(-0.5)),
            ("0x1.p1", Some(2.0)),
            ("0x1p3d", Some(8.0)),
            ("0x1fp0f", Some(31.0)),
            ("0x0p0", Some(0.0)),
            ("0x00010p-4", Some(1.0)),
            ("0x1p-1074", Some(f64::from_bits(1))),
            ("0x1p-1080", Some(0.0)),
            ("0x1p1024", Some(f64::INFINITY)),
            ("0x1.fffffffffffffp1023", Some(f64::MAX)),
            // Halfway between the largest double below 2 and 2: to even, 2.
            ("0x1.fffffffffffff8p0", Some(2.0)),
            // Just past halfway, by a digit past the thirtieth: up.
            (
                "0x1.000000000000080000000000000001p0",
                Some(1.0 + f64::EPSILON),
            ),
            ("0x1.00000000000008p0", Some(1.0)),
            ("0x1", None),
            ("0x1f", None),
            ("0x.p1", None),
            ("0xp1", None),
            ("0x1p", None),
            ("0x1p+", None),
            ("0x-1p0", None),
            ("0x1g", None),
        ] {
            assert_eq!(parse_float(s), want, "toFloat('{s}')");
        }
    }
}

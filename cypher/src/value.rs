//! Runtime values and Cypher's rules for them: equality (with `null`), comparison (`null` across
//! types), the total order of ORDER BY / min / max, and grouping equivalence.

use std::cmp::Ordering;
use std::sync::Arc;

use neotrav_wire::cypher::Value as Wire;

/// A value in a row. Nodes and relationships are snapshot indices; strings, lists and maps are
/// shared so that copying a row is cheap.
#[derive(Debug, Clone)]
pub(crate) enum Val {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Arc<str>),
    List(Arc<[Val]>),
    Map(Arc<[(Arc<str>, Val)]>),
    Node(u32),
    Rel(Rel),
    Path(Arc<PathVal>),
}

/// A relationship: its index in the snapshot and its ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Rel {
    pub idx: u32,
    pub start: u32,
    pub end: u32,
}

impl Rel {
    /// The end that is not `n` (`n` itself for a self-loop), for `n` one of its ends.
    #[inline]
    pub fn other(&self, n: u32) -> u32 {
        if self.start == n {
            self.end
        } else {
            self.start
        }
    }
}

/// A path: nodes, and one relationship fewer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PathVal {
    pub nodes: Vec<u32>,
    pub rels: Vec<Rel>,
}

impl Val {
    pub fn str(s: &str) -> Val {
        Val::Str(Arc::from(s))
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Val::Null)
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Val::Null => "NULL",
            Val::Bool(_) => "BOOLEAN",
            Val::Int(_) => "INTEGER",
            Val::Float(_) => "FLOAT",
            Val::Str(_) => "STRING",
            Val::List(_) => "LIST",
            Val::Map(_) => "MAP",
            Val::Node(_) => "NODE",
            Val::Rel(_) => "RELATIONSHIP",
            Val::Path(_) => "PATH",
        }
    }

    /// A parameter, from the wire model.
    pub fn from_param(v: &Wire) -> Result<Val, String> {
        Ok(match v {
            Wire::Null => Val::Null,
            Wire::Bool(b) => Val::Bool(*b),
            Wire::Int(i) => Val::Int(*i),
            Wire::Float(x) => Val::Float(*x),
            Wire::String(s) => Val::str(s),
            Wire::List(l) => Val::List(
                l.iter()
                    .map(Val::from_param)
                    .collect::<Result<Vec<_>, _>>()?
                    .into(),
            ),
            Wire::Map(m) => Val::Map(
                m.iter()
                    .map(|(k, v)| Ok((Arc::from(k.as_str()), Val::from_param(v)?)))
                    .collect::<Result<Vec<_>, String>>()?
                    .into(),
            ),
            Wire::Node(_) | Wire::Relationship(_) | Wire::Path(_) => {
                return Err("nodes, relationships and paths cannot be parameters".into());
            }
            Wire::Other { type_name, .. } => {
                return Err(format!(
                    "{type_name} parameters are not supported by the snapshot"
                ));
            }
        })
    }

    /// Bytes this value holds beyond its own 16 (for the memory budget).
    pub fn heap_bytes(&self) -> u64 {
        match self {
            Val::Str(s) => s.len() as u64 + 16,
            Val::List(l) => 16 + l.iter().map(|v| 24 + v.heap_bytes()).sum::<u64>(),
            Val::Map(m) => {
                16 + m
                    .iter()
                    .map(|(k, v)| 40 + k.len() as u64 + v.heap_bytes())
                    .sum::<u64>()
            }
            Val::Path(p) => 48 + 4 * p.nodes.len() as u64 + 12 * p.rels.len() as u64,
            _ => 0,
        }
    }
}

/// Cypher `=`: `None` is null.
pub(crate) fn equals(a: &Val, b: &Val) -> Option<bool> {
    use Val::*;
    Some(match (a, b) {
        (Null, _) | (_, Null) => return None,
        (Bool(x), Bool(y)) => x == y,
        (Int(x), Int(y)) => x == y,
        (Float(x), Float(y)) => x == y,
        (Int(x), Float(y)) | (Float(y), Int(x)) => int_float_eq(*x, *y),
        (Str(x), Str(y)) => x == y,
        (List(x), List(y)) => {
            if x.len() != y.len() {
                return Some(false);
            }
            let mut unknown = false;
            for (p, q) in x.iter().zip(y.iter()) {
                match equals(p, q) {
                    Some(false) => return Some(false),
                    None => unknown = true,
                    Some(true) => {}
                }
            }
            return if unknown { None } else { Some(true) };
        }
        (Map(x), Map(y)) => {
            if x.len() != y.len() {
                return Some(false);
            }
            let mut unknown = false;
            for (k, p) in x.iter() {
                let Some((_, q)) = y.iter().find(|(k2, _)| k2 == k) else {
                    return Some(false);
                };
                match equals(p, q) {
                    Some(false) => return Some(false),
                    None => unknown = true,
                    Some(true) => {}
                }
            }
            return if unknown { None } else { Some(true) };
        }
        (Node(x), Node(y)) => x == y,
        (Rel(x), Rel(y)) => x.idx == y.idx,
        (Path(x), Path(y)) => x == y,
        _ => false,
    })
}

fn int_float_eq(i: i64, f: f64) -> bool {
    // Exact: compare in i128 space when f is integral and in range.
    f.fract() == 0.0
        && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f)
        && f as i64 == i
}

fn int_float_cmp(i: i64, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    if f >= 9.223_372_036_854_776e18 {
        return Some(Ordering::Less);
    }
    if f < -9.223_372_036_854_776e18 {
        return Some(Ordering::Greater);
    }
    let t = f.trunc();
    match i.cmp(&(t as i64)) {
        Ordering::Equal => (0.0).partial_cmp(&(f - t)),
        o => Some(o),
    }
}

/// Cypher `<` and friends: `None` is null (different types, NaN, null).
pub(crate) fn compare(a: &Val, b: &Val) -> Option<Ordering> {
    use Val::*;
    match (a, b) {
        (Int(x), Int(y)) => Some(x.cmp(y)),
        (Float(x), Float(y)) => x.partial_cmp(y),
        (Int(x), Float(y)) => int_float_cmp(*x, *y),
        (Float(x), Int(y)) => int_float_cmp(*y, *x).map(Ordering::reverse),
        (Str(x), Str(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (Bool(x), Bool(y)) => Some(x.cmp(y)),
        (List(x), List(y)) => {
            for (p, q) in x.iter().zip(y.iter()) {
                match compare(p, q)? {
                    Ordering::Equal => {}
                    o => return Some(o),
                }
            }
            Some(x.len().cmp(&y.len()))
        }
        _ => None,
    }
}

/// The rank of a type in Cypher's global sort order (ascending).
fn rank(v: &Val) -> u8 {
    match v {
        Val::Map(_) => 0,
        Val::Node(_) => 1,
        Val::Rel(_) => 2,
        Val::List(_) => 3,
        Val::Path(_) => 4,
        Val::Str(_) => 5,
        Val::Bool(_) => 6,
        Val::Int(_) | Val::Float(_) => 7,
        Val::Null => 9,
    }
}

/// ORDER BY's total order (also min and max): by type as Cypher ranks them, numbers together
/// with NaN after every other number, null last.
pub(crate) fn order(a: &Val, b: &Val) -> Ordering {
    use Val::*;
    let (ra, rb) = (rank(a), rank(b));
    if ra != rb {
        return ra.cmp(&rb);
    }
    match (a, b) {
        (Int(x), Int(y)) => x.cmp(y),
        (Float(x), Float(y)) => float_order(*x, *y),
        (Int(x), Float(y)) => {
            if y.is_nan() {
                Ordering::Less
            } else {
                int_float_cmp(*x, *y).unwrap_or(Ordering::Equal)
            }
        }
        (Float(x), Int(y)) => {
            if x.is_nan() {
                Ordering::Greater
            } else {
                int_float_cmp(*y, *x).unwrap_or(Ordering::Equal).reverse()
            }
        }
        (Str(x), Str(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Bool(x), Bool(y)) => x.cmp(y),
        (List(x), List(y)) => {
            for (p, q) in x.iter().zip(y.iter()) {
                match order(p, q) {
                    Ordering::Equal => {}
                    o => return o,
                }
            }
            x.len().cmp(&y.len())
        }
        (Node(x), Node(y)) => x.cmp(y),
        (Rel(x), Rel(y)) => x.idx.cmp(&y.idx),
        (Path(x), Path(y)) => x.nodes.cmp(&y.nodes).then_with(|| {
            x.rels
                .iter()
                .map(|r| r.idx)
                .cmp(y.rels.iter().map(|r| r.idx))
        }),
        (Map(x), Map(y)) => {
            let mut kx: Vec<_> = x.iter().collect();
            let mut ky: Vec<_> = y.iter().collect();
            kx.sort_by(|a, b| a.0.cmp(&b.0));
            ky.sort_by(|a, b| a.0.cmp(&b.0));
            for ((k1, v1), (k2, v2)) in kx.iter().zip(ky.iter()) {
                match k1.cmp(k2).then_with(|| order(v1, v2)) {
                    Ordering::Equal => {}
                    o => return o,
                }
            }
            kx.len().cmp(&ky.len())
        }
        _ => Ordering::Equal,
    }
}

fn float_order(x: f64, y: f64) -> Ordering {
    match (x.is_nan(), y.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
    }
}

/// Appends a canonical encoding of `v` to `out`: two values are equivalent for grouping and
/// DISTINCT (null equals null, 1 equals 1.0, NaN equals NaN) exactly when their encodings are equal.
pub(crate) fn group_key(v: &Val, out: &mut Vec<u8>) {
    match v {
        Val::Null => out.push(0),
        Val::Bool(b) => out.extend([1, *b as u8]),
        Val::Int(i) => {
            out.push(2);
            out.extend(i.to_le_bytes());
        }
        Val::Float(f) => {
            if f.fract() == 0.0 && *f >= -9.223_372_036_854_776e18 && *f < 9.223_372_036_854_776e18
            {
                out.push(2);
                out.extend((*f as i64).to_le_bytes());
            } else if f.is_nan() {
                out.push(3);
            } else {
                out.push(4);
                out.extend(f.to_bits().to_le_bytes());
            }
        }
        Val::Str(s) => {
            out.push(5);
            out.extend((s.len() as u64).to_le_bytes());
            out.extend(s.as_bytes());
        }
        Val::List(l) => {
            out.push(6);
            out.extend((l.len() as u64).to_le_bytes());
            for x in l.iter() {
                group_key(x, out);
            }
        }
        Val::Map(m) => {
            out.push(7);
            out.extend((m.len() as u64).to_le_bytes());
            let mut entries: Vec<_> = m.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            for (k, x) in entries {
                out.extend((k.len() as u64).to_le_bytes());
                out.extend(k.as_bytes());
                group_key(x, out);
            }
        }
        Val::Node(n) => {
            out.push(8);
            out.extend(n.to_le_bytes());
        }
        Val::Rel(r) => {
            out.push(9);
            out.extend(r.idx.to_le_bytes());
        }
        Val::Path(p) => {
            out.push(10);
            out.extend((p.nodes.len() as u64).to_le_bytes());
            for n in &p.nodes {
                out.extend(n.to_le_bytes());
            }
            for r in &p.rels {
                out.extend(r.idx.to_le_bytes());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equality_and_comparison_follow_cypher() {
        assert_eq!(equals(&Val::Int(1), &Val::Float(1.0)), Some(true));
        assert_eq!(equals(&Val::Int(1), &Val::str("1")), Some(false));
        assert_eq!(equals(&Val::Int(1), &Val::Null), None);
        assert_eq!(
            equals(&Val::Float(f64::NAN), &Val::Float(f64::NAN)),
            Some(false)
        );
        assert_eq!(compare(&Val::Int(1), &Val::str("a")), None);
        assert_eq!(
            compare(&Val::Int(2), &Val::Float(1.5)),
            Some(Ordering::Greater)
        );
        assert_eq!(
            compare(&Val::Int(i64::MAX), &Val::Float(9.3e18)),
            Some(Ordering::Less)
        );
        let l = |v: Vec<Val>| Val::List(v.into());
        assert_eq!(
            equals(
                &l(vec![Val::Int(1), Val::Null]),
                &l(vec![Val::Int(2), Val::Null])
            ),
            Some(false)
        );
        assert_eq!(
            equals(
                &l(vec![Val::Int(1), Val::Null]),
                &l(vec![Val::Int(1), Val::Null])
            ),
            None
        );
    }

    #[test]
    fn the_sort_order_ranks_types_and_puts_nan_and_null_last() {
        let mut v = [
            Val::Null,
            Val::Float(f64::NAN),
            Val::Int(3),
            Val::str("b"),
            Val::Bool(true),
            Val::Float(2.5),
            Val::Node(0),
        ];
        v.sort_by(order);
        let names: Vec<_> = v.iter().map(|x| format!("{x:?}")).collect();
        assert_eq!(
            names,
            [
                "Node(0)",
                "Str(\"b\")",
                "Bool(true)",
                "Float(2.5)",
                "Int(3)",
                "Float(NaN)",
                "Null"
            ]
        );
    }

    #[test]
    fn grouping_treats_integral_floats_as_integers() {
        let key = |v: &Val| {
            let mut k = Vec::new();
            group_key(v, &mut k);
            k
        };
        assert_eq!(key(&Val::Int(1)), key(&Val::Float(1.0)));
        assert_ne!(key(&Val::Int(1)), key(&Val::Float(1.5)));
        assert_eq!(key(&Val::Float(f64::NAN)), key(&Val::Float(-f64::NAN)));
        assert_ne!(key(&Val::str("")), key(&Val::Null));
    }
}

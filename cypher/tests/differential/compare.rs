//! Comparing two answers: normalised values, rows as multisets or in order.

use std::cmp::Ordering;
use std::fmt::Write;

use neotrav_cypher::AnswerValue as Value;

/// How one returned column is compared.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Col {
    /// A `collect`: its list is compared as a multiset.
    pub unordered: bool,
    /// A `shortestPath` path: compared by length (which path among ties is not defined).
    pub path_length: bool,
}

/// How rows are compared.
#[derive(Debug, Clone, Default)]
pub struct Shape {
    pub cols: Vec<Col>,
    /// ORDER BY columns: the sequence of their values must be equal.
    pub order: Vec<usize>,
    /// The ORDER BY keys are all the returned columns: rows equal in order, but for ties (below).
    pub total: bool,
    /// SKIP or LIMIT applies. Without ORDER BY the rows are not defined, only their number.
    /// Under ORDER BY the first and the last tie group may be cut short: which of their tied
    /// rows are kept is not defined.
    pub limited: bool,
    /// An integer and a float of the same value are the same value (`2` is `2.0`): for
    /// statements whose answer keeps one representative of several equal values (`DISTINCT`,
    /// grouping keys, `min`/`max`), which Cypher leaves to the order rows are met in.
    pub numbers_by_value: bool,
}

/// A value reduced to what both sides must agree on.
#[derive(Debug, Clone)]
pub enum Norm {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<Norm>),
    Map(Vec<(String, Norm)>),
    Node {
        id: String,
        labels: Vec<String>,
        props: Vec<(String, Norm)>,
    },
    Rel {
        id: String,
        start: String,
        end: String,
        ty: String,
    },
    Path(Vec<Norm>),
    Other(String),
}

/// Normalises one value: node properties cut to the exported keys, labels sorted, relationship
/// properties dropped (the snapshot holds none), maps sorted by key.
pub fn norm(v: &Value, col: Col, exported: &[&str]) -> Norm {
    let plain = Col::default();
    match v {
        Value::Null => Norm::Null,
        Value::Bool(b) => Norm::Bool(*b),
        Value::Int(i) => Norm::Int(*i),
        Value::Float(x) => Norm::Float(*x),
        Value::String(s) => Norm::Str(s.clone()),
        Value::List(l) => {
            let mut items: Vec<Norm> = l.iter().map(|v| norm(v, plain, exported)).collect();
            if col.unordered {
                items.sort_by(order);
            }
            Norm::List(items)
        }
        Value::Map(m) => {
            let mut items: Vec<(String, Norm)> = m
                .iter()
                .map(|(k, v)| (k.clone(), norm(v, plain, exported)))
                .collect();
            items.sort_by(|a, b| a.0.cmp(&b.0));
            Norm::Map(items)
        }
        Value::Node(n) => {
            let mut labels = n.labels.clone();
            labels.sort();
            let mut props: Vec<(String, Norm)> = n
                .properties
                .iter()
                .filter(|(k, _)| !labels.is_empty() && exported.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), norm(v, plain, exported)))
                .collect();
            props.sort_by(|a, b| a.0.cmp(&b.0));
            Norm::Node {
                id: n.element_id.clone(),
                labels,
                props,
            }
        }
        Value::Relationship(r) => Norm::Rel {
            id: r.element_id.clone(),
            start: r.start_node_element_id.clone(),
            end: r.end_node_element_id.clone(),
            ty: r.rel_type.clone(),
        },
        Value::Path(p) if col.path_length => Norm::Int(p.relationships.len() as i64),
        Value::Path(p) => {
            let mut items = Vec::new();
            for (i, n) in p.nodes.iter().enumerate() {
                items.push(norm(&Value::Node(n.clone()), plain, exported));
                if let Some(r) = p.relationships.get(i) {
                    items.push(norm(&Value::Relationship(r.clone()), plain, exported));
                }
            }
            Norm::Path(items)
        }
        Value::Other { type_name, text } => Norm::Other(format!("{type_name}:{text}")),
    }
}

fn rank(n: &Norm) -> u8 {
    match n {
        Norm::Null => 0,
        Norm::Bool(_) => 1,
        Norm::Int(_) | Norm::Float(_) => 2,
        Norm::Str(_) => 3,
        Norm::List(_) => 4,
        Norm::Map(_) => 5,
        Norm::Node { .. } => 6,
        Norm::Rel { .. } => 7,
        Norm::Path(_) => 8,
        Norm::Other(_) => 9,
    }
}

/// A total order for sorting normalised values (floats rounded, so that values within the
/// tolerance sort together; an integer before a float of the same value).
pub fn order(a: &Norm, b: &Norm) -> Ordering {
    order_by(a, b, true)
}

/// Whether two values tie under ORDER BY: equal in Cypher's order, where an integer and a float
/// of the same value are equal numbers (`2` ties `2.0`), as do NaNs (floats rounded as in
/// [`order`]).
pub fn tie(a: &Norm, b: &Norm) -> bool {
    order_by(a, b, false) == Ordering::Equal
}

/// [`order`], or with `exact` false Cypher's order of numbers by value alone.
fn order_by(a: &Norm, b: &Norm, exact: bool) -> Ordering {
    use Norm::*;
    fn num(n: &Norm) -> f64 {
        match n {
            Int(i) => *i as f64,
            Float(x) => round(*x),
            _ => 0.0,
        }
    }
    match (a, b) {
        (Bool(x), Bool(y)) => x.cmp(y),
        (Int(x), Int(y)) => x.cmp(y),
        (Int(_) | Float(_), Int(_) | Float(_)) => {
            let (x, y) = (num(a), num(b));
            // NaN after every number, as Cypher orders it; -0.0 equals 0.0.
            let by_value = match (x.is_nan(), y.is_nan()) {
                (false, false) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
                (p, q) => p.cmp(&q),
            };
            if !exact {
                return by_value;
            }
            by_value.then_with(|| matches!(a, Float(_)).cmp(&matches!(b, Float(_))))
        }
        (Str(x), Str(y)) => x.cmp(y),
        (List(x), List(y)) | (Path(x), Path(y)) => list_order(x, y, exact),
        (Map(x), Map(y)) => {
            for ((ka, va), (kb, vb)) in x.iter().zip(y) {
                let o = ka.cmp(kb).then_with(|| order_by(va, vb, exact));
                if o != Ordering::Equal {
                    return o;
                }
            }
            x.len().cmp(&y.len())
        }
        (Node { id: x, .. }, Node { id: y, .. }) => x.cmp(y),
        (Rel { id: x, .. }, Rel { id: y, .. }) => x.cmp(y),
        (Other(x), Other(y)) => x.cmp(y),
        _ => rank(a).cmp(&rank(b)),
    }
}

fn list_order(x: &[Norm], y: &[Norm], exact: bool) -> Ordering {
    for (a, b) in x.iter().zip(y) {
        let o = order_by(a, b, exact);
        if o != Ordering::Equal {
            return o;
        }
    }
    x.len().cmp(&y.len())
}

fn round(x: f64) -> f64 {
    // One NaN: a NaN with its sign bit set (as 0.0 / 0.0 gives on x86) sorts first otherwise.
    if x.is_nan() {
        return f64::NAN;
    }
    if !x.is_finite() || x == 0.0 {
        return x;
    }
    let digits = 9 - x.abs().log10().floor() as i32;
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

/// 2^63, the first float past every i64.
const TWO_63: f64 = (1u64 << 63) as f64;

/// Equal within a tiny relative tolerance for floats; an integer never equals a float, but
/// with `by_value` one equals a float of exactly its value.
fn same_by(a: &Norm, b: &Norm, by_value: bool) -> bool {
    use Norm::*;
    let same = |a: &Norm, b: &Norm| same_by(a, b, by_value);
    match (a, b) {
        (Null, Null) => true,
        (Int(i), Float(x)) | (Float(x), Int(i)) if by_value => {
            // Exactly: 2^63 as a float is no i64.
            x.fract() == 0.0 && *x >= -TWO_63 && *x < TWO_63 && *x as i64 == *i
        }
        (Bool(x), Bool(y)) => x == y,
        (Int(x), Int(y)) => x == y,
        (Float(x), Float(y)) => {
            (x.is_nan() && y.is_nan())
                || x == y
                || (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1e-300)
        }
        (Str(x), Str(y)) => x == y,
        (List(x), List(y)) | (Path(x), Path(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Map(x), Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, va), (kb, vb))| ka == kb && same(va, vb))
        }
        (
            Node {
                id: i1,
                labels: l1,
                props: p1,
            },
            Node {
                id: i2,
                labels: l2,
                props: p2,
            },
        ) => {
            i1 == i2
                && l1 == l2
                && p1.len() == p2.len()
                && p1
                    .iter()
                    .zip(p2)
                    .all(|((ka, va), (kb, vb))| ka == kb && same(va, vb))
        }
        (
            Rel {
                id: i1,
                start: s1,
                end: e1,
                ty: t1,
            },
            Rel {
                id: i2,
                start: s2,
                end: e2,
                ty: t2,
            },
        ) => i1 == i2 && s1 == s2 && e1 == e2 && t1 == t2,
        (Other(x), Other(y)) => x == y,
        _ => false,
    }
}

/// Rows in a total order; with `by_value`, numbers by value alone, so that rows equal by value
/// sort together.
fn row_order(a: &[Norm], b: &[Norm], by_value: bool) -> Ordering {
    list_order(a, b, !by_value)
}

fn rows_same(a: &[Vec<Norm>], b: &[Vec<Norm>], by_value: bool) -> Option<usize> {
    if a.len() != b.len() {
        return Some(a.len().min(b.len()));
    }
    a.iter().zip(b).position(|(x, y)| {
        x.len() != y.len() || !x.iter().zip(y).all(|(p, q)| same_by(p, q, by_value))
    })
}

/// Compares Neo4j's rows with the snapshot's; `Err` describes the first difference.
pub fn compare(
    shape: &Shape,
    neo: &[Vec<Value>],
    snap: &[Vec<Value>],
    exported: &[&str],
) -> Result<(), String> {
    let n = |rows: &[Vec<Value>]| -> Vec<Vec<Norm>> {
        rows.iter()
            .map(|r| {
                r.iter()
                    .enumerate()
                    .map(|(i, v)| norm(v, shape.cols.get(i).copied().unwrap_or_default(), exported))
                    .collect()
            })
            .collect()
    };
    let (a, b) = (n(neo), n(snap));
    let by_value = shape.numbers_by_value;
    if a.len() != b.len() {
        return Err(format!(
            "Neo4j has {} rows, the snapshot {}",
            a.len(),
            b.len()
        ));
    }
    if !shape.order.is_empty() {
        ordered(shape, &a, &b)?;
        if shape.total || shape.limited {
            return Ok(());
        }
    } else if shape.total {
        // In order without sort keys (the TCK's `in order`): no ties to know of.
        if let Some(i) = rows_same(&a, &b, by_value) {
            return Err(format!("rows (in order) differ at row {i}"));
        }
        return Ok(());
    } else if shape.limited {
        return Ok(());
    }
    let (mut a, mut b) = (a, b);
    a.sort_by(|x, y| row_order(x, y, by_value));
    b.sort_by(|x, y| row_order(x, y, by_value));
    if let Some(i) = rows_same(&a, &b, by_value) {
        return Err(format!(
            "rows (as multisets, sorted) differ at sorted row {i}"
        ));
    }
    Ok(())
}

/// Rows sorted by ORDER BY: the sequence of sort keys must match, where rows whose keys tie
/// (Cypher orders `2` and `2.0` as equal numbers) form a group whose order is not defined: each
/// group is compared as a multiset, of its keys, or of its rows when the order is total. Under
/// SKIP/LIMIT the first and last groups may be cut anywhere among their tied rows: when their
/// keys differ only within the tie, only the group's size is compared.
fn ordered(shape: &Shape, a: &[Vec<Norm>], b: &[Vec<Norm>]) -> Result<(), String> {
    let keys = |rows: &[Vec<Norm>]| -> Vec<Vec<Norm>> {
        rows.iter()
            .map(|r| shape.order.iter().map(|&i| r[i].clone()).collect())
            .collect()
    };
    let (ka, kb) = (keys(a), keys(b));
    let key_tie = |x: &[Norm], y: &[Norm]| x.iter().zip(y).all(|(p, q)| tie(p, q));
    // Runs of consecutive tied keys.
    let groups = |k: &[Vec<Norm>]| -> Vec<std::ops::Range<usize>> {
        let mut out: Vec<std::ops::Range<usize>> = Vec::new();
        for i in 0..k.len() {
            match out.last_mut() {
                Some(g) if key_tie(&k[g.start], &k[i]) => g.end = i + 1,
                _ => out.push(i..i + 1),
            }
        }
        out
    };
    let (ga, gb) = (groups(&ka), groups(&kb));
    let by_value = shape.numbers_by_value;
    let sorted = |rows: &[Vec<Norm>]| {
        let mut v = rows.to_vec();
        v.sort_by(|x, y| row_order(x, y, by_value));
        v
    };
    let last = ga.len().saturating_sub(1);
    for (i, (ra, rb)) in ga.iter().zip(&gb).enumerate() {
        if ra != rb || !key_tie(&ka[ra.start], &kb[rb.start]) {
            return Err(format!(
                "sort keys differ at row {}",
                ra.start.min(rb.start)
            ));
        }
        let cut = shape.limited && (i == 0 || i == last);
        let keys_same =
            rows_same(&sorted(&ka[ra.clone()]), &sorted(&kb[rb.clone()]), by_value).is_none();
        if !keys_same {
            if cut {
                continue;
            }
            return Err(format!(
                "sort keys (tied, as multisets) differ in rows {}..{}",
                ra.start, ra.end
            ));
        }
        if shape.total
            && let Some(j) = rows_same(&sorted(&a[ra.clone()]), &sorted(&b[rb.clone()]), by_value)
        {
            return Err(format!(
                "rows (in order, ties as multisets) differ in rows {}..{} (sorted row {j} of them)",
                ra.start, ra.end
            ));
        }
    }
    if ga.len() != gb.len() {
        let at = ga.get(gb.len()).or(gb.get(ga.len())).map_or(0, |g| g.start);
        return Err(format!("sort keys differ at row {at}"));
    }
    Ok(())
}

/// Rows for a message, at most `max`.
pub fn show(rows: &[Vec<Value>], max: usize) -> String {
    let mut s = String::new();
    for r in rows.iter().take(max) {
        let cells: Vec<String> = r
            .iter()
            .map(|v| v.encode(neotrav_wire::cypher::Encoding::Plain).to_string())
            .collect();
        let _ = writeln!(s, "    [{}]", cells.join(", "));
    }
    if rows.len() > max {
        let _ = writeln!(s, "    ... {} rows in all", rows.len());
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(total: bool, limited: bool) -> Shape {
        Shape {
            cols: Vec::new(),
            order: vec![0],
            total,
            limited,
            numbers_by_value: false,
        }
    }

    fn rows(v: &[(Value, i64)]) -> Vec<Vec<Value>> {
        v.iter()
            .map(|(k, x)| vec![k.clone(), Value::Int(*x)])
            .collect()
    }

    #[test]
    fn order_by_ties_of_an_int_and_an_equal_float_are_compared_as_multisets() {
        use Value::{Float as F, Int as I};
        let neo = rows(&[(I(1), 0), (I(2), 1), (F(2.0), 2), (I(3), 3)]);
        let snap = rows(&[(I(1), 0), (F(2.0), 2), (I(2), 1), (I(3), 3)]);
        // Ordered on the first column only, and (with the second as a key too) as if total.
        assert_eq!(compare(&shape(false, false), &neo, &snap, &[]), Ok(()));
        let total = Shape {
            order: vec![0],
            ..shape(true, false)
        };
        assert_eq!(compare(&total, &neo, &snap, &[]), Ok(()));
        // The tie holds the same rows: swapping the second column's values is a difference.
        let wrong = rows(&[(I(1), 0), (F(2.0), 1), (I(2), 2), (I(3), 3)]);
        assert!(compare(&total, &neo, &wrong, &[]).is_err());
        // Out of order across groups, or an int where Neo4j has a float outside any tie.
        let swapped = rows(&[(I(2), 1), (I(1), 0), (F(2.0), 2), (I(3), 3)]);
        assert!(compare(&shape(false, false), &neo, &swapped, &[]).is_err());
        let typed = rows(&[(I(1), 0), (I(2), 1), (F(2.0), 2), (F(3.0), 3)]);
        assert!(compare(&shape(false, false), &neo, &typed, &[]).is_err());
    }

    #[test]
    fn an_order_without_sort_keys_is_compared_row_by_row() {
        let in_order = Shape {
            cols: Vec::new(),
            order: Vec::new(),
            total: true,
            limited: false,
            numbers_by_value: false,
        };
        let neo = rows(&[(Value::Int(1), 0), (Value::Int(2), 1)]);
        let snap = rows(&[(Value::Int(2), 1), (Value::Int(1), 0)]);
        assert!(compare(&in_order, &neo, &snap, &[]).is_err());
        assert_eq!(compare(&in_order, &neo, &neo, &[]), Ok(()));
    }

    #[test]
    fn a_limit_may_cut_the_last_tie_group_anywhere() {
        use Value::{Float as F, Int as I};
        let neo = rows(&[(I(1), 0), (I(2), 1)]);
        let snap = rows(&[(I(1), 0), (F(2.0), 2)]);
        assert_eq!(compare(&shape(true, true), &neo, &snap, &[]), Ok(()));
        // Not without the LIMIT, and not in a group the LIMIT cannot have cut.
        assert!(compare(&shape(true, false), &neo, &snap, &[]).is_err());
        let neo = rows(&[(I(1), 0), (I(2), 1), (I(3), 3)]);
        let snap = rows(&[(I(1), 0), (F(2.0), 2), (I(3), 3)]);
        assert!(compare(&shape(true, true), &neo, &snap, &[]).is_err());
        // A cut group keeps its size.
        let neo = rows(&[(I(1), 0), (I(2), 1)]);
        let snap = rows(&[(I(1), 0), (I(3), 3)]);
        assert!(compare(&shape(true, true), &neo, &snap, &[]).is_err());
    }

    #[test]
    fn numbers_by_value_take_two_and_two_point_zero_as_one_representative() {
        use Value::{Float as F, Int as I, String as S};
        let row = |k: Value, s: &str| vec![k, S(s.into())];
        let neo = vec![row(I(2), "a"), row(F(3.0), "b")];
        let snap = vec![row(F(2.0), "a"), row(I(3), "b")];
        let exact = Shape::default();
        assert!(compare(&exact, &neo, &snap, &[]).is_err());
        let loose = Shape {
            numbers_by_value: true,
            ..Shape::default()
        };
        assert_eq!(compare(&loose, &neo, &snap, &[]), Ok(()));
        // Still by value: 2.5 is no 2, and the rows keep their pairing.
        let off = vec![row(F(2.5), "a"), row(I(3), "b")];
        assert!(compare(&loose, &neo, &off, &[]).is_err());
        let swapped = vec![row(F(2.0), "b"), row(I(3), "a")];
        assert!(compare(&loose, &neo, &swapped, &[]).is_err());
        let huge = vec![vec![I(i64::MAX)]];
        assert!(compare(&loose, &huge, &[vec![F(TWO_63)]], &[]).is_err());
    }
}

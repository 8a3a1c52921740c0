//! The clause pipeline: rows are pushed through the clauses one at a time, so `LIMIT` stops the
//! matching that feeds it and only aggregation and sorting hold rows (sorting under a `LIMIT`
//! keeps at most about twice the rows it will return).

use std::cell::RefCell;
use std::cmp::Ordering;

use hashbrown::{HashMap, HashSet};

use crate::error::CypherError;
use crate::exec::{Ctx, Row};
use crate::expr::{AggFunc, Expr};
use crate::ir::{Agg, Clause, Project};
use crate::value::{Val, group_key, order};

type R<T> = Result<T, Box<CypherError>>;

/// Per-clause state.
#[derive(Default)]
struct State {
    skipped: usize,
    emitted: usize,
    seen: HashSet<Vec<u8>>,
    /// Rows waiting for a sort.
    sorted: Vec<(Vec<Val>, Row)>,
    /// Groups of an aggregation.
    index: HashMap<Vec<u8>, usize>,
    groups: Vec<(Row, Vec<Acc>)>,
    skip: Option<usize>,
    limit: Option<usize>,
    /// The buffer group and DISTINCT keys are built in, reused from row to row.
    key: Vec<u8>,
}

pub(crate) struct Pipe<'c, 'a> {
    ctx: &'c Ctx<'a>,
    clauses: &'c [Clause],
    states: Vec<RefCell<State>>,
}

impl<'c, 'a> Pipe<'c, 'a> {
    pub fn new(ctx: &'c Ctx<'a>, clauses: &'c [Clause]) -> Self {
        Pipe {
            ctx,
            clauses,
            states: clauses
                .iter()
                .map(|_| RefCell::new(State::default()))
                .collect(),
        }
    }

    /// Pushes the first row through and flushes every barrier, in order.
    pub fn run(&self, mut row: Row, sink: &mut dyn FnMut(&Row) -> R<bool>) -> R<()> {
        for (i, c) in self.clauses.iter().enumerate() {
            if let Clause::Project(p) = c {
                let mut st = self.states[i].borrow_mut();
                st.skip = self.ctx.count_arg(p.skip.as_ref(), "SKIP")?;
                st.limit = self.ctx.count_arg(p.limit.as_ref(), "LIMIT")?;
            }
        }
        // `false` only says that a LIMIT downstream is satisfied; barriers after it still hold
        // rows, so every clause is flushed, in order.
        self.push(0, &mut row, sink)?;
        for i in 0..self.clauses.len() {
            self.flush(i, sink)?;
        }
        Ok(())
    }

    /// Pushes `row` into clause `i`. Clauses write only slots of their own (every variable has
    /// a slot of its own), so the row is lent, not copied: only a clause that keeps a row
    /// (aggregation, sort) clones it.
    fn push(&self, i: usize, row: &mut Row, sink: &mut dyn FnMut(&Row) -> R<bool>) -> R<bool> {
        let Some(clause) = self.clauses.get(i) else {
            return sink(row);
        };
        let ctx = self.ctx;
        match clause {
            Clause::Match(m) => {
                let mut any = false;
                let mut used = Vec::new();
                let go = ctx.steps(&m.steps, 0, row, &mut used, &mut |r, n| {
                    any = true;
                    self.push_rows(i + 1, r, n, sink)
                })?;
                if !go {
                    return Ok(false);
                }
                if m.optional && !any {
                    for &s in &m.steps.binds {
                        row[s] = Val::Null;
                    }
                    return self.push(i + 1, row, sink);
                }
                Ok(true)
            }
            Clause::Unwind { expr, slot } => match ctx.eval(expr, row)? {
                Val::Null => Ok(true),
                Val::List(l) => {
                    for v in l.iter() {
                        ctx.tick(1)?;
                        row[*slot] = v.clone();
                        if !self.push(i + 1, row, sink)? {
                            return Ok(false);
                        }
                    }
                    Ok(true)
                }
                v => {
                    row[*slot] = v;
                    self.push(i + 1, row, sink)
                }
            },
            Clause::Project(p) => self.project(i, p, row, sink),
        }
    }

    /// Pushes `row` standing for `n` equal rows: into an aggregation at once, anywhere else
    /// one at a time.
    fn push_rows(
        &self,
        i: usize,
        row: &mut Row,
        n: u64,
        sink: &mut dyn FnMut(&Row) -> R<bool>,
    ) -> R<bool> {
        match self.clauses.get(i) {
            _ if n == 1 => self.push(i, row, sink),
            Some(Clause::Project(p)) if !p.aggs.is_empty() => self.aggregate(i, p, row, n),
            _ => {
                for _ in 0..n {
                    if !self.push(i, row, sink)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
        }
    }

    fn project(
        &self,
        i: usize,
        p: &Project,
        row: &mut Row,
        sink: &mut dyn FnMut(&Row) -> R<bool>,
    ) -> R<bool> {
        let ctx = self.ctx;
        if !p.aggs.is_empty() {
            return self.aggregate(i, p, row, 1);
        }
        ctx.tick(1)?;
        for (e, slot) in &p.items {
            let v = ctx.eval(e, row)?;
            row[*slot] = v;
        }
        self.after_items(i, p, row, sink)
    }

    /// Adds `row`, standing for `n` equal rows, to its group.
    fn aggregate(&self, i: usize, p: &Project, row: &mut Row, n: u64) -> R<bool> {
        let ctx = self.ctx;
        ctx.tick(n)?;
        let mut st = self.states[i].borrow_mut();
        let st = &mut *st;
        // The group key is built in a buffer kept across rows: no allocation per row.
        st.key.clear();
        for &k in &p.keys {
            let (e, slot) = &p.items[k];
            let v = ctx.eval(e, row)?;
            group_key(&v, &mut st.key);
            row[*slot] = v;
        }
        let g = match st.index.get(st.key.as_slice()) {
            Some(&g) => g,
            None => {
                ctx.charge(st.key.len() as u64 + 64)?;
                ctx.charge_row(row)?;
                st.groups
                    .push((row.clone(), p.aggs.iter().map(Acc::new).collect()));
                st.index.insert(st.key.clone(), st.groups.len() - 1);
                st.groups.len() - 1
            }
        };
        for (agg, acc) in p.aggs.iter().zip(st.groups[g].1.iter_mut()) {
            let v = match &agg.arg {
                Some(e) => ctx.eval(e, row)?,
                None => Val::Null,
            };
            acc.add(ctx, agg, v, n)?;
        }
        Ok(true)
    }

    /// DISTINCT, then ORDER BY (buffered) or SKIP/LIMIT/WHERE (streamed).
    fn after_items(
        &self,
        i: usize,
        p: &Project,
        row: &mut Row,
        sink: &mut dyn FnMut(&Row) -> R<bool>,
    ) -> R<bool> {
        let ctx = self.ctx;
        let mut guard = self.states[i].borrow_mut();
        let st = &mut *guard;
        if p.distinct {
            st.key.clear();
            p.visible
                .iter()
                .for_each(|&s| group_key(&row[s], &mut st.key));
            if st.seen.contains(st.key.as_slice()) {
                return Ok(true);
            }
            ctx.charge(st.key.len() as u64 + 32)?;
            st.seen.insert(st.key.clone());
        }
        if !p.order.is_empty() {
            let keys = p
                .order
                .iter()
                .map(|(e, _)| ctx.eval(e, row))
                .collect::<R<Vec<_>>>()?;
            ctx.charge_row(row)?;
            ctx.charge_row(&keys)?;
            st.sorted.push((keys, row.clone()));
            // Top-k: keep about twice what SKIP + LIMIT will return.
            if let Some(l) = st.limit {
                let keep = st.skip.unwrap_or(0).saturating_add(l);
                if st.sorted.len() > keep.saturating_mul(2).max(1024) {
                    st.sorted.sort_by(|a, b| sort_cmp(p, a, b));
                    st.sorted.truncate(keep);
                }
            }
            return Ok(true);
        }
        drop(guard);
        self.emit(i, p, row, sink)
    }

    /// SKIP, LIMIT and WITH ... WHERE on one projected row, then downstream.
    fn emit(
        &self,
        i: usize,
        p: &Project,
        row: &mut Row,
        sink: &mut dyn FnMut(&Row) -> R<bool>,
    ) -> R<bool> {
        {
            let mut st = self.states[i].borrow_mut();
            if let Some(l) = st.limit
                && st.emitted >= l
            {
                return Ok(false);
            }
            if st.skipped < st.skip.unwrap_or(0) {
                st.skipped += 1;
                return Ok(true);
            }
            st.emitted += 1;
        }
        if let Some(f) = &p.filter
            && !self.ctx.truthy(f, row)?
        {
            return Ok(self.more(i));
        }
        if !self.push(i + 1, row, sink)? {
            return Ok(false);
        }
        Ok(self.more(i))
    }

    fn more(&self, i: usize) -> bool {
        let st = self.states[i].borrow();
        st.limit.is_none_or(|l| st.emitted < l)
    }

    /// Flushes clause `i` if it holds rows (aggregation, sort). False when downstream is done.
    fn flush(&self, i: usize, sink: &mut dyn FnMut(&Row) -> R<bool>) -> R<bool> {
        let Clause::Project(p) = &self.clauses[i] else {
            return Ok(true);
        };
        let ctx = self.ctx;
        if !p.aggs.is_empty() {
            let (groups, empty) = {
                let mut st = self.states[i].borrow_mut();
                let g = std::mem::take(&mut st.groups);
                let empty = g.is_empty();
                (g, empty)
            };
            let mut groups = groups;
            if empty && p.keys.is_empty() {
                groups.push((
                    vec![Val::Null; ctx.width],
                    p.aggs.iter().map(Acc::new).collect(),
                ));
            }
            for (mut row, accs) in groups {
                for (agg, acc) in p.aggs.iter().zip(accs) {
                    row[agg.slot] = acc.finish()?;
                }
                for (k, (e, slot)) in p.items.iter().enumerate() {
                    if !p.keys.contains(&k) {
                        row[*slot] = ctx.eval(e, &row)?;
                    }
                }
                if !self.after_items(i, p, &mut row, sink)? {
                    return Ok(false);
                }
            }
        }
        if !p.order.is_empty() {
            let mut rows = std::mem::take(&mut self.states[i].borrow_mut().sorted);
            rows.sort_by(|a, b| sort_cmp(p, a, b));
            for (_, mut row) in rows {
                if !self.emit(i, p, &mut row, sink)? {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }
}

fn sort_cmp(p: &Project, a: &(Vec<Val>, Row), b: &(Vec<Val>, Row)) -> Ordering {
    for (k, (_, desc)) in p.order.iter().enumerate() {
        let o = order(&a.0[k], &b.0[k]);
        let o = if *desc { o.reverse() } else { o };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

impl Ctx<'_> {
    pub fn count_arg(&self, e: Option<&Expr>, what: &str) -> R<Option<usize>> {
        let Some(e) = e else {
            return Ok(None);
        };
        match self.eval(e, &[])? {
            Val::Int(i) if i >= 0 => Ok(Some(usize::try_from(i).unwrap_or(usize::MAX))),
            other => Err(Box::new(CypherError::Runtime(format!(
                "invalid input for {what}: expected a non-negative integer, got {}",
                match other {
                    Val::Int(i) => i.to_string(),
                    Val::Float(f) => f.to_string(),
                    v => v.type_name().to_owned(),
                }
            )))),
        }
    }
}

/// One aggregate's running state.
enum Acc {
    Count(u64, Option<HashSet<Vec<u8>>>),
    Collect(Vec<Val>, Option<HashSet<Vec<u8>>>),
    Sum(SumState, Option<HashSet<Vec<u8>>>),
    Avg(f64, u64, Option<HashSet<Vec<u8>>>),
    Min(Option<Val>),
    Max(Option<Val>),
}

enum SumState {
    Int(i64),
    Float(f64),
}

impl Acc {
    fn new(a: &Agg) -> Acc {
        let set = a.distinct.then(HashSet::new);
        match a.func {
            AggFunc::CountStar | AggFunc::Count => Acc::Count(0, set),
            AggFunc::Collect => Acc::Collect(Vec::new(), set),
            AggFunc::Sum => Acc::Sum(SumState::Int(0), set),
            AggFunc::Avg => Acc::Avg(0.0, 0, set),
            AggFunc::Min => Acc::Min(None),
            AggFunc::Max => Acc::Max(None),
        }
    }

    /// Adds `v`, the value of `rows` equal rows.
    fn add(&mut self, ctx: &Ctx<'_>, a: &Agg, v: Val, rows: u64) -> R<()> {
        if a.func == AggFunc::CountStar {
            if let Acc::Count(n, _) = self {
                *n += rows;
            }
            return Ok(());
        }
        if v.is_null() {
            return Ok(());
        }
        match self {
            // Counted once per value seen: as many equal rows add it once.
            Acc::Count(n, None) => {
                *n += rows;
                return Ok(());
            }
            Acc::Count(_, Some(_)) | Acc::Min(_) | Acc::Max(_) => {}
            // Sums, means and lists take each row in turn (a plan never sends them more
            // than one, but they stay right if one does).
            Acc::Sum(_, None) | Acc::Avg(_, _, None) | Acc::Collect(_, None) if rows > 1 => {
                for _ in 0..rows {
                    self.add(ctx, a, v.clone(), 1)?;
                }
                return Ok(());
            }
            _ => {}
        }
        let fresh = |set: &mut Option<HashSet<Vec<u8>>>| -> R<bool> {
            match set {
                None => Ok(true),
                Some(s) => {
                    let mut k = Vec::new();
                    group_key(&v, &mut k);
                    ctx.charge(k.len() as u64 + 16)?;
                    Ok(s.insert(k))
                }
            }
        };
        match self {
            Acc::Count(n, set) => {
                if fresh(set)? {
                    *n += 1;
                }
            }
            Acc::Collect(l, set) => {
                if fresh(set)? {
                    ctx.charge(16 + v.heap_bytes())?;
                    l.push(v);
                }
            }
            Acc::Sum(s, set) => {
                if fresh(set)? {
                    *s = match (&*s, &v) {
                        (SumState::Int(x), Val::Int(y)) => {
                            SumState::Int(x.checked_add(*y).ok_or_else(|| {
                                CypherError::Runtime("integer overflow in sum()".into())
                            })?)
                        }
                        (SumState::Int(x), Val::Float(y)) => SumState::Float(*x as f64 + y),
                        (SumState::Float(x), Val::Int(y)) => SumState::Float(x + *y as f64),
                        (SumState::Float(x), Val::Float(y)) => SumState::Float(x + y),
                        (_, other) => {
                            return Err(Box::new(CypherError::Runtime(format!(
                                "sum() expects numbers, but was {}",
                                other.type_name()
                            ))));
                        }
                    };
                }
            }
            Acc::Avg(mean, n, set) => {
                if fresh(set)? {
                    // A running mean, as Neo4j computes it (no overflow, and the same rounding).
                    let x = match v {
                        Val::Int(i) => i as f64,
                        Val::Float(f) => f,
                        other => {
                            return Err(Box::new(CypherError::Runtime(format!(
                                "avg() expects numbers, but was {}",
                                other.type_name()
                            ))));
                        }
                    };
                    *n += 1;
                    *mean += (x - *mean) / *n as f64;
                }
            }
            Acc::Min(m) => {
                if m.as_ref().is_none_or(|x| order(&v, x) == Ordering::Less) {
                    *m = Some(v);
                }
            }
            Acc::Max(m) => {
                if m.as_ref().is_none_or(|x| order(&v, x) == Ordering::Greater) {
                    *m = Some(v);
                }
            }
        }
        Ok(())
    }

    fn finish(self) -> R<Val> {
        Ok(match self {
            Acc::Count(n, _) => Val::Int(n as i64),
            Acc::Collect(l, _) => Val::List(l.into()),
            Acc::Sum(SumState::Int(i), _) => Val::Int(i),
            Acc::Sum(SumState::Float(f), _) => Val::Float(f),
            Acc::Avg(_, 0, _) => Val::Null,
            Acc::Avg(mean, _, _) => Val::Float(mean),
            Acc::Min(m) | Acc::Max(m) => m.unwrap_or(Val::Null),
        })
    }
}

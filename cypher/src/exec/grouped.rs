//! The run of a [`Step::GroupedExpand`](crate::ir::Step::GroupedExpand): one row's
//! relationships, grouped by the values of some properties of the nodes they reach, each group
//! passed on once with its size (see `compile::fuse` for when the plan allows it).
//!
//! The work and memory counted are those of the rows the groups stand for: the expansion's
//! relationships, one unit per filter evaluated and, downstream, one per row aggregated.

use std::hash::{Hash, Hasher};

use hashbrown::HashMap;
use hashbrown::hash_map::Entry;
use neotrav_snapshot::{Ints, PropertyValue};

use super::{Ctx, EdgeList, Emit, KeyReader, R, Row};
use crate::ir::{GROUPED_PROPS, GroupedExpand, Steps, TailFilter};
use crate::value::{Rel, Val};

/// One property value in a group's key. Equal parts are equal values (floats by their bits, so
/// that a group never holds values that print apart); values Cypher calls equal but that differ
/// here (`1` and `1.0`) are merged by the aggregation, which groups the groups again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Part<'a> {
    #[default]
    Null,
    Int(i64),
    Float(u64),
    Bool(bool),
    Str(&'a str),
}

/// A group's key: `N` parts, hashed as their payloads alone (a part's kind seldom varies
/// within a key, and equality still compares kinds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key<'a, const N: usize>([Part<'a>; N]);

impl<const N: usize> Hash for Key<'_, N> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        for p in &self.0 {
            match *p {
                Part::Null => state.write_u8(0),
                Part::Int(i) => state.write_u64(i as u64),
                Part::Float(f) => state.write_u64(f),
                Part::Bool(b) => state.write_u8(u8::from(b)),
                Part::Str(s) => state.write(s.as_bytes()),
            }
        }
    }
}

/// A group: the node and relationship of its first row, and how many rows it holds.
#[derive(Debug, Clone, Copy)]
pub(super) struct Group {
    node: u32,
    rel: Rel,
    rows: u64,
}

/// The integer keys a table holds, around the first one seen.
const DENSE_KEYS: usize = 1024;

/// The groups of integer keys near the first one seen (a year, a count): a table, no hash.
#[derive(Default)]
struct Dense {
    /// Group indices by key minus `base`; empty until a key falls in the window.
    table: Vec<u32>,
    base: Option<i64>,
}

impl Dense {
    /// The table position of key `i`, if in the window (placed around the first key seen).
    #[inline]
    fn slot(&mut self, i: i64) -> Option<usize> {
        let base = *self
            .base
            .get_or_insert(i.saturating_sub(DENSE_KEYS as i64 / 2));
        usize::try_from(i.wrapping_sub(base))
            .ok()
            .filter(|&o| i >= base && o < DENSE_KEYS)
    }

    /// The group at position `o`, if it has one.
    #[inline]
    fn group(&self, o: usize) -> Option<usize> {
        self.table
            .get(o)
            .filter(|&&at| at != u32::MAX)
            .map(|&at| at as usize)
    }

    /// Records group `at` at position `o`, charging the table's memory when it is made.
    fn set(&mut self, ctx: &Ctx<'_>, o: usize, at: usize) -> R<()> {
        if self.table.is_empty() {
            ctx.charge(4 * DENSE_KEYS as u64)?;
            self.table = vec![u32::MAX; DENSE_KEYS];
        }
        self.table[o] = u32::try_from(at).unwrap_or(u32::MAX);
        Ok(())
    }

    /// Gives back the table's memory.
    fn release(&self, ctx: &Ctx<'_>) {
        if !self.table.is_empty() {
            ctx.memory
                .set(ctx.memory.get().saturating_sub(4 * DENSE_KEYS as u64));
        }
    }
}

/// Groups found by a scan of the list before a hash index is built.
const SCANNED_GROUPS: usize = 8;

/// The fewest relationships grouped: fewer go on a row at a time.
const GROUPED_FROM: usize = 16;

/// How many relationships ahead a node's records are asked for.
const PREFETCH: usize = 16;

/// Memory counted per group while an expansion's groups are held.
const GROUP_BYTES: u64 = 96;

/// Work counted in one call to the budget (and the deadline looked at).
const TICKS: u64 = 256;

/// How a key part is read: through the integer reader when the key holds integers only (the
/// common key of a histogram: a year), else through the key's general reader.
#[derive(Clone, Copy)]
enum PartReader<'k, 'a> {
    Ints(Ints<'a>),
    Any(&'k KeyReader<'a>),
}

impl<'k, 'a> PartReader<'k, 'a> {
    fn of(reader: &'k KeyReader<'a>) -> PartReader<'k, 'a> {
        match reader.as_ref().and_then(|p| p.ints()) {
            Some(ints) => PartReader::Ints(ints),
            None => PartReader::Any(reader),
        }
    }

    #[inline]
    fn prefetch(&self, node: u32) {
        match self {
            PartReader::Ints(r) => r.prefetch(node),
            PartReader::Any(Some(p)) => p.prefetch(node),
            PartReader::Any(None) => {}
        }
    }
}

/// The integer reader of an expansion grouped by one key that holds integers only, whose
/// filters are all presence tests of that key (`WHERE r.year IS NOT NULL ... count(*)`, a
/// histogram): [`Ctx::group_ints`] runs it.
fn histogram<'a>(g: &GroupedExpand, keys: &[KeyReader<'a>]) -> Option<Ints<'a>> {
    let presence_only = g
        .filters
        .iter()
        .all(|f| matches!(f, TailFilter::Present { key: Some(0), .. }));
    if g.props.len() != 1 || !presence_only {
        return None;
    }
    keys[g.props[0]].as_ref()?.ints()
}

/// One row's expansion.
struct Expansion<'e> {
    steps: &'e Steps,
    g: &'e GroupedExpand,
    n: u32,
    used: &'e [u32],
}

/// Binds the row's node (and relationship) of the expansion.
fn set(g: &GroupedExpand, row: &mut Row, m: u32, r: Rel) {
    row[g.to] = Val::Node(m);
    if let Some(s) = g.rel {
        row[s] = Val::Rel(r);
    }
}

impl<'a> Ctx<'a> {
    pub(super) fn grouped_expand(
        &self,
        steps: &Steps,
        g: &GroupedExpand,
        row: &mut Row,
        used: &mut [u32],
        emit: &mut Emit<'_>,
    ) -> R<bool> {
        let Val::Node(n) = row[g.from] else {
            return Ok(true);
        };
        // The adjacency lists are read in place: the work is that of the expansion, and no list
        // of its relationships is built.
        let mut lists = std::mem::take(&mut *self.lists.borrow_mut());
        lists.clear();
        self.edge_lists(n, &g.spec, |l| lists.push(l));
        let total: usize = lists.iter().map(EdgeList::len).sum();
        let e = Expansion { steps, g, n, used };
        let go = self.tick(total as u64).and_then(|()| {
            if total < GROUPED_FROM {
                self.stream(&e, &lists, row, emit)
            } else {
                self.grouped(&e, &lists, row, emit)
            }
        });
        *self.lists.borrow_mut() = lists;
        go
    }

    /// A few relationships are not worth grouping: each row goes on alone, as unfused.
    fn stream(
        &self,
        e: &Expansion<'_>,
        lists: &[EdgeList<'a>],
        row: &mut Row,
        emit: &mut Emit<'_>,
    ) -> R<bool> {
        let mut pending = 0;
        for list in lists {
            for k in 0..list.len() {
                let Some(r) = list.rel(k) else {
                    continue;
                };
                let m = r.other(e.n);
                if !self.admits(e, m, r, row, &[], &mut [], &mut [], &mut pending)? {
                    continue;
                }
                set(e.g, row, m, r);
                if !emit(row, 1)? {
                    return Ok(false);
                }
            }
        }
        self.tick(pending)?;
        Ok(true)
    }

    fn grouped(
        &self,
        e: &Expansion<'_>,
        lists: &[EdgeList<'a>],
        row: &mut Row,
        emit: &mut Emit<'_>,
    ) -> R<bool> {
        let mut groups = std::mem::take(&mut *self.groups.borrow_mut());
        groups.clear();
        // One key type per number of properties: a key hashes and compares only its own.
        let found = match e.g.props.len() {
            0 => self.group::<0>(e, lists, row, &mut groups),
            1 if let Some(ints) = histogram(e.g, &self.keys) => {
                self.group_ints(e, lists, ints, &mut groups)
            }
            1 => self.group::<1>(e, lists, row, &mut groups),
            2 => self.group::<2>(e, lists, row, &mut groups),
            3 => self.group::<3>(e, lists, row, &mut groups),
            _ => self.group::<GROUPED_PROPS>(e, lists, row, &mut groups),
        };
        let held = GROUP_BYTES * groups.len() as u64;
        let go = found.and_then(|()| {
            for grp in &groups {
                set(e.g, row, grp.node, grp.rel);
                if !emit(row, grp.rows)? {
                    return Ok(false);
                }
            }
            Ok(true)
        });
        self.memory.set(self.memory.get().saturating_sub(held));
        if groups.capacity() <= super::POOLED_EDGES {
            *self.groups.borrow_mut() = groups;
        }
        go
    }

    /// Whether relationship `r` may be taken to `m`: unused in the pattern so far, and `m`
    /// with the labels asked for.
    #[inline(always)]
    fn reaches(&self, e: &Expansion<'_>, m: u32, r: Rel) -> bool {
        !(e.steps.rel_unique && e.used.contains(&r.idx)) && self.node_ok(m, &e.g.check)
    }

    /// Whether relationship `r` to `m` makes a row: unused in the pattern so far, `m` with the
    /// labels, and every filter true. A presence filter on a key property reads the value into
    /// `key` (marked in `read`). Each filter evaluated adds a unit to `pending`, charged in
    /// batches.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn admits(
        &self,
        e: &Expansion<'_>,
        m: u32,
        r: Rel,
        row: &mut Row,
        readers: &[PartReader<'_, 'a>],
        key: &mut [Part<'a>],
        read: &mut [bool],
        pending: &mut u64,
    ) -> R<bool> {
        let g = e.g;
        if !self.reaches(e, m, r) {
            return Ok(false);
        }
        let mut pass = true;
        for f in &g.filters {
            *pending += 1;
            pass = match f {
                TailFilter::Present {
                    prop,
                    present,
                    key: at,
                } => match at.filter(|&j| j < key.len()) {
                    Some(j) => {
                        key[j] = self.part(&readers[j], m, *prop)?;
                        read[j] = true;
                        (key[j] != Part::Null) == *present
                    }
                    None => self.has_property(m, *prop)? == *present,
                },
                TailFilter::Expr(x) => {
                    set(g, row, m, r);
                    self.truthy(x, row)?
                }
            };
            if !pass {
                break;
            }
        }
        if *pending >= TICKS {
            self.tick(*pending)?;
            *pending = 0;
        }
        Ok(pass)
    }

    /// Fills `groups` with the rows of the expansion, in the order of their first rows.
    fn group<const N: usize>(
        &self,
        e: &Expansion<'_>,
        lists: &[EdgeList<'a>],
        row: &mut Row,
        groups: &mut Vec<Group>,
    ) -> R<()> {
        let g = e.g;
        let mut keys: Vec<Key<'a, N>> = Vec::new();
        let mut index: HashMap<Key<'a, N>, usize> = HashMap::new();
        let mut pending = 0u64;
        let readers: [PartReader<'_, 'a>; N] =
            std::array::from_fn(|j| PartReader::of(&self.keys[g.props[j]]));
        // The groups of integer keys, when there is one key.
        let mut dense = Dense::default();
        for list in lists {
            for k in 0..list.len() {
                // The nodes come in adjacency order, ascending but with gaps the hardware does not
                // follow: their labels and keys are asked for a few relationships ahead.
                if let Some(ahead) = list.neighbor(k + PREFETCH) {
                    self.view.prefetch_labels(ahead);
                    readers.iter().for_each(|p| p.prefetch(ahead));
                }
                let Some(r) = list.rel(k) else {
                    continue;
                };
                let m = r.other(e.n);
                let mut key = [Part::Null; N];
                let mut read = [false; N];
                if !self.admits(e, m, r, row, &readers, &mut key, &mut read, &mut pending)? {
                    continue;
                }
                for j in 0..N {
                    if !read[j] {
                        key[j] = self.part(&readers[j], m, g.props[j])?;
                    }
                }
                // One integer key (a year, a count) near the first one seen: a table, no hash.
                let slot = match key.first() {
                    Some(&Part::Int(i)) if N == 1 => dense.slot(i),
                    _ => None,
                };
                if let Some(at) = slot.and_then(|o| dense.group(o)) {
                    groups[at].rows += 1;
                    continue;
                }
                let key = Key(key);
                let at = if keys.len() < SCANNED_GROUPS {
                    keys.iter().position(|k| *k == key)
                } else {
                    if index.is_empty() {
                        index.extend(keys.iter().enumerate().map(|(i, k)| (*k, i)));
                    }
                    match index.entry(key) {
                        Entry::Occupied(o) => Some(*o.get()),
                        Entry::Vacant(v) => {
                            v.insert(keys.len());
                            None
                        }
                    }
                };
                let at = match at {
                    Some(i) => {
                        groups[i].rows += 1;
                        i
                    }
                    None => {
                        self.charge(GROUP_BYTES)?;
                        keys.push(key);
                        groups.push(Group {
                            node: m,
                            rel: r,
                            rows: 1,
                        });
                        groups.len() - 1
                    }
                };
                if let Some(o) = slot {
                    dense.set(self, o, at)?;
                }
            }
        }
        dense.release(self);
        self.tick(pending)
    }

    /// [`Ctx::group`] for the shape of a histogram ([`histogram`]): the same groups in the
    /// same order, the same work and memory counted, errors the same, with one integer read
    /// per relationship and nothing else looked at.
    fn group_ints(
        &self,
        e: &Expansion<'_>,
        lists: &[EdgeList<'a>],
        ints: Ints<'a>,
        groups: &mut Vec<Group>,
    ) -> R<()> {
        let g = e.g;
        let reader = PartReader::Ints(ints);
        let mut pending = 0u64;
        let mut null: Option<usize> = None;
        let mut index: HashMap<i64, usize> = HashMap::new();
        let mut dense = Dense::default();
        for list in lists {
            for k in 0..list.len() {
                if let Some(ahead) = list.neighbor(k + PREFETCH) {
                    self.view.prefetch_labels(ahead);
                    ints.prefetch(ahead);
                }
                let Some(r) = list.rel(k) else {
                    continue;
                };
                let m = r.other(e.n);
                if !self.reaches(e, m, r) {
                    continue;
                }
                // As `admits`: each presence test evaluated is a unit, up to the first false.
                let mut value = None;
                let mut pass = true;
                for f in &g.filters {
                    pending += 1;
                    let TailFilter::Present { prop, present, .. } = f else {
                        unreachable!("`histogram` admits presence filters only");
                    };
                    let part = value.get_or_insert(self.part(&reader, m, *prop)?);
                    if (*part != Part::Null) != *present {
                        pass = false;
                        break;
                    }
                }
                if pending >= TICKS {
                    self.tick(pending)?;
                    pending = 0;
                }
                if !pass {
                    continue;
                }
                let value = match value {
                    Some(v) => v,
                    None => self.part(&reader, m, g.props[0])?,
                };
                let slot = match value {
                    Part::Int(i) => dense.slot(i),
                    _ => None,
                };
                if let Some(at) = slot.and_then(|o| dense.group(o)) {
                    groups[at].rows += 1;
                    continue;
                }
                let found = match value {
                    Part::Int(i) => index.get(&i).copied(),
                    _ => null,
                };
                let at = match found {
                    Some(i) => {
                        groups[i].rows += 1;
                        i
                    }
                    None => {
                        self.charge(GROUP_BYTES)?;
                        groups.push(Group {
                            node: m,
                            rel: r,
                            rows: 1,
                        });
                        let at = groups.len() - 1;
                        match value {
                            Part::Int(i) => {
                                index.insert(i, at);
                            }
                            _ => null = Some(at),
                        }
                        at
                    }
                };
                if let Some(o) = slot {
                    dense.set(self, o, at)?;
                }
            }
        }
        dense.release(self);
        self.tick(pending)
    }

    /// Node `m`'s value of `prop` (read by `reader`) as a key part; the error of
    /// [`Ctx::property`] when the snapshot does not hold it.
    #[inline(always)]
    fn part(&self, reader: &PartReader<'_, 'a>, m: u32, prop: usize) -> R<Part<'a>> {
        let read = match reader {
            PartReader::Ints(r) => match r.read(m) {
                Some(v) => return Ok(v.map_or(Part::Null, Part::Int)),
                None => None,
            },
            PartReader::Any(r) => r.as_ref().and_then(|k| k.read(m)),
        };
        match read {
            Some(v) => Ok(match v {
                None => Part::Null,
                Some(PropertyValue::Int(i)) => Part::Int(i),
                Some(PropertyValue::Float(f)) => Part::Float(f.to_bits()),
                Some(PropertyValue::Bool(b)) => Part::Bool(b),
                Some(PropertyValue::String(s)) => Part::Str(s),
            }),
            None => self.property(&Val::Node(m), prop).map(|_| Part::Null),
        }
    }
}

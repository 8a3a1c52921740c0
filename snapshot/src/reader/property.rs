//! [`Property`]: one key read whatever the kind of its values (one column per kind), by node
//! ([`Property::get`]) or by value through the column indices ([`Property::seek`],
//! [`Property::seek_prefix`], [`Property::seek_range`]), with Cypher's comparison rules.
//!
//! Reads never panic and never allocate per value, even on a corrupt file that was not
//! verified: a seek's candidates from the index are checked against the values again, so a
//! corrupt index gives missing answers, never wrong ones.

use std::cmp::Ordering;
use std::ops::Bound;

use super::Snapshot;
use super::view::{View, prefetch};
use crate::format::{self, HashSlot, PropertyKind};

/// A property value borrowed from a snapshot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PropertyValue<'a> {
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// A string.
    String(&'a str),
}

impl PropertyValue<'_> {
    /// The kind of column the value is in.
    pub fn kind(&self) -> PropertyKind {
        match self {
            PropertyValue::Int(_) => PropertyKind::Int,
            PropertyValue::Float(_) => PropertyKind::Float,
            PropertyValue::Bool(_) => PropertyKind::Bool,
            PropertyValue::String(_) => PropertyKind::String,
        }
    }

    /// Cypher's comparison: ints and floats compare numerically and exactly (no rounding of
    /// large ints), bools with bools, strings with strings by code point; anything else, and NaN
    /// against anything, is `None` (null: no match).
    pub fn compare(&self, other: &PropertyValue<'_>) -> Option<Ordering> {
        use PropertyValue as V;
        match (*self, *other) {
            (V::Int(a), V::Int(b)) => Some(a.cmp(&b)),
            (V::Float(a), V::Float(b)) => a.partial_cmp(&b),
            (V::Int(a), V::Float(b)) => int_float(a, b),
            (V::Float(a), V::Int(b)) => int_float(b, a).map(Ordering::reverse),
            (V::Bool(a), V::Bool(b)) => Some(a.cmp(&b)),
            (V::String(a), V::String(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
            _ => None,
        }
    }

    /// Cypher's `=`: [`PropertyValue::compare`] is `Equal` (so `1 = 1.0`, and `NaN = NaN` is
    /// false).
    pub fn equals(&self, other: &PropertyValue<'_>) -> bool {
        self.compare(other) == Some(Ordering::Equal)
    }

    /// Whether the value is a number (int or float): the two compare with each other.
    fn numeric(&self) -> bool {
        matches!(self, PropertyValue::Int(_) | PropertyValue::Float(_))
    }
}

/// An int against a float, exactly.
fn int_float(i: i64, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    // 2^63: every i64 is below it, and -2^63 is the smallest.
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    let t = f.trunc();
    if t >= TWO_63 {
        return Some(Ordering::Less);
    }
    if t < -TWO_63 {
        return Some(Ordering::Greater);
    }
    Some(match i.cmp(&(t as i64)) {
        Ordering::Equal if f > t => Ordering::Less,
        Ordering::Equal if f < t => Ordering::Greater,
        o => o,
    })
}

/// The slices of one column, without a label: values, presence bits, index.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cells<'a> {
    pub(super) kind: PropertyKind,
    /// `i64`/`f64` words, bool value bits, or string offsets (cast once, when the column is
    /// opened; empty if the section is misaligned, so every read finds nothing).
    pub(super) values: &'a [u64],
    pub(super) present: &'a [u64],
    pub(super) string_bytes: &'a [u8],
    /// `None` in files of format version 1.
    pub(super) index: Option<&'a [u32]>,
    /// `None` before format version 3, and for floats and bools.
    pub(super) hash: Option<&'a [u64]>,
}

impl<'a> Cells<'a> {
    #[inline]
    pub(super) fn present(&self, index: u32) -> bool {
        let i = index as usize;
        self.present
            .get(i / 64)
            .is_some_and(|w| w >> (i % 64) & 1 == 1)
    }

    #[inline]
    fn word(&self, index: u32) -> Option<u64> {
        self.values.get(index as usize).copied()
    }

    #[inline]
    pub(super) fn int(&self, index: u32) -> Option<i64> {
        (self.kind == PropertyKind::Int && self.present(index))
            .then(|| self.word(index).map(|w| w as i64))
            .flatten()
    }

    #[inline]
    pub(super) fn float(&self, index: u32) -> Option<f64> {
        (self.kind == PropertyKind::Float && self.present(index))
            .then(|| self.word(index).map(f64::from_bits))
            .flatten()
    }

    #[inline]
    pub(super) fn bool(&self, index: u32) -> Option<bool> {
        if self.kind != PropertyKind::Bool || !self.present(index) {
            return None;
        }
        let i = index as usize;
        self.values.get(i / 64).map(|w| w >> (i % 64) & 1 == 1)
    }

    /// The bytes of a string value (not checked to be UTF-8: `verify` does that).
    #[inline]
    pub(super) fn bytes(&self, index: u32) -> Option<&'a [u8]> {
        if self.kind != PropertyKind::String || !self.present(index) {
            return None;
        }
        let offsets = self.values;
        let i = index as usize;
        let (a, b) = (*offsets.get(i)? as usize, *offsets.get(i + 1)? as usize);
        self.string_bytes.get(a..b)
    }

    #[inline]
    pub(super) fn str(&self, index: u32) -> Option<&'a str> {
        std::str::from_utf8(self.bytes(index)?).ok()
    }

    #[inline]
    pub(super) fn value(&self, index: u32) -> Option<PropertyValue<'a>> {
        match self.kind {
            PropertyKind::Int => self.int(index).map(PropertyValue::Int),
            PropertyKind::Float => self.float(index).map(PropertyValue::Float),
            PropertyKind::Bool => self.bool(index).map(PropertyValue::Bool),
            PropertyKind::String => self.str(index).map(PropertyValue::String),
        }
    }

    /// The value of a node for ordering in the index: strings unchecked for UTF-8 (byte order
    /// is all the search needs; results are read again with [`Cells::value`]).
    #[inline]
    fn order_value(&self, index: u32) -> Option<PropertyValue<'a>> {
        match self.kind {
            PropertyKind::String => self
                .bytes(index)
                .map(|b| PropertyValue::String(std::str::from_utf8(b).unwrap_or(""))),
            _ => self.value(index),
        }
    }
}

/// The probe of a value with hash `hash` in a column's hash table: the value's slot, whose
/// candidate node (the slot's own for a run of 1, else the index's at the run's start)
/// `equal` accepted. Bounded by the table's size, whatever the table holds.
#[inline]
pub(super) fn hash_probe(
    table: &[u64],
    index: &[u32],
    hash: u64,
    equal: impl Fn(u32) -> bool,
) -> Option<HashSlot> {
    let slots = table.len();
    if slots == 0 {
        return None;
    }
    let tag = HashSlot::tag_of(hash);
    let mut s = format::hash_start(hash, slots).min(slots - 1);
    for _ in 0..slots {
        let slot = HashSlot(table[s]);
        if slot == HashSlot::EMPTY {
            return None;
        }
        if slot.tag() == tag {
            let node = match slot.run() {
                Some(1) => Some(slot.at()),
                _ => index.get(slot.at() as usize).copied(),
            };
            if node.is_some_and(&equal) {
                return Some(slot);
            }
        }
        s = if s + 1 == slots { 0 } else { s + 1 };
    }
    None
}

/// One property key, all its kind-columns: read a node's value whatever its type, or find the
/// nodes holding a value.
#[derive(Debug, Clone, Copy)]
pub struct Property<'a> {
    key: &'a str,
    labels: &'a [u32],
    /// When every label is in one mask word: that word's index and the labels' bits, so that
    /// "has one of the labels" is one load and a test.
    mask: Option<(usize, u64)>,
    view: View<'a>,
    /// By `PropertyKind as usize - 1`.
    columns: [Option<Cells<'a>>; 4],
    /// The key's one column, when it has one kind (most keys): a read looks at it alone.
    only: Option<Cells<'a>>,
}

/// [`Property::read`] of a key that holds integers only, for loops that read it for many
/// nodes: a read is a load of the label word, a presence bit and a value word, with no kind to
/// look at.
#[derive(Debug, Clone, Copy)]
pub struct Ints<'a> {
    label_masks: &'a [u64],
    label_words: usize,
    /// The mask word holding the key's labels, and their bits in it.
    word: usize,
    bits: u64,
    present: &'a [u64],
    values: &'a [u64],
}

impl Ints<'_> {
    /// As [`Property::read`]: `None` when the node has none of the key's labels, else its
    /// value, `None` when it has none.
    #[inline(always)]
    pub fn read(&self, node: u32) -> Option<Option<i64>> {
        let i = node as usize;
        let labels = *self.label_masks.get(i * self.label_words + self.word)?;
        if labels & self.bits == 0 {
            return None;
        }
        let present = self
            .present
            .get(i / 64)
            .is_some_and(|w| w >> (i % 64) & 1 == 1);
        Some(if present {
            self.values.get(i).map(|&w| w as i64)
        } else {
            None
        })
    }

    /// As [`Property::prefetch`].
    #[inline]
    pub fn prefetch(&self, node: u32) {
        let i = node as usize;
        prefetch(self.present, i / 64);
        prefetch(self.values, i);
    }
}

impl<D: AsRef<[u8]>> Snapshot<D> {
    /// The key `key` with all its kind-columns; `None` if the key was never exported.
    pub fn property(&self, key: &str) -> Option<Property<'_>> {
        let mut columns = [None; 4];
        let mut found: Option<(&str, &[u32])> = None;
        for (i, c) in self.header.columns.iter().enumerate() {
            if c.key == key {
                columns[c.kind as usize - 1] = Some(self.cells(i));
                found.get_or_insert((c.key.as_str(), c.labels.as_slice()));
            }
        }
        let (key, labels) = found?;
        let word = labels.first().map_or(0, |&l| l as usize / 64);
        let mask = (word < self.header.label_words as usize
            && labels.iter().all(|&l| l as usize / 64 == word))
        .then(|| (word, labels.iter().fold(0u64, |m, &l| m | 1 << (l % 64))));
        let mut present = columns.iter().flatten();
        let only = match (present.next(), present.next()) {
            (Some(&c), None) => Some(c),
            _ => None,
        };
        Some(Property {
            key,
            labels,
            mask,
            view: self.view(),
            columns,
            only,
        })
    }
}

impl<'a> Property<'a> {
    /// The key.
    pub fn key(&self) -> &'a str {
        self.key
    }

    /// Whether the key was exported for the label code `label`.
    pub fn covers(&self, label: u32) -> bool {
        self.labels.contains(&label)
    }

    /// The label codes the key was exported for.
    pub fn labels(&self) -> impl Iterator<Item = u32> + 'a {
        self.labels.iter().copied()
    }

    /// The kinds of value the key holds somewhere (one column each).
    pub fn kinds(&self) -> impl Iterator<Item = PropertyKind> + '_ {
        self.columns.iter().flatten().map(|c| c.kind)
    }

    /// Whether the node has one of the labels the key was exported for.
    #[inline]
    fn node_covered(&self, node: u32) -> bool {
        match self.mask {
            Some((word, bits)) => self
                .view
                .labels(node)
                .get(word)
                .is_some_and(|w| w & bits != 0),
            None => self.labels.iter().any(|&l| self.view.has_label(node, l)),
        }
    }

    /// Asks the CPU to start loading what [`Property::read`] of `node` reads (its presence
    /// bits and value words), for a loop that reads it a few nodes from now.
    #[inline]
    pub fn prefetch(&self, node: u32) {
        for c in self.columns.iter().flatten() {
            let i = node as usize;
            prefetch(c.present, i / 64);
            if c.kind != PropertyKind::Bool {
                prefetch(c.values, i);
            }
        }
    }

    /// A reader for loops over many nodes, when the key holds integers only and its labels
    /// share one mask word (a year, a count): see [`Ints`].
    pub fn ints(&self) -> Option<Ints<'a>> {
        let c = self.only.filter(|c| c.kind == PropertyKind::Int)?;
        let (word, bits) = self.mask?;
        Some(Ints {
            label_masks: self.view.label_masks,
            label_words: self.view.label_words,
            word,
            bits,
            present: c.present,
            values: c.values,
        })
    }

    /// The node's value, if it has a label the key was exported for and a value.
    #[inline]
    pub fn get(&self, node: u32) -> Option<PropertyValue<'a>> {
        self.read(node).flatten()
    }

    /// `None` when the node has none of the labels the key was exported for (the snapshot
    /// does not know its value); else its value, `None` when it has none.
    #[inline]
    pub fn read(&self, node: u32) -> Option<Option<PropertyValue<'a>>> {
        if !self.node_covered(node) {
            return None;
        }
        if let Some(c) = &self.only {
            return Some(c.value(node));
        }
        Some(self.columns.iter().flatten().find_map(|c| c.value(node)))
    }

    /// The nodes whose value equals `value` under Cypher's `=` (int 1 finds float 1.0 too; NaN
    /// finds nothing), ascending. An int or a string is looked up in its column's hash table
    /// (O(1) + k; format version 3 on), other kinds and the other numeric column by a binary
    /// search in the index (O(log n + k)); files of format version 1 have no index: they are
    /// scanned.
    pub fn seek(&self, value: PropertyValue<'_>) -> Vec<u32> {
        let hashed = match value {
            PropertyValue::Int(_) => PropertyKind::Int,
            PropertyValue::String(_) => PropertyKind::String,
            _ => return self.seek_range(Bound::Included(value), Bound::Included(value)),
        };
        let Some(cells) = self.columns[hashed as usize - 1] else {
            // No column of the value's kind: an int may still equal floats.
            return self.seek_range(Bound::Included(value), Bound::Included(value));
        };
        let (Some(index), Some(table)) = (cells.index, cells.hash) else {
            return self.seek_range(Bound::Included(value), Bound::Included(value));
        };
        let mut word = [0u8; 8];
        let bytes: &[u8] = match value {
            PropertyValue::Int(i) => {
                word = i.to_le_bytes();
                &word
            }
            PropertyValue::String(s) => s.as_bytes(),
            _ => &[],
        };
        let equal = |node: u32| match hashed {
            PropertyKind::Int => cells.int(node).is_some_and(|v| v.to_le_bytes() == word),
            _ => cells.bytes(node) == Some(bytes),
        };
        let mut out: Vec<u32> = match hash_probe(table, index, format::key_hash(bytes), equal) {
            // The probe checked the value already.
            Some(slot) if slot.run() == Some(1) => {
                let n = slot.at();
                if self.node_covered(n) {
                    vec![n]
                } else {
                    Vec::new()
                }
            }
            Some(slot) => {
                let at = slot.at() as usize;
                let run = index.get(at..).unwrap_or(&[]);
                let run = match slot.run() {
                    Some(len) => &run[..len.min(run.len())],
                    None => run,
                };
                run.iter()
                    .copied()
                    .take_while(|&n| equal(n))
                    .filter(|&n| self.node_covered(n))
                    .collect()
            }
            None => Vec::new(),
        };
        // An int equals the floats of the same value too. (A corrupt index may be out of
        // order: sort either way.)
        if hashed == PropertyKind::Int && self.columns[PropertyKind::Float as usize - 1].is_some() {
            out.extend(self.seek_in(
                &[PropertyKind::Float],
                Bound::Included(value),
                Bound::Included(value),
            ));
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The nodes with a string value starting with `prefix` (Cypher's `STARTS WITH`),
    /// ascending.
    pub fn seek_prefix(&self, prefix: &str) -> Vec<u32> {
        let matches = |v: Option<PropertyValue<'_>>| matches!(v, Some(PropertyValue::String(s)) if s.as_bytes().starts_with(prefix.as_bytes()));
        let Some(cells) = self.columns[PropertyKind::String as usize - 1] else {
            return Vec::new();
        };
        let Some(index) = cells.index else {
            return self.scan(|v| matches(Some(v)));
        };
        let bytes = |n: u32| cells.bytes(n).unwrap_or(&[]);
        let lo = index.partition_point(|&n| bytes(n) < prefix.as_bytes());
        // The matches follow: read on until one does not (each is read anyway, to check it).
        let run = index[lo..]
            .iter()
            .copied()
            .take_while(|&n| bytes(n).starts_with(prefix.as_bytes()));
        self.finish(run, |n| matches(cells.value(n)))
    }

    /// The nodes whose value lies between the bounds under Cypher's comparison (`<`, `<=`, `>`,
    /// `>=`), ascending: numbers (int and float together) against numbers, bools against bools,
    /// strings against strings; NaN is in no range. Bounds of two classes (a number and a
    /// string), or two unbounded ends, find nothing.
    pub fn seek_range(
        &self,
        lower: Bound<PropertyValue<'_>>,
        upper: Bound<PropertyValue<'_>>,
    ) -> Vec<u32> {
        let reference = match (lower, upper) {
            (Bound::Included(a) | Bound::Excluded(a), Bound::Included(b) | Bound::Excluded(b)) => {
                let same = a.kind() == b.kind() || (a.numeric() && b.numeric());
                if !same {
                    return Vec::new();
                }
                a
            }
            (Bound::Included(a) | Bound::Excluded(a), Bound::Unbounded)
            | (Bound::Unbounded, Bound::Included(a) | Bound::Excluded(a)) => a,
            (Bound::Unbounded, Bound::Unbounded) => return Vec::new(),
        };
        let kinds: &[PropertyKind] = match reference.kind() {
            PropertyKind::Int | PropertyKind::Float => &[PropertyKind::Int, PropertyKind::Float],
            PropertyKind::Bool => &[PropertyKind::Bool],
            PropertyKind::String => &[PropertyKind::String],
        };
        self.seek_in(kinds, lower, upper)
    }

    /// [`Property::seek_range`] in the kind-columns `kinds` only, the bounds being of a class
    /// those columns compare with.
    fn seek_in(
        &self,
        kinds: &[PropertyKind],
        lower: Bound<PropertyValue<'_>>,
        upper: Bound<PropertyValue<'_>>,
    ) -> Vec<u32> {
        let (Bound::Included(reference) | Bound::Excluded(reference)) = (match lower {
            Bound::Unbounded => upper,
            bound => bound,
        }) else {
            return Vec::new();
        };
        // Below the lower bound / within the upper bound. An incomparable value (NaN, or a
        // corrupt entry) is neither: NaN sorts last in a float index, so both stay monotone.
        let below = |v: Option<PropertyValue<'_>>| {
            let Some(v) = v else { return false };
            match lower {
                Bound::Included(b) => v.compare(&b) == Some(Ordering::Less),
                Bound::Excluded(b) => {
                    matches!(v.compare(&b), Some(Ordering::Less | Ordering::Equal))
                }
                Bound::Unbounded => false,
            }
        };
        let within = |v: Option<PropertyValue<'_>>| {
            let Some(v) = v else { return false };
            match upper {
                Bound::Included(b) => {
                    matches!(v.compare(&b), Some(Ordering::Less | Ordering::Equal))
                }
                Bound::Excluded(b) => v.compare(&b) == Some(Ordering::Less),
                Bound::Unbounded => v.compare(&reference).is_some(),
            }
        };
        let in_range = |v: Option<PropertyValue<'_>>| v.is_some() && !below(v) && within(v);
        let columns = kinds.iter().filter_map(|&k| self.columns[k as usize - 1]);
        if self.columns.iter().flatten().any(|c| c.index.is_none()) {
            return self.scan(|v| kinds.contains(&v.kind()) && in_range(Some(v)));
        }
        let mut out = Vec::new();
        for cells in columns {
            let index = cells.index.unwrap_or(&[]);
            // One binary search for the start; the range follows, and is read on until a value
            // is past the upper bound (every one is read anyway, to check it).
            let lo = index.partition_point(|&n| below(cells.order_value(n)));
            out.extend(
                index[lo..]
                    .iter()
                    .copied()
                    .take_while(|&n| within(cells.order_value(n)))
                    .filter(|&n| self.node_covered(n) && in_range(cells.value(n))),
            );
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Candidates from one index, checked again (label covered, value matches), ascending.
    fn finish(
        &self,
        candidates: impl Iterator<Item = u32>,
        matches: impl Fn(u32) -> bool,
    ) -> Vec<u32> {
        let mut out: Vec<u32> = candidates
            .filter(|&n| self.node_covered(n) && matches(n))
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Every node whose value satisfies `matches`: the scan of a file without an index.
    fn scan(&self, matches: impl Fn(PropertyValue<'a>) -> bool) -> Vec<u32> {
        (0..self.view.node_count() as u32)
            .filter(|&n| self.get(n).is_some_and(&matches))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints_and_floats_compare_exactly() {
        use PropertyValue as V;
        assert!(V::Int(1).equals(&V::Float(1.0)));
        assert!(V::Float(-0.0).equals(&V::Int(0)));
        assert!(!V::Int(1).equals(&V::Float(1.5)));
        assert_eq!(V::Int(1).compare(&V::Float(1.5)), Some(Ordering::Less));
        assert_eq!(V::Int(-1).compare(&V::Float(-1.5)), Some(Ordering::Greater));
        assert_eq!(
            V::Int(i64::MAX).compare(&V::Float(9.3e18)),
            Some(Ordering::Less)
        );
        assert_eq!(
            V::Int(i64::MIN).compare(&V::Float(-9.3e18)),
            Some(Ordering::Greater)
        );
        assert_eq!(
            V::Int((1 << 53) + 1).compare(&V::Float((1u64 << 53) as f64)),
            Some(Ordering::Greater)
        );
        assert_eq!(V::Float(f64::NAN).compare(&V::Float(f64::NAN)), None);
        assert_eq!(V::Int(1).compare(&V::Float(f64::NAN)), None);
        assert_eq!(V::Int(1).compare(&V::String("1")), None);
        assert_eq!(V::Bool(true).compare(&V::Int(1)), None);
    }
}

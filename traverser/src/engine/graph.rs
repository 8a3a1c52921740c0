//! What a traversal reads: the [`Graph`] trait, its snapshot implementation, and the small
//! value types both share.
//!
//! Nodes are `u32` references: a snapshot node's dense index, or (with misses, see
//! [`super::fresh`]) an index past the snapshot's nodes for a node only Neo4j knows.
//! Relationships are `u64` keys: the snapshot's relationship index in snapshot mode, the Neo4j id
//! with misses (the same relationship must have one key whichever side it is read from).

use std::cmp::Ordering;

use neotrav_snapshot::{Column, Direction, PropertyValue, View};
use neotrav_wire::Scalar;

/// The most relationship-type codes a request can name (snapshot types plus names only Neo4j
/// knows).
pub const MAX_TYPES: usize = 512;

/// A set of relationship-type codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypeSet {
    all: bool,
    /// Whether any bit is set (kept so the hot path need not scan the words).
    any: bool,
    bits: [u64; MAX_TYPES / 64],
}

impl TypeSet {
    /// No type.
    pub const NONE: TypeSet = TypeSet {
        all: false,
        any: false,
        bits: [0; MAX_TYPES / 64],
    };
    /// Every type.
    pub const ALL: TypeSet = TypeSet {
        all: true,
        any: false,
        bits: [0; MAX_TYPES / 64],
    };

    /// Adds a type.
    pub fn insert(&mut self, code: u32) {
        if let Some(w) = self.bits.get_mut(code as usize / 64) {
            *w |= 1 << (code % 64);
            self.any = true;
        }
    }

    /// Whether it holds a type.
    #[inline]
    pub fn contains(&self, code: u32) -> bool {
        self.all
            || self
                .bits
                .get(code as usize / 64)
                .is_some_and(|w| w >> (code % 64) & 1 == 1)
    }

    /// Whether it holds every type.
    #[inline]
    pub fn is_all(&self) -> bool {
        self.all
    }

    /// Whether it holds no type.
    #[inline]
    pub fn is_empty(&self) -> bool {
        !self.all && !self.any
    }

    /// The union.
    pub fn union(&self, other: &TypeSet) -> TypeSet {
        let mut out = *self;
        out.all |= other.all;
        out.any |= other.any;
        for (a, b) in out.bits.iter_mut().zip(other.bits) {
            *a |= b;
        }
        out
    }

    /// The intersection.
    pub fn intersection(&self, other: &TypeSet) -> TypeSet {
        match (self.all, other.all) {
            (true, _) => *other,
            (_, true) => *self,
            _ => {
                let mut out = *self;
                for (a, b) in out.bits.iter_mut().zip(other.bits) {
                    *a &= b;
                }
                out.any = out.bits.iter().any(|&w| w != 0);
                out
            }
        }
    }

    /// The codes it holds below `bound` (for a set that is not "all").
    pub fn codes(&self, bound: u32) -> impl Iterator<Item = u32> + '_ {
        (0..bound.min(MAX_TYPES as u32)).filter(|&c| self.contains(c))
    }
}

/// A property value read from the snapshot or from Neo4j.
#[derive(Debug, Clone, PartialEq)]
pub enum Prop<'a> {
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// A string.
    Str(&'a str),
}

impl Prop<'_> {
    /// Cypher's comparison: numbers compare across int and float, other types only with their
    /// own kind (`None`: incomparable, which a filter treats as false).
    ///
    /// Ints and floats compare exactly ([`PropertyValue::compare`]: a large int is not rounded
    /// to a float first), as the snapshot's key index does, so a `where` predicate and a key
    /// lookup agree.
    pub fn compare(&self, s: &Scalar) -> Option<Ordering> {
        self.value().compare(&scalar_value(s))
    }

    /// The value as the snapshot's reader has it.
    pub fn value(&self) -> PropertyValue<'_> {
        match *self {
            Prop::Int(i) => PropertyValue::Int(i),
            Prop::Float(x) => PropertyValue::Float(x),
            Prop::Bool(b) => PropertyValue::Bool(b),
            Prop::Str(s) => PropertyValue::String(s),
        }
    }

    /// The value as group-by key text.
    pub fn text(&self) -> String {
        match self {
            Prop::Int(i) => i.to_string(),
            Prop::Float(x) => format!("{x:?}"),
            Prop::Bool(b) => b.to_string(),
            Prop::Str(s) => (*s).to_string(),
        }
    }

    /// A total order for sorting group-by keys: numbers, then booleans, then strings.
    pub fn sort_key(&self) -> (u8, f64, i64, &str) {
        match self {
            Prop::Int(i) => (0, *i as f64, *i, ""),
            Prop::Float(x) => (0, *x, 0, ""),
            Prop::Bool(b) => (1, 0.0, i64::from(*b), ""),
            Prop::Str(s) => (2, 0.0, 0, s),
        }
    }
}

/// A request's scalar as a snapshot value, to compare or seek.
pub fn scalar_value(s: &Scalar) -> PropertyValue<'_> {
    match s {
        Scalar::Int(i) => PropertyValue::Int(*i),
        Scalar::Float(x) => PropertyValue::Float(*x),
        Scalar::Bool(b) => PropertyValue::Bool(*b),
        Scalar::String(s) => PropertyValue::String(s),
    }
}

/// Reads one key property through the snapshot's column for one label.
#[inline]
pub fn column_value<'a>(column: &Column<'a>, node: u32) -> Option<Prop<'a>> {
    use neotrav_snapshot::PropertyKind;
    match column.kind() {
        PropertyKind::Int => column.int(node).map(Prop::Int),
        PropertyKind::Float => column.float(node).map(Prop::Float),
        PropertyKind::Bool => column.bool(node).map(Prop::Bool),
        PropertyKind::String => column.str(node).map(Prop::Str),
    }
}

/// One edge as a traversal sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edge {
    /// The node at the other end.
    pub neighbor: u32,
    /// The relationship key.
    pub rel: u64,
    /// The relationship type code.
    pub type_code: u32,
}

/// The graph a traversal walks.
pub trait Graph {
    /// Node references are below this.
    fn node_bound(&self) -> usize;
    /// Word `w` of a node's label mask (0 past the mask's end).
    fn label_word(&self, node: u32, w: usize) -> u64;
    /// Whether a node has a label.
    fn has_label(&self, node: u32, label: u32) -> bool {
        self.label_word(node, label as usize / 64) >> (label % 64) & 1 == 1
    }
    /// Calls `f` for each edge of `node` in `dir` whose type is in `types`.
    fn for_each_edge(&self, node: u32, dir: Direction, types: &TypeSet, f: impl FnMut(Edge));
    /// The Neo4j id of a node.
    fn node_id(&self, node: u32) -> u64;
    /// The Neo4j id of a relationship.
    fn relationship_id(&self, rel: u64) -> u64;
    /// Whether the node exists (a node read from Neo4j may have been deleted).
    fn exists(&self, node: u32) -> bool;
    /// The value of key-property `slot` (see [`super::plan::Plan::keys`]) on a node.
    fn property(&self, node: u32, slot: usize) -> Option<Prop<'_>>;
    /// Starts loading what evaluating and expanding `node` will read, so that the loads of all
    /// of a node's children overlap instead of missing the cache one after another.
    #[inline]
    fn warm(&self, _node: u32) {}
    /// The name of a relationship type code (`plan` holds the request's dictionary).
    fn type_name<'s>(&'s self, code: u32, plan: &'s super::plan::Names) -> &'s str {
        plan.name(code)
    }
}

/// The snapshot alone.
#[derive(Debug, Clone)]
pub struct SnapshotGraph<'a> {
    pub(crate) view: View<'a>,
    /// Per key slot, the columns of every label the key was exported for.
    pub(crate) columns: Vec<Vec<Column<'a>>>,
}

/// Below this many edges, a node's edge list is scanned with a type test per edge; above, each
/// wanted type's run is found by binary search.
const SCAN_BELOW: usize = 24;

impl Graph for SnapshotGraph<'_> {
    #[inline]
    fn node_bound(&self) -> usize {
        self.view.node_count()
    }

    #[inline]
    fn label_word(&self, node: u32, w: usize) -> u64 {
        self.view.labels(node).get(w).copied().unwrap_or(0)
    }

    #[inline]
    fn has_label(&self, node: u32, label: u32) -> bool {
        self.view.has_label(node, label)
    }

    #[inline]
    fn for_each_edge(&self, node: u32, dir: Direction, types: &TypeSet, mut f: impl FnMut(Edge)) {
        let edges = self.view.edges(node, dir);
        let mut emit = |e: &neotrav_snapshot::Edges<'_>, i: usize| {
            f(Edge {
                neighbor: e.neighbors[i],
                rel: u64::from(e.relationship(i).unwrap_or(u32::MAX)),
                type_code: u32::from(e.types[i]),
            })
        };
        if types.is_all() {
            for i in 0..edges.len() {
                emit(&edges, i);
            }
        } else if edges.len() < SCAN_BELOW {
            for i in 0..edges.len() {
                if types.contains(u32::from(edges.types[i])) {
                    emit(&edges, i);
                }
            }
        } else {
            let (Some(&lo), Some(&hi)) = (edges.types.first(), edges.types.last()) else {
                return;
            };
            for t in u32::from(lo)..=u32::from(hi) {
                if types.contains(t) {
                    let run = edges.of_type(t);
                    for i in 0..run.len() {
                        emit(&run, i);
                    }
                }
            }
        }
    }

    #[inline]
    fn node_id(&self, node: u32) -> u64 {
        self.view.node_id(node).unwrap_or(u64::MAX)
    }

    #[inline]
    fn warm(&self, node: u32) {
        std::hint::black_box((
            self.view.labels(node).first(),
            self.view.edges(node, Direction::Outgoing).neighbors.first(),
        ));
    }

    fn relationship_id(&self, rel: u64) -> u64 {
        u32::try_from(rel)
            .ok()
            .and_then(|r| self.view.relationship_id(r))
            .unwrap_or(u64::MAX)
    }

    #[inline]
    fn exists(&self, _node: u32) -> bool {
        true
    }

    #[inline]
    fn property(&self, node: u32, slot: usize) -> Option<Prop<'_>> {
        self.columns
            .get(slot)?
            .iter()
            .find_map(|c| column_value(c, node))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_sets_combine() {
        let mut a = TypeSet::NONE;
        a.insert(1);
        a.insert(300);
        let mut b = TypeSet::NONE;
        b.insert(300);
        assert!(a.contains(300) && !a.contains(2));
        assert_eq!(a.intersection(&b), b);
        assert_eq!(TypeSet::ALL.intersection(&a), a);
        assert!(a.union(&TypeSet::ALL).is_all());
        assert_eq!(a.codes(512).collect::<Vec<_>>(), vec![1, 300]);
        assert!(TypeSet::NONE.is_empty() && !TypeSet::ALL.is_empty());
    }

    #[test]
    fn properties_compare_like_cypher() {
        assert_eq!(
            Prop::Int(2).compare(&Scalar::Float(2.0)),
            Some(Ordering::Equal)
        );
        assert_eq!(Prop::Str("a").compare(&Scalar::Int(1)), None);
        assert_eq!(
            Prop::Bool(false).compare(&Scalar::Bool(true)),
            Some(Ordering::Less)
        );
    }
}

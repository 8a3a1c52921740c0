//! [`View`]: the borrowed, non-generic set of typed slices every read goes through (a node's
//! labels, its [`Edges`] per direction, id mapping both ways), and [`Column`], one key-property
//! column read for one label. Every read is a bounds-checked slice access: it never panics and
//! never allocates, even on a corrupt file that was not verified.

use std::ops::Range;

use super::Snapshot;
use super::property::{Cells, PropertyValue};
use crate::format::{Direction, IdLayout, PropertyKind};

impl<D: AsRef<[u8]>> Snapshot<D> {
    /// The typed slices to read through. Cheap (a few casts); take one per request.
    pub fn view(&self) -> View<'_> {
        let b = self.data.as_ref();
        let l = &self.layout;
        View {
            node_count: self.header.node_count as usize,
            node_ids: self.header.node_ids,
            node_id_section: l.node_ids.clone().map(|r| &b[r]).unwrap_or(&[]),
            label_words: self.header.label_words as usize,
            label_masks: cast(&b[l.label_masks.clone()]),
            offsets: [
                cast(&b[l.offsets[0].clone()]),
                cast(&b[l.offsets[1].clone()]),
            ],
            neighbors: [
                cast(&b[l.neighbors[0].clone()]),
                cast(&b[l.neighbors[1].clone()]),
            ],
            edge_types: [&b[l.edge_types[0].clone()], &b[l.edge_types[1].clone()]],
            in_relationships: cast(&b[l.in_relationships.clone()]),
            relationship_ids: self.header.relationship_ids,
            relationship_id_section: &b[l.relationship_ids.clone()],
        }
    }

    /// A column holding `key` for nodes with `label`, if one was exported: the first of the
    /// key's kind-columns (a key has one per kind of value it holds; see
    /// [`Snapshot::columns`] for all of them, and [`Snapshot::property`] to read a key whatever
    /// the kind).
    pub fn column(&self, label: &str, key: &str) -> Option<Column<'_>> {
        self.columns(label, key).into_iter().next()
    }

    /// Every kind-column of `key` for nodes with `label`, in header order; a node's value is in
    /// at most one of them.
    pub fn columns(&self, label: &str, key: &str) -> Vec<Column<'_>> {
        let Some(label) = self.label_code(label) else {
            return Vec::new();
        };
        self.header
            .columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.key == key && c.labels.contains(&label))
            .map(|(index, _)| Column {
                label,
                view: self.view(),
                cells: self.cells(index),
            })
            .collect()
    }

    /// The slices of column `index` (which must exist).
    pub(super) fn cells(&self, index: usize) -> Cells<'_> {
        let b = self.data.as_ref();
        let l = &self.layout.columns[index];
        Cells {
            kind: self.header.columns[index].kind,
            values: cast(&b[l.values.clone()]),
            present: cast(&b[l.present.clone()]),
            string_bytes: &b[l.string_bytes.clone()],
            index: l.index.clone().map(|r| cast(&b[r])),
            hash: l.hash.clone().map(|r| cast(&b[r])),
        }
    }
}

/// The typed slices of a snapshot. Every read is a bounds-checked slice access.
#[derive(Debug, Clone, Copy)]
pub struct View<'a> {
    pub(super) node_count: usize,
    node_ids: IdLayout,
    node_id_section: &'a [u8],
    pub(super) label_words: usize,
    pub(super) label_masks: &'a [u64],
    pub(super) offsets: [&'a [u32]; 2],
    pub(super) neighbors: [&'a [u32]; 2],
    pub(super) edge_types: [&'a [u8]; 2],
    pub(super) in_relationships: &'a [u32],
    relationship_ids: IdLayout,
    relationship_id_section: &'a [u8],
}

/// The edges of one node in one direction: parallel slices, sorted by type, then neighbour.
#[derive(Debug, Clone, Copy)]
pub struct Edges<'a> {
    /// Neighbour node indices.
    pub neighbors: &'a [u32],
    /// Type codes.
    pub types: &'a [u8],
    rels: EdgeRels<'a>,
}

#[derive(Debug, Clone, Copy)]
enum EdgeRels<'a> {
    /// Outgoing: relationship index = first + position.
    Consecutive(u32),
    /// Incoming: stored.
    Stored(&'a [u32]),
}

impl<'a> Edges<'a> {
    /// Number of edges.
    pub fn len(&self) -> usize {
        self.neighbors.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.neighbors.is_empty()
    }

    /// The relationship index of edge `i` (see [`View::relationship_id`]).
    #[inline]
    pub fn relationship(&self, i: usize) -> Option<u32> {
        match self.rels {
            EdgeRels::Consecutive(first) if i < self.neighbors.len() => Some(first + i as u32),
            EdgeRels::Consecutive(_) => None,
            EdgeRels::Stored(rels) => rels.get(i).copied(),
        }
    }

    /// The sub-list of one relationship type: a binary search, since edges are sorted by type.
    pub fn of_type(&self, type_code: u32) -> Edges<'a> {
        let Ok(t) = u8::try_from(type_code) else {
            return self.slice(0..0);
        };
        let start = self.types.partition_point(|&x| x < t);
        let end = start + self.types[start..].partition_point(|&x| x <= t);
        self.slice(start..end)
    }

    fn slice(&self, r: Range<usize>) -> Edges<'a> {
        Edges {
            neighbors: &self.neighbors[r.clone()],
            types: &self.types[r.clone()],
            rels: match self.rels {
                EdgeRels::Consecutive(first) => EdgeRels::Consecutive(first + r.start as u32),
                EdgeRels::Stored(rels) => EdgeRels::Stored(&rels[r]),
            },
        }
    }
}

impl<'a> View<'a> {
    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.node_count
    }

    /// The dense index of a Neo4j node id: O(1) when ids are dense, a binary search otherwise.
    #[inline]
    pub fn node_index(&self, id: u64) -> Option<u32> {
        match self.node_ids {
            IdLayout::Dense { base } => id
                .checked_sub(base)
                .filter(|&i| i < self.node_count as u64)
                .map(|i| i as u32),
            IdLayout::Offset32 { base } => {
                let offset = u32::try_from(id.checked_sub(base)?).ok()?;
                let ids: &[u32] = cast(self.node_id_section);
                ids.binary_search(&offset).ok().map(|i| i as u32)
            }
            IdLayout::Full64 => {
                let ids: &[u64] = cast(self.node_id_section);
                ids.binary_search(&id).ok().map(|i| i as u32)
            }
        }
    }

    /// The Neo4j id of a node index.
    #[inline]
    pub fn node_id(&self, index: u32) -> Option<u64> {
        let i = index as usize;
        if i >= self.node_count {
            return None;
        }
        match self.node_ids {
            // Checked: a corrupt header's base may be near u64::MAX (no id, rather than a
            // panic or a wrapped id).
            IdLayout::Dense { base } => base.checked_add(i as u64),
            IdLayout::Offset32 { base } => cast::<u32>(self.node_id_section)
                .get(i)
                .and_then(|&o| base.checked_add(u64::from(o))),
            IdLayout::Full64 => cast::<u64>(self.node_id_section).get(i).copied(),
        }
    }

    /// Asks the CPU to start loading node `index`'s label mask, for a loop that will read it
    /// a few nodes from now (nothing out of bounds).
    #[inline]
    pub fn prefetch_labels(&self, index: u32) {
        prefetch(self.label_masks, index as usize * self.label_words);
    }

    /// The label mask of a node: `label_words` words, bit `l` set when it has label `l`.
    #[inline]
    pub fn labels(&self, index: u32) -> &'a [u64] {
        let start = index as usize * self.label_words;
        self.label_masks
            .get(start..start + self.label_words)
            .unwrap_or(&[])
    }

    /// Whether a node has a label: one load and a bit test.
    #[inline]
    pub fn has_label(&self, index: u32, label: u32) -> bool {
        let word = index as usize * self.label_words + label as usize / 64;
        (label as usize / 64) < self.label_words
            && self
                .label_masks
                .get(word)
                .is_some_and(|w| w >> (label % 64) & 1 == 1)
    }

    /// A node's edges in one direction, all types: O(1).
    #[inline]
    pub fn edges(&self, index: u32, dir: Direction) -> Edges<'a> {
        let d = dir as usize;
        let i = index as usize;
        let offsets = self.offsets[d];
        let range = match (offsets.get(i), offsets.get(i + 1)) {
            (Some(&a), Some(&b)) if a <= b => a as usize..b as usize,
            _ => 0..0,
        };
        // Open checked that neighbours, types and incoming relationship indices all hold
        // exactly m entries, so one bounds check covers the three.
        let range = if range.end <= self.neighbors[d].len() {
            range
        } else {
            0..0
        };
        let rels = match dir {
            Direction::Outgoing => EdgeRels::Consecutive(range.start as u32),
            Direction::Incoming => EdgeRels::Stored(&self.in_relationships[range.clone()]),
        };
        Edges {
            neighbors: &self.neighbors[d][range.clone()],
            types: &self.edge_types[d][range],
            rels,
        }
    }

    /// The Neo4j id of a relationship index.
    #[inline]
    pub fn relationship_id(&self, rel: u32) -> Option<u64> {
        let i = rel as usize;
        match self.relationship_ids {
            IdLayout::Offset32 { base } | IdLayout::Dense { base } => {
                cast::<u32>(self.relationship_id_section)
                    .get(i)
                    .and_then(|&o| base.checked_add(u64::from(o)))
            }
            IdLayout::Full64 => cast::<u64>(self.relationship_id_section).get(i).copied(),
        }
    }
}

/// One key-property column (one kind of one key), read for one label.
#[derive(Debug, Clone, Copy)]
pub struct Column<'a> {
    label: u32,
    view: View<'a>,
    cells: Cells<'a>,
}

impl<'a> Column<'a> {
    /// The column's type.
    pub fn kind(&self) -> PropertyKind {
        self.cells.kind
    }

    #[inline]
    fn covered(&self, index: u32) -> bool {
        self.view.has_label(index, self.label)
    }

    /// The integer value of a node, `None` if null or the column is not `int`.
    #[inline]
    pub fn int(&self, index: u32) -> Option<i64> {
        self.covered(index).then(|| self.cells.int(index)).flatten()
    }

    /// The float value of a node.
    #[inline]
    pub fn float(&self, index: u32) -> Option<f64> {
        self.covered(index)
            .then(|| self.cells.float(index))
            .flatten()
    }

    /// The boolean value of a node.
    #[inline]
    pub fn bool(&self, index: u32) -> Option<bool> {
        self.covered(index)
            .then(|| self.cells.bool(index))
            .flatten()
    }

    /// The string value of a node, borrowed from the snapshot.
    #[inline]
    pub fn str(&self, index: u32) -> Option<&'a str> {
        self.covered(index).then(|| self.cells.str(index)).flatten()
    }

    /// The value of a node, whatever the column's kind.
    #[inline]
    pub fn value(&self, index: u32) -> Option<PropertyValue<'a>> {
        self.covered(index)
            .then(|| self.cells.value(index))
            .flatten()
    }
}

/// Casts an aligned byte range; empty if it is not (which open rules out).
/// Asks the CPU to bring `slice[i]` into its caches; nothing when `i` is out of bounds or off
/// x86-64. A hint for loops whose reads jump ahead of what the hardware prefetcher follows.
#[inline(always)]
pub(super) fn prefetch<T>(slice: &[T], i: usize) {
    #[cfg(target_arch = "x86_64")]
    if let Some(x) = slice.get(i) {
        // SAFETY: a prefetch is a hint: it cannot fault and changes nothing the program can
        // observe, and the address is that of an element of a live slice.
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                (x as *const T).cast(),
            )
        };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (slice, i);
}

pub(super) fn cast<T: bytemuck::Pod>(bytes: &[u8]) -> &[T] {
    bytemuck::try_cast_slice(bytes).unwrap_or(&[])
}

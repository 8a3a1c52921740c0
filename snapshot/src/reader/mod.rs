//! [`Snapshot`]: a snapshot opened for reading, generic over its bytes (a memory map or a plain
//! buffer), and [`View`], the borrowed, non-generic set of typed slices every read goes through.
//!
//! Opening checks the preamble, the version range, the header checksum, and every section's
//! bounds, alignment and length against the header's counts: work proportional to the header,
//! not the file. It does not read the sections; [`Snapshot::verify`] does, checking every
//! checksum and the invariants the readers rely on for right answers. Reads never panic and never
//! go out of bounds even on a corrupt file that was not verified: they return empty or `None`.
//!
//! This module holds the snapshot and its cheap accessors; `open` makes one from a file or a
//! buffer, `verify` is the full check, and `view` holds the typed reads.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::OnceLock;

use fastbloom::BloomFilter;
use memmap2::Mmap;
use roaring::RoaringBitmap;

use crate::format::{BLOOM_SEED, Direction, Header};

mod open;
mod property;
mod verify;
mod view;

pub use open::AlignedBytes;
pub use property::{Ints, Property, PropertyValue};
use view::cast;
pub use view::{Column, Edges, View};

/// An opened snapshot. `D` holds the bytes: a [`Mmap`] for files, anything `AsRef<[u8]>` (8-byte
/// aligned) for tests and fuzzing.
pub struct Snapshot<D = Mmap> {
    data: D,
    version: u32,
    header: Header,
    layout: Layout,
    label_codes: HashMap<String, u32>,
    type_codes: HashMap<String, u32>,
    bloom: OnceLock<BloomFilter>,
}

/// Byte ranges of the sections, resolved and checked at open.
#[derive(Debug, Clone)]
struct Layout {
    node_ids: Option<Range<usize>>,
    label_masks: Range<usize>,
    label_bitmaps: Vec<Range<usize>>,
    offsets: [Range<usize>; 2],
    neighbors: [Range<usize>; 2],
    edge_types: [Range<usize>; 2],
    in_relationships: Range<usize>,
    relationship_ids: Range<usize>,
    bloom: Range<usize>,
    columns: Vec<ColumnLayout>,
}

#[derive(Debug, Clone)]
struct ColumnLayout {
    values: Range<usize>,
    present: Range<usize>,
    string_bytes: Range<usize>,
    /// The column index; `None` in files of format version 1.
    index: Option<Range<usize>>,
    /// The column's hash table; `None` in files before format version 3 and for float and
    /// bool columns.
    hash: Option<Range<usize>>,
}

impl<D: AsRef<[u8]>> Snapshot<D> {
    /// The header: counts, dictionaries, source, watermark, section table.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The file's format version (version 1 files have no column index: lookups scan).
    pub fn format_version(&self) -> u32 {
        self.version
    }

    /// The length of the file, in bytes.
    pub fn file_len(&self) -> u64 {
        self.data.as_ref().len() as u64
    }

    /// The type code of every edge in one direction, in adjacency order.
    pub fn edge_types(&self, dir: Direction) -> &[u8] {
        &self.data.as_ref()[self.layout.edge_types[dir as usize].clone()]
    }

    /// How many nodes have a value in column `index` (of the header's column list).
    pub fn column_value_count(&self, index: usize) -> u64 {
        self.layout.columns.get(index).map_or(0, |l| {
            let present: &[u64] = cast(&self.data.as_ref()[l.present.clone()]);
            present.iter().map(|w| u64::from(w.count_ones())).sum()
        })
    }

    /// The code of a label, if the snapshot has it.
    pub fn label_code(&self, name: &str) -> Option<u32> {
        self.label_codes.get(name).copied()
    }

    /// The code of a relationship type, if the snapshot has it.
    pub fn type_code(&self, name: &str) -> Option<u32> {
        self.type_codes.get(name).copied()
    }

    /// The nodes with a label, as dense indices. Allocates: roaring has no zero-copy reader.
    pub fn label_nodes(&self, label: u32) -> Option<RoaringBitmap> {
        let range = self.layout.label_bitmaps.get(label as usize)?.clone();
        RoaringBitmap::deserialize_from(&self.data.as_ref()[range]).ok()
    }

    /// Whether a Neo4j node id may be in the snapshot. `false` is certain; `true` is right but
    /// for about 1% of absent ids. The filter is loaded on first use (one copy of its bits).
    pub fn might_contain(&self, id: u64) -> bool {
        self.bloom
            .get_or_init(|| {
                let words: &[u64] = cast(&self.data.as_ref()[self.layout.bloom.clone()]);
                BloomFilter::from_vec(words.to_vec())
                    .seed(&BLOOM_SEED)
                    .hashes(self.header.bloom_hashes.max(1))
            })
            .contains(&id)
    }
}

impl<D> std::fmt::Debug for Snapshot<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("nodes", &self.header.node_count)
            .field("relationships", &self.header.relationship_count)
            .finish_non_exhaustive()
    }
}

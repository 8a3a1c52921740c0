//! The on-disk layout: the fixed preamble, the bincode header and the section table.
//! `snapshot/FORMAT.md` draws it; this module is its single source of truth in code.

use bincode::{Decode, Encode};

/// The first eight bytes of every snapshot.
pub const MAGIC: [u8; 8] = *b"NEOTRAV\x1a";

/// The format version this build writes.
pub const FORMAT_VERSION: u32 = 3;

/// The oldest format version this build still reads. Version 1 files have no column index
/// ([`SectionKind::ColumnIndex`]): their lookups scan the column instead.
pub const OLDEST_SUPPORTED: u32 = 1;

/// The first format version whose columns carry a [`SectionKind::ColumnIndex`].
pub const INDEXED_SINCE: u32 = 2;

/// The first format version whose int and string columns carry a [`SectionKind::ColumnHash`].
/// Older files answer equality seeks by binary search in the column index instead.
pub const HASHED_SINCE: u32 = 3;

/// Size of the fixed preamble at offset 0.
pub const PREAMBLE_LEN: usize = 64;

/// Every section starts at a multiple of this, so that any section can be read as `&[u64]`.
pub const SECTION_ALIGN: usize = 8;

/// Seed of the bloom filter's hasher. Fixed so that a filter written by one process answers in
/// another; changing it (or the fastbloom version's hashing) is a format change.
pub const BLOOM_SEED: u128 = 0x6e65_6f74_7261_7673_6e61_7073_686f_7431;

/// The fixed 64 bytes at the start of the file. All integers little-endian.
///
/// ```text
/// 0   magic          [u8; 8]
/// 8   version        u32     format version of this file
/// 12  min_reader     u32     oldest reader format version that can read it
/// 16  header_offset  u64
/// 24  header_len     u64
/// 32  header_hash    u64     xxh3-64 of the header bytes
/// 40  file_len       u64     the whole file's length (catches truncation at open)
/// 48  reserved       u64     zero
/// 56  preamble_hash  u64     xxh3-64 of bytes 0..56
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preamble {
    /// Format version of the file.
    pub version: u32,
    /// Oldest reader format version that can read the file.
    pub min_reader: u32,
    /// Where the header starts.
    pub header_offset: u64,
    /// The header's length in bytes.
    pub header_len: u64,
    /// xxh3-64 of the header bytes.
    pub header_hash: u64,
    /// Length of the whole file.
    pub file_len: u64,
}

impl Preamble {
    /// Encodes the preamble, with its own hash.
    pub fn encode(&self) -> [u8; PREAMBLE_LEN] {
        let mut b = [0u8; PREAMBLE_LEN];
        b[0..8].copy_from_slice(&MAGIC);
        b[8..12].copy_from_slice(&self.version.to_le_bytes());
        b[12..16].copy_from_slice(&self.min_reader.to_le_bytes());
        b[16..24].copy_from_slice(&self.header_offset.to_le_bytes());
        b[24..32].copy_from_slice(&self.header_len.to_le_bytes());
        b[32..40].copy_from_slice(&self.header_hash.to_le_bytes());
        b[40..48].copy_from_slice(&self.file_len.to_le_bytes());
        let hash = hash(&b[..56]);
        b[56..64].copy_from_slice(&hash.to_le_bytes());
        b
    }
}

/// The checksum used everywhere in the format: xxh3, 64 bits.
pub fn hash(bytes: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(bytes)
}

pub(crate) fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

pub(crate) fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// The bincode configuration of the header: little-endian, fixed-width integers, and a size
/// limit so that a corrupt length can never make the decoder allocate without bound.
pub(crate) fn bincode_config() -> impl bincode::config::Config {
    bincode::config::standard()
        .with_little_endian()
        .with_fixed_int_encoding()
        .with_limit::<{ 256 << 20 }>()
}

/// Everything about the snapshot that is not bulk data.
#[derive(Debug, Clone, PartialEq, Encode, Decode)]
pub struct Header {
    /// When the snapshot was written, milliseconds since the Unix epoch.
    pub created_unix_ms: u64,
    /// Where the graph came from.
    pub source: Source,
    /// How fresh it is.
    pub watermark: Watermark,
    /// Number of nodes.
    pub node_count: u64,
    /// Number of relationships.
    pub relationship_count: u64,
    /// Label names; a label's position is its bit in the label masks.
    pub labels: Vec<String>,
    /// Relationship type names; a type's position is its code in the edge-type arrays.
    pub relationship_types: Vec<String>,
    /// The key-property columns.
    pub columns: Vec<ColumnSpec>,
    /// How Neo4j node ids map to dense node indices.
    pub node_ids: IdLayout,
    /// How relationship indices (positions in the outgoing adjacency) map to Neo4j ids.
    pub relationship_ids: IdLayout,
    /// `u64` words per node in the label masks: `max(1, ceil(labels / 64))`.
    pub label_words: u32,
    /// Number of hash functions of the bloom filter.
    pub bloom_hashes: u32,
    /// The section table.
    pub sections: Vec<SectionEntry>,
}

/// Where a snapshot's graph came from. Never holds credentials.
#[derive(Debug, Clone, Default, PartialEq, Eq, Encode, Decode)]
pub struct Source {
    /// The Neo4j address, without user or password (empty for generated graphs).
    pub address: String,
    /// The database name.
    pub database: String,
    /// Neo4j's version.
    pub neo4j_version: String,
    /// A free-form description (e.g. the generator and seed of a generated graph).
    pub description: String,
}

/// What the snapshot is exact as of.
#[derive(Debug, Clone, Default, PartialEq, Eq, Encode, Decode)]
pub struct Watermark {
    /// The last committed transaction id when the export started, if known.
    pub last_committed_tx: Option<u64>,
    /// How the watermark was obtained (e.g. the procedure that reported it).
    pub note: String,
}

/// A typed key-property column: the values of kind `kind` of `key` on nodes with any of `labels`.
///
/// A key has one column per kind of value it holds (Neo4j has no schema: one key can be an int
/// on one node and a string on another), all with the same `labels`; a node's value is in the
/// column of its kind, and in no other. One column serves every label it was exported for, so a
/// node with several of those labels reads the same value whichever label is asked.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct ColumnSpec {
    /// The property key.
    pub key: String,
    /// The value type.
    pub kind: PropertyKind,
    /// Label codes this column was exported for.
    pub labels: Vec<u32>,
}

/// The value type of a property column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Encode, Decode)]
#[repr(u8)]
pub enum PropertyKind {
    /// 64-bit signed integers.
    Int = 1,
    /// 64-bit floats.
    Float = 2,
    /// Booleans.
    Bool = 3,
    /// UTF-8 strings.
    String = 4,
}

impl PropertyKind {
    /// The name used in specs and output: `int`, `float`, `bool`, `string`.
    pub fn name(self) -> &'static str {
        match self {
            PropertyKind::Int => "int",
            PropertyKind::Float => "float",
            PropertyKind::Bool => "bool",
            PropertyKind::String => "string",
        }
    }
}

/// How a dense index maps to a Neo4j id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
pub enum IdLayout {
    /// id = base + index; no section. Lookup both ways is O(1).
    Dense {
        /// The smallest id.
        base: u64,
    },
    /// id = base + `section[index]` (`u32`). Ids are sorted for nodes, so id -> index is a binary
    /// search.
    Offset32 {
        /// The smallest id.
        base: u64,
    },
    /// id = `section[index]` (`u64`).
    Full64,
}

/// The kinds of sections. `item` in [`SectionEntry`] says which label, direction or column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Encode, Decode)]
#[repr(u16)]
pub enum SectionKind {
    /// Node ids by index (`u32` or `u64`, per [`IdLayout`]); absent when dense.
    NodeIds = 1,
    /// Label masks, `label_words` `u64`s per node.
    LabelMasks = 2,
    /// One label's nodes as a portable-format roaring bitmap; item = label code.
    LabelBitmap = 3,
    /// CSR offsets, `u32[node_count + 1]`; item = direction (0 out, 1 in).
    Offsets = 4,
    /// Neighbour node indices, `u32[relationship_count]`; item = direction.
    Neighbors = 5,
    /// Relationship type code of each edge, `u8[relationship_count]`; item = direction.
    EdgeTypes = 6,
    /// Relationship index of each incoming edge (its position in the outgoing arrays),
    /// `u32[relationship_count]`; item = 1.
    EdgeRelationships = 7,
    /// Relationship ids by relationship index (`u32` or `u64`, per [`IdLayout`]).
    RelationshipIds = 8,
    /// Bloom filter bits over node ids, `u64` words.
    Bloom = 9,
    /// Column values: `i64`/`f64` per node, or value bits for booleans; item = column.
    ColumnValues = 10,
    /// Column presence bits, `u64` words (bit set = value present); item = column.
    ColumnPresent = 11,
    /// String column offsets, `u64[node_count + 1]`; item = column.
    ColumnStringOffsets = 12,
    /// String column bytes (UTF-8); item = column.
    ColumnStringBytes = 13,
    /// The column's index (format version 2 on): `u32` node indices of the nodes with a value,
    /// sorted by (value, node index); item = column. Ints sort numerically, floats by
    /// [`float_order_key`], bools false first, strings by their UTF-8 bytes (code point order,
    /// Cypher's).
    ColumnIndex = 14,
    /// The column's hash table (format version 3 on; int and string columns only): `u64`
    /// slots ([`hash_slots`] of them; none when the column has no value), mapping each
    /// distinct value to its node, or to where its run of nodes starts in the
    /// [`SectionKind::ColumnIndex`]; item = column. See [`key_hash`] and [`HashSlot`].
    ColumnHash = 15,
}

/// The hash of a value in a [`SectionKind::ColumnHash`]: xxh3-64 of an int's 8 little-endian
/// bytes, or of a string's UTF-8 bytes.
pub fn key_hash(bytes: &[u8]) -> u64 {
    hash(bytes)
}

/// A slot of a [`SectionKind::ColumnHash`]: `tag << 36 | run << 32 | at`.
///
/// - `run` (bits 32..36): how many nodes hold the value, when 1 to 15; 0 for 16 or more;
/// - `at` (bits 0..32): for a run of 1, the node itself (one read fewer for a unique key);
///   otherwise where the run starts in the column index (the reader reads on while the
///   values are equal when `run` is 0);
/// - `tag` (bits 36..64): the low 28 bits of the value's [`key_hash`], so that a probe reads
///   a value only when the tags agree.
///
/// A value's probe starts at slot [`hash_start`] and goes on linearly (wrapping at the end)
/// until it finds the value or an empty slot ([`HashSlot::EMPTY`]). Tables have more slots
/// than values ([`hash_slots`]), so every probe ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashSlot(pub u64);

impl HashSlot {
    /// An empty slot.
    pub const EMPTY: HashSlot = HashSlot(u64::MAX);
    /// The longest run a slot states exactly.
    pub const MAX_RUN: u32 = 15;

    /// The slot of a value with hash `hash` held by `run` nodes: `at` is the node when `run`
    /// is 1, else where the run starts in the index.
    pub fn new(hash: u64, run: usize, at: u32) -> HashSlot {
        let run = if run <= Self::MAX_RUN as usize {
            run as u64
        } else {
            0
        };
        HashSlot(Self::tag_of(hash) << 36 | run << 32 | u64::from(at))
    }

    /// The tag a value with hash `hash` has in its slot.
    #[inline]
    pub fn tag_of(hash: u64) -> u64 {
        hash & ((1 << 28) - 1)
    }

    /// This slot's tag.
    #[inline]
    pub fn tag(self) -> u64 {
        self.0 >> 36
    }

    /// How many nodes hold the value, `None` when 16 or more.
    #[inline]
    pub fn run(self) -> Option<usize> {
        match (self.0 >> 32 & 0xf) as usize {
            0 => None,
            n => Some(n),
        }
    }

    /// The node (a run of 1) or where the run starts in the column index.
    #[inline]
    pub fn at(self) -> u32 {
        self.0 as u32
    }
}

/// The number of slots of a [`SectionKind::ColumnHash`] holding `distinct` values:
/// `distinct + ceil(distinct / 4)` (at most 4/5 full, so at least one slot is empty), at least
/// 2, or none for no value.
pub fn hash_slots(distinct: usize) -> usize {
    if distinct == 0 {
        0
    } else {
        (distinct + distinct.div_ceil(4)).max(2)
    }
}

/// The slot where the probe of a value with hash `hash` starts, in a table of `slots` slots:
/// the hash's high bits scaled to the table (`hash * slots / 2^64`).
#[inline]
pub fn hash_start(hash: u64, slots: usize) -> usize {
    ((u128::from(hash) * slots as u128) >> 64) as usize
}

/// Where a float sorts in a [`SectionKind::ColumnIndex`]: IEEE total order (-0.0 before 0.0),
/// every NaN last. Returns a key whose unsigned order is that order.
pub fn float_order_key(bits: u64) -> u64 {
    if f64::from_bits(bits).is_nan() {
        u64::MAX
    } else if bits >> 63 == 1 {
        !bits
    } else {
        bits | 1 << 63
    }
}

/// Where an int sorts in a [`SectionKind::ColumnIndex`], as an unsigned key.
pub fn int_order_key(word: u64) -> u64 {
    word ^ 1 << 63
}

/// One row of the section table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
pub struct SectionEntry {
    /// What the section holds.
    pub kind: SectionKind,
    /// Which label, direction or column.
    pub item: u32,
    /// Byte offset in the file, a multiple of [`SECTION_ALIGN`].
    pub offset: u64,
    /// Length in bytes.
    pub len: u64,
    /// xxh3-64 of the section's bytes.
    pub hash: u64,
}

/// Edge direction, as seen from the node whose adjacency is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `(node)-[r]->(neighbour)`.
    Outgoing = 0,
    /// `(node)<-[r]-(neighbour)`.
    Incoming = 1,
}

impl Direction {
    /// Both directions, outgoing first.
    pub const BOTH: [Direction; 2] = [Direction::Outgoing, Direction::Incoming];
}

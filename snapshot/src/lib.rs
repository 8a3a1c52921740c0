//! The snapshot: an immutable, versioned, checksummed, memory-mapped image of a Neo4j graph's
//! topology that every traversal reads.
//!
//! - [`SnapshotBuilder`] takes nodes (id, labels, key properties) and relationships (id, type,
//!   start, end) in any order and writes a file atomically (temporary file, fsync, rename).
//! - [`Snapshot`] opens one: [`Snapshot::open`] maps a file and checks its preamble, version,
//!   header checksum and section table in time proportional to the header, not the file;
//!   [`Snapshot::verify`] checks every section on demand. It is generic over its bytes, so tests
//!   and the fuzz target run on plain buffers ([`AlignedBytes`]).
//! - [`View`] is the borrowed set of typed slices every read goes through: a node's labels, its
//!   edges per direction ([`Edges`], narrowed by type with [`Edges::of_type`]), id mapping both
//!   ways. [`Property`] reads a key whatever the kinds of its values (one column per kind) and
//!   finds nodes by value, range or string prefix through the column indices, with Cypher's
//!   comparison; [`Column`] reads one kind-column for one label. Reads never allocate per value
//!   and never panic, even on a corrupt file that was not verified.
//! - [`format`](mod@format) holds the layout; `snapshot/FORMAT.md` draws it.
//!
//! Integers are little-endian on disk and sections are read in place, so the crate supports
//! little-endian targets only.
//!
//! It owns the file and nothing that fills or reads it for a purpose: the exporter from Neo4j
//! is `neotrav-neo4j`'s, the traversals `neotrav-traverser`'s. It has no driver and no async
//! code.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use neotrav_snapshot::{Direction, PropertyKind, Snapshot, SnapshotBuilder, Value};
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("g.snap");
//! let mut b = SnapshotBuilder::new();
//! b.column("Artist", "name", PropertyKind::String)?;
//! b.add_node(7, ["Artist"], [("name", Value::String("Nina".into()))])?;
//! b.add_node(9, ["Release"], [])?;
//! b.add_relationship(100, "BY", 9, 7)?;
//! b.write(&path)?;
//!
//! let snap = Snapshot::open(&path)?;
//! snap.verify()?;
//! let view = snap.view();
//! let release = view.node_index(9).unwrap();
//! let by = view.edges(release, Direction::Outgoing);
//! assert_eq!(view.node_id(by.neighbors[0]), Some(7));
//! let name = snap.column("Artist", "name").unwrap();
//! assert_eq!(name.str(view.node_index(7).unwrap()), Some("Nina"));
//! # Ok(())
//! # }
//! ```

#[cfg(not(target_endian = "little"))]
compile_error!("neotrav snapshots are read in place and are little-endian");

mod builder;
mod error;
pub mod format;
mod progress;
mod reader;
mod summary;

pub use builder::{SnapshotBuilder, Value, WriteSummary};
pub use error::{BuildError, Error, Fault};
pub use format::{Direction, Header, PropertyKind, Source, Watermark};
pub use progress::{NoProgress, Progress};
pub use reader::{AlignedBytes, Column, Edges, Ints, Property, PropertyValue, Snapshot, View};
pub use summary::{ColumnSummary, Summary};

/// Makes the checksums of `bytes` agree with its contents, so that a mutated file gets past them:
/// the fuzz target `open_snapshot_rehashed` and a corruption test run it before
/// [`open_and_walk`], so that mutations reach the header decoding, the section table checks and
/// the content checks of `verify` instead of stopping at the first checksum.
///
/// It writes the magic and the file length into the preamble; if the header is in bounds and
/// decodes, it sets every in-bounds section's hash to the hash of its bytes (re-encoding the
/// header, which keeps its length: integers are fixed-width); then it sets the header hash and
/// the preamble hash. Anything else is left as the bytes have it. Never panics.
#[doc(hidden)]
pub fn reseal(bytes: &mut [u8]) {
    use format::{MAGIC, PREAMBLE_LEN, hash, u64_at};
    if bytes.len() < PREAMBLE_LEN {
        return;
    }
    let file_len = bytes.len() as u64;
    bytes[0..8].copy_from_slice(&MAGIC);
    bytes[40..48].copy_from_slice(&file_len.to_le_bytes());
    let offset = u64_at(bytes, 16);
    let len = u64_at(bytes, 24);
    let in_bounds =
        offset >= PREAMBLE_LEN as u64 && offset.checked_add(len).is_some_and(|e| e <= file_len);
    if in_bounds {
        let header = offset as usize..(offset + len) as usize;
        if let Ok((mut h, used)) = bincode::decode_from_slice::<Header, _>(
            &bytes[header.clone()],
            format::bincode_config(),
        ) {
            for s in &mut h.sections {
                if let Some(end) = s.offset.checked_add(s.len).filter(|&e| e <= offset) {
                    s.hash = hash(&bytes[s.offset as usize..end as usize]);
                }
            }
            if let Ok(encoded) = bincode::encode_to_vec(&h, format::bincode_config())
                && encoded.len() == used
            {
                bytes[header.start..header.start + used].copy_from_slice(&encoded);
            }
        }
        let header_hash = hash(&bytes[header]);
        bytes[32..40].copy_from_slice(&header_hash.to_le_bytes());
    }
    let preamble_hash = hash(&bytes[..56]);
    bytes[56..64].copy_from_slice(&preamble_hash.to_le_bytes());
}

/// Opens `bytes` as a snapshot, walks every read of every node, and verifies it: the body of the
/// fuzz target (`snapshot/fuzz`) and of the corruption tests. Returns the first fault; must never
/// panic, whatever the bytes.
#[doc(hidden)]
pub fn open_and_walk(bytes: &[u8]) -> Result<(), Fault> {
    let snap = Snapshot::from_bytes(AlignedBytes::new(bytes))?;
    let view = snap.view();
    let header = snap.header();
    for i in 0..view.node_count() as u32 + 2 {
        let _ = view.labels(i);
        let _ = view.node_id(i).map(|id| view.node_index(id));
        for label in 0..header.labels.len() as u32 + 1 {
            let _ = view.has_label(i, label);
        }
        for dir in Direction::BOTH {
            let edges = view.edges(i, dir);
            for k in 0..edges.len() {
                let _ = edges.relationship(k).map(|r| view.relationship_id(r));
            }
            for t in 0..header.relationship_types.len() as u32 + 1 {
                let _ = edges.of_type(t);
            }
        }
        for column in &header.columns {
            for &label in &column.labels {
                if let Some(c) = header
                    .labels
                    .get(label as usize)
                    .and_then(|l| snap.column(l, &column.key))
                {
                    let _ = (c.int(i), c.float(i), c.bool(i), c.str(i));
                }
            }
        }
    }
    // Every key through its index: every node's value, and for the first nodes (a seek costs
    // up to a scan of the column) a seek of it, a range from it and a prefix of it.
    for column in &header.columns {
        let Some(p) = snap.property(&column.key) else {
            continue;
        };
        let _ = (p.covers(0), p.labels().count(), p.kinds().count());
        for i in 0..view.node_count() as u32 + 1 {
            if let Some(value) = p.get(i)
                && i < 8
            {
                let _ = p.seek(value);
                let _ = p.seek_range(std::ops::Bound::Excluded(value), std::ops::Bound::Unbounded);
                if let PropertyValue::String(s) = value {
                    let _ = p.seek_prefix(s.get(..1).unwrap_or(""));
                }
            }
        }
        let _ = p.seek(PropertyValue::Int(0));
        let _ = p.seek(PropertyValue::Float(f64::NAN));
        let _ = p.seek(PropertyValue::Bool(true));
        let _ = p.seek_prefix("");
    }
    for label in 0..header.labels.len() as u32 {
        let _ = snap.label_nodes(label);
    }
    let _ = snap.might_contain(0);
    let _ = snap.summary();
    snap.verify()
}

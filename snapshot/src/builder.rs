//! [`SnapshotBuilder`]: nodes and relationships in, in any order; a snapshot file out, written
//! atomically.
//!
//! This version holds the graph in memory while it builds (about 40 bytes per relationship and
//! 24 per node plus properties); spilling to disk for Discogs-scale graphs is not built yet.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use fastbloom::BloomFilter;
use roaring::RoaringBitmap;

use crate::error::BuildError;
use crate::format::{
    self, BLOOM_SEED, ColumnSpec, FORMAT_VERSION, Header, IdLayout, PREAMBLE_LEN, Preamble,
    PropertyKind, SECTION_ALIGN, SectionEntry, SectionKind, Source, Watermark,
};

/// A property value of a node.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// A string.
    String(String),
}

impl Value {
    fn kind_name(&self) -> &'static str {
        match self {
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Bool(_) => "bool",
            Value::String(_) => "string",
        }
    }
}

/// Collects a graph and writes it as a snapshot.
#[derive(Debug, Default)]
pub struct SnapshotBuilder {
    source: Source,
    watermark: Watermark,
    labels: Dictionary,
    types: Dictionary,
    columns: Vec<PendingColumn>,
    column_by_key: HashMap<String, usize>,
    nodes: Vec<PendingNode>,
    rels: Vec<PendingRel>,
}

#[derive(Debug)]
struct PendingColumn {
    key: String,
    kind: PropertyKind,
    labels: Vec<u32>,
    /// (node id, value) in insertion order.
    values: Vec<(u64, Value)>,
}

#[derive(Debug)]
struct PendingNode {
    id: u64,
    labels: Vec<u32>,
}

#[derive(Debug, Clone, Copy)]
struct PendingRel {
    id: u64,
    kind: u8,
    start: u64,
    end: u64,
}

#[derive(Debug, Default)]
struct Dictionary {
    names: Vec<String>,
    codes: HashMap<String, u32>,
}

impl Dictionary {
    fn code(&mut self, name: &str) -> u32 {
        if let Some(&code) = self.codes.get(name) {
            return code;
        }
        let code = self.names.len() as u32;
        self.names.push(name.to_string());
        self.codes.insert(name.to_string(), code);
        code
    }
}

impl SnapshotBuilder {
    /// An empty builder.
    pub fn new() -> SnapshotBuilder {
        SnapshotBuilder::default()
    }

    /// Records where the graph came from. The address must not carry credentials.
    pub fn source(&mut self, source: Source) -> &mut Self {
        self.source = source;
        self
    }

    /// Records what the snapshot is exact as of.
    pub fn watermark(&mut self, watermark: Watermark) -> &mut Self {
        self.watermark = watermark;
        self
    }

    /// Declares a key-property column: `key` of type `kind` on nodes with `label`. Declaring the
    /// same key for several labels makes one column that serves them all.
    ///
    /// Fails if the key was declared before with another type.
    pub fn column(
        &mut self,
        label: &str,
        key: &str,
        kind: PropertyKind,
    ) -> Result<&mut Self, BuildError> {
        let label = self.labels.code(label);
        match self.column_by_key.get(key) {
            Some(&i) => {
                let column = &mut self.columns[i];
                if column.kind != kind {
                    return Err(BuildError::Limit(format!(
                        "property {key} is declared both {} and {}; one key has one type",
                        column.kind.name(),
                        kind.name()
                    )));
                }
                if !column.labels.contains(&label) {
                    column.labels.push(label);
                }
            }
            None => {
                self.column_by_key
                    .insert(key.to_string(), self.columns.len());
                self.columns.push(PendingColumn {
                    key: key.to_string(),
                    kind,
                    labels: vec![label],
                    values: Vec::new(),
                });
            }
        }
        Ok(self)
    }

    /// Adds a node. Properties whose key has no declared column, or whose node has none of the
    /// column's labels, are ignored; a value of the wrong type is an error.
    pub fn add_node<'a>(
        &mut self,
        id: u64,
        labels: impl IntoIterator<Item = &'a str>,
        properties: impl IntoIterator<Item = (&'a str, Value)>,
    ) -> Result<(), BuildError> {
        let mut codes: Vec<u32> = labels.into_iter().map(|l| self.labels.code(l)).collect();
        codes.sort_unstable();
        codes.dedup();
        for (key, value) in properties {
            let Some(&i) = self.column_by_key.get(key) else {
                continue;
            };
            let column = &mut self.columns[i];
            if !column.labels.iter().any(|l| codes.contains(l)) {
                continue;
            }
            let matches = matches!(
                (column.kind, &value),
                (PropertyKind::Int, Value::Int(_))
                    | (PropertyKind::Float, Value::Float(_))
                    | (PropertyKind::Bool, Value::Bool(_))
                    | (PropertyKind::String, Value::String(_))
            );
            if !matches {
                return Err(BuildError::PropertyType {
                    key: key.to_string(),
                    node: id,
                    expected: column.kind.name(),
                    found: value.kind_name(),
                });
            }
            column.values.push((id, value));
        }
        self.nodes.push(PendingNode { id, labels: codes });
        Ok(())
    }

    /// Adds a relationship `(start)-[:rel_type]->(end)`.
    pub fn add_relationship(
        &mut self,
        id: u64,
        rel_type: &str,
        start: u64,
        end: u64,
    ) -> Result<(), BuildError> {
        let code = self.types.code(rel_type);
        let kind = u8::try_from(code).map_err(|_| {
            BuildError::Limit(
                "more than 256 relationship types: format version 1 stores a type in one byte"
                    .to_string(),
            )
        })?;
        self.rels.push(PendingRel {
            id,
            kind,
            start,
            end,
        });
        Ok(())
    }

    /// Builds the snapshot and writes it to `path` atomically: a temporary file in the same
    /// folder, fsynced, then renamed over `path`. On any error the previous file at `path` is
    /// untouched and the temporary file is removed.
    pub fn write(self, path: &Path) -> Result<WriteSummary, BuildError> {
        let built = self.build()?;
        write_atomically(path, &built).map_err(|source| BuildError::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    fn build(mut self) -> Result<Built, BuildError> {
        // Nodes: sorted by id; the dense index is the rank.
        self.nodes.sort_unstable_by_key(|n| n.id);
        if let Some(w) = self.nodes.windows(2).find(|w| w[0].id == w[1].id) {
            return Err(BuildError::DuplicateNode(w[0].id));
        }
        let n = self.nodes.len();
        if n >= u32::MAX as usize {
            return Err(BuildError::Limit(format!(
                "{n} nodes: format version 1 holds fewer than 2^32"
            )));
        }
        let ids: Vec<u64> = self.nodes.iter().map(|n| n.id).collect();
        let node_layout = id_layout(&ids, true);
        let index_of = |id: u64| -> Option<u32> {
            match node_layout {
                IdLayout::Dense { base } => id
                    .checked_sub(base)
                    .filter(|&i| i < n as u64)
                    .map(|i| i as u32),
                _ => ids.binary_search(&id).ok().map(|i| i as u32),
            }
        };

        let mut sections: Vec<(SectionKind, u32, Vec<u8>)> = Vec::new();
        match node_layout {
            IdLayout::Dense { .. } => {}
            IdLayout::Offset32 { base } => {
                let offsets: Vec<u32> = ids.iter().map(|&id| (id - base) as u32).collect();
                sections.push((SectionKind::NodeIds, 0, bytes_of(&offsets)));
            }
            IdLayout::Full64 => sections.push((SectionKind::NodeIds, 0, bytes_of(&ids))),
        }

        // Labels: masks and one bitmap per label.
        let label_count = self.labels.names.len();
        let words = label_count.div_ceil(64).max(1);
        let mut masks = vec![0u64; n * words];
        let mut bitmaps = vec![RoaringBitmap::new(); label_count];
        for (index, node) in self.nodes.iter().enumerate() {
            for &label in &node.labels {
                let label = label as usize;
                masks[index * words + label / 64] |= 1 << (label % 64);
                bitmaps[label].insert(index as u32);
            }
        }
        sections.push((SectionKind::LabelMasks, 0, bytes_of(&masks)));
        drop(masks);
        for (label, bitmap) in bitmaps.iter().enumerate() {
            let mut bytes = Vec::with_capacity(bitmap.serialized_size());
            bitmap
                .serialize_into(&mut bytes)
                .expect("writing to a Vec cannot fail");
            sections.push((SectionKind::LabelBitmap, label as u32, bytes));
        }
        drop(bitmaps);

        // Relationships: outgoing order is (start, type, end, id); a relationship's index is
        // its position in that order.
        self.rels.sort_unstable_by_key(|r| r.id);
        if let Some(w) = self.rels.windows(2).find(|w| w[0].id == w[1].id) {
            return Err(BuildError::DuplicateRelationship(w[0].id));
        }
        let m = self.rels.len();
        if m > u32::MAX as usize {
            return Err(BuildError::Limit(format!(
                "{m} relationships: format version 1 holds at most 2^32 - 1"
            )));
        }
        let mut edges: Vec<(u32, u8, u32, u64)> = Vec::with_capacity(m);
        for r in &self.rels {
            let start = index_of(r.start).ok_or(BuildError::DanglingRelationship {
                rel: r.id,
                node: r.start,
            })?;
            let end = index_of(r.end).ok_or(BuildError::DanglingRelationship {
                rel: r.id,
                node: r.end,
            })?;
            edges.push((start, r.kind, end, r.id));
        }
        self.rels = Vec::new();
        edges.sort_unstable();

        let rel_ids: Vec<u64> = edges.iter().map(|e| e.3).collect();
        let mut sorted_rel_ids = rel_ids.clone();
        sorted_rel_ids.sort_unstable();
        let rel_layout = match id_layout(&sorted_rel_ids, false) {
            // Relationship indices follow the adjacency, not the ids, so ids are always stored.
            IdLayout::Dense { base } | IdLayout::Offset32 { base } => IdLayout::Offset32 { base },
            IdLayout::Full64 => IdLayout::Full64,
        };
        drop(sorted_rel_ids);
        match rel_layout {
            IdLayout::Offset32 { base } => {
                let offsets: Vec<u32> = rel_ids.iter().map(|&id| (id - base) as u32).collect();
                sections.push((SectionKind::RelationshipIds, 0, bytes_of(&offsets)));
            }
            _ => sections.push((SectionKind::RelationshipIds, 0, bytes_of(&rel_ids))),
        }
        drop(rel_ids);

        // Outgoing CSR.
        let mut offsets = vec![0u32; n + 1];
        for e in &edges {
            offsets[e.0 as usize + 1] += 1;
        }
        prefix_sum(&mut offsets);
        sections.push((SectionKind::Offsets, 0, bytes_of(&offsets)));
        let neighbors: Vec<u32> = edges.iter().map(|e| e.2).collect();
        sections.push((SectionKind::Neighbors, 0, bytes_of(&neighbors)));
        let kinds: Vec<u8> = edges.iter().map(|e| e.1).collect();
        sections.push((SectionKind::EdgeTypes, 0, kinds));

        // Incoming CSR: (end, type, start, relationship index).
        let mut incoming: Vec<(u32, u8, u32, u32)> = edges
            .iter()
            .enumerate()
            .map(|(r, e)| (e.2, e.1, e.0, r as u32))
            .collect();
        drop(edges);
        incoming.sort_unstable();
        let mut offsets = vec![0u32; n + 1];
        for e in &incoming {
            offsets[e.0 as usize + 1] += 1;
        }
        prefix_sum(&mut offsets);
        sections.push((SectionKind::Offsets, 1, bytes_of(&offsets)));
        let neighbors: Vec<u32> = incoming.iter().map(|e| e.2).collect();
        sections.push((SectionKind::Neighbors, 1, bytes_of(&neighbors)));
        let kinds: Vec<u8> = incoming.iter().map(|e| e.1).collect();
        sections.push((SectionKind::EdgeTypes, 1, kinds));
        let rels: Vec<u32> = incoming.iter().map(|e| e.3).collect();
        sections.push((SectionKind::EdgeRelationships, 1, bytes_of(&rels)));
        drop(incoming);

        // Property columns.
        let words_per_bitset = n.div_ceil(64);
        let mut columns = Vec::with_capacity(self.columns.len());
        for (c, column) in self.columns.into_iter().enumerate() {
            let c = c as u32;
            let mut present = vec![0u64; words_per_bitset];
            let mut at = Vec::with_capacity(column.values.len());
            for (id, value) in column.values {
                let index = index_of(id).expect("every valued node was added") as usize;
                present[index / 64] |= 1 << (index % 64);
                at.push((index, value));
            }
            match column.kind {
                PropertyKind::Int | PropertyKind::Float => {
                    let mut values = vec![0u64; n];
                    for (index, value) in at {
                        values[index] = match value {
                            Value::Int(v) => v as u64,
                            Value::Float(v) => v.to_bits(),
                            _ => unreachable!("checked in add_node"),
                        };
                    }
                    sections.push((SectionKind::ColumnValues, c, bytes_of(&values)));
                }
                PropertyKind::Bool => {
                    let mut values = vec![0u64; words_per_bitset];
                    for (index, value) in at {
                        if value == Value::Bool(true) {
                            values[index / 64] |= 1 << (index % 64);
                        }
                    }
                    sections.push((SectionKind::ColumnValues, c, bytes_of(&values)));
                }
                PropertyKind::String => {
                    let mut strings: Vec<Option<String>> = vec![None; n];
                    for (index, value) in at {
                        if let Value::String(s) = value {
                            strings[index] = Some(s);
                        }
                    }
                    let mut offsets = Vec::with_capacity(n + 1);
                    let mut bytes = Vec::new();
                    offsets.push(0u64);
                    for s in strings {
                        if let Some(s) = s {
                            bytes.extend_from_slice(s.as_bytes());
                        }
                        offsets.push(bytes.len() as u64);
                    }
                    sections.push((SectionKind::ColumnStringOffsets, c, bytes_of(&offsets)));
                    sections.push((SectionKind::ColumnStringBytes, c, bytes));
                }
            }
            sections.push((SectionKind::ColumnPresent, c, bytes_of(&present)));
            columns.push(ColumnSpec {
                key: column.key,
                kind: column.kind,
                labels: column.labels,
            });
        }

        // Bloom filter over node ids: 1% false positives.
        let bloom = BloomFilter::with_false_pos(0.01)
            .seed(&BLOOM_SEED)
            .expected_items(n.max(1));
        let mut bloom = bloom;
        for id in &ids {
            bloom.insert(id);
        }
        sections.push((SectionKind::Bloom, 0, bytes_of(bloom.as_slice())));

        let header = Header {
            created_unix_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0),
            source: self.source,
            watermark: self.watermark,
            node_count: n as u64,
            relationship_count: m as u64,
            labels: self.labels.names,
            relationship_types: self.types.names,
            columns,
            node_ids: node_layout,
            relationship_ids: rel_layout,
            label_words: words as u32,
            bloom_hashes: bloom.num_hashes(),
            sections: Vec::new(),
        };
        Ok(Built { header, sections })
    }
}

/// What [`SnapshotBuilder::write`] wrote.
#[derive(Debug, Clone)]
pub struct WriteSummary {
    /// The file.
    pub path: PathBuf,
    /// Its size.
    pub bytes: u64,
    /// Nodes written.
    pub nodes: u64,
    /// Relationships written.
    pub relationships: u64,
}

struct Built {
    header: Header,
    sections: Vec<(SectionKind, u32, Vec<u8>)>,
}

/// The id layout of sorted ids: dense when they are consecutive, 32-bit offsets when they span
/// less than 2^32, full otherwise.
fn id_layout(sorted: &[u64], allow_dense: bool) -> IdLayout {
    let (Some(&first), Some(&last)) = (sorted.first(), sorted.last()) else {
        return IdLayout::Dense { base: 0 };
    };
    if allow_dense && last - first + 1 == sorted.len() as u64 {
        IdLayout::Dense { base: first }
    } else if last - first <= u64::from(u32::MAX) {
        IdLayout::Offset32 { base: first }
    } else {
        IdLayout::Full64
    }
}

fn prefix_sum(counts: &mut [u32]) {
    for i in 1..counts.len() {
        counts[i] += counts[i - 1];
    }
}

fn bytes_of<T: bytemuck::Pod>(values: &[T]) -> Vec<u8> {
    bytemuck::cast_slice(values).to_vec()
}

fn write_atomically(path: &Path, built: &Built) -> io::Result<WriteSummary> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::other("the path has no file name"))?;
    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(name);
    prefix.push(".");
    let tmp = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".tmp")
        .tempfile_in(&dir)?;
    let mut out = BufWriter::with_capacity(1 << 20, tmp);
    out.write_all(&[0u8; PREAMBLE_LEN])?;
    let mut at = PREAMBLE_LEN as u64;
    let mut header = built.header.clone();
    for (kind, item, bytes) in &built.sections {
        let pad = at.next_multiple_of(SECTION_ALIGN as u64) - at;
        out.write_all(&vec![0u8; pad as usize])?;
        at += pad;
        out.write_all(bytes)?;
        header.sections.push(SectionEntry {
            kind: *kind,
            item: *item,
            offset: at,
            len: bytes.len() as u64,
            hash: format::hash(bytes),
        });
        at += bytes.len() as u64;
    }
    let pad = at.next_multiple_of(SECTION_ALIGN as u64) - at;
    out.write_all(&vec![0u8; pad as usize])?;
    at += pad;
    let header_bytes = bincode::encode_to_vec(&header, format::bincode_config())
        .map_err(|e| io::Error::other(format!("encoding the header: {e}")))?;
    out.write_all(&header_bytes)?;
    let file_len = at + header_bytes.len() as u64;
    let preamble = Preamble {
        version: FORMAT_VERSION,
        min_reader: FORMAT_VERSION,
        header_offset: at,
        header_len: header_bytes.len() as u64,
        header_hash: format::hash(&header_bytes),
        file_len,
    };
    let mut tmp = out.into_inner().map_err(|e| e.into_error())?;
    tmp.as_file_mut().seek(SeekFrom::Start(0))?;
    tmp.as_file_mut().write_all(&preamble.encode())?;
    // tempfile creates 0600 files; a snapshot is meant to be mapped by other processes too.
    tmp.as_file()
        .set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644))?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    // Make the rename itself durable.
    File::open(&dir)?.sync_all()?;
    Ok(WriteSummary {
        path: path.to_path_buf(),
        bytes: file_len,
        nodes: built.header.node_count,
        relationships: built.header.relationship_count,
    })
}

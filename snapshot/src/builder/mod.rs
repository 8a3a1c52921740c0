//! [`SnapshotBuilder`]: nodes and relationships in, in any order; a snapshot file out, written
//! atomically.
//!
//! The topology is held in memory while it builds, compactly: 32 bytes per relationship (the same
//! memory is sorted and rewritten in place for the outgoing and then the incoming adjacency) and
//! about 20 bytes per node. Property values are not: each column spills them, as they are added,
//! to unnamed temporary files (in the system's temporary folder, `TMPDIR`; the kernel removes them
//! however the process ends), and reads them back one column at a time, after the relationships
//! are written and freed. Sections are streamed to the temporary snapshot file as they are made,
//! never all held at once. At Discogs scale (34M nodes, 134M relationships) that stays under
//! 6 GiB with or without properties; graphs several times larger would need an on-disk sort.
//!
//! This module is the build itself: what the builder collects and how [`SnapshotBuilder::write`]
//! turns it into sections. `spill` keeps the property values on disk, `encode` lays ids,
//! adjacency and columns out as sections, and `writer` writes the file atomically.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use fastbloom::BloomFilter;
use roaring::RoaringBitmap;

use crate::error::BuildError;
use crate::format::{
    BLOOM_SEED, ColumnSpec, Direction, Header, IdLayout, PropertyKind, SectionKind, Source,
    Watermark,
};

mod encode;
mod spill;
mod writer;

use encode::{id_layout, index_in, write_adjacency, write_column};
use spill::{Spill, spill_error};
use writer::SectionWriter;

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
    /// The kind of column the value goes to.
    pub fn kind(&self) -> PropertyKind {
        match self {
            Value::Int(_) => PropertyKind::Int,
            Value::Float(_) => PropertyKind::Float,
            Value::Bool(_) => PropertyKind::Bool,
            Value::String(_) => PropertyKind::String,
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
    keys: Vec<PendingKey>,
    key_by_name: HashMap<String, usize>,
    columns: Vec<PendingColumn>,
    nodes: Vec<PendingNode>,
    label_arena: Vec<u32>,
    rels: Vec<PendingRel>,
    /// `add_node`'s buffer of checked values, kept to reuse its allocation.
    kept: Vec<(usize, Value)>,
}

/// A declared key: the labels it is exported for and its column of each kind, by
/// `PropertyKind as usize - 1`.
#[derive(Debug)]
struct PendingKey {
    name: String,
    labels: Vec<u32>,
    columns: [Option<usize>; 4],
}

#[derive(Debug)]
struct PendingColumn {
    /// Position in `keys`.
    key: usize,
    kind: PropertyKind,
    /// The values added so far, on disk; created with the first value.
    spill: Option<Spill>,
}

/// A node as collected: its labels are `label_arena[label_start..label_start + label_len]`.
#[derive(Debug, Clone, Copy)]
struct PendingNode {
    id: u64,
    label_start: u32,
    label_len: u32,
}

/// A relationship as collected (Neo4j ids). While building, the same memory is reused for
/// node indices and relationship indices, so the builder never holds two copies of the edges.
#[derive(Debug, Clone, Copy)]
struct PendingRel {
    id: u64,
    start: u64,
    end: u64,
    kind: u8,
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
    /// A key can hold values of several kinds (Neo4j has no schema): each kind gets its own
    /// column, and every kind-column of a key covers the same labels, the union of all the
    /// labels the key was declared for. Declaring the key with another kind adds that kind's
    /// column; [`SnapshotBuilder::add_node`] adds one too when a value of an undeclared kind
    /// comes. So `kind` only says which column exists even if no node has a value of it.
    pub fn column(
        &mut self,
        label: &str,
        key: &str,
        kind: PropertyKind,
    ) -> Result<&mut Self, BuildError> {
        let label = self.labels.code(label);
        let i = self.key_of(key);
        let entry = &mut self.keys[i];
        if !entry.labels.contains(&label) {
            entry.labels.push(label);
        }
        self.kind_column(i, kind);
        Ok(self)
    }

    /// The position of `key` in `keys`, adding it (with no labels) if new.
    fn key_of(&mut self, key: &str) -> usize {
        if let Some(&i) = self.key_by_name.get(key) {
            return i;
        }
        self.key_by_name.insert(key.to_string(), self.keys.len());
        self.keys.push(PendingKey {
            name: key.to_string(),
            labels: Vec::new(),
            columns: [None; 4],
        });
        self.keys.len() - 1
    }

    /// The column of kind `kind` of key `i`, made if new.
    fn kind_column(&mut self, i: usize, kind: PropertyKind) -> usize {
        let slot = kind as usize - 1;
        if let Some(c) = self.keys[i].columns[slot] {
            return c;
        }
        let c = self.columns.len();
        self.columns.push(PendingColumn {
            key: i,
            kind,
            spill: None,
        });
        self.keys[i].columns[slot] = Some(c);
        c
    }

    /// Adds a node. Properties whose key has no declared column, or whose node has none of the
    /// key's labels, are ignored; a value goes to the key's column of its kind, made on first
    /// use. A key given twice keeps its last value (of the same kind; given twice with two
    /// kinds, the node has both, one per kind-column: do not). Values go to temporary files as
    /// they come, not to memory (see the module docs); failing to write one is
    /// [`BuildError::Io`] naming the temporary folder.
    pub fn add_node<'a>(
        &mut self,
        id: u64,
        labels: impl IntoIterator<Item = &'a str>,
        properties: impl IntoIterator<Item = (&'a str, Value)>,
    ) -> Result<(), BuildError> {
        let mut codes: Vec<u32> = labels.into_iter().map(|l| self.labels.code(l)).collect();
        codes.sort_unstable();
        codes.dedup();
        let label_start = u32::try_from(self.label_arena.len())
            .map_err(|_| BuildError::Limit("more than 2^32 node labels in all".to_string()))?;
        let mut kept = std::mem::take(&mut self.kept);
        kept.clear();
        for (key, value) in properties {
            let Some(&k) = self.key_by_name.get(key) else {
                continue;
            };
            if !self.keys[k].labels.iter().any(|l| codes.contains(l)) {
                continue;
            }
            let c = self.kind_column(k, value.kind());
            kept.push((c, value));
        }
        for (i, value) in kept.drain(..) {
            let column = &mut self.columns[i];
            let spill = match &mut column.spill {
                Some(spill) => spill,
                None => column
                    .spill
                    .insert(Spill::create(column.kind).map_err(spill_error)?),
            };
            spill.push(id, &value).map_err(spill_error)?;
        }
        self.kept = kept;
        self.label_arena.extend_from_slice(&codes);
        self.nodes.push(PendingNode {
            id,
            label_start,
            label_len: codes.len() as u32,
        });
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
        let io = |source| BuildError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut out = SectionWriter::create(path).map_err(io)?;
        let header = self.write_sections(&mut out)?;
        let bytes = out.finish(header, path).map_err(io)?;
        Ok(bytes)
    }

    fn write_sections(mut self, out: &mut SectionWriter) -> Result<Header, BuildError> {
        let target = out.target.clone();
        let io = |source| BuildError::Io {
            path: target.clone(),
            source,
        };
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
        match node_layout {
            IdLayout::Dense { .. } => {}
            IdLayout::Offset32 { base } => out
                .section_iter(
                    SectionKind::NodeIds,
                    0,
                    ids.iter().map(|&id| (id - base) as u32),
                )
                .map_err(io)?,
            IdLayout::Full64 => out.section(SectionKind::NodeIds, 0, &ids).map_err(io)?,
        }

        // Labels: masks and one bitmap per label.
        let label_count = self.labels.names.len();
        let words = label_count.div_ceil(64).max(1);
        let mut masks = vec![0u64; n * words];
        let mut bitmaps = vec![RoaringBitmap::new(); label_count];
        for (index, node) in self.nodes.iter().enumerate() {
            let labels = &self.label_arena[range(node.label_start, node.label_len)];
            for &label in labels {
                let label = label as usize;
                masks[index * words + label / 64] |= 1 << (label % 64);
                bitmaps[label].insert(index as u32);
            }
        }
        self.nodes = Vec::new();
        self.label_arena = Vec::new();
        out.section(SectionKind::LabelMasks, 0, &masks)
            .map_err(io)?;
        drop(masks);
        for (label, bitmap) in bitmaps.iter().enumerate() {
            let mut bytes = Vec::with_capacity(bitmap.serialized_size());
            bitmap
                .serialize_into(&mut bytes)
                .expect("writing to a Vec cannot fail");
            out.section(SectionKind::LabelBitmap, label as u32, &bytes)
                .map_err(io)?;
        }
        drop(bitmaps);

        let index_of = |id: u64| index_in(node_layout, &ids, n, id);

        // Bloom filter over node ids: 1% false positives.
        let mut bloom = BloomFilter::with_false_pos(0.01)
            .seed(&BLOOM_SEED)
            .expected_items(n.max(1));
        for id in &ids {
            bloom.insert(id);
        }
        out.section(SectionKind::Bloom, 0, bloom.as_slice())
            .map_err(io)?;
        let bloom_hashes = bloom.num_hashes();
        drop(bloom);

        // Relationships. Duplicates first, by id.
        let mut rels = std::mem::take(&mut self.rels);
        let m = rels.len();
        if m > u32::MAX as usize {
            return Err(BuildError::Limit(format!(
                "{m} relationships: format version 1 holds at most 2^32 - 1"
            )));
        }
        rels.sort_unstable_by_key(|r| r.id);
        if let Some(w) = rels.windows(2).find(|w| w[0].id == w[1].id) {
            return Err(BuildError::DuplicateRelationship(w[0].id));
        }
        let rel_layout = match (rels.first(), rels.last()) {
            (Some(first), Some(last)) if last.id - first.id > u64::from(u32::MAX) => {
                IdLayout::Full64
            }
            // Relationship indices follow the adjacency, not the ids, so ids are always stored.
            (Some(first), _) => IdLayout::Offset32 { base: first.id },
            _ => IdLayout::Offset32 { base: 0 },
        };
        // Node ids become node indices, in place.
        for r in &mut rels {
            let start = index_of(r.start).ok_or(BuildError::DanglingRelationship {
                rel: r.id,
                node: r.start,
            })?;
            let end = index_of(r.end).ok_or(BuildError::DanglingRelationship {
                rel: r.id,
                node: r.end,
            })?;
            r.start = u64::from(start);
            r.end = u64::from(end);
        }
        // The columns, written last, need the ids again unless they are dense.
        let ids = match node_layout {
            IdLayout::Dense { .. } => Vec::new(),
            _ if self.columns.is_empty() => Vec::new(),
            _ => ids,
        };

        // Outgoing order is (start, type, end, id); a relationship's index is its position.
        rels.sort_unstable_by_key(|r| (r.start, r.kind, r.end, r.id));
        match rel_layout {
            IdLayout::Offset32 { base } => out
                .section_iter(
                    SectionKind::RelationshipIds,
                    0,
                    rels.iter().map(|r| (r.id - base) as u32),
                )
                .map_err(io)?,
            _ => out
                .section_iter(SectionKind::RelationshipIds, 0, rels.iter().map(|r| r.id))
                .map_err(io)?,
        }
        write_adjacency(out, Direction::Outgoing, &rels, n, |r| r.start, |r| r.end).map_err(io)?;

        // Incoming order is (end, type, start, relationship index); the id field now holds the
        // relationship index.
        for (i, r) in rels.iter_mut().enumerate() {
            r.id = i as u64;
        }
        rels.sort_unstable_by_key(|r| (r.end, r.kind, r.start, r.id));
        write_adjacency(out, Direction::Incoming, &rels, n, |r| r.end, |r| r.start).map_err(io)?;
        out.section_iter(
            SectionKind::EdgeRelationships,
            1,
            rels.iter().map(|r| r.id as u32),
        )
        .map_err(io)?;
        drop(rels);

        // Property columns, last, when the relationships no longer take memory: each is read
        // back from its spill files.
        let columns = std::mem::take(&mut self.columns);
        let mut specs = Vec::with_capacity(columns.len());
        for (c, column) in columns.into_iter().enumerate() {
            write_column(out, c as u32, column.kind, column.spill, n, &|id| {
                index_in(node_layout, &ids, n, id)
            })
            .map_err(io)?;
            let key = &self.keys[column.key];
            specs.push(ColumnSpec {
                key: key.name.clone(),
                kind: column.kind,
                labels: key.labels.clone(),
            });
        }
        drop(ids);

        Ok(Header {
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
            columns: specs,
            node_ids: node_layout,
            relationship_ids: rel_layout,
            label_words: words as u32,
            bloom_hashes,
            sections: Vec::new(),
        })
    }
}

fn range(start: u32, len: u32) -> Range<usize> {
    start as usize..start as usize + len as usize
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

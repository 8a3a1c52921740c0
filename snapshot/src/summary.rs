//! [`Summary`]: what `neotrav snapshot inspect` prints.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::format::{Direction, FORMAT_VERSION};
use crate::reader::Snapshot;

/// A description of a snapshot: source, freshness, counts, dictionaries, columns and bytes.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Format version of the file.
    pub format_version: u32,
    /// When it was written, milliseconds since the Unix epoch.
    pub created_unix_ms: u64,
    /// The Neo4j address (never with credentials).
    pub source_address: String,
    /// The database.
    pub source_database: String,
    /// Neo4j's version.
    pub neo4j_version: String,
    /// A free-form description of the source.
    pub source_description: String,
    /// The last committed transaction at export, if known.
    pub watermark_tx: Option<u64>,
    /// How the watermark was obtained.
    pub watermark_note: String,
    /// Number of nodes.
    pub nodes: u64,
    /// Number of relationships.
    pub relationships: u64,
    /// Nodes per label.
    pub labels: BTreeMap<String, u64>,
    /// Relationships per type.
    pub relationship_types: BTreeMap<String, u64>,
    /// Property columns.
    pub columns: Vec<ColumnSummary>,
    /// Bytes per section kind.
    pub section_bytes: BTreeMap<String, u64>,
    /// The whole file.
    pub file_bytes: u64,
    /// Node-level bytes (ids, label masks, offsets) per node.
    pub bytes_per_node: f64,
    /// Relationship-level bytes (both directions, types, relationship ids) per relationship.
    pub bytes_per_relationship: f64,
}

/// One property column.
#[derive(Debug, Clone, Serialize)]
pub struct ColumnSummary {
    /// The key.
    pub key: String,
    /// `int`, `float`, `bool` or `string`.
    pub kind: &'static str,
    /// The labels it serves.
    pub labels: Vec<String>,
    /// Nodes with a value.
    pub values: u64,
}

impl<D: AsRef<[u8]>> Snapshot<D> {
    /// Describes the snapshot. Reads the label bitmaps and the edge types (linear in the
    /// relationships), not the rest.
    pub fn summary(&self) -> Summary {
        use crate::format::SectionKind as K;
        let h = self.header();
        let labels = h
            .labels
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let count = self.label_nodes(i as u32).map_or(0, |b| b.len());
                (name.clone(), count)
            })
            .collect();
        let mut per_type = vec![0u64; h.relationship_types.len()];
        for &t in self.edge_types(Direction::Outgoing) {
            if let Some(c) = per_type.get_mut(t as usize) {
                *c += 1;
            }
        }
        let relationship_types = h.relationship_types.iter().cloned().zip(per_type).collect();
        let columns = h
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| ColumnSummary {
                key: c.key.clone(),
                kind: c.kind.name(),
                labels: c
                    .labels
                    .iter()
                    .filter_map(|&l| h.labels.get(l as usize).cloned())
                    .collect(),
                values: self.column_value_count(i),
            })
            .collect();
        let mut section_bytes: BTreeMap<String, u64> = BTreeMap::new();
        let (mut node_bytes, mut rel_bytes) = (0u64, 0u64);
        for s in &h.sections {
            *section_bytes.entry(format!("{:?}", s.kind)).or_default() += s.len;
            match s.kind {
                K::NodeIds | K::LabelMasks | K::Offsets => node_bytes += s.len,
                K::Neighbors | K::EdgeTypes | K::EdgeRelationships | K::RelationshipIds => {
                    rel_bytes += s.len
                }
                _ => {}
            }
        }
        let per = |bytes: u64, count: u64| {
            if count == 0 {
                0.0
            } else {
                bytes as f64 / count as f64
            }
        };
        Summary {
            format_version: FORMAT_VERSION,
            created_unix_ms: h.created_unix_ms,
            source_address: h.source.address.clone(),
            source_database: h.source.database.clone(),
            neo4j_version: h.source.neo4j_version.clone(),
            source_description: h.source.description.clone(),
            watermark_tx: h.watermark.last_committed_tx,
            watermark_note: h.watermark.note.clone(),
            nodes: h.node_count,
            relationships: h.relationship_count,
            labels,
            relationship_types,
            columns,
            section_bytes,
            file_bytes: self.file_len(),
            bytes_per_node: per(node_bytes, h.node_count),
            bytes_per_relationship: per(rel_bytes, h.relationship_count),
        }
    }
}

//! A generated dataset straight into a snapshot file, without Neo4j: for scale tests.
//!
//! Node ids are the generator ids and relationship ids their emission order, so the snapshot of
//! a generated graph and the export of the same graph loaded into Neo4j hold the same graph
//! under different ids. Scalar properties become columns; lists (Discogs `formats`) are left out,
//! as the exporter leaves them out.

use std::path::Path;

use neotrav_snapshot::Progress;
use neotrav_snapshot::{BuildError, PropertyKind, SnapshotBuilder, Source, WriteSummary};

use crate::generate::{Dataset, GraphSink, Kind, Node, Relationship, SinkError, Value};

/// Generates `dataset` and writes it as a snapshot at `out`, atomically.
pub fn write(
    dataset: &dyn Dataset,
    out: &Path,
    progress: &dyn Progress,
) -> Result<WriteSummary, BuildError> {
    let mut builder = SnapshotBuilder::new();
    builder.source(Source {
        description: dataset.describe(),
        ..Source::default()
    });
    for p in dataset.schema().properties {
        let kind = match p.kind {
            Kind::Int => PropertyKind::Int,
            Kind::Float => PropertyKind::Float,
            Kind::Bool => PropertyKind::Bool,
            Kind::Str => PropertyKind::String,
            Kind::StrList => continue,
        };
        builder.column(p.label, p.key, kind)?;
    }
    progress.phase(
        "generating",
        Some(dataset.node_count() + dataset.relationship_count_hint()),
    );
    let mut sink = Sink {
        builder,
        next_rel: 0,
        progress,
        pending: 0,
    };
    if let Err(e) = dataset.generate(&mut sink) {
        // The only failures are the builder's, boxed on the way out.
        return Err(match e.0.downcast::<BuildError>() {
            Ok(b) => *b,
            Err(other) => BuildError::Limit(other.to_string()),
        });
    }
    progress.advance(sink.pending);
    progress.phase("writing the snapshot", None);
    sink.builder.write(out)
}

struct Sink<'a> {
    builder: SnapshotBuilder,
    next_rel: u64,
    progress: &'a dyn Progress,
    pending: u64,
}

impl Sink<'_> {
    fn tick(&mut self) {
        self.pending += 1;
        if self.pending == 65_536 {
            self.progress.advance(self.pending);
            self.pending = 0;
        }
    }
}

impl GraphSink for Sink<'_> {
    fn node(&mut self, node: &Node<'_>) -> Result<(), SinkError> {
        let properties = node.properties.iter().filter_map(|(k, v)| {
            let v = match v {
                Value::Int(i) => neotrav_snapshot::Value::Int(*i),
                Value::Float(f) => neotrav_snapshot::Value::Float(*f),
                Value::Bool(b) => neotrav_snapshot::Value::Bool(*b),
                Value::Str(s) => neotrav_snapshot::Value::String(s.clone()),
                Value::StrList(_) => return None,
            };
            Some((*k, v))
        });
        self.builder
            .add_node(node.id, node.labels.iter().copied(), properties)
            .map_err(|e| SinkError(Box::new(e)))?;
        self.tick();
        Ok(())
    }

    fn relationship(&mut self, rel: Relationship) -> Result<(), SinkError> {
        self.builder
            .add_relationship(self.next_rel, rel.rel_type, rel.start, rel.end)
            .map_err(|e| SinkError(Box::new(e)))?;
        self.next_rel += 1;
        self.tick();
        Ok(())
    }
}

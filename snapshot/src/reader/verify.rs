//! [`Snapshot::verify`]: reads every section and checks its checksum, the zero padding between
//! sections, and the invariants reads rely on for right answers (offsets, neighbours, type
//! codes, relationship indices, id order, string offsets and UTF-8).

use super::Snapshot;
use super::view::cast;
use crate::error::Fault;
use crate::format::{self, Direction, IdLayout, PREAMBLE_LEN, PropertyKind, SectionKind};

impl<D: AsRef<[u8]>> Snapshot<D> {
    /// Reads every section and checks its checksum and the invariants reads rely on: offsets
    /// monotone and ending at the relationship count, neighbours and relationship indices in
    /// range, type codes known, string offsets monotone and on UTF-8 boundaries.
    pub fn verify(&self) -> Result<(), Fault> {
        let bytes = self.data.as_ref();
        for s in &self.header.sections {
            let range = s.offset as usize..(s.offset + s.len) as usize;
            let found = format::hash(&bytes[range]);
            if found != s.hash {
                return Err(Fault::SectionChecksum {
                    kind: s.kind,
                    item: s.item,
                    expected: s.hash,
                    found,
                });
            }
        }
        self.verify_padding()?;
        self.verify_contents()
    }

    /// Bytes outside the preamble, the sections and the header are alignment padding, written
    /// as zeros: a flipped bit there is corruption too.
    fn verify_padding(&self) -> Result<(), Fault> {
        let bytes = self.data.as_ref();
        let mut covered: Vec<(usize, usize)> = self
            .header
            .sections
            .iter()
            .map(|s| (s.offset as usize, (s.offset + s.len) as usize))
            .collect();
        let header_offset = format::u64_at(bytes, 16) as usize;
        covered.push((0, PREAMBLE_LEN));
        covered.push((header_offset, bytes.len()));
        covered.sort_unstable();
        let mut at = 0;
        for (start, end) in covered {
            if start < at {
                return Err(Fault::Inconsistent(format!(
                    "sections overlap at byte {start}"
                )));
            }
            if let Some(i) = bytes[at..start].iter().position(|&b| b != 0) {
                return Err(Fault::Inconsistent(format!(
                    "padding byte {} is not zero",
                    at + i
                )));
            }
            at = end;
        }
        Ok(())
    }

    fn verify_contents(&self) -> Result<(), Fault> {
        let v = self.view();
        let n = v.node_count as u64;
        let m = self.header.relationship_count;
        let bad = |kind, item, what: String| Fault::SectionContent { kind, item, what };
        for dir in Direction::BOTH {
            let d = dir as usize;
            let item = d as u32;
            let offsets = v.offsets[d];
            if offsets.first() != Some(&0) || offsets.last().map(|&x| u64::from(x)) != Some(m) {
                return Err(bad(
                    SectionKind::Offsets,
                    item,
                    format!("does not run from 0 to {m}"),
                ));
            }
            if let Some(i) = offsets.windows(2).position(|w| w[0] > w[1]) {
                return Err(bad(
                    SectionKind::Offsets,
                    item,
                    format!("decreases at node {i}"),
                ));
            }
            if let Some(i) = v.neighbors[d].iter().position(|&x| u64::from(x) >= n) {
                return Err(bad(
                    SectionKind::Neighbors,
                    item,
                    format!("edge {i} points past the {n} nodes"),
                ));
            }
            let types = self.header.relationship_types.len();
            if let Some(i) = v.edge_types[d]
                .iter()
                .position(|&t| usize::from(t) >= types)
            {
                return Err(bad(
                    SectionKind::EdgeTypes,
                    item,
                    format!("edge {i} has an unknown type code"),
                ));
            }
        }
        if let Some(i) = v.in_relationships.iter().position(|&r| u64::from(r) >= m) {
            return Err(bad(
                SectionKind::EdgeRelationships,
                1,
                format!("edge {i} names a relationship past {m}"),
            ));
        }
        if let IdLayout::Offset32 { .. } | IdLayout::Full64 = self.header.node_ids {
            let sorted = (1..v.node_count).all(|i| v.node_id(i as u32 - 1) < v.node_id(i as u32));
            if !sorted {
                return Err(bad(
                    SectionKind::NodeIds,
                    0,
                    "ids are not strictly increasing".into(),
                ));
            }
        }
        for (c, spec) in self.header.columns.iter().enumerate() {
            if spec.kind != PropertyKind::String {
                continue;
            }
            let l = &self.layout.columns[c];
            let offsets: &[u64] = cast(&self.data.as_ref()[l.values.clone()]);
            let strings = &self.data.as_ref()[l.string_bytes.clone()];
            let item = c as u32;
            if offsets.first() != Some(&0) || offsets.last() != Some(&(strings.len() as u64)) {
                return Err(bad(
                    SectionKind::ColumnStringOffsets,
                    item,
                    "does not span the string bytes".into(),
                ));
            }
            for w in offsets.windows(2) {
                let s = strings.get(w[0] as usize..w[1] as usize);
                if s.is_none_or(|s| std::str::from_utf8(s).is_err()) {
                    return Err(bad(
                        SectionKind::ColumnStringOffsets,
                        item,
                        format!("range {}..{} is not a UTF-8 string", w[0], w[1]),
                    ));
                }
            }
        }
        self.verify_indices()
    }

    /// Every column index holds exactly the nodes with a value, sorted by (value, node index)
    /// in the order `format::SectionKind::ColumnIndex` defines.
    fn verify_indices(&self) -> Result<(), Fault> {
        let bad = |item, what: String| Fault::SectionContent {
            kind: SectionKind::ColumnIndex,
            item,
            what,
        };
        for c in 0..self.header.columns.len() {
            let cells = self.cells(c);
            let Some(index) = cells.index else {
                continue;
            };
            let item = c as u32;
            let count = self.column_value_count(c);
            if index.len() as u64 != count {
                return Err(bad(
                    item,
                    format!("{} entries for {count} values", index.len()),
                ));
            }
            if let Some(&node) = index.iter().find(|&&node| !cells.present(node)) {
                return Err(bad(item, format!("node {node} has no value")));
            }
            let key = |node: u32| -> (u64, &[u8]) {
                let words: &[u64] = cells.values;
                let word = || words.get(node as usize).copied().unwrap_or(0);
                match cells.kind {
                    PropertyKind::Int => (format::int_order_key(word()), &[]),
                    PropertyKind::Float => (format::float_order_key(word()), &[]),
                    PropertyKind::Bool => (u64::from(cells.bool(node) == Some(true)), &[]),
                    PropertyKind::String => (0, cells.str(node).unwrap_or("").as_bytes()),
                }
            };
            if let Some(w) = index
                .windows(2)
                .position(|w| (key(w[0]), w[0]) >= (key(w[1]), w[1]))
            {
                return Err(bad(item, format!("not sorted at entry {}", w + 1)));
            }
            self.verify_hash(c, index)?;
        }
        Ok(())
    }

    /// The column's hash table, if it has one, holds exactly one slot per run of equal values
    /// in its (verified) index, found by the value's probe, stating the run's start and length;
    /// and it has the number of slots the format gives for that many values.
    fn verify_hash(&self, c: usize, index: &[u32]) -> Result<(), Fault> {
        let cells = self.cells(c);
        let Some(table) = cells.hash else {
            return Ok(());
        };
        let item = c as u32;
        let bad = |what: String| Fault::SectionContent {
            kind: SectionKind::ColumnHash,
            item,
            what,
        };
        // A value: an int's word, or a string's bytes.
        let value = |node: u32| -> Option<(u64, &[u8])> {
            match cells.kind {
                PropertyKind::Int => cells.int(node).map(|v| (v as u64, &[][..])),
                _ => cells.bytes(node).map(|b| (0, b)),
            }
        };
        let mut runs = 0usize;
        let mut start = 0usize;
        while start < index.len() {
            let v = value(index[start]);
            let end = start
                + index[start..]
                    .iter()
                    .take_while(|&&n| value(n) == v)
                    .count();
            let (word, bytes) = v.unwrap_or((0, &[]));
            let hash = match cells.kind {
                PropertyKind::Int => format::key_hash(&word.to_le_bytes()),
                _ => format::key_hash(bytes),
            };
            let found = super::property::hash_probe(table, index, hash, |n| value(n) == v);
            let run = end - start;
            let want = format::HashSlot::new(
                hash,
                run,
                if run == 1 { index[start] } else { start as u32 },
            );
            if found != Some(want) {
                return Err(bad(format!(
                    "the value at index entry {start} (a run of {run}) is not found where it is"
                )));
            }
            runs += 1;
            start = end;
        }
        let used = table
            .iter()
            .filter(|&&w| w != format::HashSlot::EMPTY.0)
            .count();
        if used != runs || table.len() != format::hash_slots(runs) {
            return Err(bad(format!(
                "{used} of {} slots used for {runs} distinct values",
                table.len()
            )));
        }
        Ok(())
    }
}

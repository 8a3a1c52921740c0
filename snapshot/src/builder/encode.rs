//! How the builder lays its data out in sections: the id layout of sorted ids and the index of
//! an id under it, a direction's adjacency (offsets, neighbours, edge types), and a property
//! column read back from its spill (values, string offsets and bytes, presence bits).

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom};

use memmap2::Mmap;
use rayon::slice::ParallelSliceMut;

use super::PendingRel;
use super::spill::{RECORD_LEN, Spill};
use super::writer::SectionWriter;
use crate::format::{self, Direction, IdLayout, PropertyKind, SectionKind};

/// The id layout of sorted node ids: dense when they are consecutive, 32-bit offsets when they
/// span less than 2^32, full otherwise.
pub(super) fn id_layout(sorted: &[u64], allow_dense: bool) -> IdLayout {
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

/// The dense index of node `id`, given the sorted ids (unused, and may be empty, when dense).
pub(super) fn index_in(layout: IdLayout, ids: &[u64], n: usize, id: u64) -> Option<u32> {
    match layout {
        IdLayout::Dense { base } => id
            .checked_sub(base)
            .filter(|&i| i < n as u64)
            .map(|i| i as u32),
        _ => ids.binary_search(&id).ok().map(|i| i as u32),
    }
}

/// Offsets, neighbours and types of one direction, from relationships sorted by `node`.
pub(super) fn write_adjacency(
    out: &mut SectionWriter,
    dir: Direction,
    rels: &[PendingRel],
    n: usize,
    node: impl Fn(&PendingRel) -> u64,
    neighbor: impl Fn(&PendingRel) -> u64,
) -> io::Result<()> {
    let item = dir as u32;
    let mut offsets = vec![0u32; n + 1];
    for r in rels {
        offsets[node(r) as usize + 1] += 1;
    }
    for i in 1..offsets.len() {
        offsets[i] += offsets[i - 1];
    }
    out.section(SectionKind::Offsets, item, &offsets)?;
    drop(offsets);
    out.section_iter(
        SectionKind::Neighbors,
        item,
        rels.iter().map(|r| neighbor(r) as u32),
    )?;
    out.section_iter(SectionKind::EdgeTypes, item, rels.iter().map(|r| r.kind))
}

/// Reads a column back from its spill files and writes its sections. A node given the same key
/// twice keeps the last value.
pub(super) fn write_column(
    out: &mut SectionWriter,
    c: u32,
    kind: PropertyKind,
    spill: Option<Spill>,
    n: usize,
    index_of: &dyn Fn(u64) -> Option<u32>,
) -> io::Result<()> {
    let mut present = vec![0u64; n.div_ceil(64)];
    let (records, strings) = match spill {
        Some(spill) => {
            let rewind = |w: BufWriter<File>| -> io::Result<File> {
                let mut file = w.into_inner().map_err(|e| e.into_error())?;
                file.seek(SeekFrom::Start(0))?;
                Ok(file)
            };
            (
                Some(rewind(spill.records)?),
                spill.strings.map(rewind).transpose()?,
            )
        }
        None => (None, None),
    };
    // Calls `each(index, word, position)` for every record in insertion order, `position` being
    // the value's offset in the string spill.
    let mut for_each = |each: &mut dyn FnMut(usize, u64, u64)| -> io::Result<()> {
        let Some(records) = &records else {
            return Ok(());
        };
        let mut reader = BufReader::with_capacity(1 << 20, records);
        let mut record = [0u8; RECORD_LEN];
        let mut position = 0u64;
        loop {
            match reader.read_exact(&mut record) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
                Err(e) => return Err(e),
            }
            let id = format::u64_at(&record, 0);
            let word = format::u64_at(&record, 8);
            // A value of a node that was not added (its add_node failed on a spill write) is
            // skipped.
            if let Some(index) = index_of(id) {
                let index = index as usize;
                present[index / 64] |= 1 << (index % 64);
                each(index, word, position);
            }
            if kind == PropertyKind::String {
                position += word;
            }
        }
    };
    // The index: the nodes with a value, sorted by (value, node index); and for ints and
    // strings the hash table of its runs.
    let (index, table): (Vec<u32>, Option<Vec<u64>>) = match kind {
        PropertyKind::Int | PropertyKind::Float => {
            let mut words = vec![0u64; n];
            for_each(&mut |index, word, _| words[index] = word)?;
            out.section(SectionKind::ColumnValues, c, &words)?;
            let order = if kind == PropertyKind::Int {
                format::int_order_key
            } else {
                format::float_order_key
            };
            let mut keyed: Vec<(u64, u32)> = present_nodes(&present)
                .map(|i| (order(words[i as usize]), i))
                .collect();
            keyed.par_sort_unstable();
            let index: Vec<u32> = keyed.into_iter().map(|(_, i)| i).collect();
            let table = (kind == PropertyKind::Int).then(|| {
                let word = |i: u32| words[i as usize];
                hash_table(
                    &index,
                    |i| format::key_hash(&word(i).to_le_bytes()),
                    |a, b| word(a) == word(b),
                )
            });
            (index, table)
        }
        PropertyKind::Bool => {
            let mut bits = vec![0u64; n.div_ceil(64)];
            for_each(&mut |index, word, _| {
                let bit = 1 << (index % 64);
                if word == 1 {
                    bits[index / 64] |= bit;
                } else {
                    bits[index / 64] &= !bit;
                }
            })?;
            out.section(SectionKind::ColumnValues, c, &bits)?;
            let value = |i: u32| bits[i as usize / 64] >> (i % 64) & 1 == 1;
            let falses = present_nodes(&present).filter(|&i| !value(i));
            let index = falses
                .chain(present_nodes(&present).filter(|&i| value(i)))
                .collect();
            (index, None)
        }
        PropertyKind::String => {
            // Where each node's value is in the spill: (position, length).
            let mut at = vec![(0u64, 0u64); n];
            for_each(&mut |index, len, position| at[index] = (position, len))?;
            let mut offset = 0u64;
            out.section_iter(
                SectionKind::ColumnStringOffsets,
                c,
                std::iter::once(0).chain(at.iter().map(|&(_, len)| {
                    offset += len;
                    offset
                })),
            )?;
            let map = match &strings {
                // SAFETY: the spill is an unnamed temporary file of this process that nothing
                // writes to any more.
                Some(file) if file.metadata()?.len() > 0 => Some(unsafe { Mmap::map(file)? }),
                _ => None,
            };
            let bytes: &[u8] = map.as_deref().unwrap_or(&[]);
            let value = |i: u32| -> &[u8] {
                let (position, len) = at[i as usize];
                bytes
                    .get(position as usize..(position + len) as usize)
                    .unwrap_or(&[])
            };
            let mut parts = at.iter().map(|&(position, len)| {
                bytes
                    .get(position as usize..(position + len) as usize)
                    .ok_or_else(|| io::Error::other("a string value is outside its spill file"))
            });
            out.section_parts(SectionKind::ColumnStringBytes, c, &mut parts)?;
            // Sorted by the first 8 bytes (zero-padded, big-endian: the same order as the
            // bytes) held beside each node, so that most comparisons stay in the sorted vector;
            // only ties read the strings.
            let prefix = |i: u32| {
                let b = value(i);
                let mut k = [0u8; 8];
                let len = b.len().min(8);
                k[..len].copy_from_slice(&b[..len]);
                u64::from_be_bytes(k)
            };
            let mut keyed: Vec<(u64, u32)> =
                present_nodes(&present).map(|i| (prefix(i), i)).collect();
            keyed.par_sort_unstable_by(|a, b| {
                a.0.cmp(&b.0)
                    .then_with(|| value(a.1).cmp(value(b.1)))
                    .then(a.1.cmp(&b.1))
            });
            let index: Vec<u32> = keyed.into_iter().map(|(_, i)| i).collect();
            let table = hash_table(
                &index,
                |i| format::key_hash(value(i)),
                |a, b| value(a) == value(b),
            );
            (index, Some(table))
        }
    };
    out.section(SectionKind::ColumnIndex, c, &index)?;
    drop(index);
    if let Some(table) = table {
        out.section(SectionKind::ColumnHash, c, &table)?;
    }
    out.section(SectionKind::ColumnPresent, c, &present)
}

/// The hash table of a column's index ([`format::HashSlot`]): one slot per distinct value, at
/// the start of its run. `hash` hashes a node's value, `same` compares two nodes' values.
fn hash_table(
    index: &[u32],
    hash: impl Fn(u32) -> u64,
    same: impl Fn(u32, u32) -> bool,
) -> Vec<u64> {
    // Where each run starts, and one past the last.
    let mut starts: Vec<u32> = (0..index.len())
        .filter(|&p| p == 0 || !same(index[p - 1], index[p]))
        .map(|p| p as u32)
        .collect();
    let slots = format::hash_slots(starts.len());
    starts.push(index.len() as u32);
    let mut table = vec![format::HashSlot::EMPTY.0; slots];
    for run in starts.windows(2) {
        let (start, end) = (run[0], run[1]);
        let h = hash(index[start as usize]);
        let mut s = format::hash_start(h, slots);
        // The table has more slots than values: an empty one comes.
        while table[s] != format::HashSlot::EMPTY.0 {
            s = if s + 1 == slots { 0 } else { s + 1 };
        }
        let len = (end - start) as usize;
        let at = if len == 1 {
            index[start as usize]
        } else {
            start
        };
        table[s] = format::HashSlot::new(h, len, at).0;
    }
    table
}

/// The node indices whose bit is set, ascending.
fn present_nodes(present: &[u64]) -> impl Iterator<Item = u32> + '_ {
    present.iter().enumerate().flat_map(|(w, &word)| {
        let mut bits = word;
        std::iter::from_fn(move || {
            (bits != 0).then(|| {
                let b = bits.trailing_zeros();
                bits &= bits - 1;
                (w * 64) as u32 + b
            })
        })
    })
}

//! How bytes become a [`Snapshot`]: [`Snapshot::open`] maps a regular file (refusing anything
//! else without blocking), [`Snapshot::from_bytes`] checks the preamble, the versions and the
//! header checksum, decodes the header and resolves its section table into a `Layout`, checking
//! each section's bounds, alignment and length. [`AlignedBytes`] holds a file's bytes in memory
//! instead, for tests and fuzzing.

use std::collections::HashMap;
use std::fs::File;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use memmap2::Mmap;

use super::{ColumnLayout, Layout, Snapshot};
use crate::error::{Error, Fault};
use crate::format::{
    self, FORMAT_VERSION, HASHED_SINCE, Header, INDEXED_SINCE, IdLayout, MAGIC, OLDEST_SUPPORTED,
    PREAMBLE_LEN, PropertyKind, SECTION_ALIGN, SectionEntry, SectionKind,
};

impl Snapshot<Mmap> {
    /// Maps the file at `path` and checks it (see the module docs for what is checked). Anything
    /// but a regular file (a directory, FIFO, device or socket) is [`Error::NotAFile`], refused
    /// without blocking.
    pub fn open(path: impl AsRef<Path>) -> Result<Snapshot<Mmap>, Error> {
        Snapshot::open_with_metadata(path).map(|(snapshot, _)| snapshot)
    }

    /// [`Snapshot::open`], also giving the metadata of the descriptor that was mapped (fstat, not
    /// a second look at the path), so that a caller can later tell whether that very file was
    /// changed in place (same device and inode, another length or modification time).
    ///
    /// A path that does not lead to a regular file is refused before it is opened (opening a
    /// device can have effects); then the file is opened with `O_NONBLOCK` and checked again
    /// through its descriptor before it is mapped, so that a FIFO or device put at the path
    /// between the two cannot hang the open.
    pub fn open_with_metadata(
        path: impl AsRef<Path>,
    ) -> Result<(Snapshot<Mmap>, std::fs::Metadata), Error> {
        let path = path.as_ref();
        let io = |source| Error::Io {
            path: path.to_path_buf(),
            source,
        };
        let before = std::fs::metadata(path).map_err(io)?;
        if !before.is_file() {
            return Err(Error::NotAFile {
                path: path.to_path_buf(),
                kind: file_kind(&before),
            });
        }
        let (file, metadata) = open_regular(path)?;
        // SAFETY: snapshots are immutable once written: the writer renames a finished file into
        // place and never writes to it again, so the mapped bytes do not change under us. A file
        // truncated by someone else while mapped can still SIGBUS; that is outside the contract
        // (the sidecar watches for it with the metadata returned here).
        let map = unsafe { Mmap::map(&file) }.map_err(io)?;
        let snapshot = Snapshot::from_bytes(map).map_err(|fault| Error::Invalid {
            path: path.to_path_buf(),
            fault,
        })?;
        Ok((snapshot, metadata))
    }
}

/// Opens `path` for reading without blocking and checks through the descriptor that it is a
/// regular file.
fn open_regular(path: &Path) -> Result<(File, std::fs::Metadata), Error> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Opening a FIFO for reading blocks until a writer comes; a device may block too.
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(io)?;
    let metadata = file.metadata().map_err(io)?;
    if !metadata.is_file() {
        return Err(Error::NotAFile {
            path: path.to_path_buf(),
            kind: file_kind(&metadata),
        });
    }
    Ok((file, metadata))
}

/// What kind of file `metadata` describes, for [`Error::NotAFile`].
fn file_kind(metadata: &std::fs::Metadata) -> &'static str {
    let t = metadata.file_type();
    if t.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    "another kind of file"
}

impl<D: AsRef<[u8]>> Snapshot<D> {
    /// Checks `data` as a snapshot. It must be 8-byte aligned (a memory map always is; use
    /// [`AlignedBytes`] for buffers).
    pub fn from_bytes(data: D) -> Result<Snapshot<D>, Fault> {
        let bytes = data.as_ref();
        if !(bytes.as_ptr() as usize).is_multiple_of(SECTION_ALIGN) {
            return Err(Fault::Unaligned);
        }
        let (header, version) = read_header(bytes)?;
        let layout = resolve(&header, version)?;
        let label_codes = dictionary(&header.labels);
        let type_codes = dictionary(&header.relationship_types);
        Ok(Snapshot {
            data,
            version,
            header,
            layout,
            label_codes,
            type_codes,
            bloom: OnceLock::new(),
        })
    }
}

/// The header and the file's format version.
fn read_header(bytes: &[u8]) -> Result<(Header, u32), Fault> {
    let file_len = bytes.len() as u64;
    if bytes.len() < PREAMBLE_LEN {
        return Err(Fault::TooShort {
            len: file_len,
            min: PREAMBLE_LEN as u64,
        });
    }
    let p = &bytes[..PREAMBLE_LEN];
    let magic: [u8; 8] = p[0..8].try_into().expect("8 bytes");
    if magic != MAGIC {
        return Err(Fault::BadMagic { found: magic });
    }
    let expected = format::u64_at(p, 56);
    let found = format::hash(&p[..56]);
    if expected != found {
        return Err(Fault::PreambleChecksum { expected, found });
    }
    let version = format::u32_at(p, 8);
    let min_reader = format::u32_at(p, 12);
    if version < OLDEST_SUPPORTED {
        return Err(Fault::TooOld {
            found: version,
            oldest: OLDEST_SUPPORTED,
            newest: FORMAT_VERSION,
        });
    }
    if version > FORMAT_VERSION && min_reader > FORMAT_VERSION {
        return Err(Fault::TooNew {
            found: version,
            oldest: OLDEST_SUPPORTED,
            newest: FORMAT_VERSION,
        });
    }
    let recorded_len = format::u64_at(p, 40);
    if recorded_len != file_len {
        return Err(Fault::LengthMismatch {
            expected: recorded_len,
            found: file_len,
        });
    }
    let offset = format::u64_at(p, 16);
    let len = format::u64_at(p, 24);
    let in_bounds =
        offset >= PREAMBLE_LEN as u64 && offset.checked_add(len).is_some_and(|e| e <= file_len);
    if !in_bounds {
        return Err(Fault::HeaderOutOfBounds {
            offset,
            len,
            file_len,
        });
    }
    let header_bytes = &bytes[offset as usize..(offset + len) as usize];
    let expected = format::u64_at(p, 32);
    let found = format::hash(header_bytes);
    if expected != found {
        return Err(Fault::HeaderChecksum { expected, found });
    }
    let (header, used): (Header, usize) =
        bincode::decode_from_slice(header_bytes, format::bincode_config())
            .map_err(|e| Fault::HeaderDecode(e.to_string()))?;
    if used != header_bytes.len() {
        return Err(Fault::HeaderDecode(format!(
            "{} bytes left over after the header",
            header_bytes.len() - used
        )));
    }
    // The header's own claims about the data area.
    let data_end = offset;
    for s in &header.sections {
        let ok = s.offset >= PREAMBLE_LEN as u64
            && s.offset.is_multiple_of(SECTION_ALIGN as u64)
            && s.offset.checked_add(s.len).is_some_and(|e| e <= data_end);
        if !ok {
            return Err(Fault::SectionOutOfBounds {
                kind: s.kind,
                item: s.item,
                offset: s.offset,
                len: s.len,
                limit: data_end,
            });
        }
    }
    Ok((header, version))
}

/// Resolves and checks the section table against the header's counts.
fn resolve(h: &Header, version: u32) -> Result<Layout, Fault> {
    let n = h.node_count;
    let m = h.relationship_count;
    if n >= u64::from(u32::MAX) || m > u64::from(u32::MAX) {
        return Err(Fault::Inconsistent(format!(
            "{n} nodes and {m} relationships exceed format version 1's 32-bit indices"
        )));
    }
    let words = u64::from(h.label_words);
    if words != (h.labels.len() as u64).div_ceil(64).max(1) {
        return Err(Fault::Inconsistent(format!(
            "{} label words for {} labels",
            h.label_words,
            h.labels.len()
        )));
    }
    if h.relationship_types.len() > 256 {
        return Err(Fault::Inconsistent(
            "more than 256 relationship types".into(),
        ));
    }
    for (i, c) in h.columns.iter().enumerate() {
        if let Some(l) = c.labels.iter().find(|&&l| l as usize >= h.labels.len()) {
            return Err(Fault::Inconsistent(format!(
                "column {} names unknown label code {l}",
                c.key
            )));
        }
        // A key's kind-columns: one per kind, all for the same labels.
        for d in &h.columns[..i] {
            if d.key == c.key && d.kind == c.kind {
                return Err(Fault::Inconsistent(format!(
                    "two {} columns for key {}",
                    c.kind.name(),
                    c.key
                )));
            }
            if d.key == c.key && d.labels != c.labels {
                return Err(Fault::Inconsistent(format!(
                    "the columns of key {} cover different labels",
                    c.key
                )));
            }
        }
    }
    let mut table: HashMap<(SectionKind, u32), &SectionEntry> = HashMap::new();
    for s in &h.sections {
        if table.insert((s.kind, s.item), s).is_some() {
            return Err(Fault::DuplicateSection {
                kind: s.kind,
                item: s.item,
            });
        }
    }
    let get =
        |kind: SectionKind, item: u32, expected: Option<u64>| -> Result<Range<usize>, Fault> {
            let s = table
                .get(&(kind, item))
                .ok_or(Fault::MissingSection { kind, item })?;
            if let Some(expected) = expected
                && s.len != expected
            {
                return Err(Fault::SectionLength {
                    kind,
                    item,
                    expected,
                    found: s.len,
                });
            }
            Ok(s.offset as usize..(s.offset + s.len) as usize)
        };
    let node_ids = match h.node_ids {
        IdLayout::Dense { .. } => None,
        IdLayout::Offset32 { .. } => Some(get(SectionKind::NodeIds, 0, Some(4 * n))?),
        IdLayout::Full64 => Some(get(SectionKind::NodeIds, 0, Some(8 * n))?),
    };
    let relationship_ids = match h.relationship_ids {
        IdLayout::Dense { .. } | IdLayout::Offset32 { .. } => {
            get(SectionKind::RelationshipIds, 0, Some(4 * m))?
        }
        IdLayout::Full64 => get(SectionKind::RelationshipIds, 0, Some(8 * m))?,
    };
    let label_masks = get(SectionKind::LabelMasks, 0, Some(8 * n * words))?;
    let label_bitmaps = (0..h.labels.len() as u32)
        .map(|l| get(SectionKind::LabelBitmap, l, None))
        .collect::<Result<_, _>>()?;
    let offsets = [
        get(SectionKind::Offsets, 0, Some(4 * (n + 1)))?,
        get(SectionKind::Offsets, 1, Some(4 * (n + 1)))?,
    ];
    let neighbors = [
        get(SectionKind::Neighbors, 0, Some(4 * m))?,
        get(SectionKind::Neighbors, 1, Some(4 * m))?,
    ];
    let edge_types = [
        get(SectionKind::EdgeTypes, 0, Some(m))?,
        get(SectionKind::EdgeTypes, 1, Some(m))?,
    ];
    let in_relationships = get(SectionKind::EdgeRelationships, 1, Some(4 * m))?;
    let bloom = get(SectionKind::Bloom, 0, None)?;
    if bloom.len() % 8 != 0 || bloom.is_empty() {
        return Err(Fault::SectionLength {
            kind: SectionKind::Bloom,
            item: 0,
            expected: bloom.len().next_multiple_of(8).max(8) as u64,
            found: bloom.len() as u64,
        });
    }
    let bitset = 8 * n.div_ceil(64);
    let columns = h
        .columns
        .iter()
        .enumerate()
        .map(|(c, spec)| {
            let c = c as u32;
            let present = get(SectionKind::ColumnPresent, c, Some(bitset))?;
            let (values, string_bytes) = match spec.kind {
                PropertyKind::Int | PropertyKind::Float => {
                    (get(SectionKind::ColumnValues, c, Some(8 * n))?, 0..0)
                }
                PropertyKind::Bool => (get(SectionKind::ColumnValues, c, Some(bitset))?, 0..0),
                PropertyKind::String => (
                    get(SectionKind::ColumnStringOffsets, c, Some(8 * (n + 1)))?,
                    get(SectionKind::ColumnStringBytes, c, None)?,
                ),
            };
            // Open checks the index's length only against n; verify checks it against the
            // present count.
            let index = if version >= INDEXED_SINCE {
                let index = get(SectionKind::ColumnIndex, c, None)?;
                if index.len() % 4 != 0 || index.len() as u64 > 4 * n {
                    return Err(Fault::SectionLength {
                        kind: SectionKind::ColumnIndex,
                        item: c,
                        expected: (index.len() as u64).next_multiple_of(4).min(4 * n),
                        found: index.len() as u64,
                    });
                }
                Some(index)
            } else {
                None
            };
            // At most the table of a column with a distinct value on every node; verify
            // checks the slots against the index.
            let hashed = matches!(spec.kind, PropertyKind::Int | PropertyKind::String);
            let hash = if hashed && version >= HASHED_SINCE && index.is_some() {
                let hash = get(SectionKind::ColumnHash, c, None)?;
                let slots = hash.len() / 8;
                let most = format::hash_slots(n as usize);
                if hash.len() % 8 != 0 || slots > most || slots == 1 {
                    return Err(Fault::SectionLength {
                        kind: SectionKind::ColumnHash,
                        item: c,
                        expected: 8 * (slots.clamp(2, most.max(2))) as u64,
                        found: hash.len() as u64,
                    });
                }
                Some(hash)
            } else {
                None
            };
            Ok(ColumnLayout {
                values,
                present,
                string_bytes,
                index,
                hash,
            })
        })
        .collect::<Result<_, Fault>>()?;
    Ok(Layout {
        node_ids,
        label_masks,
        label_bitmaps,
        offsets,
        neighbors,
        edge_types,
        in_relationships,
        relationship_ids,
        bloom,
        columns,
    })
}

fn dictionary(names: &[String]) -> HashMap<String, u32> {
    names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.clone(), i as u32))
        .collect()
}

/// Bytes in an 8-byte-aligned buffer, for reading a snapshot without a memory map.
#[derive(Debug, Clone)]
pub struct AlignedBytes {
    words: Vec<u64>,
    len: usize,
}

impl AlignedBytes {
    /// Copies `bytes` into an aligned buffer.
    pub fn new(bytes: &[u8]) -> AlignedBytes {
        let mut words = vec![0u64; bytes.len().div_ceil(8)];
        bytemuck::cast_slice_mut::<u64, u8>(&mut words)[..bytes.len()].copy_from_slice(bytes);
        AlignedBytes {
            words,
            len: bytes.len(),
        }
    }

    /// Reads a file into an aligned buffer.
    pub fn read(path: &Path) -> Result<AlignedBytes, Error> {
        std::fs::read(path)
            .map(|b| AlignedBytes::new(&b))
            .map_err(|source| Error::Io {
                path: PathBuf::from(path),
                source,
            })
    }
}

impl AsRef<[u8]> for AlignedBytes {
    fn as_ref(&self) -> &[u8] {
        &bytemuck::cast_slice::<u64, u8>(&self.words)[..self.len]
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    /// A FIFO put at the path after the path was checked (here: never checked) is refused
    /// through the descriptor, without waiting for a writer.
    #[test]
    fn a_fifo_past_the_path_check_does_not_hang_the_open() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("swapped-in");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(open_regular(&fifo).map(|_| ()).map_err(|e| e.to_string()));
        });
        let result = rx
            .recv_timeout(std::time::Duration::from_secs(5))
            .expect("opening a FIFO hung");
        assert!(result.unwrap_err().contains("a FIFO"));
    }
}

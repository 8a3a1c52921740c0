//! [`SectionWriter`]: the snapshot file being written. Sections are appended to a temporary
//! file next to the target, aligned and hashed on the way; [`SectionWriter::finish`] writes the
//! header and the preamble, fsyncs, and renames the file into place (then fsyncs the folder), so
//! that a reader finds either the previous file or the whole new one.

use std::fs::File;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use super::WriteSummary;
use crate::format::{
    self, FORMAT_VERSION, Header, PREAMBLE_LEN, Preamble, SECTION_ALIGN, SectionEntry, SectionKind,
};

/// Appends sections to a temporary file next to the target, hashing them on the way, then
/// writes the header and the preamble and renames the file into place.
pub(super) struct SectionWriter {
    out: BufWriter<NamedTempFile>,
    at: u64,
    entries: Vec<SectionEntry>,
    dir: PathBuf,
    pub(super) target: PathBuf,
}

impl SectionWriter {
    pub(super) fn create(path: &Path) -> io::Result<SectionWriter> {
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
        // The preamble is written last: until then the file cannot open as a snapshot.
        out.write_all(&[0u8; PREAMBLE_LEN])?;
        Ok(SectionWriter {
            out,
            at: PREAMBLE_LEN as u64,
            entries: Vec::new(),
            dir,
            target: path.to_path_buf(),
        })
    }

    fn pad(&mut self) -> io::Result<()> {
        let pad = self.at.next_multiple_of(SECTION_ALIGN as u64) - self.at;
        self.out.write_all(&[0u8; SECTION_ALIGN][..pad as usize])?;
        self.at += pad;
        Ok(())
    }

    pub(super) fn section<T: bytemuck::Pod>(
        &mut self,
        kind: SectionKind,
        item: u32,
        values: &[T],
    ) -> io::Result<()> {
        let bytes: &[u8] = bytemuck::cast_slice(values);
        self.pad()?;
        self.out.write_all(bytes)?;
        self.close(kind, item, self.at, bytes.len() as u64, format::hash(bytes));
        Ok(())
    }

    /// Records the section just written, `len` bytes from `offset` with `hash`.
    fn close(&mut self, kind: SectionKind, item: u32, offset: u64, len: u64, hash: u64) {
        self.entries.push(SectionEntry {
            kind,
            item,
            offset,
            len,
            hash,
        });
        self.at += len;
    }

    /// A section made on the fly, in chunks, without materialising it.
    pub(super) fn section_iter<T: bytemuck::Pod>(
        &mut self,
        kind: SectionKind,
        item: u32,
        values: impl Iterator<Item = T>,
    ) -> io::Result<()> {
        self.pad()?;
        let offset = self.at;
        let mut hasher = xxhash_rust::xxh3::Xxh3::new();
        let mut chunk: Vec<T> = Vec::with_capacity(1 << 16);
        let mut flush =
            |chunk: &mut Vec<T>, out: &mut BufWriter<NamedTempFile>| -> io::Result<u64> {
                let bytes: &[u8] = bytemuck::cast_slice(chunk);
                hasher.update(bytes);
                out.write_all(bytes)?;
                let len = bytes.len() as u64;
                chunk.clear();
                Ok(len)
            };
        let mut len = 0;
        for value in values {
            chunk.push(value);
            if chunk.len() == chunk.capacity() {
                len += flush(&mut chunk, &mut self.out)?;
            }
        }
        len += flush(&mut chunk, &mut self.out)?;
        self.close(kind, item, offset, len, hasher.digest());
        Ok(())
    }

    /// A section made of byte slices, copied through one buffer.
    pub(super) fn section_parts(
        &mut self,
        kind: SectionKind,
        item: u32,
        parts: &mut dyn Iterator<Item = io::Result<&[u8]>>,
    ) -> io::Result<()> {
        self.pad()?;
        let offset = self.at;
        let mut hasher = xxhash_rust::xxh3::Xxh3::new();
        let mut chunk: Vec<u8> = Vec::with_capacity(1 << 16);
        let mut len = 0u64;
        for part in parts {
            let part = part?;
            if chunk.len() + part.len() > chunk.capacity() {
                hasher.update(&chunk);
                self.out.write_all(&chunk)?;
                chunk.clear();
            }
            if part.len() > chunk.capacity() {
                hasher.update(part);
                self.out.write_all(part)?;
            } else {
                chunk.extend_from_slice(part);
            }
            len += part.len() as u64;
        }
        hasher.update(&chunk);
        self.out.write_all(&chunk)?;
        self.close(kind, item, offset, len, hasher.digest());
        Ok(())
    }

    pub(super) fn finish(mut self, mut header: Header, path: &Path) -> io::Result<WriteSummary> {
        self.pad()?;
        header.sections = std::mem::take(&mut self.entries);
        let header_bytes = bincode::encode_to_vec(&header, format::bincode_config())
            .map_err(|e| io::Error::other(format!("encoding the header: {e}")))?;
        self.out.write_all(&header_bytes)?;
        let file_len = self.at + header_bytes.len() as u64;
        let preamble = Preamble {
            version: FORMAT_VERSION,
            min_reader: FORMAT_VERSION,
            header_offset: self.at,
            header_len: header_bytes.len() as u64,
            header_hash: format::hash(&header_bytes),
            file_len,
        };
        let mut tmp = self.out.into_inner().map_err(|e| e.into_error())?;
        tmp.as_file_mut().seek(SeekFrom::Start(0))?;
        tmp.as_file_mut().write_all(&preamble.encode())?;
        // tempfile creates 0600 files; a snapshot is meant to be mapped by other processes too.
        tmp.as_file()
            .set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644))?;
        tmp.as_file().sync_all()?;
        tmp.persist(path).map_err(|e| e.error)?;
        // Make the rename itself durable.
        File::open(&self.dir)?.sync_all()?;
        Ok(WriteSummary {
            path: path.to_path_buf(),
            bytes: file_len,
            nodes: header.node_count,
            relationships: header.relationship_count,
        })
    }
}

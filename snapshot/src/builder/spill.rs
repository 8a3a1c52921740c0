//! [`Spill`]: a column's property values on disk while the graph builds, so that they take no
//! memory until their column is written. The files are unnamed temporary files in the system's
//! temporary folder (`TMPDIR`), which the kernel removes however the process ends.

use std::fs::File;
use std::io::{self, BufWriter, Write};

use super::Value;
use crate::error::BuildError;
use crate::format::PropertyKind;

/// A column's values, spilled in insertion order: `records` holds (node id, word) pairs of two
/// little-endian `u64`s, the word being the `i64`, the `f64` bits, 0 or 1, or for strings the
/// byte length of the value, whose bytes follow the previous value's in `strings`.
#[derive(Debug)]
pub(super) struct Spill {
    pub(super) records: BufWriter<File>,
    pub(super) strings: Option<BufWriter<File>>,
}

/// Size of a spill record: node id and word.
pub(super) const RECORD_LEN: usize = 16;

impl Spill {
    pub(super) fn create(kind: PropertyKind) -> io::Result<Spill> {
        let file = || -> io::Result<BufWriter<File>> {
            Ok(BufWriter::with_capacity(1 << 18, tempfile::tempfile()?))
        };
        Ok(Spill {
            records: file()?,
            strings: if kind == PropertyKind::String {
                Some(file()?)
            } else {
                None
            },
        })
    }

    pub(super) fn push(&mut self, id: u64, value: &Value) -> io::Result<()> {
        let word = match value {
            Value::Int(v) => *v as u64,
            Value::Float(v) => v.to_bits(),
            Value::Bool(v) => u64::from(*v),
            Value::String(s) => {
                let strings = self
                    .strings
                    .as_mut()
                    .ok_or_else(|| io::Error::other("a string value in a non-string column"))?;
                strings.write_all(s.as_bytes())?;
                s.len() as u64
            }
        };
        let mut record = [0u8; RECORD_LEN];
        record[..8].copy_from_slice(&id.to_le_bytes());
        record[8..].copy_from_slice(&word.to_le_bytes());
        self.records.write_all(&record)
    }
}

/// What a failure to spill property values becomes: an I/O error naming the temporary folder.
pub(super) fn spill_error(e: io::Error) -> BuildError {
    let dir = std::env::temp_dir();
    BuildError::Io {
        source: io::Error::new(
            e.kind(),
            format!(
                "spilling property values to a temporary file in {}: {e}",
                dir.display()
            ),
        ),
        path: dir,
    }
}

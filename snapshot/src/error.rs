use std::io;
use std::path::PathBuf;

use crate::format::SectionKind;

/// Why a snapshot could not be opened or failed verification.
///
/// Every variant names the section (where there is one) and the fault; [`Error`] adds the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Fault {
    /// The file is shorter than the fixed preamble.
    #[error(
        "the file is {len} bytes, shorter than the {min}-byte preamble: not a snapshot, or truncated"
    )]
    TooShort {
        /// The file's length.
        len: u64,
        /// The preamble's length.
        min: u64,
    },
    /// The first bytes are not the snapshot magic.
    #[error("not a neotrav snapshot (the magic bytes are {found:02x?})")]
    BadMagic {
        /// The bytes found.
        found: [u8; 8],
    },
    /// The preamble's own checksum does not match.
    #[error("the preamble is corrupt (checksum {found:#018x}, expected {expected:#018x})")]
    PreambleChecksum {
        /// The stored checksum.
        expected: u64,
        /// The computed one.
        found: u64,
    },
    /// The file's format is newer than this build reads.
    #[error(
        "format version {found} is newer than this build reads (versions {oldest}..={newest}); \
         upgrade neotrav, or re-export the snapshot with this version"
    )]
    TooNew {
        /// The file's format version.
        found: u32,
        /// The oldest version this build reads.
        oldest: u32,
        /// The newest version this build reads.
        newest: u32,
    },
    /// The file's format is older than this build reads.
    #[error(
        "format version {found} is older than this build reads (versions {oldest}..={newest}); \
         re-export the snapshot"
    )]
    TooOld {
        /// The file's format version.
        found: u32,
        /// The oldest version this build reads.
        oldest: u32,
        /// The newest version this build reads.
        newest: u32,
    },
    /// The file's length differs from the one recorded when it was written.
    #[error("the file is {found} bytes but was written as {expected}: truncated or appended to")]
    LengthMismatch {
        /// The recorded length.
        expected: u64,
        /// The actual length.
        found: u64,
    },
    /// The header lies outside the file.
    #[error("the header range {offset}+{len} lies outside the {file_len}-byte file")]
    HeaderOutOfBounds {
        /// Header offset.
        offset: u64,
        /// Header length.
        len: u64,
        /// File length.
        file_len: u64,
    },
    /// The header's checksum does not match.
    #[error("the header is corrupt (checksum {found:#018x}, expected {expected:#018x})")]
    HeaderChecksum {
        /// The stored checksum.
        expected: u64,
        /// The computed one.
        found: u64,
    },
    /// The header does not decode.
    #[error("the header does not decode: {0}")]
    HeaderDecode(String),
    /// A section required by the header is missing.
    #[error("section {kind:?}[{item}] is missing")]
    MissingSection {
        /// Its kind.
        kind: SectionKind,
        /// Its item.
        item: u32,
    },
    /// A section appears twice.
    #[error("section {kind:?}[{item}] appears twice in the section table")]
    DuplicateSection {
        /// Its kind.
        kind: SectionKind,
        /// Its item.
        item: u32,
    },
    /// A section lies outside the data area or is misaligned.
    #[error(
        "section {kind:?}[{item}] at {offset}+{len} is out of bounds or misaligned \
         (data ends at {limit})"
    )]
    SectionOutOfBounds {
        /// Its kind.
        kind: SectionKind,
        /// Its item.
        item: u32,
        /// Its offset.
        offset: u64,
        /// Its length.
        len: u64,
        /// Where the data area ends.
        limit: u64,
    },
    /// A section's length disagrees with the counts in the header.
    #[error("section {kind:?}[{item}] is {found} bytes; the header's counts need {expected}")]
    SectionLength {
        /// Its kind.
        kind: SectionKind,
        /// Its item.
        item: u32,
        /// The length the counts require.
        expected: u64,
        /// Its length.
        found: u64,
    },
    /// The header's counts or dictionaries contradict each other.
    #[error("the header is inconsistent: {0}")]
    Inconsistent(String),
    /// A section's checksum does not match (found by `verify`).
    #[error(
        "section {kind:?}[{item}] is corrupt (checksum {found:#018x}, expected {expected:#018x})"
    )]
    SectionChecksum {
        /// Its kind.
        kind: SectionKind,
        /// Its item.
        item: u32,
        /// The stored checksum.
        expected: u64,
        /// The computed one.
        found: u64,
    },
    /// A section's contents break an invariant (found by `verify`).
    #[error("section {kind:?}[{item}] is invalid: {what}")]
    SectionContent {
        /// Its kind.
        kind: SectionKind,
        /// Its item.
        item: u32,
        /// The broken invariant.
        what: String,
    },
    /// The bytes are not aligned for zero-copy reading (only possible with in-memory buffers).
    #[error(
        "the buffer is not 8-byte aligned; read files with Snapshot::open or use an aligned buffer"
    )]
    Unaligned,
}

/// A [`Fault`] in a named file, or an I/O error reading it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The file is not a valid snapshot.
    #[error("{path}: {fault}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        fault: Fault,
    },
    /// The path names a directory, FIFO, device or socket, not a regular file.
    #[error("{path}: not a regular file ({kind}); a snapshot is a regular file")]
    NotAFile {
        /// The path.
        path: PathBuf,
        /// What it is: "a directory", "a FIFO", "a character device", ...
        kind: &'static str,
    },
}

impl Error {
    /// The fault, if this is not an I/O error.
    pub fn fault(&self) -> Option<&Fault> {
        match self {
            Error::Invalid { fault, .. } => Some(fault),
            Error::Io { .. } | Error::NotAFile { .. } => None,
        }
    }

    /// A stable name for the kind of failure, for machines: `not_found`, `permission_denied`,
    /// `not_a_regular_file`, `unreadable` (another I/O error), or the fault's
    /// [`Fault::class`].
    pub fn class(&self) -> &'static str {
        match self {
            Error::Io { source, .. } => match source.kind() {
                io::ErrorKind::NotFound => "not_found",
                io::ErrorKind::PermissionDenied => "permission_denied",
                _ => "unreadable",
            },
            Error::NotAFile { .. } => "not_a_regular_file",
            Error::Invalid { fault, .. } => fault.class(),
        }
    }

    /// What went wrong without the path and without any value read from the file (bytes,
    /// checksums, lengths, names): what a server may tell a remote caller about a file it was
    /// asked to open. The `Display` form is the detailed local one, for the CLI and logs.
    pub fn redacted(&self) -> String {
        match self {
            Error::Io { source, .. } => match source.kind() {
                io::ErrorKind::NotFound => "no such file".to_string(),
                io::ErrorKind::PermissionDenied => "permission denied".to_string(),
                _ => "the file could not be read".to_string(),
            },
            Error::NotAFile { kind, .. } => {
                format!("not a regular file ({kind}); a snapshot is a regular file")
            }
            Error::Invalid { fault, .. } => fault.redacted(),
        }
    }
}

impl Fault {
    /// A stable name for the kind of fault, for machines: `not_a_snapshot` (too short, or not
    /// the snapshot magic), `unsupported_version`, `wrong_length` (truncated or appended to),
    /// `corrupt` (a checksum, bound or invariant broken; [`Fault::section`] names the section
    /// where there is one).
    pub fn class(&self) -> &'static str {
        match self {
            Fault::TooShort { .. } | Fault::BadMagic { .. } => "not_a_snapshot",
            Fault::TooNew { .. } | Fault::TooOld { .. } => "unsupported_version",
            Fault::LengthMismatch { .. } => "wrong_length",
            _ => "corrupt",
        }
    }

    /// The section at fault, as `Kind[item]`, where there is one.
    pub fn section(&self) -> Option<String> {
        match self {
            Fault::MissingSection { kind, item }
            | Fault::DuplicateSection { kind, item }
            | Fault::SectionOutOfBounds { kind, item, .. }
            | Fault::SectionLength { kind, item, .. }
            | Fault::SectionChecksum { kind, item, .. }
            | Fault::SectionContent { kind, item, .. } => Some(format!("{kind:?}[{item}]")),
            _ => None,
        }
    }

    /// The fault without any value read from the file: no bytes, checksums, offsets, lengths
    /// or names; the section and the kind of fault only. Format versions are kept: they are
    /// read only after the preamble's checksum matched. See [`Error::redacted`].
    pub fn redacted(&self) -> String {
        let section = self.section().unwrap_or_default();
        match self {
            Fault::TooShort { .. } => {
                "shorter than a snapshot's preamble: not a neotrav snapshot, or truncated".into()
            }
            Fault::BadMagic { .. } => {
                "not a neotrav snapshot (it does not start with the snapshot magic)".into()
            }
            Fault::PreambleChecksum { .. } => "the preamble is corrupt (checksum mismatch)".into(),
            Fault::TooNew { .. } | Fault::TooOld { .. } | Fault::Unaligned => self.to_string(),
            Fault::LengthMismatch { .. } => "the file's length differs from the one it was \
                                             written with: truncated or appended to"
                .into(),
            Fault::HeaderOutOfBounds { .. } => "the header lies outside the file".into(),
            Fault::HeaderChecksum { .. } => "the header is corrupt (checksum mismatch)".into(),
            Fault::HeaderDecode(_) => "the header does not decode".into(),
            Fault::Inconsistent(_) => "the header or the layout is inconsistent".into(),
            Fault::MissingSection { .. } => format!("section {section} is missing"),
            Fault::DuplicateSection { .. } => {
                format!("section {section} appears twice in the section table")
            }
            Fault::SectionOutOfBounds { .. } => {
                format!("section {section} is out of bounds or misaligned")
            }
            Fault::SectionLength { .. } => {
                format!("section {section}'s length disagrees with the header's counts")
            }
            Fault::SectionChecksum { .. } => {
                format!("section {section} is corrupt (checksum mismatch)")
            }
            Fault::SectionContent { .. } => {
                format!("section {section} is corrupt (a broken invariant)")
            }
        }
    }
}

/// Why a snapshot could not be built or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// Writing failed; the previous file at the path, if any, is untouched.
    #[error("writing the snapshot {path} failed (any previous file there is untouched): {source}")]
    Io {
        /// The target file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// Two nodes have the same id.
    #[error("node id {0} was added twice")]
    DuplicateNode(u64),
    /// Two relationships have the same id.
    #[error("relationship id {0} was added twice")]
    DuplicateRelationship(u64),
    /// A relationship's start or end node was never added.
    #[error("relationship {rel} refers to node {node}, which is not in the snapshot")]
    DanglingRelationship {
        /// The relationship id.
        rel: u64,
        /// The missing node id.
        node: u64,
    },
    /// A limit of this format version was exceeded.
    #[error("{0}")]
    Limit(String),
    /// A property value does not match its column's declared type. The builder no longer
    /// returns it (since format version 2 a key has a column per kind); kept for callers that
    /// match on it.
    #[error("property {key} of node {node} is a {found}, but the column is declared {expected}")]
    PropertyType {
        /// The key.
        key: String,
        /// The node id.
        node: u64,
        /// The declared type.
        expected: &'static str,
        /// The value's type.
        found: &'static str,
    },
}

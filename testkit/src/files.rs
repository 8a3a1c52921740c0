//! Snapshot files as the reload tests lay them out: a snapshot directory with files beside it,
//! a copy corrupt where only verify looks, and a write over a served file in place. Shared by
//! the sidecar's reload tests (in-process) and `neotrav serve`'s (the binary).

use std::path::{Path, PathBuf};

use crate::small;

/// The first bytes of the "secret" files: no answer may hold them.
pub const SECRET: &[u8] = b"root:$6$SECRETSALT$hash:19000:0:99999:7:::\n";

/// A snapshot directory and a directory beside it, in a temporary folder kept while this lives.
pub struct Layout {
    _root: tempfile::TempDir,
    /// The snapshot directory: `small.snap` (served), `next.snap` (`small` with 5 extra) and
    /// an empty `sub/`.
    pub dir: PathBuf,
    /// A directory beside it, outside: `valid.snap` (`small` with 5 extra) and `shadow`
    /// ([`SECRET`] repeated).
    pub outside: PathBuf,
    /// `dir/small.snap`.
    pub served: PathBuf,
}

/// Lays out a fresh [`Layout`].
pub fn layout() -> Layout {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("snapshots");
    let outside = root.path().join("outside");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    let served = dir.join("small.snap");
    small::write(&served, 0);
    small::write(&dir.join("next.snap"), 5);
    small::write(&outside.join("valid.snap"), 5);
    std::fs::write(outside.join("shadow"), SECRET.repeat(8)).unwrap();
    Layout {
        dir,
        outside,
        served,
        _root: root,
    }
}

/// The byte range of the last non-empty section in the section table of the snapshot at
/// `path` (the last one verify hashes).
fn last_section(path: &Path) -> (std::ops::Range<usize>, String) {
    let s = neotrav_snapshot::Snapshot::open(path).unwrap();
    let e = s.header().sections.iter().rfind(|e| e.len > 0).unwrap();
    (
        e.offset as usize..(e.offset + e.len) as usize,
        format!("{:?}[{}]", e.kind, e.item),
    )
}

/// A copy of `good` at `to` with one byte flipped in its last section: it opens, and only
/// verify (the section checksum) finds it. Gives the section's name.
pub fn flipped_copy(good: &Path, to: &Path) -> String {
    let (range, name) = last_section(good);
    let mut bytes = std::fs::read(good).unwrap();
    bytes[range.start + range.len() / 2] ^= 0x10;
    std::fs::write(to, bytes).unwrap();
    assert!(
        neotrav_snapshot::Snapshot::open(to).is_ok(),
        "the flipped copy still opens: only verify catches it"
    );
    name
}

/// Writes `bytes` over the file at `path` in place (same inode), as a careless deploy would.
pub fn overwrite_in_place(path: &Path, bytes: &[u8]) {
    use std::io::Write;
    let ino = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(path).unwrap());
    let mut f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.write_all(bytes).unwrap();
    f.set_len(bytes.len() as u64).unwrap();
    f.sync_all().unwrap();
    assert_eq!(
        std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(path).unwrap()),
        ino
    );
}

//! Every corruption is a typed error, from `open` or at the latest from `verify`; never a panic,
//! never a silent pass. Writes are atomic: a failed write leaves the previous file as it was.

use std::path::Path;

use neotrav_snapshot::format::{FORMAT_VERSION, MAGIC};
use neotrav_snapshot::{
    AlignedBytes, BuildError, Error, Fault, PropertyKind, Snapshot, SnapshotBuilder, Value,
};

fn sample() -> Vec<u8> {
    let mut b = SnapshotBuilder::new();
    b.column("B", "flag", PropertyKind::Bool).unwrap();
    b.column("A", "name", PropertyKind::String).unwrap();
    b.column("A", "n", PropertyKind::Int).unwrap();
    for i in 0..200u64 {
        let label = if i % 3 == 0 { "A" } else { "B" };
        b.add_node(
            i * 2,
            [label],
            [
                ("flag", Value::Bool(i % 2 == 0)),
                ("name", Value::String(format!("node-{i}"))),
                ("n", Value::Int(i as i64)),
            ],
        )
        .unwrap();
    }
    for i in 0..600u64 {
        let t = ["X", "Y", "Z"][(i % 3) as usize];
        b.add_relationship(1000 + i, t, (i % 200) * 2, ((i * 7) % 200) * 2)
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.snap");
    b.write(&path).unwrap();
    std::fs::read(path).unwrap()
}

fn open_and_verify(bytes: &[u8]) -> Result<(), Fault> {
    neotrav_snapshot::open_and_walk(bytes)
}

#[test]
fn the_sample_is_valid() {
    open_and_verify(&sample()).unwrap();
}

#[test]
fn every_flipped_byte_is_caught() {
    let good = sample();
    // Every byte of the file, one bit flipped at a time (rotating which bit).
    for at in 0..good.len() {
        let mut bad = good.clone();
        bad[at] ^= 1 << (at % 8);
        let result = open_and_verify(&bad);
        assert!(
            result.is_err(),
            "flipping byte {at} of {} went unnoticed",
            good.len()
        );
    }
}

#[test]
fn every_truncation_is_caught_at_open() {
    let good = sample();
    for len in 0..good.len() {
        let fault = Snapshot::from_bytes(AlignedBytes::new(&good[..len])).unwrap_err();
        assert!(
            matches!(fault, Fault::TooShort { .. } | Fault::LengthMismatch { .. }),
            "truncated to {len}: {fault}"
        );
    }
    let mut longer = good.clone();
    longer.extend_from_slice(&[0; 8]);
    let fault = Snapshot::from_bytes(AlignedBytes::new(&longer)).unwrap_err();
    assert!(matches!(fault, Fault::LengthMismatch { .. }), "{fault}");
}

fn with_version(mut bytes: Vec<u8>, version: u32, min_reader: u32) -> Vec<u8> {
    bytes[8..12].copy_from_slice(&version.to_le_bytes());
    bytes[12..16].copy_from_slice(&min_reader.to_le_bytes());
    let hash = xxhash_rust::xxh3::xxh3_64(&bytes[..56]);
    bytes[56..64].copy_from_slice(&hash.to_le_bytes());
    bytes
}

#[test]
fn versions_outside_the_readable_range_are_named() {
    let good = sample();
    let newer = with_version(good.clone(), FORMAT_VERSION + 1, FORMAT_VERSION + 1);
    let fault = Snapshot::from_bytes(AlignedBytes::new(&newer)).unwrap_err();
    assert!(
        matches!(fault, Fault::TooNew { found, .. } if found == FORMAT_VERSION + 1),
        "{fault}"
    );
    assert!(fault.to_string().contains("upgrade neotrav"));

    // A newer file that declares this version able to read it is read.
    let compatible = with_version(good.clone(), FORMAT_VERSION + 1, FORMAT_VERSION);
    open_and_verify(&compatible).unwrap();

    let older = with_version(good, 0, 0);
    let fault = Snapshot::from_bytes(AlignedBytes::new(&older)).unwrap_err();
    assert!(matches!(fault, Fault::TooOld { found: 0, .. }), "{fault}");
}

#[test]
fn other_files_are_not_snapshots() {
    let fault = Snapshot::from_bytes(AlignedBytes::new(&[b'x'; 100])).unwrap_err();
    assert!(matches!(fault, Fault::BadMagic { .. }), "{fault}");
    let mut almost = vec![0u8; 100];
    almost[..8].copy_from_slice(&MAGIC);
    let fault = Snapshot::from_bytes(AlignedBytes::new(&almost)).unwrap_err();
    assert!(matches!(fault, Fault::PreambleChecksum { .. }), "{fault}");
}

#[test]
fn errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("garbage.snap");
    std::fs::write(
        &path,
        b"not a snapshot at all, but long enough to have a preamble..........",
    )
    .unwrap();
    let err = Snapshot::open(&path).unwrap_err();
    assert!(matches!(err, Error::Invalid { .. }));
    assert!(err.to_string().contains("garbage.snap"), "{err}");
    let err = Snapshot::open(dir.path().join("missing.snap")).unwrap_err();
    assert!(matches!(err, Error::Io { .. }));
    assert!(err.to_string().contains("missing.snap"), "{err}");
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_failed_build_leaves_the_previous_file_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.snap");
    let good = sample();
    std::fs::write(&path, &good).unwrap();

    let mut b = SnapshotBuilder::new();
    b.add_node(1, ["A"], []).unwrap();
    b.add_relationship(1, "R", 1, 99).unwrap();
    let err = b.write(&path).unwrap_err();
    assert!(
        matches!(err, BuildError::DanglingRelationship { rel: 1, node: 99 }),
        "{err}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), good);
    assert_eq!(files_in(dir.path()), vec!["g.snap"]);

    let mut b = SnapshotBuilder::new();
    b.add_node(1, ["A"], []).unwrap();
    b.add_node(1, ["B"], []).unwrap();
    assert!(matches!(
        b.write(&path).unwrap_err(),
        BuildError::DuplicateNode(1)
    ));
    assert_eq!(std::fs::read(&path).unwrap(), good);

    // A folder that does not exist: an I/O error naming the path, nothing written.
    let mut b = SnapshotBuilder::new();
    b.add_node(1, ["A"], []).unwrap();
    let err = b.write(&dir.path().join("no/such/dir/g.snap")).unwrap_err();
    assert!(matches!(err, BuildError::Io { .. }));
    assert!(err.to_string().contains("no/such/dir"), "{err}");
}

#[test]
fn a_successful_build_replaces_the_file_and_leaves_no_temporary() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.snap");
    std::fs::write(&path, b"old").unwrap();
    let mut b = SnapshotBuilder::new();
    b.add_node(5, ["A"], []).unwrap();
    b.write(&path).unwrap();
    assert_eq!(files_in(dir.path()), vec!["g.snap"]);
    let snap = Snapshot::open(&path).unwrap();
    assert_eq!(snap.view().node_index(5), Some(0));
}

/// Neo4j has no schema: a key holding an int on one node and a string on another is not a
/// corruption but two kind-columns of the key (this test used to expect a refusal).
#[test]
fn a_key_of_several_types_gets_a_column_per_type() {
    let mut b = SnapshotBuilder::new();
    b.column("A", "n", PropertyKind::Int).unwrap();
    b.add_node(1, ["A"], [("n", Value::String("x".into()))])
        .unwrap();
    b.column("B", "n", PropertyKind::Float).unwrap();
    b.add_node(2, ["A"], [("n", Value::Int(7))]).unwrap();
    b.add_node(3, ["B"], [("n", Value::Float(7.0))]).unwrap();
    b.add_node(4, ["C"], [("n", Value::Int(7))]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.snap");
    b.write(&path).unwrap();
    let snap = Snapshot::open(&path).unwrap();
    snap.verify().unwrap();
    let kinds: Vec<_> = snap
        .header()
        .columns
        .iter()
        .map(|c| (c.key.as_str(), c.kind, c.labels.len()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("n", PropertyKind::Int, 2),
            ("n", PropertyKind::String, 2),
            ("n", PropertyKind::Float, 2)
        ]
    );
    assert_eq!(snap.column("A", "n").unwrap().int(1), Some(7));
    assert_eq!(snap.columns("A", "n").len(), 3);
    let n = snap.property("n").unwrap();
    assert_eq!(n.seek(neotrav_snapshot::PropertyValue::Int(7)), [1, 2]);
}

/// A bounded stand-in for the fuzz target in every test run: random multi-byte mutations of a
/// valid file, each opened, walked and verified. Any panic fails the test.
#[test]
fn random_mutations_never_panic() {
    let good = sample();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut caught = 0;
    for _ in 0..2_000 {
        let mut bad = good.clone();
        for _ in 0..1 + next() % 8 {
            let at = (next() % bad.len() as u64) as usize;
            bad[at] = next() as u8;
        }
        if bad != good && open_and_verify(&bad).is_err() {
            caught += 1;
        }
    }
    assert!(
        caught > 1_900,
        "only {caught} of 2000 mutations were caught"
    );
}

/// The same with the checksums made to agree after each mutation (`reseal`, as the fuzz target
/// `open_snapshot_rehashed` does), so that mutations reach the header decoding, the section
/// table and the content checks. Any panic fails the test; most mutations must still be caught,
/// now by a check past the checksums.
#[test]
fn resealed_mutations_never_panic() {
    let good = sample();
    let mut resealed = good.clone();
    neotrav_snapshot::reseal(&mut resealed);
    assert!(resealed == good, "reseal changes nothing in a valid file");
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut opened, mut checksums) = (0, 0);
    for _ in 0..2_000 {
        let mut bad = good.clone();
        for _ in 0..1 + next() % 8 {
            let at = (next() % bad.len() as u64) as usize;
            bad[at] = next() as u8;
        }
        neotrav_snapshot::reseal(&mut bad);
        let result = open_and_verify(&bad);
        if Snapshot::from_bytes(AlignedBytes::new(&bad)).is_ok() {
            opened += 1;
        }
        if matches!(
            result,
            Err(Fault::PreambleChecksum { .. }
                | Fault::HeaderChecksum { .. }
                | Fault::SectionChecksum { .. })
        ) {
            checksums += 1;
        }
    }
    assert_eq!(checksums, 0, "a resealed file failed a checksum");
    assert!(
        opened > 1_000,
        "only {opened} of 2000 resealed mutations opened"
    );
}

#[test]
fn directories_fifos_and_devices_are_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let err = Snapshot::open(dir.path()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::NotAFile {
                kind: "a directory",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(err.class(), "not_a_regular_file");

    // Opening a FIFO for reading without O_NONBLOCK waits for a writer forever.
    let fifo = dir.path().join("fifo.snap");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let (tx, rx) = std::sync::mpsc::channel();
    let path = fifo.clone();
    std::thread::spawn(move || {
        let _ = tx.send(Snapshot::open(&path).map(|_| ()).map_err(|e| e.to_string()));
    });
    let result = rx
        .recv_timeout(std::time::Duration::from_secs(5))
        .expect("opening a FIFO hung");
    let message = result.unwrap_err();
    assert!(message.contains("a FIFO"), "{message}");

    if Path::new("/dev/zero").exists() {
        let err = Snapshot::open("/dev/zero").unwrap_err();
        assert!(
            matches!(
                err,
                Error::NotAFile {
                    kind: "a character device",
                    ..
                }
            ),
            "{err}"
        );
    }
}

#[test]
fn redacted_messages_hold_no_bytes_of_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret.txt");
    std::fs::write(&path, b"root:$6$abcdefgh:19000:0:99999:7:::\n".repeat(4)).unwrap();
    let err = Snapshot::open(&path).unwrap_err();
    assert_eq!(err.class(), "not_a_snapshot");
    // The local message shows the bytes found (for `neotrav snapshot inspect`); the redacted
    // one does not.
    assert!(
        err.to_string().contains("0x72") || err.to_string().contains("72"),
        "{err}"
    );
    let redacted = err.redacted();
    assert!(redacted.contains("not a neotrav snapshot"), "{redacted}");
    assert!(
        !redacted.contains("72") && !redacted.contains("root"),
        "{redacted}"
    );

    // A flipped byte in a section: the section and the class, no checksums.
    let good = sample();
    let s = Snapshot::from_bytes(AlignedBytes::new(&good)).unwrap();
    let section = *s.header().sections.iter().find(|e| e.len > 0).unwrap();
    let mut bad = good.clone();
    bad[section.offset as usize] ^= 0x40;
    let fault = Snapshot::from_bytes(AlignedBytes::new(&bad))
        .unwrap()
        .verify()
        .unwrap_err();
    assert_eq!(fault.class(), "corrupt");
    let named = format!("{:?}[{}]", section.kind, section.item);
    assert_eq!(fault.section().as_deref(), Some(named.as_str()));
    let redacted = fault.redacted();
    assert!(redacted.contains(&named), "{redacted}");
    assert!(!redacted.contains("0x"), "{redacted}");
    assert!(fault.to_string().contains("0x"), "{fault}");

    let truncated = Snapshot::from_bytes(AlignedBytes::new(&good[..good.len() - 8])).unwrap_err();
    assert_eq!(truncated.class(), "wrong_length");
    assert!(!truncated.redacted().contains(&good.len().to_string()));
}

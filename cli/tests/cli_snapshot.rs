//! `neotrav snapshot inspect|verify` through the binary, on the golden file and on corrupt
//! copies of it.

use std::path::PathBuf;

use neotrav_testkit::{run, text};

fn golden() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../snapshot/tests/golden/format-v1.snap")
}

#[test]
fn inspect_describes_the_snapshot() {
    let golden = golden();
    let out = run(["snapshot", "inspect", golden.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    for expect in [
        "nodes:         5",
        "CHILD_A",
        "transaction 1234",
        "string",
        "bytes per relationship",
    ] {
        assert!(
            stdout.contains(expect),
            "{expect:?} missing from:\n{stdout}"
        );
    }
    let out = run(["snapshot", "inspect", "--json", golden.to_str().unwrap()]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["nodes"], 5);
    assert_eq!(json["relationships"], 4);
    assert_eq!(json["labels"]["B"], 3);
    assert_eq!(json["relationship_types"]["CHILD_A"], 2);
}

#[test]
fn verify_accepts_the_golden_file() {
    let golden = golden();
    let out = run(["snapshot", "verify", golden.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(": ok"));
}

#[test]
fn verify_rejects_corruption_with_a_message_not_a_panic() {
    let good = std::fs::read(golden()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bad_path = dir.path().join("bad.snap");
    // A byte in each region of the file: preamble, sections, header.
    for at in [3, 20, 100, 300, 700, good.len() - 40, good.len() - 1] {
        let mut bad = good.clone();
        bad[at] ^= 0x10;
        std::fs::write(&bad_path, &bad).unwrap();
        let out = run(["snapshot", "verify", bad_path.to_str().unwrap()]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "byte {at}: {}",
            text(&out.stderr)
        );
        let stderr = text(&out.stderr);
        assert!(
            stderr.starts_with("error: ") && stderr.contains("bad.snap"),
            "byte {at}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "byte {at}: {stderr}");
    }
    std::fs::write(&bad_path, &good[..good.len() / 2]).unwrap();
    let out = run(["snapshot", "verify", bad_path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("truncated"),
        "{}",
        text(&out.stderr)
    );
    let out = run([
        "snapshot",
        "inspect",
        dir.path().join("missing.snap").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("missing.snap"),
        "{}",
        text(&out.stderr)
    );
}

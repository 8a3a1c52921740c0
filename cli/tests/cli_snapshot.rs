//! `neotrav snapshot inspect|verify` through the binary, on the golden file and on corrupt
//! copies of it.

use std::path::PathBuf;
use std::process::Output;

fn golden() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../snapshot/tests/golden/format-v1.snap")
}

fn neotrav(args: &[&str], file: &std::path::Path) -> Output {
    neotrav_testkit::neotrav()
        .args(args)
        .arg(file)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn inspect_describes_the_snapshot() {
    let out = neotrav(&["snapshot", "inspect"], &golden());
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
    let out = neotrav(&["snapshot", "inspect", "--json"], &golden());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["nodes"], 5);
    assert_eq!(json["relationships"], 4);
    assert_eq!(json["labels"]["B"], 3);
    assert_eq!(json["relationship_types"]["CHILD_A"], 2);
}

#[test]
fn verify_accepts_the_golden_file() {
    let out = neotrav(&["snapshot", "verify"], &golden());
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
        let out = neotrav(&["snapshot", "verify"], &bad_path);
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
    let out = neotrav(&["snapshot", "verify"], &bad_path);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("truncated"),
        "{}",
        text(&out.stderr)
    );
    let out = neotrav(&["snapshot", "inspect"], &dir.path().join("missing.snap"));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("missing.snap"),
        "{}",
        text(&out.stderr)
    );
}

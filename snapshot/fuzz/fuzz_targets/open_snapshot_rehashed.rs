//! Like `open_snapshot`, but first makes the checksums agree with the bytes
//! (`neotrav_snapshot::reseal`: magic, file length, section hashes, header hash, preamble hash),
//! so that mutations reach header decoding, the section table checks and `verify`'s content
//! checks instead of dying at a checksum. Any panic is a bug.
//!
//! cargo +nightly fuzz run open_snapshot_rehashed -- -runs=1000000
//! (from snapshot/; seed the corpus with tests/golden/format-v1.snap, format-v2.snap and format-v3.snap)

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut bytes = data.to_vec();
    neotrav_snapshot::reseal(&mut bytes);
    let _ = neotrav_snapshot::open_and_walk(&bytes);
});

//! Opens arbitrary bytes as a snapshot, walks every read and verifies: any panic is a bug.
//!
//! cargo +nightly fuzz run open_snapshot -- -runs=1000000
//! (from snapshot/; seed the corpus with tests/golden/format-v1.snap, format-v2.snap and format-v3.snap for deeper coverage)

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = neotrav_snapshot::open_and_walk(data);
});

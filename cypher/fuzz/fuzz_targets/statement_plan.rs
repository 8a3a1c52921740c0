//! Takes arbitrary bytes as a Cypher statement: parses it, plans it onto a small fixed snapshot
//! and, when it plans to a local plan, runs it under tight limits. Any panic, abort (a stack
//! overflow included) or hang is a bug. The body is `harness/statement_plan.rs`, which the
//! stable test `cypher/tests/fuzz_seeds.rs` also runs over the seeds.
//!
//! From cypher/: `cargo +nightly fuzz run statement_plan fuzz/corpus/statement_plan
//! fuzz/seeds/statement_plan -- -max_total_time=600 -timeout=10` (the seeds are statements of
//! the differential suite's grammar and hand-written ones; new inputs go to the ignored corpus
//! directory).

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../harness/statement_plan.rs"]
mod harness;

fuzz_target!(|data: &[u8]| {
    // On a 2 MiB stack, a tokio worker's, where the server parses and plans: an input that
    // nests too deep for it must overflow here too.
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn_scoped(s, || harness::run(data))
            .expect("a thread")
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e));
    });
});

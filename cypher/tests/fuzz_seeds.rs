//! The `statement_plan` fuzz target's body on stable, so that CI runs it: every seed of
//! `cypher/fuzz/seeds/statement_plan` (the grammar's statements, hand-written ones, and the
//! inputs that crashed it once), and statements built to be deep in each way a statement can
//! nest. Each runs on a thread with a 2 MiB stack, the size of a tokio worker's, where the
//! server parses and plans.

use std::collections::BTreeMap;
use std::path::Path;

#[path = "../fuzz/harness/statement_plan.rs"]
mod harness;

use harness::Outcome;

/// Runs the target's body on a thread with a 2 MiB stack.
fn run_small_stack(data: Vec<u8>) -> Outcome {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || harness::run(&data))
        .expect("a thread")
        .join()
        .unwrap_or_else(|_| panic!("the target panicked"))
}

#[test]
fn the_seed_corpus_runs_without_a_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/statement_plan");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("the seed directory")
        .map(|e| e.expect("an entry").path())
        .collect();
    files.sort();
    let mut tally: BTreeMap<Outcome, usize> = BTreeMap::new();
    for f in &files {
        let data = std::fs::read(f).expect("a seed");
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let outcome = std::panic::catch_unwind(|| run_small_stack(data))
            .unwrap_or_else(|_| panic!("seed {name} panicked"));
        *tally.entry(outcome).or_default() += 1;
    }
    eprintln!("{} seeds: {tally:?}", files.len());
    assert!(files.len() >= 100, "{} seeds", files.len());
    // The seeds are there to reach the executor: most must run.
    let ran = tally.get(&Outcome::Answered).copied().unwrap_or(0)
        + tally.get(&Outcome::Stopped).copied().unwrap_or(0);
    assert!(ran * 2 >= files.len(), "only {ran} seeds ran: {tally:?}");
}

/// A way to nest, and a statement nested so `n` deep.
type Shape = (&'static str, fn(usize) -> String);

/// Statements nested deep in each way a statement can nest, at depths around and far past the
/// limits: each is refused, forwarded or answered, and none overflows the stack.
#[test]
fn deep_statements_are_refused_forwarded_or_answered_never_overflowed() {
    let shapes: &[Shape] = &[
        ("parentheses", |n| {
            format!("RETURN {}1{}", "(".repeat(n), ")".repeat(n))
        }),
        ("parentheses after a quote in a comment", |n| {
            format!("RETURN /* ' */ {}1{}", "(".repeat(n), ")".repeat(n))
        }),
        ("parentheses after a quote in a line comment", |n| {
            format!("RETURN // '\n{}1{}", "(".repeat(n), ")".repeat(n))
        }),
        ("NOT", |n| format!("RETURN {}true", "NOT ".repeat(n))),
        ("unary minus", |n| format!("RETURN {}1", "-".repeat(n))),
        ("unary plus", |n| format!("RETURN {}1", "+ ".repeat(n))),
        ("plus", |n| format!("RETURN 1{}", "+1".repeat(n))),
        ("power", |n| format!("RETURN 1{}", "^1".repeat(n))),
        ("comparison", |n| format!("RETURN 1{}", " < 1".repeat(n))),
        ("AND", |n| {
            format!(
                "MATCH (n) WHERE true{} RETURN count(*)",
                " AND n.flag".repeat(n)
            )
        }),
        ("OR", |n| {
            format!(
                "MATCH (n) WHERE false{} RETURN count(*)",
                " OR n.key = 1".repeat(n)
            )
        }),
        ("properties", |n| {
            format!("WITH {{a: 1}} AS x RETURN x{}", ".a".repeat(n))
        }),
        ("indexes", |n| {
            format!("WITH [1] AS x RETURN x{}", "[0]".repeat(n))
        }),
        ("CASE", |n| {
            format!(
                "RETURN {}1{}",
                "CASE WHEN true THEN ".repeat(n),
                " END".repeat(n)
            )
        }),
        ("WITH clauses", |n| {
            format!("{}RETURN x", "WITH 1 AS x ".repeat(n))
        }),
        ("a pattern chain", |n| {
            format!("MATCH (a){} RETURN count(*)", "--()".repeat(n))
        }),
        ("label conjunctions", |n| {
            format!("MATCH (n:L0{}) RETURN n", "&L1".repeat(n))
        }),
        ("labels", |n| {
            format!("MATCH (n{}) RETURN n", ":L1".repeat(n))
        }),
        ("type alternatives", |n| {
            format!("MATCH ()-[:T0{}]->() RETURN 1", "|T1".repeat(n))
        }),
        ("NOT before pattern predicates", |n| {
            format!("MATCH (a) WHERE {}(a)--() RETURN a", "NOT ".repeat(n))
        }),
        ("EXISTS in EXISTS", |n| {
            format!(
                "MATCH (a) WHERE {}true{} RETURN count(*)",
                "EXISTS { MATCH (a)-->(b) WHERE ".repeat(n),
                " }".repeat(n)
            )
        }),
        ("UNION", |n| {
            format!("RETURN 1 AS x{}", " UNION ALL RETURN 1 AS x".repeat(n))
        }),
    ];
    for &(what, make) in shapes {
        for n in [
            8, 40, 63, 64, 65, 100, 126, 127, 128, 300, 1_000, 3_000, 10_000, 30_000,
        ] {
            let text = make(n);
            if text.len() > neotrav_cypher::MAX_STATEMENT_BYTES {
                continue;
            }
            let outcome = std::panic::catch_unwind(|| run_small_stack(text.into_bytes()))
                .unwrap_or_else(|_| panic!("{what} at depth {n} panicked"));
            assert_ne!(outcome, Outcome::NotUtf8);
        }
    }
}

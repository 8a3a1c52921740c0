//! The side-by-side benchmark harness: the same questions asked of neotrav (in-process and
//! through the sidecar's HTTP API), raw Cypher (the natural form and a tuned one), the APOC path
//! expander and GDS, on the same bundled Neo4j, with every answer checked equal.
//!
//! Each [`Case`] asks one question over a list of inputs (start nodes, node pairs); each system
//! that can answer it is warmed once, then run `runs` times over every input. Answers are put in
//! a canonical form (sorted, ids as Neo4j ids) and hashed; a case whose systems disagree makes
//! the whole run fail, after the report is written, naming the case and the systems.
//!
//! [`environment`] starts a bundled Neo4j per dataset (loading it once; later runs reuse it),
//! exports the snapshot and serves it; [`cases`] holds the questions and their queries;
//! [`report`] writes the JSON, markdown and SVG. Every step fails with a [`BenchError`].

pub mod cases;
pub mod environment;
mod error;
pub mod report;
pub mod statements;

use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

pub use cases::{Case, Ctx, System};
pub use error::BenchError;

/// Timing and answer of one system on one case.
#[derive(Debug, Clone, Serialize)]
pub struct Measurement {
    /// The case, e.g. `tree-140000/dfs-flag-count`.
    pub name: String,
    /// The system: `neotrav`, `neotrav-http`, `cypher`, `cypher-tuned`, `apoc` or `gds`.
    pub system: String,
    /// Timed queries (runs × inputs).
    pub runs: usize,
    /// Median query time, milliseconds.
    pub p50_ms: f64,
    /// 95th percentile, milliseconds.
    pub p95_ms: f64,
    /// 99th percentile, milliseconds.
    pub p99_ms: f64,
    /// xxh3 of the canonical answers of all inputs, in hex.
    pub answer_digest: String,
    /// Items in the answers (a count counts as its value), summed over inputs.
    pub answer_size: u64,
    /// The system ran past the query timeout on some input: the times are that bound (a
    /// lower bound), the answer is unknown and not compared.
    pub timed_out: bool,
}

/// One whole run: what `--json` writes.
#[derive(Debug, Clone, Serialize)]
pub struct Results {
    /// `tree`, `discogs` or `all`.
    pub suite: String,
    /// The datasets, e.g. `tree 140000 nodes; discogs scale 0.1`.
    pub dataset: String,
    /// The Discogs-shaped graph's scale.
    pub scale: f64,
    /// The generators' seed.
    pub seed: u64,
    /// Cores, memory and OS of this machine.
    pub machine: String,
    /// The Neo4j version answering.
    pub neo4j_version: String,
    /// When the run started (UTC, RFC 3339).
    pub date: String,
    /// Preparation steps not counted in any query (loads, exports, GDS projections).
    pub setup: Vec<SetupStep>,
    /// Every measurement.
    pub cases: Vec<Measurement>,
    /// Cases whose systems disagreed (empty on a good run).
    pub mismatches: Vec<String>,
}

impl Results {
    /// Fails with [`BenchError::Mismatches`] if some case's systems answered differently (the
    /// report is still worth writing first: it names them).
    pub fn check_answers(&self) -> Result<(), BenchError> {
        if self.mismatches.is_empty() {
            Ok(())
        } else {
            Err(BenchError::Mismatches {
                mismatches: self.mismatches.clone(),
            })
        }
    }
}

/// A timed preparation step.
#[derive(Debug, Clone, Serialize)]
pub struct SetupStep {
    /// What was done.
    pub what: String,
    /// How long it took, seconds.
    pub seconds: f64,
}

/// The hash of a canonical answer.
pub fn digest(answers: &[Value]) -> String {
    let text = serde_json::to_string(answers).unwrap_or_default();
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(text.as_bytes()))
}

/// How many items an answer has: a number counts as itself, a list as its length.
pub fn size(answer: &Value) -> u64 {
    match answer {
        Value::Number(n) => n.as_u64().unwrap_or(1),
        Value::Array(a) => a.len() as u64,
        Value::Object(o) => o.len() as u64,
        Value::Null => 0,
        _ => 1,
    }
}

/// The `q`-quantile (0..=1) of sorted durations, in milliseconds (nearest rank).
pub fn quantile_ms(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1e3
}

/// Runs every system of `case`: a warm-up over every input (whose answers are the ones
/// compared), then `runs` timed passes. `progress` hears each system as it starts.
pub async fn measure(
    ctx: &Ctx,
    case: &Case,
    runs: usize,
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<Measurement>, BenchError> {
    let mut out = Vec::new();
    'systems: for &system in &case.systems {
        progress(&format!("{} on {}", case.name, system.name()));
        let mut answers = Vec::with_capacity(case.inputs.len());
        let mut times = Vec::with_capacity(runs * case.inputs.len());
        for pass in 0..=runs {
            for input in &case.inputs {
                let started = Instant::now();
                let answer = match case.ask(ctx, system, input).await {
                    Ok(answer) => answer,
                    Err(e) if e.is_timeout() => {
                        progress(&format!(
                            "{} on {}: {input} ran past the query timeout; not timed further",
                            case.name,
                            system.name()
                        ));
                        out.push(Measurement {
                            name: case.name.clone(),
                            system: system.name().to_string(),
                            runs: times.len() + 1,
                            p50_ms: ctx.query_timeout.as_secs_f64() * 1e3,
                            p95_ms: ctx.query_timeout.as_secs_f64() * 1e3,
                            p99_ms: ctx.query_timeout.as_secs_f64() * 1e3,
                            answer_digest: "timed out".into(),
                            answer_size: 0,
                            timed_out: true,
                        });
                        continue 'systems;
                    }
                    Err(e) => {
                        return Err(BenchError::Case {
                            case: case.name.clone(),
                            system,
                            input: *input,
                            source: Box::new(e),
                        });
                    }
                };
                // The first pass warms up; its answers are the ones compared.
                if pass == 0 {
                    answers.push(answer);
                } else {
                    times.push(started.elapsed());
                }
            }
        }
        times.sort();
        out.push(Measurement {
            name: case.name.clone(),
            system: system.name().to_string(),
            runs: times.len(),
            p50_ms: quantile_ms(&times, 0.50),
            p95_ms: quantile_ms(&times, 0.95),
            p99_ms: quantile_ms(&times, 0.99),
            answer_digest: digest(&answers),
            answer_size: answers.iter().map(size).sum(),
            timed_out: false,
        });
    }
    Ok(out)
}

/// The systems of a case's measurements whose digest differs from the first system's (systems
/// that timed out have no answer to compare).
pub fn disagreements(measurements: &[Measurement]) -> Vec<String> {
    let answered: Vec<&Measurement> = measurements.iter().filter(|m| !m.timed_out).collect();
    let Some(first) = answered.first() else {
        return Vec::new();
    };
    answered
        .iter()
        .filter(|m| m.answer_digest != first.answer_digest)
        .map(|m| {
            format!(
                "{}: {} answered {} ({} items) but {} answered {} ({} items)",
                m.name,
                first.system,
                first.answer_digest,
                first.answer_size,
                m.system,
                m.answer_digest,
                m.answer_size
            )
        })
        .collect()
}

/// Cores, memory and kernel of this machine, e.g. `2 cores, 24.0 GiB, Linux 6.1`.
pub fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or_else(
            || "memory unknown".to_string(),
            |kb| format!("{:.1} GiB", kb / 1024.0 / 1024.0),
        );
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_default();
    format!("{cores} cores ({cpu}), {mem}, {}", std::env::consts::OS)
}

/// What to run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The suite's name, for the results.
    pub suite: String,
    /// The datasets, one environment each, in order.
    pub datasets: Vec<environment::Spec>,
    /// The Discogs scale (for the results).
    pub scale: f64,
    /// The seed.
    pub seed: u64,
    /// Timed passes per system and case.
    pub runs: usize,
    /// Where the environments live, and Neo4j's memory.
    pub settings: environment::Settings,
    /// Only the cases whose names contain one of these (all when empty).
    pub only: Vec<String>,
}

impl Plan {
    /// Whether the plan runs the case named `name`.
    pub fn runs_case(&self, name: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|o| name.contains(o.as_str()))
    }
}

/// Runs `plan`: each dataset's environment in turn (stopped before the next starts), every
/// case on every system. Mismatched answers are in [`Results::mismatches`]; the caller fails
/// the run on them after writing the report.
pub async fn run(
    plan: &Plan,
    artifacts: &neotrav_neo4j::bundled::Artifacts,
    progress: &dyn neotrav_snapshot::Progress,
    say: &mut dyn FnMut(&str),
) -> Result<Results, BenchError> {
    let date = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let mut results = Results {
        suite: plan.suite.clone(),
        dataset: plan
            .datasets
            .iter()
            .map(environment::Spec::tag)
            .collect::<Vec<_>>()
            .join(", "),
        scale: plan.scale,
        seed: plan.seed,
        machine: machine(),
        neo4j_version: String::new(),
        date,
        setup: Vec::new(),
        cases: Vec::new(),
        mismatches: Vec::new(),
    };
    for &spec in &plan.datasets {
        let env = environment::Environment::prepare(spec, &plan.settings, artifacts, progress, say)
            .await?;
        results.neo4j_version = env.neo4j_version.clone();
        results.setup.extend(env.setup.iter().cloned());
        let outcome = async {
            for case in env.cases().await? {
                if !plan.runs_case(&case.name) {
                    continue;
                }
                say(&format!("{}: {}", case.name, case.description));
                let m = measure(&env.ctx, &case, plan.runs, say).await?;
                for line in disagreements(&m) {
                    say(&format!("ANSWERS DIFFER: {line}"));
                    results.mismatches.push(line);
                }
                results.cases.extend(m);
            }
            Ok::<_, BenchError>(())
        }
        .await;
        let stopped = env.stop();
        outcome?;
        stopped?;
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn quantiles_take_the_nearest_rank() {
        let t: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(quantile_ms(&t, 0.5), 50.0);
        assert_eq!(quantile_ms(&t, 0.95), 95.0);
        assert_eq!(quantile_ms(&t, 0.99), 99.0);
        assert_eq!(quantile_ms(&t[..1], 0.99), 1.0);
        assert!(quantile_ms(&[], 0.5).is_nan());
    }

    #[test]
    fn digests_tell_answers_apart_and_sizes_count_items() {
        assert_eq!(digest(&[json!([[1, 2]])]), digest(&[json!([[1, 2]])]));
        assert_ne!(digest(&[json!([[1, 2]])]), digest(&[json!([[2, 1]])]));
        assert_ne!(digest(&[json!(1), json!(2)]), digest(&[json!([1, 2])]));
        assert_eq!(size(&json!(23335)), 23335);
        assert_eq!(size(&json!([[1, 2], [3, 4]])), 2);
        assert_eq!(size(&Value::Null), 0);
    }

    #[test]
    fn a_differing_digest_is_named() {
        let m = |system: &str, digest: &str| Measurement {
            name: "c".into(),
            system: system.into(),
            runs: 1,
            p50_ms: 1.0,
            p95_ms: 1.0,
            p99_ms: 1.0,
            answer_digest: digest.into(),
            answer_size: 1,
            timed_out: false,
        };
        assert!(disagreements(&[m("neotrav", "a"), m("cypher", "a")]).is_empty());
        let mut late = m("cypher-tuned", "timed out");
        late.timed_out = true;
        assert!(disagreements(&[m("neotrav", "a"), late]).is_empty());
        let d = disagreements(&[m("neotrav", "a"), m("cypher", "a"), m("apoc", "b")]);
        assert_eq!(d.len(), 1);
        assert!(d[0].contains("apoc answered b"), "{d:?}");
    }

    #[test]
    fn a_run_with_mismatches_fails_its_answer_check() {
        let mut results = Results {
            suite: "tree".into(),
            dataset: "tree-3000".into(),
            scale: 0.1,
            seed: 42,
            machine: String::new(),
            neo4j_version: String::new(),
            date: String::new(),
            setup: Vec::new(),
            cases: Vec::new(),
            mismatches: Vec::new(),
        };
        assert!(results.check_answers().is_ok());
        results
            .mismatches
            .push("c: neotrav answered a (1 items) but apoc answered b".into());
        let e = results.check_answers().unwrap_err();
        assert!(matches!(&e, BenchError::Mismatches { mismatches } if mismatches.len() == 1));
        assert_eq!(
            e.to_string(),
            "1 case(s) had systems answering differently; the timings of those cases mean nothing"
        );
    }
}

//! Batch path analytics: one traversal or shortest-path spec run from many starts, in parallel,
//! with results streamed in input order to a resumable file.
//!
//! The types, in the order a job uses them:
//!
//! - [`Spec`]: what every start runs, a [`TraverseRequest`] without `start` or a
//!   [`ShortestPathRequest`] without `from`/`to` ([`Spec::from_json`] says how a file tells them
//!   apart).
//! - [`Entry`] / [`Start`]: the starts, with the line they came from ([`parse_starts`] reads a
//!   file of ids or id pairs and reports every malformed line).
//! - [`Batch`]: the spec compiled once against an [`Engine`] (every spec error surfaces here,
//!   before any work); [`Batch::resolve`] splits starts into runnable [`Task`]s and unknown ids;
//!   [`Batch::run`] answers a slice of tasks on the rayon pool, in order.
//! - [`Record`]: one start's answer, written as a JSON line or a CSV row.
//! - [`output::Output`]: the result file, appended one fsynced chunk at a time;
//!   [`output::Output::resume`] finds where a killed job stopped. [`run_to`] drives the whole.
//!
//! Specs that are plain breadth-first `NODE_GLOBAL` counts (no label filter, node lists,
//! `where`, `expandByLabel` or deadline) are answered by [`msbfs::MultiBfs`], 64 starts per
//! pass, with the same counts a one-at-a-time traversal gives ([`Batch::bit_parallel_refusal`]
//! says why a spec does not qualify).

use std::cell::RefCell;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use neotrav_wire::{
    Answer, Consistency, Path, ReturnForm, ShortestPathRequest, TraverseRequest, Uniqueness,
};
use rayon::prelude::*;
use serde_json::Value;

use crate::engine::graph::TypeSet;
use crate::engine::plan::Plan;
use crate::engine::shortest::Search;
use crate::engine::{Engine, EngineError};

pub mod msbfs;
pub mod output;

use msbfs::{LANES, Levels, MultiBfs};

/// What every start of a batch runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Spec {
    /// A traversal; its `start` is replaced by each start in turn.
    Traverse(TraverseRequest),
    /// A shortest-path search; its `from` and `to` are replaced by each pair in turn.
    ShortestPath(ShortestPathRequest),
}

impl Spec {
    /// Reads a spec: a JSON object in the traversal request language (`start` may be left out
    /// and is ignored), or a shortest-path request (`from`/`to` left out and ignored). The kind
    /// is `"kind": "traverse"` or `"kind": "shortestPath"`; without `kind`, an object with a
    /// `from` or `to` key is a shortest path and anything else a traversal.
    pub fn from_json(text: &str) -> Result<Spec, BatchError> {
        let bad = |m: String| BatchError::Spec(m);
        let mut v: Value =
            serde_json::from_str(text).map_err(|e| bad(format!("not valid JSON: {e}")))?;
        let obj = v
            .as_object_mut()
            .ok_or_else(|| bad("must be a JSON object (a traversal request)".to_string()))?;
        let shortest = match obj.remove("kind") {
            None => obj.contains_key("from") || obj.contains_key("to"),
            Some(Value::String(k)) if k == "traverse" => false,
            Some(Value::String(k)) if k == "shortestPath" => true,
            Some(other) => {
                return Err(bad(format!(
                    "kind: {other} is neither \"traverse\" nor \"shortestPath\""
                )));
            }
        };
        if shortest {
            obj.insert("from".into(), Value::from(0));
            obj.insert("to".into(), Value::from(0));
            serde_json::from_value(v)
                .map(Spec::ShortestPath)
                .map_err(|e| bad(format!("not a shortest-path request: {e}")))
        } else {
            obj.insert("start".into(), Value::from(0));
            serde_json::from_value(v)
                .map(Spec::Traverse)
                .map_err(|e| bad(format!("not a traversal request: {e}")))
        }
    }

    /// Whether each start is a pair of nodes.
    pub fn takes_pairs(&self) -> bool {
        matches!(self, Spec::ShortestPath(_))
    }
}

/// One start: a node for a traversal, a pair for a shortest path (Neo4j ids).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Start {
    /// A start node.
    Node(u64),
    /// The two ends of a shortest path.
    Pair(u64, u64),
}

/// A start and where it came from: its line in a starts file, or its row (from 1) in a label
/// or Cypher source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// The start.
    pub start: Start,
    /// Line or row number, from 1.
    pub line: usize,
}

/// A malformed line of a starts file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    /// Its number, from 1.
    pub line: usize,
    /// The line (cut to 80 characters).
    pub text: String,
    /// What is wrong.
    pub reason: String,
}

/// Why a batch cannot run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BatchError {
    /// The spec is not a request (bad JSON, an unknown key, a wrong type).
    #[error("the spec is {0}")]
    Spec(String),
    /// The spec is a request the engine refuses (a bad filter, an unknown key column...).
    #[error("the spec cannot run: {0}")]
    Engine(#[from] EngineError),
    /// Lines of the starts file are not ids (or id pairs); none were run.
    #[error("{}", bad_lines_message(.count, .lines))]
    BadLines {
        /// How many lines are malformed.
        count: usize,
        /// The first of them.
        lines: Vec<BadLine>,
    },
    /// Starts the snapshot does not hold, with `--strict`; none were run.
    #[error("{}", unknown_message(.0))]
    UnknownStarts(Vec<(usize, u64)>),
    /// An option the spec cannot honour (bit-parallel forced on a spec it cannot answer).
    #[error("{0}")]
    Option(String),
    /// The output cannot be resumed: it does not belong to this job.
    #[error("cannot resume {path}: {message}")]
    Resume {
        /// The output file.
        path: String,
        /// Why.
        message: String,
    },
    /// Reading or writing a file failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
}

/// How many malformed lines are listed in full.
pub const BAD_LINES_SHOWN: usize = 20;

fn bad_lines_message(count: &usize, lines: &[BadLine]) -> String {
    let mut m = format!(
        "{count} malformed start line(s), nothing was run (each line holds one Neo4j id, or two for shortest paths; blank lines and lines starting with # are skipped):"
    );
    for b in lines {
        let _ = write!(m, "\n  line {}: {:?}: {}", b.line, b.text, b.reason);
    }
    if *count > lines.len() {
        let _ = write!(m, "\n  ... and {} more", count - lines.len());
    }
    m
}

fn unknown_message(unknown: &[(usize, u64)]) -> String {
    let mut m = format!(
        "{} start(s) are not in the snapshot, nothing was run (--strict; without it they are reported and skipped):",
        unknown.len()
    );
    for (line, id) in unknown.iter().take(BAD_LINES_SHOWN) {
        let _ = write!(m, "\n  line {line}: node {id}");
    }
    if unknown.len() > BAD_LINES_SHOWN {
        let _ = write!(m, "\n  ... and {} more", unknown.len() - BAD_LINES_SHOWN);
    }
    m
}

/// Parses a starts file: one Neo4j id (or element id) per line, or for `pairs` two separated by
/// a comma, tab or spaces. Blank lines and lines starting with `#` are skipped. Every malformed
/// line is reported ([`BatchError::BadLines`]), not just the first.
pub fn parse_starts(text: &str, pairs: bool) -> Result<Vec<Entry>, BatchError> {
    let mut out = Vec::new();
    let mut bad = Vec::new();
    let mut count = 0;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match parse_line(line, pairs) {
            Ok(start) => out.push(Entry { start, line: i + 1 }),
            Err(reason) => {
                count += 1;
                if bad.len() < BAD_LINES_SHOWN {
                    bad.push(BadLine {
                        line: i + 1,
                        text: line.chars().take(80).collect(),
                        reason,
                    });
                }
            }
        }
    }
    if count > 0 {
        return Err(BatchError::BadLines { count, lines: bad });
    }
    Ok(out)
}

fn parse_id(s: &str) -> Result<u64, String> {
    if let Ok(id) = s.parse::<u64>() {
        return Ok(id);
    }
    neotrav_wire::element_id(s)
        .ok_or_else(|| format!("`{s}` is not a Neo4j id (a whole number from 0)"))
}

fn parse_line(line: &str, pairs: bool) -> Result<Start, String> {
    let parts: Vec<&str> = line
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|p| !p.is_empty())
        .collect();
    match (pairs, parts.as_slice()) {
        (false, [one]) => parse_id(one).map(Start::Node),
        (false, _) => Err(format!(
            "expected one id, found {} fields (a pairs file is for shortest-path specs)",
            parts.len()
        )),
        (true, [a, b]) => Ok(Start::Pair(parse_id(a)?, parse_id(b)?)),
        (true, _) => Err(format!(
            "expected two ids (from, to), found {} field(s)",
            parts.len()
        )),
    }
}

/// Whether to answer a count spec with the bit-parallel search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BitParallel {
    /// When the spec qualifies ([`Batch::bit_parallel_refusal`] is `None`).
    #[default]
    Auto,
    /// Always; a spec that does not qualify is an error.
    Always,
    /// Never: every start is a traversal of its own.
    Never,
}

/// How a batch runs.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Whether to use the bit-parallel search.
    pub bit_parallel: BitParallel,
    /// Add each start's distance histogram (`levels`: nodes at distance 0, 1, ...) to its
    /// record; needs the bit-parallel search.
    pub levels: bool,
}

enum Work {
    Traverse {
        plan: Box<Plan>,
        refusal: Option<&'static str>,
        fast: bool,
    },
    Shortest(Search),
}

/// A spec compiled against an engine, ready to run from any number of starts.
pub struct Batch<'e, D: AsRef<[u8]> = memmap2::Mmap> {
    engine: &'e Engine<D>,
    work: Work,
    levels: bool,
}

/// A start resolved to snapshot nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Task {
    /// The start as given.
    pub start: Start,
    /// Its line or row.
    pub line: usize,
    nodes: [u32; 2],
}

/// Starts split by whether the snapshot holds them.
#[derive(Debug, Default)]
pub struct Resolution {
    /// The starts to run, in input order.
    pub tasks: Vec<Task>,
    /// The unknown ids, with their lines.
    pub unknown: Vec<(usize, u64)>,
}

/// One start's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The start.
    pub start: Start,
    /// The answer.
    pub outcome: Outcome,
}

/// What one start gave.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A traversal's answer.
    Traversal {
        /// The answer (as [`Engine::traverse`] gives it).
        answer: Answer,
        /// Whether a budget cut it short.
        partial: bool,
        /// Nodes at each distance, when asked for.
        levels: Option<Levels>,
    },
    /// A shortest path.
    ShortestPath {
        /// Its length, `None` when there is none within `maxLevel`.
        length: Option<u32>,
        /// The path(s).
        paths: Vec<Path>,
        /// Whether a budget cut the search short.
        partial: bool,
    },
    /// The engine refused this start (a budget with `"onExceed": "error"`).
    Failed(String),
}

thread_local! {
    static MULTI_BFS: RefCell<MultiBfs> = RefCell::new(MultiBfs::default());
}

/// Why a compiled traversal cannot be answered by the bit-parallel search with the same
/// answer, or `None` when it can.
fn refusal(req: &TraverseRequest, plan: &Plan) -> Option<&'static str> {
    if !matches!(plan.return_form, ReturnForm::Count) {
        return Some("it returns more than a count (\"return\": \"count\" only)");
    }
    if plan.uniqueness != Uniqueness::NodeGlobal {
        return Some("its uniqueness is not NODE_GLOBAL");
    }
    if !plan.bfs {
        return Some("it is depth-first (\"bfs\": false)");
    }
    if !plan.label_steps.is_empty() {
        return Some("it has a labelFilter or sequence");
    }
    if plan.by_label.is_some() {
        return Some("it has expandByLabel");
    }
    if plan.end_nodes.is_some()
        || plan.terminator_nodes.is_some()
        || plan.allowlist_nodes.is_some()
        || plan.denylist_nodes.is_some()
    {
        return Some("it has node lists");
    }
    if !plan.predicates.is_empty() {
        return Some("it has where predicates");
    }
    if req.budget.deadline_ms.is_some() {
        return Some("it sets budget.deadlineMs");
    }
    None
}

impl<'e, D: AsRef<[u8]> + Sync> Batch<'e, D> {
    /// Compiles `spec` against `engine`: every mistake in the spec is reported here.
    pub fn new(engine: &'e Engine<D>, spec: &Spec, options: Options) -> Result<Self, BatchError> {
        let work = match spec {
            Spec::Traverse(req) => {
                if req.consistency == Consistency::Fresh {
                    return Err(BatchError::Option(
                        "batch jobs answer from the snapshot: \"consistency\": \"fresh\" is not supported".into(),
                    ));
                }
                let plan = engine.compile(req)?;
                let refusal = refusal(req, &plan);
                let fast = match (options.bit_parallel, refusal) {
                    (BitParallel::Never, _) => false,
                    (_, None) => true,
                    (BitParallel::Auto, Some(_)) => false,
                    (BitParallel::Always, Some(why)) => {
                        return Err(BatchError::Option(format!(
                            "the bit-parallel search cannot answer this spec: {why}"
                        )));
                    }
                };
                if options.levels && !fast {
                    return Err(BatchError::Option(format!(
                        "levels (distance histograms) come from the bit-parallel search, which {}",
                        match refusal {
                            Some(why) => format!("cannot answer this spec: {why}"),
                            None => "was turned off".to_string(),
                        }
                    )));
                }
                Work::Traverse {
                    plan: Box::new(plan),
                    refusal,
                    fast,
                }
            }
            Spec::ShortestPath(req) => {
                if req.consistency == Consistency::Fresh {
                    return Err(BatchError::Option(
                        "batch jobs answer from the snapshot: \"consistency\": \"fresh\" is not supported".into(),
                    ));
                }
                if options.levels || options.bit_parallel == BitParallel::Always {
                    return Err(BatchError::Option(
                        "the bit-parallel search and levels are for traversal counts, not shortest paths".into(),
                    ));
                }
                Work::Shortest(engine.compile_shortest(req)?)
            }
        };
        Ok(Batch {
            engine,
            work,
            levels: options.levels,
        })
    }

    /// Whether the bit-parallel search answers this batch.
    pub fn bit_parallel(&self) -> bool {
        matches!(self.work, Work::Traverse { fast: true, .. })
    }

    /// Why the spec does not qualify for the bit-parallel search (`None`: it does, or it is a
    /// shortest path).
    pub fn bit_parallel_refusal(&self) -> Option<&'static str> {
        match &self.work {
            Work::Traverse { refusal, .. } => *refusal,
            Work::Shortest(_) => Some("it is a shortest-path spec"),
        }
    }

    /// Whether starts are pairs.
    pub fn takes_pairs(&self) -> bool {
        matches!(self.work, Work::Shortest(_))
    }

    /// The CSV header line (without newline) of this batch's records.
    pub fn csv_header(&self) -> String {
        match &self.work {
            Work::Shortest(_) => "from,to,length,paths,partial,error".into(),
            Work::Traverse { plan, .. } => {
                let answer = match plan.return_form {
                    ReturnForm::Count if self.levels => "count,levels",
                    ReturnForm::Count => "count",
                    ReturnForm::Nodes => "nodes",
                    ReturnForm::Paths => "paths",
                    ReturnForm::GroupBy { .. } => "groups",
                };
                format!("start,{answer},partial,error")
            }
        }
    }

    /// Resolves starts to snapshot nodes, in order; ids the snapshot does not hold (either end
    /// of a pair) are listed apart, as is a single node given to a pair spec or a pair given to
    /// a traversal (tell [`parse_starts`] which kind to read: [`Batch::takes_pairs`]).
    pub fn resolve(&self, entries: &[Entry]) -> Resolution {
        let mut r = Resolution {
            tasks: Vec::with_capacity(entries.len()),
            unknown: Vec::new(),
        };
        let index = |id: u64| self.engine.node_index(id).ok_or(id);
        for e in entries {
            let nodes = match (e.start, self.takes_pairs()) {
                (Start::Node(a), false) => index(a).map(|a| [a, 0]),
                (Start::Pair(a, b), true) => index(a).and_then(|a| Ok([a, index(b)?])),
                (Start::Node(a), true) | (Start::Pair(a, _), false) => Err(a),
            };
            match nodes {
                Ok(nodes) => r.tasks.push(Task {
                    start: e.start,
                    line: e.line,
                    nodes,
                }),
                Err(id) => r.unknown.push((e.line, id)),
            }
        }
        r
    }

    /// Answers `tasks` on the current rayon pool, calling `progress` with the number of starts
    /// done as they finish. Records come back in task order.
    pub fn run(&self, tasks: &[Task], progress: &(dyn Fn(u64) + Sync)) -> Vec<Record> {
        let group = if self.bit_parallel() { LANES } else { 16 };
        tasks
            .par_chunks(group)
            .map(|g| {
                let out = if self.bit_parallel() {
                    self.run_bit_parallel(g)
                } else {
                    g.iter().map(|t| self.run_one(t)).collect()
                };
                progress(g.len() as u64);
                out
            })
            .collect::<Vec<Vec<Record>>>()
            .into_iter()
            .flatten()
            .collect()
    }

    /// One start, as its own traversal or search.
    pub fn run_one(&self, task: &Task) -> Record {
        let outcome = match &self.work {
            Work::Traverse { plan, .. } => {
                match self.engine.traverse_compiled(plan, &task.nodes[..1]) {
                    Ok(r) => Outcome::Traversal {
                        answer: r.answer,
                        partial: r.partial,
                        levels: None,
                    },
                    Err(e) => Outcome::Failed(e.to_string()),
                }
            }
            Work::Shortest(search) => {
                match self
                    .engine
                    .shortest_path_compiled(search, task.nodes[0], task.nodes[1])
                {
                    Ok(r) => Outcome::ShortestPath {
                        length: r.length,
                        paths: r.paths,
                        partial: r.partial,
                    },
                    Err(e) => Outcome::Failed(e.to_string()),
                }
            }
        };
        Record {
            start: task.start,
            outcome,
        }
    }

    /// Up to 64 starts in one bit-parallel pass. A start whose search reaches more nodes than
    /// `budget.maxVisited`, or whose pass ran past the deadline, is run again on its own, so
    /// its budget applies as a one-at-a-time traversal applies it.
    fn run_bit_parallel(&self, tasks: &[Task]) -> Vec<Record> {
        let Work::Traverse { plan, .. } = &self.work else {
            unreachable!("only traversals are bit-parallel")
        };
        let graph = self.engine.snapshot_graph(&[]);
        let sources: Vec<u32> = tasks.iter().map(|t| t.nodes[0]).collect();
        let started = Instant::now();
        let levels = MULTI_BFS.with(|m| {
            let mut m = m.borrow_mut();
            m.run_snapshot(&graph, &sources, plan.max_level, |depth| {
                let mut buf = [TypeSet::NONE, TypeSet::NONE];
                *plan.expansion(depth, |_| false, &mut buf)
            })
        });
        let slow = started.elapsed() > plan.budgets.deadline;
        tasks
            .iter()
            .zip(levels)
            .map(|(task, levels)| {
                let reached: u64 = levels.iter().sum();
                if slow || reached > plan.budgets.max_visited {
                    let mut r = self.run_one(task);
                    if let Outcome::Traversal { levels: l, .. } = &mut r.outcome
                        && self.levels
                    {
                        *l = Some(levels);
                    }
                    return r;
                }
                let count: u64 = levels.iter().skip(plan.min_level as usize).sum();
                Record {
                    start: task.start,
                    outcome: Outcome::Traversal {
                        answer: Answer::Count(count.min(plan.limit)),
                        partial: false,
                        levels: self.levels.then_some(levels),
                    },
                }
            })
            .collect()
    }
}

impl Record {
    /// The record as one JSON line (with its newline): `{"start": id, <answer>, "partial": b}`
    /// (the answer keyed `count`, `nodes`, `paths` or `groups` as in a traversal response,
    /// plus `levels` when asked for); `{"from", "to", "length", "paths", "partial"}` for a
    /// shortest path; `{"start" (or "from", "to"), "error"}` for a start the engine refused.
    pub fn write_json(&self, out: &mut String) {
        match self.start {
            Start::Node(id) => {
                let _ = write!(out, "{{\"start\":{id}");
            }
            Start::Pair(a, b) => {
                let _ = write!(out, "{{\"from\":{a},\"to\":{b}");
            }
        }
        match &self.outcome {
            Outcome::Traversal {
                answer,
                partial,
                levels,
            } => {
                match answer {
                    Answer::Count(n) => {
                        let _ = write!(out, ",\"count\":{n}");
                    }
                    Answer::Nodes(n) => {
                        let _ = write!(out, ",\"nodes\":{}", n.to_json());
                    }
                    Answer::Paths(p) => {
                        let _ = write!(out, ",\"paths\":{}", p.to_json());
                    }
                    Answer::Groups(g) => {
                        let _ = write!(out, ",\"groups\":{}", g.to_json());
                    }
                }
                let _ = write!(out, ",\"partial\":{partial}");
                if let Some(l) = levels {
                    let _ = write!(out, ",\"levels\":{}", l.to_json());
                }
            }
            Outcome::ShortestPath {
                length,
                paths,
                partial,
            } => {
                let _ = write!(
                    out,
                    ",\"length\":{},\"paths\":{},\"partial\":{partial}",
                    length.to_json(),
                    paths.to_json()
                );
            }
            Outcome::Failed(e) => {
                let _ = write!(out, ",\"error\":{}", e.to_json());
            }
        }
        out.push_str("}\n");
    }

    /// The record as one CSV row (with its newline), columns as [`Batch::csv_header`] names
    /// them: ids and counts bare, node lists `;`-separated, paths, groups and levels as quoted
    /// JSON, an error as quoted text.
    pub fn write_csv(&self, out: &mut String, levels: bool) {
        match self.start {
            Start::Node(id) => {
                let _ = write!(out, "{id},");
            }
            Start::Pair(a, b) => {
                let _ = write!(out, "{a},{b},");
            }
        }
        let quoted = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
        match &self.outcome {
            Outcome::Traversal {
                answer,
                partial,
                levels: l,
            } => {
                match answer {
                    Answer::Count(n) => {
                        let _ = write!(out, "{n}");
                        if levels {
                            let text = l.as_ref().map_or(String::new(), |l| {
                                l.iter().map(u64::to_string).collect::<Vec<_>>().join(";")
                            });
                            let _ = write!(out, ",{text}");
                        }
                    }
                    Answer::Nodes(n) => {
                        let text: Vec<String> = n.iter().map(u64::to_string).collect();
                        out.push_str(&text.join(";"));
                    }
                    Answer::Paths(p) => out.push_str(&quoted(&p.to_json())),
                    Answer::Groups(g) => out.push_str(&quoted(&g.to_json())),
                }
                let _ = writeln!(out, ",{partial},");
            }
            Outcome::ShortestPath {
                length,
                paths,
                partial,
            } => {
                let length = length.map_or(String::new(), |l| l.to_string());
                let _ = writeln!(out, "{length},{},{partial},", quoted(&paths.to_json()));
            }
            Outcome::Failed(e) => {
                let empty = match self.start {
                    Start::Node(_) if levels => ",,,",
                    Start::Node(_) => ",,",
                    Start::Pair(..) => ",,,",
                };
                let _ = writeln!(out, "{empty}{}", quoted(&e.replace(['\n', '\r'], " ")));
            }
        }
    }
}

/// Compact JSON of plain data.
mod json_text {
    /// A value that serialises to JSON.
    pub trait Ser {
        /// Compact JSON (`null` if it cannot be serialised, which plain data always can).
        fn to_json(&self) -> String;
    }

    impl<T: serde::Serialize> Ser for T {
        fn to_json(&self) -> String {
            serde_json::to_string(self).unwrap_or_else(|_| "null".to_string())
        }
    }
}

use json_text::Ser as _;

/// What a whole job did.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Records written by this run.
    pub written: u64,
    /// Records already in the output when it was resumed.
    pub resumed: u64,
    /// Starts skipped because the snapshot does not hold them.
    pub unknown: u64,
    /// Records for starts the engine refused (an error record each).
    pub failed: u64,
    /// Records a budget cut short.
    pub partial: u64,
    /// Time spent running and writing.
    pub elapsed: Duration,
}

/// Where a resumed job continues: how many of `tasks` its output already answers. The last
/// record must be that many tasks in (the same start), or the output belongs to another job
/// (other starts, another snapshot) and is left alone.
pub fn resume_point(
    tasks: &[Task],
    resumed: &output::Resumed,
    path: &std::path::Path,
) -> Result<usize, BatchError> {
    let k = usize::try_from(resumed.records).unwrap_or(usize::MAX);
    let error = |message: String| BatchError::Resume {
        path: path.display().to_string(),
        message,
    };
    if k > tasks.len() {
        return Err(error(format!(
            "it holds {k} records and this job has only {} starts: it was written by another job",
            tasks.len()
        )));
    }
    if k > 0 {
        let want = tasks[k - 1].start;
        if resumed.last != Some(want) {
            return Err(error(format!(
                "its last record ({} of them) is for {:?}, and this job's start number {k} is {want:?} (line {}): it was written by another job",
                k,
                resumed.last,
                tasks[k - 1].line
            )));
        }
    }
    Ok(k)
}

/// Runs `tasks` in chunks of `chunk` starts, appending each chunk's records to `out` in order
/// (one fsync per chunk), so memory stays bounded by one chunk's records whatever the total.
pub fn run_to<D: AsRef<[u8]> + Sync>(
    batch: &Batch<'_, D>,
    tasks: &[Task],
    out: &mut output::Output,
    chunk: usize,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Summary, BatchError> {
    let started = Instant::now();
    let mut summary = Summary::default();
    let csv_levels = batch.levels;
    let mut text = String::new();
    for slice in tasks.chunks(chunk.max(1)) {
        let records = batch.run(slice, progress);
        text.clear();
        for r in &records {
            match &r.outcome {
                Outcome::Failed(_) => summary.failed += 1,
                Outcome::Traversal { partial: true, .. }
                | Outcome::ShortestPath { partial: true, .. } => summary.partial += 1,
                _ => {}
            }
            match out.format() {
                output::Format::JsonLines => r.write_json(&mut text),
                output::Format::Csv => r.write_csv(&mut text, csv_levels),
            }
        }
        out.append(text.as_bytes(), records.len() as u64)?;
        summary.written += records.len() as u64;
    }
    summary.elapsed = started.elapsed();
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_say_their_kind() {
        assert!(matches!(
            Spec::from_json(r#"{"maxLevel": 2, "return": "count"}"#).unwrap(),
            Spec::Traverse(_)
        ));
        assert!(matches!(
            Spec::from_json(r#"{"start": 5, "maxLevel": 2}"#).unwrap(),
            Spec::Traverse(_)
        ));
        assert!(
            Spec::from_json(r#"{"kind": "shortestPath", "maxLevel": 4}"#)
                .unwrap()
                .takes_pairs()
        );
        assert!(
            Spec::from_json(r#"{"from": 1, "to": 2}"#)
                .unwrap()
                .takes_pairs()
        );
        let e = Spec::from_json(r#"{"maxLevl": 2}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("maxLevl"), "{e}");
        let e = Spec::from_json(r#"{"kind": "bfs"}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("kind"), "{e}");
        assert!(Spec::from_json("[1]").is_err());
        assert!(Spec::from_json("{").is_err());
    }

    #[test]
    fn start_lines_are_checked_with_line_numbers() {
        let got = parse_starts("# ids\n1\n\n 22 \n4:abc:7\n", false).unwrap();
        assert_eq!(
            got.iter().map(|e| (e.start, e.line)).collect::<Vec<_>>(),
            vec![
                (Start::Node(1), 2),
                (Start::Node(22), 4),
                (Start::Node(7), 5)
            ]
        );
        let pairs = parse_starts("1,2\n3 4\n5\t6\n", true).unwrap();
        assert_eq!(pairs[2].start, Start::Pair(5, 6));
        let BatchError::BadLines { count, lines } =
            parse_starts("1\nx\n3\n-4\n5 6\n", false).unwrap_err()
        else {
            panic!("not bad lines")
        };
        assert_eq!(count, 3);
        assert_eq!(
            lines.iter().map(|b| b.line).collect::<Vec<_>>(),
            vec![2, 4, 5]
        );
        assert!(parse_starts("1\n", true).is_err());
    }

    #[test]
    fn records_are_one_line_each() {
        let r = Record {
            start: Start::Node(3),
            outcome: Outcome::Traversal {
                answer: Answer::Count(7),
                partial: false,
                levels: Some(vec![1, 2, 4]),
            },
        };
        let mut s = String::new();
        r.write_json(&mut s);
        assert_eq!(
            s,
            "{\"start\":3,\"count\":7,\"partial\":false,\"levels\":[1,2,4]}\n"
        );
        s.clear();
        r.write_csv(&mut s, true);
        assert_eq!(s, "3,7,1;2;4,false,\n");
        let failed = Record {
            start: Start::Pair(1, 2),
            outcome: Outcome::Failed("a \"quoted\"\nthing".into()),
        };
        s.clear();
        failed.write_json(&mut s);
        assert_eq!(s.matches('\n').count(), 1);
        let v: Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v["from"], 1);
        assert_eq!(v["error"], "a \"quoted\"\nthing");
    }
}

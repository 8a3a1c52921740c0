//! The runner: [`Batch`], a spec compiled once against an engine, which resolves starts into
//! [`Task`]s and answers them on the rayon pool, one traversal or search per start or 64 starts
//! per bit-parallel pass ([`BitParallel`], [`Options`]).

use std::cell::RefCell;
use std::time::Instant;

use neotrav_wire::{Answer, Consistency, ReturnForm, TraverseRequest, Uniqueness};
use rayon::prelude::*;

use crate::engine::Engine;
use crate::engine::graph::TypeSet;
use crate::engine::plan::Plan;
use crate::engine::shortest::Search;

use super::msbfs::{LANES, MultiBfs};
use super::{BatchError, Entry, Outcome, Record, Spec, Start};

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
    pub(super) levels: bool,
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
    ///
    /// [`parse_starts`]: super::parse_starts
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

//! The traversal engine: APOC path-expander traversals, shortest paths and aggregations on a
//! snapshot.
//!
//! [`Engine`] holds an opened snapshot and answers [`TraverseRequest`]s and
//! [`ShortestPathRequest`]s. A request is compiled into a [`plan::Plan`] (names to codes,
//! filters to bit sets; every mistake a [`RequestError`] naming the field), then walked by
//! [`walk::Walk`] over a [`graph::Graph`]: the snapshot alone ([`graph::SnapshotGraph`]), or the
//! snapshot with misses read from Neo4j ([`fresh::FreshGraph`]).
//!
//! `traverser/README.md` states the semantics and every known difference from APOC.

use std::fmt;
use std::time::Instant;

use hashbrown::HashMap;
use neotrav_snapshot::Snapshot;
use neotrav_wire::{
    Answer, Consistency, Groups, NodeSelector, OnExceed, Path, ReturnForm, Scalar,
    ShortestPathRequest, ShortestPathResponse, Stats, TraverseRequest, TraverseResponse,
    Uniqueness, Watermark,
};

pub mod budget;
pub mod filter;
pub mod fresh;
pub mod graph;
pub mod plan;
pub mod shortest;
pub mod walk;

use budget::{Exceeded, Meter};
use fresh::{DirtySet, FreshGraph, MissSource};
use graph::{Graph, Prop, SnapshotGraph};
use plan::{KeySlot, Limits, Plan};
use walk::{Bits, Found, Resolve, Walk, with_scratch};

/// The snapshot nodes with `label` whose `key` equals `value` under Cypher's `=`, ascending:
/// [`neotrav_snapshot::Property::seek`]: the key's hash table for ints and strings (format
/// version 3 on), else a binary search in each kind-column's index (a scan on snapshots of
/// format version 1), keeping the nodes with `label`. An error naming `field`
/// when the key was not exported for the label.
pub fn key_lookup<D: AsRef<[u8]>>(
    snapshot: &Snapshot<D>,
    field: &str,
    label: &str,
    key: &str,
    value: &Scalar,
) -> Result<Vec<u32>, RequestError> {
    let code = snapshot.label_code(label);
    let property = snapshot
        .property(key)
        .filter(|p| code.is_some_and(|c| p.covers(c)))
        .ok_or_else(|| {
            RequestError::new(
                field,
                format!(
                    "the snapshot has no column for {label}.{key}: export it with `neotrav export --properties {label}.{key}`"
                ),
            )
        })?;
    let code = code.unwrap_or_default();
    let view = snapshot.view();
    let mut nodes = property.seek(graph::scalar_value(value));
    nodes.retain(|&n| view.has_label(n, code));
    Ok(nodes)
}

/// A request that cannot be run as given: the field and what is wrong with it (HTTP 400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestError {
    /// The request key at fault (`relationshipFilter`, `where[1].value`, ...).
    pub field: String,
    /// What is wrong, and what to do.
    pub message: String,
}

impl RequestError {
    /// A new error.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> RequestError {
        RequestError {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for RequestError {}

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The request is malformed (HTTP 400).
    #[error("bad request: {0}")]
    Request(#[from] RequestError),
    /// A snapshot request's start (or end) node is not in the snapshot (HTTP 404); a fresh
    /// request's is [`EngineError::NotInNeo4j`].
    #[error(
        "node {0} is not in the snapshot{hint}",
        hint = ". Ask with \"consistency\": \"fresh\" to read nodes created since the export"
    )]
    UnknownNode(u64),
    /// A budget was exceeded and the request asked for an error (HTTP 422).
    #[error("{}", budget_message(.0))]
    Budget(Exceeded),
    /// Reading misses from Neo4j failed (HTTP 503).
    #[error("reading misses from Neo4j failed: {0}")]
    Neo4j(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Neo4j did not answer a read of misses in time (HTTP 504): the call was given up and
    /// its connection left for the pool to check (drain and reset) or discard.
    #[error("{}", neo4j_timeout_message(*.ms, *.deadline))]
    Neo4jTimeout {
        /// How long the call was given.
        ms: u64,
        /// Whether the request's own deadline (`budget.deadlineMs`) ended it; otherwise the
        /// server's cap on one Neo4j call did.
        deadline: bool,
    },
    /// A fresh request named a node that Neo4j does not have (HTTP 404): one the snapshot does
    /// not know either, or one invalidated since the export and deleted since.
    #[error("{}", not_in_neo4j_message(*.id, *.invalidated))]
    NotInNeo4j {
        /// Its Neo4j id.
        id: u64,
        /// Whether the snapshot holds it (invalidated since the export).
        invalidated: bool,
    },
    /// `consistency: fresh` without a Neo4j connection (HTTP 503).
    #[error(
        "\"consistency\": \"fresh\" needs a Neo4j connection, and this engine has none; ask with \"consistency\": \"snapshot\""
    )]
    NoNeo4j,
}

fn neo4j_timeout_message(ms: u64, deadline: bool) -> String {
    let by = if deadline {
        "the rest of the request's deadline (budget.deadlineMs)"
    } else {
        "the sidecar's limit on one Neo4j call (neotrav serve --neo4j-timeout)"
    };
    format!(
        "Neo4j did not answer a read of misses within {ms} ms, {by}; it may be overloaded or \
         frozen. Snapshot requests (\"consistency\": \"snapshot\") do not need it"
    )
}

fn not_in_neo4j_message(id: u64, invalidated: bool) -> String {
    if invalidated {
        format!("node {id} was invalidated since the export and Neo4j no longer has it")
    } else {
        format!("node {id} is in neither the snapshot nor Neo4j")
    }
}

fn budget_message(e: &Exceeded) -> String {
    match e {
        Exceeded::Visited(n) => format!(
            "the traversal visited more than {n} nodes (budget.maxVisited): narrow it, raise the budget, or ask for \"onExceed\": \"partial\""
        ),
        Exceeded::Deadline(ms) => format!(
            "the traversal ran past its {ms} ms deadline (budget.deadlineMs): narrow it, raise the budget, or ask for \"onExceed\": \"partial\""
        ),
        Exceeded::Memory(bytes) => format!(
            "the request needed more than its {bytes} bytes of memory (budget.maxMemory): narrow it (maxLevel, a stricter uniqueness, limit), ask for \"count\" instead of nodes or paths, raise the budget up to the server's ceiling, or ask for \"onExceed\": \"partial\""
        ),
    }
}

/// The traversal engine over one snapshot.
pub struct Engine<D = memmap2::Mmap> {
    snapshot: Snapshot<D>,
    limits: Limits,
    watermark: Watermark,
    dicts: plan::Dictionaries,
}

impl<D: AsRef<[u8]>> Engine<D> {
    /// An engine answering from `snapshot`, with default limits.
    pub fn new(snapshot: Snapshot<D>) -> Engine<D> {
        let h = snapshot.header();
        let watermark = Watermark {
            last_committed_tx: h.watermark.last_committed_tx,
            created: humantime::format_rfc3339_millis(
                std::time::UNIX_EPOCH + std::time::Duration::from_millis(h.created_unix_ms),
            )
            .to_string(),
            note: h.watermark.note.clone(),
        };
        Engine {
            dicts: plan::Dictionaries::of(h),
            snapshot,
            limits: Limits::default(),
            watermark,
        }
    }

    /// Sets the server's limits (defaults and ceilings of every budget).
    pub fn with_limits(mut self, limits: Limits) -> Engine<D> {
        self.limits = limits;
        self
    }

    /// The server's limits (defaults and ceilings of every budget).
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The snapshot.
    pub fn snapshot(&self) -> &Snapshot<D> {
        &self.snapshot
    }

    /// The snapshot's watermark, as responses report it.
    pub fn watermark(&self) -> &Watermark {
        &self.watermark
    }

    /// The snapshot graph, with the columns of `keys`.
    pub(crate) fn snapshot_graph(&self, keys: &[KeySlot]) -> SnapshotGraph<'_> {
        let header = self.snapshot.header();
        let columns = keys
            .iter()
            .map(|k| match &k.label {
                // Every kind-column of the key: a node's value is in the one of its type.
                Some(l) => self.snapshot.columns(l, &k.key),
                None => {
                    let mut labels: Vec<u32> = header
                        .columns
                        .iter()
                        .filter(|c| c.key == k.key)
                        .flat_map(|c| c.labels.iter().copied())
                        .collect();
                    labels.sort_unstable();
                    labels.dedup();
                    labels
                        .iter()
                        .filter_map(|&l| header.labels.get(l as usize))
                        .flat_map(|l| self.snapshot.columns(l, &k.key))
                        .collect()
                }
            })
            .collect();
        SnapshotGraph {
            view: self.snapshot.view(),
            columns,
        }
    }

    /// Answers a traversal request from the snapshot alone. A `fresh` request fails with
    /// [`EngineError::NoNeo4j`]; see [`Engine::traverse_fresh`].
    pub fn traverse(&self, req: &TraverseRequest) -> Result<TraverseResponse, EngineError> {
        if req.consistency == Consistency::Fresh {
            return Err(EngineError::NoNeo4j);
        }
        let started = Instant::now();
        let plan = Plan::compile(req, &self.snapshot, &self.dicts, self.limits)?;
        let mut graph = self.snapshot_graph(&plan.keys);
        let starts = self.resolve_snapshot_starts(req.start.as_slice(), &graph)?;
        self.answer(&plan, &mut graph, &starts, started)
    }

    /// Compiles a traversal request once, to run it from many starts with
    /// [`Engine::traverse_compiled`] (batch jobs do). The request's own `start` is not read.
    pub fn compile(&self, req: &TraverseRequest) -> Result<Plan, EngineError> {
        if req.consistency == Consistency::Fresh {
            return Err(EngineError::NoNeo4j);
        }
        Ok(Plan::compile(
            req,
            &self.snapshot,
            &self.dicts,
            self.limits,
        )?)
    }

    /// Answers a request compiled by [`Engine::compile`] from `starts` (snapshot node indices,
    /// see [`Engine::node_index`]): the same answer [`Engine::traverse`] gives for the request
    /// with those starts.
    pub fn traverse_compiled(
        &self,
        plan: &Plan,
        starts: &[u32],
    ) -> Result<TraverseResponse, EngineError> {
        let started = Instant::now();
        let mut graph = self.snapshot_graph(&plan.keys);
        self.answer(plan, &mut graph, starts, started)
    }

    /// The snapshot index of a Neo4j node id, if the snapshot holds the node.
    pub fn node_index(&self, id: u64) -> Option<u32> {
        self.snapshot.view().node_index(id)
    }

    fn answer(
        &self,
        plan: &Plan,
        graph: &mut SnapshotGraph<'_>,
        starts: &[u32],
        started: Instant,
    ) -> Result<TraverseResponse, EngineError> {
        let ran = run(plan, graph, starts)?;
        let mut stats = ran.stats(plan, &self.watermark);
        stats.elapsed_ms = started.elapsed().as_secs_f64() * 1e3;
        Ok(TraverseResponse {
            partial: ran.exceeded.is_some(),
            answer: ran.answer,
            stats,
        })
    }

    /// Start nodes as snapshot indices, in request order.
    fn resolve_snapshot_starts(
        &self,
        selectors: &[NodeSelector],
        graph: &SnapshotGraph<'_>,
    ) -> Result<Vec<u32>, EngineError> {
        let mut out = Vec::with_capacity(selectors.len());
        for (i, s) in selectors.iter().enumerate() {
            match plan::direct_id(&format!("start[{i}]"), s)? {
                Some(id) => out.push(
                    graph
                        .view
                        .node_index(id)
                        .ok_or(EngineError::UnknownNode(id))?,
                ),
                None => match s {
                    NodeSelector::Key { label, key, value } => {
                        out.extend(self.lookup(&format!("start[{i}]"), label, key, value)?);
                    }
                    NodeSelector::Label { label } => {
                        out.extend(self.label_nodes(label));
                    }
                    _ => {}
                },
            }
        }
        Ok(out)
    }

    /// The snapshot nodes with a label, in index order (none when the label is unknown).
    pub fn label_nodes(&self, label: &str) -> Vec<u32> {
        self.snapshot
            .label_code(label)
            .and_then(|code| self.snapshot.label_nodes(code))
            .map(|bitmap| bitmap.iter().collect())
            .unwrap_or_default()
    }

    /// The one snapshot node with `label`, for a path end named by label; an error naming
    /// `field` when none or several have it.
    fn only_node_with(&self, field: &str, label: &str) -> Result<u32, EngineError> {
        let nodes = self
            .snapshot
            .label_code(label)
            .and_then(|code| self.snapshot.label_nodes(code));
        match nodes {
            Some(b) if b.len() == 1 => Ok(b.min().unwrap_or_default()),
            found => Err(RequestError::new(
                field,
                format!(
                    "{} nodes have the label {label}: a path end must be one node",
                    found.map_or(0, |b| b.len())
                ),
            )
            .into()),
        }
    }

    /// The snapshot nodes with `label` whose `key` equals `value` under Cypher's `=` (an int
    /// finds equal floats too), ascending: a probe of the key's hash table, or a binary search
    /// in its indices (see [`key_lookup`]).
    pub fn lookup(
        &self,
        field: &str,
        label: &str,
        key: &str,
        value: &Scalar,
    ) -> Result<Vec<u32>, RequestError> {
        key_lookup(&self.snapshot, field, label, key, value)
    }

    /// Answers a shortest-path request from the snapshot alone.
    pub fn shortest_path(
        &self,
        req: &ShortestPathRequest,
    ) -> Result<ShortestPathResponse, EngineError> {
        if req.consistency == Consistency::Fresh {
            return Err(EngineError::NoNeo4j);
        }
        let started = Instant::now();
        let mut graph = self.snapshot_graph(&[]);
        let mut ends = [0u32; 2];
        for (i, (field, s)) in [("from", &req.from), ("to", &req.to)]
            .into_iter()
            .enumerate()
        {
            ends[i] = match plan::direct_id(field, s)? {
                Some(id) => graph
                    .view
                    .node_index(id)
                    .ok_or(EngineError::UnknownNode(id))?,
                None => match s {
                    NodeSelector::Key { label, key, value } => one(
                        field,
                        label,
                        key,
                        value,
                        self.lookup(field, label, key, value)?,
                    )?,
                    NodeSelector::Label { label } => self.only_node_with(field, label)?,
                    NodeSelector::Id(_) | NodeSelector::ElementId(_) => {
                        return Err(RequestError::new(field, "not a node selector").into());
                    }
                },
            };
        }
        let search = shortest::Search::compile(req, &self.dicts, self.limits)?;
        self.finish_shortest(&search, &mut graph, ends, started)
    }

    /// Compiles a shortest-path request once, to run it between many pairs with
    /// [`Engine::shortest_path_compiled`]. The request's own `from` and `to` are not read.
    pub fn compile_shortest(
        &self,
        req: &ShortestPathRequest,
    ) -> Result<shortest::Search, EngineError> {
        if req.consistency == Consistency::Fresh {
            return Err(EngineError::NoNeo4j);
        }
        Ok(shortest::Search::compile(req, &self.dicts, self.limits)?)
    }

    /// Answers a shortest-path request compiled by [`Engine::compile_shortest`] between two
    /// snapshot node indices (see [`Engine::node_index`]).
    pub fn shortest_path_compiled(
        &self,
        search: &shortest::Search,
        from: u32,
        to: u32,
    ) -> Result<ShortestPathResponse, EngineError> {
        let started = Instant::now();
        let mut graph = self.snapshot_graph(&[]);
        self.finish_shortest(search, &mut graph, [from, to], started)
    }

    /// Answers a shortest-path request from the snapshot, reading misses from `source`; a
    /// `snapshot` request never touches it.
    pub fn shortest_path_fresh<S: MissSource>(
        &self,
        req: &ShortestPathRequest,
        dirty: &DirtySet,
        source: &mut S,
    ) -> Result<ShortestPathResponse, EngineError> {
        if req.consistency == Consistency::Snapshot {
            return self.shortest_path(req);
        }
        let started = Instant::now();
        let search = shortest::Search::compile(req, &self.dicts, self.limits)?;
        let labels = plan::Names::default();
        let mut graph = FreshGraph::new(
            self.snapshot_graph(&[]),
            dirty,
            source,
            &labels,
            &search.types,
            &[],
        );
        let mut ends = [0u32; 2];
        for (i, (field, s)) in [("from", &req.from), ("to", &req.to)]
            .into_iter()
            .enumerate()
        {
            let id = match plan::direct_id(field, s)? {
                Some(id) => id,
                None => match s {
                    NodeSelector::Key { label, key, value } => {
                        one(field, label, key, value, graph.lookup(label, key, value)?)?
                    }
                    NodeSelector::Label { label } => {
                        one_of_label(field, label, graph.label_ids(label)?)?
                    }
                    NodeSelector::Id(_) | NodeSelector::ElementId(_) => {
                        return Err(RequestError::new(field, "not a node selector").into());
                    }
                },
            };
            ends[i] = graph.node_ref(id);
        }
        graph.resolve_existing(&ends)?;
        let mut response = self.finish_shortest(&search, &mut graph, ends, started)?;
        graph.record(&mut response.stats);
        Ok(response)
    }

    fn finish_shortest<G: Resolve>(
        &self,
        search: &shortest::Search,
        graph: &mut G,
        [from, to]: [u32; 2],
        started: Instant,
    ) -> Result<ShortestPathResponse, EngineError> {
        let found = shortest::run(search, graph, from, to)?;
        let paths = found
            .paths
            .iter()
            .map(|(nodes, rels, types)| to_path(&*graph, &search.types, nodes, rels, types))
            .collect();
        Ok(ShortestPathResponse {
            length: found.length,
            paths,
            partial: found.partial,
            stats: Stats {
                watermark: self.watermark.clone(),
                nodes_visited: found.visited,
                relationships_visited: found.relationships,
                elapsed_ms: started.elapsed().as_secs_f64() * 1e3,
                peak_memory_bytes: found.peak_memory,
                exceeded: found.exceeded.map(Exceeded::name),
                ..Stats::default()
            },
        })
    }

    /// Answers a traversal request from the snapshot, reading misses (nodes the snapshot does
    /// not know, and `dirty` nodes) from `source`; a `snapshot` request never touches it.
    pub fn traverse_fresh<S: MissSource>(
        &self,
        req: &TraverseRequest,
        dirty: &DirtySet,
        source: &mut S,
    ) -> Result<TraverseResponse, EngineError> {
        if req.consistency == Consistency::Snapshot {
            return self.traverse(req);
        }
        let started = Instant::now();
        let plan = Plan::compile(req, &self.snapshot, &self.dicts, self.limits)?;
        let mut graph = FreshGraph::new(
            self.snapshot_graph(&plan.keys),
            dirty,
            source,
            &plan.labels,
            &plan.types,
            &plan.keys,
        );
        let mut starts = Vec::new();
        for (i, s) in req.start.as_slice().iter().enumerate() {
            match plan::direct_id(&format!("start[{i}]"), s)? {
                Some(id) => starts.push(graph.node_ref(id)),
                None => {
                    let ids = match s {
                        NodeSelector::Key { label, key, value } => {
                            graph.lookup(label, key, value)?
                        }
                        NodeSelector::Label { label } => graph.label_ids(label)?,
                        _ => Vec::new(),
                    };
                    for id in ids {
                        starts.push(graph.node_ref(id));
                    }
                }
            }
        }
        graph.resolve_existing(&starts)?;
        let ran = run(&plan, &mut graph, &starts)?;
        let mut stats = ran.stats(&plan, &self.watermark);
        graph.record(&mut stats);
        stats.elapsed_ms = started.elapsed().as_secs_f64() * 1e3;
        Ok(TraverseResponse {
            partial: ran.exceeded.is_some(),
            answer: ran.answer,
            stats,
        })
    }
}

/// The one node with a label, or an error naming the field.
fn one_of_label<T: Copy>(field: &str, label: &str, found: Vec<T>) -> Result<T, EngineError> {
    match found.as_slice() {
        [one] => Ok(*one),
        _ => Err(EngineError::Request(RequestError::new(
            field,
            format!(
                "{} nodes have the label {label}: a path end must be one node",
                found.len()
            ),
        ))),
    }
}

/// The one node a key lookup names, or an error naming the field.
fn one<T: Copy>(
    field: &str,
    label: &str,
    key: &str,
    value: &Scalar,
    found: Vec<T>,
) -> Result<T, EngineError> {
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(EngineError::Request(RequestError::new(
            field,
            format!("no {label} node has {key} = {value}"),
        ))),
        _ => Err(EngineError::Request(RequestError::new(
            field,
            format!(
                "{} {label} nodes have {key} = {value}: name one by id",
                found.len()
            ),
        ))),
    }
}

impl Engine<memmap2::Mmap> {
    /// Opens the snapshot file at `path`.
    pub fn open(path: impl AsRef<std::path::Path>) -> Result<Self, neotrav_snapshot::Error> {
        Ok(Engine::new(Snapshot::open(path)?))
    }
}

impl Resolve for SnapshotGraph<'_> {
    #[inline]
    fn resolve(&mut self, _: &mut dyn Iterator<Item = u32>) -> Result<(), EngineError> {
        Ok(())
    }
}

/// A path in wire form.
pub(crate) fn to_path<G: Graph>(
    g: &G,
    types: &plan::Names,
    nodes: &[u32],
    rels: &[u64],
    type_codes: &[u32],
) -> Path {
    Path {
        nodes: nodes.iter().map(|&n| g.node_id(n)).collect(),
        relationships: rels.iter().map(|&r| g.relationship_id(r)).collect(),
        types: type_codes
            .iter()
            .map(|&t| g.type_name(t, types).to_string())
            .collect(),
    }
}

/// Group-by counts while a walk runs: numbers and booleans by value, strings by text; every
/// new group counted against the request's memory.
#[derive(Default)]
struct Grouper {
    numbers: HashMap<(u8, u64), u64>,
    strings: HashMap<String, u64>,
    nulls: u64,
}

impl Grouper {
    fn add(&mut self, v: Option<Prop<'_>>, meter: &Meter) -> Result<(), Exceeded> {
        let key = match v {
            None => {
                self.nulls += 1;
                return Ok(());
            }
            Some(Prop::Int(i)) => (0, i as u64),
            Some(Prop::Float(x)) => (1, x.to_bits()),
            Some(Prop::Bool(b)) => (2, u64::from(b)),
            Some(Prop::Str(s)) => {
                if let Some(n) = self.strings.get_mut(s) {
                    *n += 1;
                    return Ok(());
                }
                meter.room(&mut self.strings)?;
                meter.charge(s.len() as u64 + 32)?;
                self.strings.insert(s.to_string(), 1);
                return Ok(());
            }
        };
        meter.room(&mut self.numbers)?;
        *self.numbers.entry(key).or_default() += 1;
        Ok(())
    }

    fn finish(self) -> Groups {
        let mut entries: Vec<(Prop<'_>, u64)> = self
            .numbers
            .iter()
            .map(|(&(kind, bits), &n)| {
                let v = match kind {
                    0 => Prop::Int(bits as i64),
                    1 => Prop::Float(f64::from_bits(bits)),
                    _ => Prop::Bool(bits == 1),
                };
                (v, n)
            })
            .chain(self.strings.iter().map(|(s, &n)| (Prop::Str(s), n)))
            .collect();
        entries.sort_by(|a, b| {
            let (x, y) = (a.0.sort_key(), b.0.sort_key());
            x.0.cmp(&y.0)
                .then(x.1.total_cmp(&y.1))
                .then(x.2.cmp(&y.2))
                .then(x.3.cmp(y.3))
        });
        let mut out: Vec<(String, u64)> = entries.into_iter().map(|(v, n)| (v.text(), n)).collect();
        if self.nulls > 0 {
            out.push(("null".to_string(), self.nulls));
        }
        Groups(out)
    }
}

/// What [`run`] found and spent.
pub(crate) struct Ran {
    pub answer: Answer,
    /// Whether a budget cut it short, and which.
    pub exceeded: Option<Exceeded>,
    pub counters: walk::Counters,
    /// The most bytes held at once.
    pub peak_memory: u64,
}

impl Ran {
    /// The response's stats for this walk of `plan` (the caller adds misses and time).
    fn stats(&self, plan: &Plan, watermark: &Watermark) -> Stats {
        Stats {
            warnings: plan.warnings.clone(),
            watermark: watermark.clone(),
            nodes_visited: self.counters.visited,
            relationships_visited: self.counters.relationships,
            peak_memory_bytes: self.peak_memory,
            exceeded: self.exceeded.map(Exceeded::name),
            ..Stats::default()
        }
    }
}

/// Walks `plan` over `graph` from `starts` and shapes the answer, holding at most
/// `budget.maxMemory` bytes (the walk's structures and the answer).
pub(crate) fn run<G: Resolve>(
    plan: &Plan,
    graph: &mut G,
    starts: &[u32],
) -> Result<Ran, EngineError> {
    let meter = Meter::new(plan.budgets.max_memory);
    let budget = EngineError::Budget;
    with_scratch(|scratch| {
        let mut distinct: Bits = std::mem::take(scratch.emitted_mut());
        distinct.clear();
        let mut nodes: Vec<u64> = Vec::new();
        let mut paths: Vec<Path> = Vec::new();
        let mut count = 0u64;
        let mut groups = Grouper::default();
        let form = &plan.return_form;
        let meter = &meter;
        let mut sink = |g: &G, f: &Found<'_>| -> Result<(), EngineError> {
            match form {
                ReturnForm::Paths => {
                    let (n, r, t) = f.path();
                    let path = to_path(g, &plan.types, &n, &r, &t);
                    meter.room(&mut paths).map_err(budget)?;
                    meter.charge(budget::path_bytes(&path)).map_err(budget)?;
                    paths.push(path);
                }
                _ => {
                    // NODE_GLOBAL visits every node once, but for a start given twice.
                    let first = if plan.uniqueness == Uniqueness::NodeGlobal && f.depth > 0 {
                        true
                    } else {
                        distinct.insert(f.node)
                    };
                    if first {
                        match form {
                            ReturnForm::Nodes => {
                                meter.room(&mut nodes).map_err(budget)?;
                                nodes.push(g.node_id(f.node));
                            }
                            ReturnForm::Count => count += 1,
                            ReturnForm::GroupBy { .. } => groups
                                .add(plan.group_slot.and_then(|s| g.property(f.node, s)), meter)
                                .map_err(budget)?,
                            ReturnForm::Paths => {}
                        }
                    }
                }
            }
            Ok(())
        };
        let mut walk = Walk::new(plan, graph, meter);
        let result = walk.run(starts, scratch, &mut sink);
        let counters = walk.counters();
        let exceeded = walk.exceeded();
        distinct.clear();
        *scratch.emitted_mut() = distinct;
        let finished = result?;
        let answer = match form {
            ReturnForm::Nodes => Answer::Nodes(nodes),
            ReturnForm::Paths => Answer::Paths(paths),
            ReturnForm::Count => Answer::Count(count),
            ReturnForm::GroupBy { .. } => Answer::Groups(groups.finish()),
        };
        debug_assert!(finished || exceeded.is_some() || plan.budgets.on_exceed == OnExceed::Error);
        Ok(Ran {
            answer,
            exceeded: if finished { None } else { exceeded },
            counters,
            peak_memory: meter.peak(),
        })
    })
}

//! The traversal loop: Neo4j's traversal framework as APOC's path expander drives it, on any
//! [`Graph`].
//!
//! A *branch* is a path from a start node; the loop takes branches one at a time (a stack for
//! depth-first, a queue for breadth-first), drops those that break the uniqueness rule,
//! evaluates the rest ([`Walk::evaluate`]: include it? expand it?), and expands the ones to
//! continue through the relationships [`Plan::expansion`] allows, never back over the
//! relationship the branch arrived by (as Neo4j's `TraversalBranchImpl` does).
//!
//! Checking uniqueness when a branch is taken, rather than when it is made, gives depth-first the
//! same order and answers as Neo4j's lazy pre-order expansion.
//!
//! Nothing here allocates per visited node: the stack, queue, breadcrumbs and bit sets live in a
//! [`Scratch`] taken from a small shared pool and reused across requests, cleared in time
//! proportional to what the last request touched. Every structure grows through the request's
//! [`Meter`] (a child is counted when its branch is made, not when it is taken), and the
//! deadline is read by work done, so no request can hold more than its `budget.maxMemory` or
//! run far past its `budget.deadlineMs`.

use std::collections::VecDeque;
use std::sync::Mutex;

use hashbrown::HashSet;
use neotrav_snapshot::Direction;
use neotrav_wire::{OnExceed, ReturnForm, Uniqueness};

pub use super::budget::Exceeded;
use super::budget::{Clock, Grow, Meter};
use super::graph::{Edge, Graph, TypeSet};
use super::plan::Plan;

/// No relationship: the start of a path.
pub const NO_REL: u64 = u64::MAX;
const NO_CRUMB: u32 = u32::MAX;

/// A bit set over node references that clears in time proportional to the words it touched.
#[derive(Debug, Default)]
pub struct Bits {
    words: Vec<u64>,
    touched: Vec<u32>,
}

impl Bits {
    /// Sets a bit; returns whether it was clear.
    #[inline]
    pub fn insert(&mut self, i: u32) -> bool {
        let w = i as usize / 64;
        if w >= self.words.len() {
            self.words.resize((w + 1).next_power_of_two(), 0);
        }
        let word = &mut self.words[w];
        let bit = 1u64 << (i % 64);
        if *word & bit != 0 {
            return false;
        }
        if *word == 0 {
            self.touched.push(w as u32);
        }
        *word |= bit;
        true
    }

    /// Whether a bit is set.
    #[inline]
    pub fn contains(&self, i: u32) -> bool {
        self.words
            .get(i as usize / 64)
            .is_some_and(|w| w >> (i % 64) & 1 == 1)
    }

    /// Clears every bit, in time proportional to the words set since the last clear.
    pub fn clear(&mut self) {
        for &w in &self.touched {
            self.words[w as usize] = 0;
        }
        self.touched.clear();
    }

    /// Makes room for `n` bits up front.
    pub fn reserve(&mut self, n: usize) {
        let words = n.div_ceil(64);
        if self.words.len() < words {
            self.words.resize(words, 0);
        }
    }
}

/// A branch waiting to be taken.
#[derive(Debug, Clone, Copy)]
pub struct Pending {
    /// Its end node.
    pub node: u32,
    /// Its length.
    pub depth: u32,
    /// The relationship it arrived by (`NO_REL` for a start).
    pub rel: u64,
    /// That relationship's type.
    pub type_code: u32,
    /// The breadcrumb of the branch it extends (`NO_CRUMB` for a start).
    pub parent: u32,
}

/// A taken branch's last step, kept when paths are needed: its node, the relationship and type
/// it arrived by, and the breadcrumb before it.
#[derive(Debug, Clone, Copy)]
pub struct Crumb {
    node: u32,
    rel: u64,
    type_code: u32,
    parent: u32,
}

/// Reusable working memory.
#[derive(Debug, Default)]
pub struct Scratch {
    visited: Bits,
    emitted: Bits,
    stack: Vec<Pending>,
    queue: VecDeque<Pending>,
    crumbs: Vec<Crumb>,
}

/// Scratches kept between requests, at most one per core: memory kept by idle workers is
/// bounded, whatever the number of threads that ran requests.
static POOL: Mutex<Vec<Scratch>> = Mutex::new(Vec::new());

/// The most bytes of stack, queue and breadcrumbs a pooled scratch keeps; a larger one is
/// shrunk when it is given back, so one huge request does not pin its memory.
const KEEP_BYTES: usize = 1 << 20;

/// Runs `f` with a cleared scratch from the pool (or a new one), and gives it back shrunk.
pub fn with_scratch<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    let taken = POOL.lock().unwrap_or_else(|e| e.into_inner()).pop();
    let mut scratch = taken.unwrap_or_default();
    scratch.reset();
    let out = f(&mut scratch);
    scratch.reset();
    scratch.shrink();
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut pool = POOL.lock().unwrap_or_else(|e| e.into_inner());
    if pool.len() < cores {
        pool.push(scratch);
    }
    out
}

impl Scratch {
    /// The bit set the answer uses to keep end nodes distinct.
    pub fn emitted_mut(&mut self) -> &mut Bits {
        &mut self.emitted
    }

    fn reset(&mut self) {
        self.visited.clear();
        self.emitted.clear();
        self.stack.clear();
        self.queue.clear();
        self.crumbs.clear();
    }

    fn shrink(&mut self) {
        let keep = KEEP_BYTES / size_of::<Pending>();
        self.stack.shrink_to(keep);
        self.queue.shrink_to(keep);
        self.crumbs.shrink_to(KEEP_BYTES / size_of::<Crumb>());
    }

    /// The bytes of what the walk grows, as a request's meter counts them.
    fn bytes(&self) -> u64 {
        let bits = (self.visited.words.capacity() + self.emitted.words.capacity()) as u64 * 8;
        self.stack.bytes() + self.queue.bytes() + self.crumbs.bytes() + bits
    }
}

/// One included path, handed to the `Sink`.
pub struct Found<'s> {
    /// Its end node.
    pub node: u32,
    /// Its length.
    pub depth: u32,
    crumbs: &'s [Crumb],
    last: u32,
}

impl Found<'_> {
    /// The path's nodes, relationships and types, from the start.
    pub fn path(&self) -> (Vec<u32>, Vec<u64>, Vec<u32>) {
        let mut nodes = Vec::new();
        let mut rels = Vec::new();
        let mut types = Vec::new();
        let mut c = self.last;
        while c != NO_CRUMB {
            let crumb = self.crumbs[c as usize];
            nodes.push(crumb.node);
            if crumb.rel != NO_REL {
                rels.push(crumb.rel);
                types.push(crumb.type_code);
            }
            c = crumb.parent;
        }
        nodes.reverse();
        rels.reverse();
        types.reverse();
        (nodes, rels, types)
    }
}

/// What a walk did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counters {
    /// Branches evaluated.
    pub visited: u64,
    /// Relationships traversed (branches made).
    pub relationships: u64,
}

/// Misses the walk must resolve before it reads nodes: a no-op on the snapshot alone.
pub trait Resolve: Graph {
    /// Makes sure the nodes' labels, properties and relationships are known (one round trip
    /// for all of them at most).
    fn resolve(&mut self, nodes: &mut dyn Iterator<Item = u32>) -> Result<(), super::EngineError>;
}

/// A traversal in progress.
pub struct Walk<'p, G> {
    plan: &'p Plan,
    graph: &'p mut G,
    meter: &'p Meter,
    clock: Clock,
    counters: Counters,
    found: u64,
    rel_sets: HashSet<u64>,
    level_sets: HashSet<(u32, u64)>,
    needs_crumbs: bool,
    /// The budget that stopped a partial walk.
    exceeded: Option<Exceeded>,
    /// Where [`Plan::expansion`] writes a combination it has not tabulated.
    expansion_buf: super::plan::Expansion,
}

/// What to do with a branch after evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Evaluation {
    /// Return it.
    pub include: bool,
    /// Expand it.
    pub cont: bool,
}

const INCLUDE_AND_CONTINUE: Evaluation = Evaluation {
    include: true,
    cont: true,
};
const INCLUDE_AND_PRUNE: Evaluation = Evaluation {
    include: true,
    cont: false,
};
const EXCLUDE_AND_CONTINUE: Evaluation = Evaluation {
    include: false,
    cont: true,
};
const EXCLUDE_AND_PRUNE: Evaluation = Evaluation {
    include: false,
    cont: false,
};

impl Evaluation {
    fn and(self, o: Evaluation) -> Evaluation {
        Evaluation {
            include: self.include && o.include,
            cont: self.cont && o.cont,
        }
    }
}

impl<'p, G: Resolve> Walk<'p, G> {
    /// A walk of `plan` over `graph`, holding at most what `meter` allows.
    pub fn new(plan: &'p Plan, graph: &'p mut G, meter: &'p Meter) -> Walk<'p, G> {
        let needs_crumbs = matches!(plan.return_form, ReturnForm::Paths)
            || matches!(
                plan.uniqueness,
                Uniqueness::NodePath | Uniqueness::RelationshipPath
            );
        Walk {
            plan,
            graph,
            meter,
            clock: Clock::new(plan.budgets.deadline),
            counters: Counters::default(),
            found: 0,
            rel_sets: HashSet::new(),
            level_sets: HashSet::new(),
            needs_crumbs,
            exceeded: None,
            expansion_buf: [TypeSet::NONE, TypeSet::NONE],
        }
    }

    /// The graph walked.
    pub fn graph(&self) -> &G {
        self.graph
    }

    /// What the walk did so far.
    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// The label, node-list and depth evaluation of a branch ending at `node` at `depth`, as
    /// APOC combines its evaluators: included if all include, expanded if all continue.
    #[inline]
    pub fn evaluate(&self, node: u32, depth: u32) -> Evaluation {
        let p = self.plan;
        let g = &*self.graph;
        let unfiltered_start = depth == 0 && !p.filter_start_node;
        let mut e = INCLUDE_AND_CONTINUE;
        if !p.label_steps.is_empty() {
            e = if unfiltered_start || (depth == 0 && !p.begin_sequence_at_start) {
                if p.end_nodes_only {
                    EXCLUDE_AND_CONTINUE
                } else {
                    INCLUDE_AND_CONTINUE
                }
            } else {
                let n = p.label_steps.len();
                let i = match (n, p.begin_sequence_at_start) {
                    (1, _) => 0,
                    (_, true) => depth as usize % n,
                    (_, false) => (depth as usize - 1) % n,
                };
                let m = &p.label_steps[i];
                let word = |w| g.label_word(node, w);
                if m.deny.matches(word) {
                    EXCLUDE_AND_PRUNE
                } else if m.terminator.matches(word) {
                    if depth >= p.min_level {
                        INCLUDE_AND_PRUNE
                    } else {
                        EXCLUDE_AND_CONTINUE
                    }
                } else if m.end.matches(word) {
                    INCLUDE_AND_CONTINUE
                } else if m.allow.is_empty() || m.allow.matches(word) {
                    if p.end_nodes_only {
                        EXCLUDE_AND_CONTINUE
                    } else {
                        INCLUDE_AND_CONTINUE
                    }
                } else {
                    EXCLUDE_AND_PRUNE
                }
            };
        }
        if p.end_nodes.is_some()
            || p.terminator_nodes.is_some()
            || p.allowlist_nodes.is_some()
            || p.denylist_nodes.is_some()
        {
            let id = g.node_id(node);
            if p.end_nodes.is_some() || p.terminator_nodes.is_some() {
                let term = p.terminator_nodes.as_ref().is_some_and(|s| s.contains(&id));
                let end = p.end_nodes.as_ref().is_some_and(|s| s.contains(&id));
                e = e.and(if unfiltered_start {
                    EXCLUDE_AND_CONTINUE
                } else if term {
                    if depth >= p.min_level {
                        INCLUDE_AND_PRUNE
                    } else {
                        EXCLUDE_AND_CONTINUE
                    }
                } else if end {
                    INCLUDE_AND_CONTINUE
                } else {
                    EXCLUDE_AND_CONTINUE
                });
            }
            if let Some(allow) = &p.allowlist_nodes
                && !unfiltered_start
                && !allow.contains(&id)
            {
                e = e.and(EXCLUDE_AND_PRUNE);
            }
            if let Some(deny) = &p.denylist_nodes
                && !unfiltered_start
                && deny.contains(&id)
            {
                e = e.and(EXCLUDE_AND_PRUNE);
            }
        }
        if depth < p.min_level {
            e.include = false;
        }
        if depth >= p.max_level {
            e.cont = false;
        }
        e
    }

    /// Whether an included node passes the `where` predicates.
    #[inline]
    fn passes(&self, node: u32) -> bool {
        self.plan.predicates.iter().all(|pred| {
            if pred.label.is_some_and(|l| !self.graph.has_label(node, l)) {
                return false;
            }
            let v = self.graph.property(node, pred.slot);
            pred.holds(v.as_ref())
        })
    }

    /// Runs the walk from `starts`, handing each included path to `sink`. Returns `Ok(true)`
    /// when it finished, `Ok(false)` when a partial-result budget stopped it (see
    /// [`Walk::exceeded`]); a budget error from `sink` (the answer's memory) stops it the same
    /// way.
    pub fn run(
        &mut self,
        starts: &[u32],
        scratch: &mut Scratch,
        sink: &mut impl FnMut(&G, &Found<'_>) -> Result<(), super::EngineError>,
    ) -> Result<bool, super::EngineError> {
        if self.plan.limit == 0 {
            return Ok(true);
        }
        // The visited set is sized to the graph up front, and the answer's distinct-node set
        // may grow to twice that (it doubles): both are counted from the start.
        scratch.visited.reserve(self.graph.node_bound());
        let held = scratch.bytes();
        let fixed = held + self.graph.node_bound().div_ceil(64) as u64 * 8 * 2;
        let result = match self.meter.charge(fixed) {
            Ok(()) => self.walk(starts, scratch, sink),
            Err(e) => Err(super::EngineError::Budget(e)),
        };
        // What the walk held is given back; what the sink charged (the answer) stays counted.
        self.meter.release(fixed - held + scratch.bytes());
        self.meter.forget(&self.rel_sets);
        self.meter.forget(&self.level_sets);
        match result {
            Err(super::EngineError::Budget(e))
                if self.plan.budgets.on_exceed == OnExceed::Partial =>
            {
                self.exceeded = Some(e);
                Ok(false)
            }
            other => other,
        }
    }

    /// The budget that stopped a partial walk.
    pub fn exceeded(&self) -> Option<Exceeded> {
        self.exceeded
    }

    fn walk(
        &mut self,
        starts: &[u32],
        scratch: &mut Scratch,
        sink: &mut impl FnMut(&G, &Found<'_>) -> Result<(), super::EngineError>,
    ) -> Result<bool, super::EngineError> {
        let budget = super::EngineError::Budget;
        // Neo4j marks every start node visited before the traversal begins (all modes but
        // RELATIONSHIP_PATH create start branches eagerly), and does not check start branches
        // against each other: a start given twice is returned twice.
        for &s in starts {
            match self.plan.uniqueness {
                Uniqueness::NodeGlobal => {
                    scratch.visited.insert(s);
                }
                Uniqueness::NodeLevel => {
                    self.meter.room(&mut self.level_sets).map_err(budget)?;
                    self.level_sets.insert((0, u64::from(s)));
                }
                _ => {}
            }
        }
        let roots = starts.iter().map(|&node| Pending {
            node,
            depth: 0,
            rel: NO_REL,
            type_code: u32::MAX,
            parent: NO_CRUMB,
        });
        self.graph.resolve(&mut starts.iter().copied())?;
        if self.plan.bfs {
            self.meter
                .reserve(&mut scratch.queue, starts.len())
                .map_err(budget)?;
            scratch.queue.extend(roots);
        } else {
            self.meter
                .reserve(&mut scratch.stack, starts.len())
                .map_err(budget)?;
            scratch.stack.extend(roots.rev());
        }
        let mut level = 0;
        loop {
            let next = if self.plan.bfs {
                // Resolve a whole level of misses in one round trip.
                if scratch.queue.front().is_some_and(|p| p.depth > level) {
                    level += 1;
                    self.graph
                        .resolve(&mut scratch.queue.iter().map(|p| p.node))?;
                }
                scratch.queue.pop_front()
            } else {
                scratch.stack.pop()
            };
            let Some(b) = next else {
                return Ok(true);
            };
            if (b.depth > 0 && !self.unique(&b, scratch).map_err(budget)?)
                || !self.graph.exists(b.node)
            {
                continue;
            }
            self.counters.visited += 1;
            self.over_budget().map_err(budget)?;
            let crumb = if self.needs_crumbs {
                self.meter.room(&mut scratch.crumbs).map_err(budget)?;
                scratch.crumbs.push(Crumb {
                    node: b.node,
                    rel: b.rel,
                    type_code: b.type_code,
                    parent: b.parent,
                });
                (scratch.crumbs.len() - 1) as u32
            } else {
                NO_CRUMB
            };
            let e = self.evaluate(b.node, b.depth);
            if e.include && self.passes(b.node) {
                let found = Found {
                    node: b.node,
                    depth: b.depth,
                    crumbs: &scratch.crumbs,
                    last: crumb,
                };
                sink(self.graph, &found)?;
                self.found += 1;
                if self.found >= self.plan.limit {
                    return Ok(true);
                }
            }
            if e.cont {
                self.expand(&b, crumb, scratch)?;
            }
        }
    }

    /// The visit and deadline budgets, checked at every visit (the clock is read by work
    /// done: visits and relationships followed).
    #[inline]
    fn over_budget(&mut self) -> Result<(), Exceeded> {
        let c = self.counters;
        if c.visited > self.plan.budgets.max_visited {
            return Err(Exceeded::Visited(self.plan.budgets.max_visited));
        }
        self.clock.check(c.visited + c.relationships)
    }

    /// The uniqueness rule, checked when a branch is taken.
    #[inline]
    fn unique(&mut self, b: &Pending, scratch: &mut Scratch) -> Result<bool, Exceeded> {
        Ok(match self.plan.uniqueness {
            Uniqueness::NodeGlobal => scratch.visited.insert(b.node),
            Uniqueness::NodePath => {
                let mut c = b.parent;
                while c != NO_CRUMB {
                    let crumb = &scratch.crumbs[c as usize];
                    if crumb.node == b.node {
                        return Ok(false);
                    }
                    c = crumb.parent;
                }
                true
            }
            Uniqueness::RelationshipPath => {
                if b.rel == NO_REL {
                    return Ok(true);
                }
                let mut c = b.parent;
                while c != NO_CRUMB {
                    let crumb = &scratch.crumbs[c as usize];
                    if crumb.rel == b.rel {
                        return Ok(false);
                    }
                    c = crumb.parent;
                }
                true
            }
            Uniqueness::NodeLevel => {
                self.meter.room(&mut self.level_sets)?;
                self.level_sets.insert((b.depth, u64::from(b.node)))
            }
            Uniqueness::RelationshipGlobal => {
                if b.rel == NO_REL {
                    return Ok(true);
                }
                self.meter.room(&mut self.rel_sets)?;
                self.rel_sets.insert(b.rel)
            }
            Uniqueness::RelationshipLevel => {
                if b.rel == NO_REL {
                    return Ok(true);
                }
                self.meter.room(&mut self.level_sets)?;
                self.level_sets.insert((b.depth, b.rel))
            }
            Uniqueness::None => true,
        })
    }

    /// Makes the children of a branch to continue: pushed straight onto the stack (then
    /// reversed in place, so the first child is taken first) or the queue. Each child is
    /// counted against the memory budget as it is made; the first that does not fit ends the
    /// request.
    fn expand(
        &mut self,
        b: &Pending,
        crumb: u32,
        scratch: &mut Scratch,
    ) -> Result<(), super::EngineError> {
        let g = &*self.graph;
        let meter = self.meter;
        let node = b.node;
        let e = self
            .plan
            .expansion(b.depth, |l| g.has_label(node, l), &mut self.expansion_buf);
        let depth = b.depth + 1;
        let came_by = b.rel;
        let bfs = self.plan.bfs;
        let (stack, queue) = (&mut scratch.stack, &mut scratch.queue);
        let before = if bfs { queue.len() } else { stack.len() };
        let mut over = None;
        for dir in Direction::BOTH {
            let set = &e[dir as usize];
            if set.is_empty() {
                continue;
            }
            let out_set = &e[0];
            g.for_each_edge(node, dir, set, |edge: Edge| {
                // A loop is one relationship: read it once, as Neo4j's BOTH expansion does.
                if over.is_some()
                    || edge.rel == came_by
                    || (dir == Direction::Incoming
                        && edge.neighbor == node
                        && out_set.contains(edge.type_code))
                {
                    return;
                }
                let child = Pending {
                    node: edge.neighbor,
                    depth,
                    rel: edge.rel,
                    type_code: edge.type_code,
                    parent: crumb,
                };
                let room = if bfs {
                    meter.room(queue)
                } else {
                    meter.room(stack)
                };
                if let Err(e) = room {
                    over = Some(e);
                } else if bfs {
                    queue.push_back(child);
                } else {
                    stack.push(child);
                }
            });
        }
        if bfs {
            self.counters.relationships += (queue.len() - before) as u64;
        } else {
            let children = &mut stack[before..];
            self.counters.relationships += children.len() as u64;
            children.reverse();
            if children.len() > 1 {
                for c in children.iter() {
                    g.warm(c.node);
                }
            }
        }
        if let Some(e) = over {
            return Err(super::EngineError::Budget(e));
        }
        if !bfs {
            let children = &scratch.stack[before..];
            self.graph.resolve(&mut children.iter().map(|p| p.node))?;
        }
        Ok(())
    }
}

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
//! per-thread [`Scratch`] reused across requests, and are cleared in time proportional to what
//! the last request touched.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::time::Instant;

use hashbrown::HashSet;
use neotrav_client::wire::{OnExceed, ReturnForm, Uniqueness};
use neotrav_snapshot::Direction;

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

/// Reusable per-thread working memory.
#[derive(Debug, Default)]
pub struct Scratch {
    visited: Bits,
    emitted: Bits,
    stack: Vec<Pending>,
    queue: VecDeque<Pending>,
    crumbs: Vec<Crumb>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Runs `f` with this thread's scratch space, cleared.
pub fn with_scratch<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    SCRATCH.with(|s| match s.try_borrow_mut() {
        Ok(mut s) => {
            s.reset();
            f(&mut s)
        }
        // Re-entered on this thread (a traversal inside a traversal): use fresh memory.
        Err(_) => f(&mut Scratch::default()),
    })
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
}

/// One included path, handed to the [`Sink`].
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

/// Why a walk stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exceeded {
    /// `budget.maxVisited`.
    Visited(u64),
    /// `budget.deadlineMs`.
    Deadline(u128),
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
    counters: Counters,
    started: Instant,
    found: u64,
    rel_sets: HashSet<u64>,
    level_sets: HashSet<(u32, u64)>,
    needs_crumbs: bool,
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
    /// A walk of `plan` over `graph`.
    pub fn new(plan: &'p Plan, graph: &'p mut G) -> Walk<'p, G> {
        let needs_crumbs = matches!(plan.return_form, ReturnForm::Paths)
            || matches!(
                plan.uniqueness,
                Uniqueness::NodePath | Uniqueness::RelationshipPath
            );
        Walk {
            plan,
            graph,
            counters: Counters::default(),
            started: Instant::now(),
            found: 0,
            rel_sets: HashSet::new(),
            level_sets: HashSet::new(),
            needs_crumbs,
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
    /// when it finished, `Ok(false)` when a partial-result budget stopped it.
    pub fn run(
        &mut self,
        starts: &[u32],
        scratch: &mut Scratch,
        sink: &mut impl FnMut(&G, &Found<'_>) -> Result<(), super::EngineError>,
    ) -> Result<bool, super::EngineError> {
        if self.plan.limit == 0 {
            return Ok(true);
        }
        scratch.visited.reserve(self.graph.node_bound());
        // Neo4j marks every start node visited before the traversal begins (all modes but
        // RELATIONSHIP_PATH create start branches eagerly), and does not check start branches
        // against each other: a start given twice is returned twice.
        for &s in starts {
            match self.plan.uniqueness {
                Uniqueness::NodeGlobal => {
                    scratch.visited.insert(s);
                }
                Uniqueness::NodeLevel => {
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
            scratch.queue.extend(roots);
        } else {
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
            if (b.depth > 0 && !self.unique(&b, scratch)) || !self.graph.exists(b.node) {
                continue;
            }
            self.counters.visited += 1;
            if let Some(stop) = self.over_budget() {
                return match self.plan.on_exceed {
                    OnExceed::Partial => Ok(false),
                    OnExceed::Error => Err(super::EngineError::Budget(stop)),
                };
            }
            let crumb = if self.needs_crumbs {
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

    fn over_budget(&self) -> Option<Exceeded> {
        let v = self.counters.visited;
        if v > self.plan.max_visited {
            return Some(Exceeded::Visited(self.plan.max_visited));
        }
        if v.is_multiple_of(4096)
            && let Some(d) = self.plan.deadline
            && self.started.elapsed() > d
        {
            return Some(Exceeded::Deadline(d.as_millis()));
        }
        None
    }

    /// The uniqueness rule, checked when a branch is taken.
    #[inline]
    fn unique(&mut self, b: &Pending, scratch: &mut Scratch) -> bool {
        match self.plan.uniqueness {
            Uniqueness::NodeGlobal => scratch.visited.insert(b.node),
            Uniqueness::NodePath => {
                let mut c = b.parent;
                while c != NO_CRUMB {
                    let crumb = &scratch.crumbs[c as usize];
                    if crumb.node == b.node {
                        return false;
                    }
                    c = crumb.parent;
                }
                true
            }
            Uniqueness::RelationshipPath => {
                if b.rel == NO_REL {
                    return true;
                }
                let mut c = b.parent;
                while c != NO_CRUMB {
                    let crumb = &scratch.crumbs[c as usize];
                    if crumb.rel == b.rel {
                        return false;
                    }
                    c = crumb.parent;
                }
                true
            }
            Uniqueness::NodeLevel => self.level_sets.insert((b.depth, u64::from(b.node))),
            Uniqueness::RelationshipGlobal => b.rel == NO_REL || self.rel_sets.insert(b.rel),
            Uniqueness::RelationshipLevel => {
                b.rel == NO_REL || self.level_sets.insert((b.depth, b.rel))
            }
            Uniqueness::None => true,
        }
    }

    /// Makes the children of a branch to continue: pushed straight onto the stack (then
    /// reversed in place, so the first child is taken first) or the queue.
    fn expand(
        &mut self,
        b: &Pending,
        crumb: u32,
        scratch: &mut Scratch,
    ) -> Result<(), super::EngineError> {
        let g = &*self.graph;
        let node = b.node;
        let e = self
            .plan
            .expansion(b.depth, |l| g.has_label(node, l), &mut self.expansion_buf);
        let depth = b.depth + 1;
        let came_by = b.rel;
        let bfs = self.plan.bfs;
        let (stack, queue) = (&mut scratch.stack, &mut scratch.queue);
        let before = if bfs { queue.len() } else { stack.len() };
        for dir in Direction::BOTH {
            let set = &e[dir as usize];
            if set.is_empty() {
                continue;
            }
            let out_set = &e[0];
            g.for_each_edge(node, dir, set, |edge: Edge| {
                // A loop is one relationship: read it once, as Neo4j's BOTH expansion does.
                if edge.rel == came_by
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
                if bfs {
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
            self.graph.resolve(&mut children.iter().map(|p| p.node))?;
        }
        Ok(())
    }
}

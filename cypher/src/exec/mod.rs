//! Running a plan: clauses over materialised rows, pattern steps by backtracking, projections
//! with hash aggregation, sorting and top-k. Every row held and every relationship followed is
//! counted against the run's [`Limits`].

use std::cell::{Cell, RefCell};
use std::sync::Arc;
use std::time::Instant;

use hashbrown::{HashMap, HashSet};
use neotrav_snapshot::{Direction, Header, Property, PropertyValue, Snapshot, View};

use crate::error::{CypherError, Forward};
use crate::ir::{NodeCheck, Query, RelSpec, Source, Step, Steps};
use crate::pipe::Pipe;
use crate::value::{PathVal, Rel, Val, group_key};
use crate::{Answer, Limits, Params};

mod grouped;

type R<T> = Result<T, Box<CypherError>>;
pub(crate) type Row = Vec<Val>;

/// Where matched rows go: the row, and how many equal rows it stands for (1 but after a
/// [`Step::GroupedExpand`]). False stops the matching.
pub(crate) type Emit<'e> = dyn FnMut(&mut Row, u64) -> R<bool> + 'e;
type AllKeys<'a> = Vec<(Arc<str>, KeyReader<'a>)>;

/// The reads of one key: every kind-column of it (`None`: never exported).
type KeyReader<'a> = Option<Property<'a>>;

/// What a run reads and spends.
pub(crate) struct Ctx<'a> {
    pub view: View<'a>,
    header: &'a Header,
    out_types: &'a [u8],
    keys: Vec<KeyReader<'a>>,
    all_keys: RefCell<Option<AllKeys<'a>>>,
    labels: RefCell<HashMap<u32, Arc<Vec<u32>>>>,
    label_source: Box<dyn Fn(u32) -> Vec<u32> + 'a>,
    column_source: Box<dyn Fn(&str) -> KeyReader<'a> + 'a>,
    pub params: &'a Params,
    prop_names: &'a [String],
    pub width: usize,
    limits: &'a Limits,
    started: Instant,
    work: Cell<u64>,
    memory: Cell<u64>,
    /// Edge buffers of finished expansions, reused so that an expansion allocates only while
    /// the pool is empty (once per level of nesting, not once per row).
    edge_bufs: RefCell<Vec<Vec<Rel>>>,
    /// Answers of pattern predicates and subqueries by the graph elements they read
    /// ([`Ctx::count_matches`]), at most [`MEMO_ENTRIES`] of them.
    memo: RefCell<HashMap<Vec<u32>, u64>>,
    /// The key of the pattern predicate being looked up in `memo`.
    memo_key: RefCell<Vec<u32>>,
    /// The group list of a finished [`Step::GroupedExpand`], reused.
    groups: RefCell<Vec<grouped::Group>>,
    /// The adjacency lists of a finished [`Step::GroupedExpand`], reused.
    lists: RefCell<Vec<EdgeList<'a>>>,
}

/// The most pattern-predicate answers a run remembers.
const MEMO_ENTRIES: usize = 1 << 16;

/// The largest edge buffer kept for reuse, in relationships.
const POOLED_EDGES: usize = 4096;

fn reader<'a, D: AsRef<[u8]>>(snap: &'a Snapshot<D>, key: &str) -> KeyReader<'a> {
    snap.property(key)
}

pub(crate) fn run<D: AsRef<[u8]>>(
    query: &Query,
    snap: &Snapshot<D>,
    params: &Params,
    limits: &Limits,
) -> R<Answer> {
    let ctx = Ctx {
        view: snap.view(),
        header: snap.header(),
        out_types: snap.edge_types(Direction::Outgoing),
        keys: query.props.iter().map(|k| reader(snap, k)).collect(),
        all_keys: RefCell::new(None),
        labels: RefCell::new(HashMap::new()),
        label_source: Box::new(move |l| {
            snap.label_nodes(l)
                .map(|b| b.iter().collect())
                .unwrap_or_default()
        }),
        column_source: Box::new(move |k| reader(snap, k)),
        params,
        prop_names: &query.props,
        width: query.width,
        limits,
        started: Instant::now(),
        work: Cell::new(0),
        memory: Cell::new(0),
        edge_bufs: RefCell::new(Vec::new()),
        memo: RefCell::new(HashMap::new()),
        memo_key: RefCell::new(Vec::new()),
        groups: RefCell::new(Vec::new()),
        lists: RefCell::new(Vec::new()),
    };
    let mut rows = Vec::new();
    let mut seen = HashSet::new();
    let dedupe = query.branches.len() > 1 && query.union_distinct;
    for branch in &query.branches {
        let mut sink = |row: &Row| -> R<bool> {
            let out: Row = branch.outputs.iter().map(|&s| row[s].clone()).collect();
            if dedupe {
                let mut k = Vec::new();
                out.iter().for_each(|v| group_key(v, &mut k));
                if !seen.insert(k) {
                    return Ok(true);
                }
            }
            ctx.charge_row(&out)?;
            rows.push(out.iter().map(|v| ctx.output(v)).collect());
            Ok(true)
        };
        Pipe::new(&ctx, &branch.clauses).run(vec![Val::Null; query.width], &mut sink)?;
    }
    Ok(Answer {
        fields: query.fields.clone(),
        rows,
    })
}

impl<'a> Ctx<'a> {
    // ---- budgets ----

    pub fn charge(&self, bytes: u64) -> R<()> {
        let used = self.memory.get().saturating_add(bytes);
        if used > self.limits.max_memory {
            return Err(Box::new(CypherError::Budget {
                budget: "maxMemory",
                detail: format!("{} bytes", self.limits.max_memory),
            }));
        }
        self.memory.set(used);
        Ok(())
    }

    pub fn tick(&self, n: u64) -> R<()> {
        let w = self.work.get() + n;
        self.work.set(w);
        if w > self.limits.max_work {
            return Err(Box::new(CypherError::Budget {
                budget: "maxVisited",
                detail: format!("{} units of work", self.limits.max_work),
            }));
        }
        if w & 0xff < n && self.started.elapsed() > self.limits.deadline {
            return Err(Box::new(CypherError::Budget {
                budget: "deadlineMs",
                detail: format!("{} ms", self.limits.deadline.as_millis()),
            }));
        }
        Ok(())
    }

    /// Work for a value an expression built or scanned: a list's elements at eight to a unit,
    /// a string's bytes at 64 (so a row whose expressions copy long lists counts as the work
    /// it is, and the deadline is looked at while it runs).
    pub fn tick_size(&self, v: &Val) -> R<()> {
        let n = match v {
            Val::List(l) => l.len() >> 3,
            Val::Str(s) => s.len() >> 6,
            _ => 0,
        };
        if n == 0 { Ok(()) } else { self.tick(n as u64) }
    }

    pub fn charge_row(&self, row: &Row) -> R<()> {
        self.charge(24 + 16 * row.len() as u64 + row.iter().map(Val::heap_bytes).sum::<u64>())
    }

    // ---- snapshot reads ----

    pub fn node_id(&self, n: u32) -> u64 {
        self.view.node_id(n).unwrap_or(u64::MAX)
    }

    pub fn rel_id(&self, r: u32) -> u64 {
        self.view.relationship_id(r).unwrap_or(u64::MAX)
    }

    pub fn node_element_id(&self, n: u32) -> String {
        format!("4:{}:{}", self.limits.database_id, self.node_id(n))
    }

    pub fn rel_element_id(&self, r: u32) -> String {
        format!("5:{}:{}", self.limits.database_id, self.rel_id(r))
    }

    pub fn labels_of(&self, n: u32) -> Vec<&'a str> {
        (0..self.header.labels.len() as u32)
            .filter(|&l| self.view.has_label(n, l))
            .map(|l| self.header.labels[l as usize].as_str())
            .collect()
    }

    pub fn rel_type(&self, r: u32) -> &'a str {
        self.out_types
            .get(r as usize)
            .and_then(|&t| self.header.relationship_types.get(t as usize))
            .map_or("", String::as_str)
    }

    /// `None` when the node has none of the labels the key was exported for (the snapshot
    /// does not know its value), else its value or null.
    fn read(k: &KeyReader<'_>, n: u32) -> Option<Option<Val>> {
        Some(k.as_ref()?.read(n)?.map(|v| match v {
            PropertyValue::Int(i) => Val::Int(i),
            PropertyValue::Float(f) => Val::Float(f),
            PropertyValue::Bool(b) => Val::Bool(b),
            PropertyValue::String(s) => Val::str(s),
        }))
    }

    /// Whether node `n` has the property `prop` (`n.key IS NOT NULL`), as [`Ctx::property`]
    /// would find it, without reading the value.
    pub fn has_property(&self, n: u32, prop: usize) -> R<bool> {
        match self.keys[prop].as_ref().and_then(|p| p.read(n)) {
            Some(v) => Ok(v.is_some()),
            None => self.property(&Val::Node(n), prop).map(|v| !v.is_null()),
        }
    }

    /// `v.key`: from the snapshot for nodes of labels the key was exported for; Neo4j otherwise.
    pub fn property(&self, v: &Val, prop: usize) -> R<Val> {
        match v {
            Val::Null => Ok(Val::Null),
            Val::Node(n) => match Self::read(&self.keys[prop], *n) {
                Some(v) => Ok(v.unwrap_or(Val::Null)),
                None => Err(Box::new(CypherError::NeedsNeo4j(Forward {
                    construct: "property".into(),
                    reason: "a node's property was not exported for any of its labels".into(),
                    line: 1,
                    column: 1,
                }))),
            },
            Val::Map(m) => {
                let key = self.key_name(prop);
                Ok(m.iter()
                    .find(|(k, _)| &**k == key)
                    .map_or(Val::Null, |(_, v)| v.clone()))
            }
            Val::Rel(_) => Err(Box::new(CypherError::NeedsNeo4j(Forward {
                construct: "relationship property".into(),
                reason: "relationship properties are not in the snapshot".into(),
                line: 1,
                column: 1,
            }))),
            other => Err(Box::new(CypherError::Runtime(format!(
                "type mismatch: expected a map, node or relationship but was {}",
                other.type_name()
            )))),
        }
    }

    fn key_name(&self, prop: usize) -> &str {
        self.prop_names.get(prop).map_or("", String::as_str)
    }

    /// Every exported property of a node, for answers.
    pub fn node_properties(&self, n: u32) -> Vec<(String, Val)> {
        let mut cache = self.all_keys.borrow_mut();
        let all = cache.get_or_insert_with(|| {
            let mut keys: Vec<&str> = self.header.columns.iter().map(|c| c.key.as_str()).collect();
            keys.sort_unstable();
            keys.dedup();
            keys.into_iter()
                .map(|k| (Arc::from(k), (self.column_source)(k)))
                .collect()
        });
        all.iter()
            .filter_map(|(k, r)| match Self::read(r, n) {
                Some(Some(v)) => Some((k.to_string(), v)),
                _ => None,
            })
            .collect()
    }

    /// The nodes of label `l`, decoded once per run and charged once: the list stays cached
    /// for the run. Past `max_memory` the run stops, like every other charge.
    fn label_nodes(&self, l: u32) -> R<Arc<Vec<u32>>> {
        if let Some(v) = self.labels.borrow().get(&l) {
            return Ok(v.clone());
        }
        let v = Arc::new((self.label_source)(l));
        self.charge(4 * v.len() as u64)?;
        self.labels.borrow_mut().insert(l, v.clone());
        Ok(v)
    }

    // ---- clauses ----

    /// Counts the matches of a pattern predicate on `row` (stopping at the first if `any`).
    pub fn count_matches(&self, steps: &Steps, row: &[Val], any: bool) -> R<u64> {
        // Remembered by the nodes and relationships it reads (other values, such as numbers
        // whose 2 and 2.0 compare equal but print apart, are not keys: evaluated each time).
        // The key is built in a buffer kept across rows: the steps' address and whether only
        // the first match counts, then a tag and an index per slot read.
        let Some(reads) = &steps.reads else {
            return self.count_fresh(steps, row, any);
        };
        let mut key = self.memo_key.borrow_mut();
        key.clear();
        let id = steps as *const Steps as u64;
        key.extend([id as u32, (id >> 32) as u32, u32::from(any)]);
        for &s in reads {
            match row.get(s) {
                Some(Val::Node(n)) => key.extend([0, *n]),
                Some(Val::Rel(r)) => key.extend([1, r.idx]),
                Some(Val::Null) => key.push(2),
                _ => {
                    drop(key);
                    return self.count_fresh(steps, row, any);
                }
            }
        }
        if let Some(&n) = self.memo.borrow().get(key.as_slice()) {
            return Ok(n);
        }
        // A nested pattern predicate uses the buffer too: let it go first.
        let key = {
            let owned = key.clone();
            drop(key);
            owned
        };
        let n = self.count_fresh(steps, row, any)?;
        let mut memo = self.memo.borrow_mut();
        if memo.len() < MEMO_ENTRIES {
            self.charge(4 * key.len() as u64 + 48)?;
            memo.insert(key, n);
        }
        Ok(n)
    }

    fn count_fresh(&self, steps: &Steps, row: &[Val], any: bool) -> R<u64> {
        let mut r = row.to_vec();
        let mut used = Vec::new();
        let mut n = 0u64;
        self.steps(steps, 0, &mut r, &mut used, &mut |_, w| {
            n += w;
            Ok(!any)
        })?;
        Ok(n)
    }

    fn node_ok(&self, n: u32, check: &NodeCheck) -> bool {
        !check.impossible && check.labels.iter().all(|&l| self.view.has_label(n, l))
    }

    /// Runs steps `i..` on `row`; `emit` returns false to stop. Returns false when stopped.
    pub fn steps(
        &self,
        steps: &Steps,
        i: usize,
        row: &mut Row,
        used: &mut Vec<u32>,
        emit: &mut Emit<'_>,
    ) -> R<bool> {
        let Some(step) = steps.steps.get(i) else {
            return emit(row, 1);
        };
        self.tick(1)?;
        match step {
            Step::GroupedExpand(g) => self.grouped_expand(steps, g, row, used, emit),
            Step::Filter(e) => {
                if self.truthy(e, row)? {
                    return self.steps(steps, i + 1, row, used, emit);
                }
                Ok(true)
            }
            Step::Check { slot, check } => match row[*slot] {
                Val::Node(n) if self.node_ok(n, check) => self.steps(steps, i + 1, row, used, emit),
                _ => Ok(true),
            },
            Step::Scan {
                slot,
                source,
                check,
            } => {
                let all;
                let list: Arc<Vec<u32>>;
                let candidates: &mut dyn Iterator<Item = u32> = match source {
                    Source::Nothing => return Ok(true),
                    Source::All => {
                        all = 0..self.view.node_count() as u32;
                        &mut all.into_iter()
                    }
                    Source::Label(l) => {
                        list = self.label_nodes(*l)?;
                        &mut list.iter().copied()
                    }
                    Source::Seek { prop, value, label } => {
                        let v = self.eval(value, row)?;
                        list = Arc::new(self.seek(*prop, &v, *label)?);
                        &mut list.iter().copied()
                    }
                };
                for n in candidates {
                    self.tick(1)?;
                    if !self.node_ok(n, check) {
                        continue;
                    }
                    row[*slot] = Val::Node(n);
                    if !self.steps(steps, i + 1, row, used, emit)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Step::Expand {
                from,
                rel,
                to,
                to_bound,
                spec,
                check,
                rel_bound,
            } => {
                let Some((n, target)) = ends(row, *from, *to, *to_bound) else {
                    return Ok(true);
                };
                let want_rel = if *rel_bound {
                    match &row[rel.expect("a bound relationship has a slot")] {
                        Val::Rel(r) => Some(r.idx),
                        _ => return Ok(true),
                    }
                } else {
                    None
                };
                let edges = self.expansion(n, spec)?;
                let mut go = Ok(true);
                for &r in edges.iter() {
                    let m = r.other(n);
                    if target.is_some_and(|t| t != m)
                        || want_rel.is_some_and(|w| w != r.idx)
                        || (steps.rel_unique && used.contains(&r.idx))
                        || !self.node_ok(m, check)
                    {
                        continue;
                    }
                    if let Some(s) = rel {
                        row[*s] = Val::Rel(r);
                    }
                    row[*to] = Val::Node(m);
                    used.push(r.idx);
                    go = self.steps(steps, i + 1, row, used, emit);
                    used.pop();
                    if !matches!(go, Ok(true)) {
                        break;
                    }
                }
                self.release(edges);
                go
            }
            Step::VarExpand {
                from,
                rel,
                to,
                to_bound,
                spec,
                check,
                min,
                max,
                reversed,
            } => {
                let Some((n, target)) = ends(row, *from, *to, *to_bound) else {
                    return Ok(true);
                };
                let k = VarLen {
                    rel: *rel,
                    to: *to,
                    target,
                    spec,
                    check,
                    min: *min,
                    max: *max,
                    reversed: *reversed,
                    next: i + 1,
                };
                self.var_expand(steps, &k, n, row, used, emit)
            }
            Step::Shortest {
                from,
                to,
                rel,
                spec,
                min,
                max,
                all,
            } => {
                let (Val::Node(a), Val::Node(b)) = (&row[*from], &row[*to]) else {
                    return Ok(true);
                };
                let (a, b) = (*a, *b);
                if a == b {
                    if *min == 0 {
                        row[*rel] = Val::List(Vec::new().into());
                        return self.steps(steps, i + 1, row, used, emit);
                    }
                    return Err(Box::new(CypherError::NeedsNeo4j(Forward {
                        construct: "shortestPath".into(),
                        reason: "shortestPath between a node and itself runs on Neo4j".into(),
                        line: 1,
                        column: 1,
                    })));
                }
                for p in self.shortest(a, b, spec, *max, *all)? {
                    if steps.rel_unique && p.iter().any(|r| used.contains(&r.idx)) {
                        continue;
                    }
                    row[*rel] = Val::List(p.into_iter().map(Val::Rel).collect::<Vec<_>>().into());
                    if !self.steps(steps, i + 1, row, used, emit)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Step::BindPath { slot, start, rels } => {
                let Val::Node(mut cur) = row[*start] else {
                    row[*slot] = Val::Null;
                    return self.steps(steps, i + 1, row, used, emit);
                };
                let mut nodes = vec![cur];
                let mut out = Vec::new();
                let mut null = false;
                for (s, _) in rels {
                    let list: Vec<Rel> = match &row[*s] {
                        Val::Rel(r) => vec![*r],
                        Val::List(l) => l
                            .iter()
                            .filter_map(|v| match v {
                                Val::Rel(r) => Some(*r),
                                _ => None,
                            })
                            .collect(),
                        _ => {
                            null = true;
                            break;
                        }
                    };
                    for r in list {
                        cur = r.other(cur);
                        nodes.push(cur);
                        out.push(r);
                    }
                }
                row[*slot] = if null {
                    Val::Null
                } else {
                    Val::Path(Arc::new(PathVal { nodes, rels: out }))
                };
                self.steps(steps, i + 1, row, used, emit)
            }
        }
    }

    /// The relationships of `n` that `spec` allows, with their true ends. A self-loop is listed
    /// once for an undirected pattern.
    fn edges(&self, n: u32, spec: &RelSpec, out: &mut Vec<Rel>) {
        self.edge_lists(n, spec, |list| {
            out.reserve(list.len());
            for k in 0..list.len() {
                if let Some(r) = list.rel(k) {
                    out.push(r);
                }
            }
        });
    }

    /// Calls `f` on each adjacency list of `n` that `spec` follows (one per direction and
    /// type), in the order [`Ctx::edges`] lists their relationships.
    #[inline(always)]
    fn edge_lists(&self, n: u32, spec: &RelSpec, mut f: impl FnMut(EdgeList<'a>)) {
        let Some(types) = &spec.types else {
            return;
        };
        let dirs: &[Direction] = match spec.dir {
            Some(Direction::Outgoing) => &[Direction::Outgoing],
            Some(Direction::Incoming) => &[Direction::Incoming],
            None => &Direction::BOTH,
        };
        for &d in dirs {
            let all = self.view.edges(n, d);
            // An undirected pattern lists a self-loop once: from its outgoing side.
            let skip_loops = d == Direction::Incoming && spec.dir.is_none();
            let mut list = |edges| {
                f(EdgeList {
                    n,
                    dir: d,
                    edges,
                    skip_loops,
                })
            };
            if types.is_empty() {
                list(all);
            } else {
                for &t in types {
                    list(all.of_type(t));
                }
            }
        }
    }

    /// The paths of a variable-length step from `start`, depth first (each path before its
    /// extensions, relationships in adjacency order), each passed on to the steps after it.
    /// A stack of the path's nodes and their relationships, not recursion: a path may be as
    /// long as the graph has relationships.
    fn var_expand(
        &self,
        steps: &Steps,
        k: &VarLen<'_>,
        start: u32,
        row: &mut Row,
        used: &mut Vec<u32>,
        emit: &mut Emit<'_>,
    ) -> R<bool> {
        let base = used.len();
        let held = Cell::new(0u64);
        let walked = self.var_walk(steps, k, start, row, used, emit, &held);
        // Whatever stopped the walk, the relationships it marked used are released, and so is
        // the memory its relationship lists held.
        used.truncate(base);
        self.memory
            .set(self.memory.get().saturating_sub(held.get()));
        walked
    }

    #[allow(clippy::too_many_arguments)]
    fn var_walk(
        &self,
        steps: &Steps,
        k: &VarLen<'_>,
        start: u32,
        row: &mut Row,
        used: &mut Vec<u32>,
        emit: &mut Emit<'_>,
        held: &Cell<u64>,
    ) -> R<bool> {
        /// A node of the path: its relationships and the next of them to follow.
        struct Frame {
            node: u32,
            edges: Vec<Rel>,
            next: usize,
        }
        // The path's relationships: `path.len() + 1 == stack.len()` while the walk runs.
        let mut path: Vec<Rel> = Vec::new();
        let mut stack: Vec<Frame> = Vec::new();
        let mut n = start;
        loop {
            // Arrived at `n` at depth `path.len()`.
            let depth = path.len() as u32;
            if depth >= k.min && k.target.is_none_or(|t| t == n) && self.node_ok(n, k.check) {
                let mut list: Vec<Val> = path.iter().map(|&r| Val::Rel(r)).collect();
                if k.reversed {
                    list.reverse();
                }
                row[k.rel] = Val::List(list.into());
                row[k.to] = Val::Node(n);
                if !self.steps(steps, k.next, row, used, emit)? {
                    return Ok(false);
                }
            }
            let edges = if depth < k.max {
                let edges = self.expansion(n, k.spec)?;
                held.set(held.get() + 12 * edges.len() as u64);
                edges
            } else {
                Vec::new()
            };
            stack.push(Frame {
                node: n,
                edges,
                next: 0,
            });
            // The next relationship to follow: from the deepest node that has one left.
            loop {
                let Some(top) = stack.last_mut() else {
                    return Ok(true);
                };
                if let Some(&r) = top.edges.get(top.next) {
                    top.next += 1;
                    if used.contains(&r.idx) {
                        continue;
                    }
                    n = r.other(top.node);
                    path.push(r);
                    used.push(r.idx);
                    break;
                }
                let done = stack.pop().expect("the top frame");
                held.set(held.get() - 12 * done.edges.len() as u64);
                self.release(done.edges);
                if !stack.is_empty() {
                    path.pop();
                    used.pop();
                }
            }
        }
    }

    /// The relationships of `n` that `spec` follows, in a pooled buffer charged to the run's
    /// work and memory budgets; [`Ctx::release`] gives both back.
    fn expansion(&self, n: u32, spec: &RelSpec) -> R<Vec<Rel>> {
        let mut edges = self.edge_bufs.borrow_mut().pop().unwrap_or_default();
        edges.clear();
        self.edges(n, spec, &mut edges);
        let charged = self
            .tick(edges.len() as u64)
            .and_then(|()| self.charge(12 * edges.len() as u64));
        if let Err(e) = charged {
            self.edge_bufs.borrow_mut().push(edges);
            return Err(e);
        }
        Ok(edges)
    }

    /// Ends an [`Ctx::expansion`]: its memory is given back and its buffer pooled, unless it
    /// grew large (a hub's): memory held after the budget was given back stays small.
    fn release(&self, edges: Vec<Rel>) {
        let bytes = 12 * edges.len() as u64;
        self.memory.set(self.memory.get().saturating_sub(bytes));
        if edges.capacity() <= POOLED_EDGES {
            self.edge_bufs.borrow_mut().push(edges);
        }
    }

    /// One shortest path from `a` to `b` of at most `max` relationships, searched from both
    /// ends, a level at a time from the side with the smaller frontier (hubs reached from one
    /// side are not expanded when the other side is cheaper).
    fn one_shortest(&self, a: u32, b: u32, spec: &RelSpec, max: u32) -> R<Option<Vec<Rel>>> {
        let back = RelSpec {
            types: spec.types.clone(),
            dir: spec.dir.map(|d| match d {
                Direction::Outgoing => Direction::Incoming,
                Direction::Incoming => Direction::Outgoing,
            }),
        };
        // parent[side]: node -> the relationship it was reached through (None for the end).
        let mut parent: [HashMap<u32, Option<Rel>>; 2] = [HashMap::new(), HashMap::new()];
        parent[0].insert(a, None);
        parent[1].insert(b, None);
        let mut frontier = [vec![a], vec![b]];
        let mut depth = 0u32;
        let mut edges = Vec::new();
        let mut meet = None;
        while depth < max && meet.is_none() && !frontier[0].is_empty() && !frontier[1].is_empty() {
            depth += 1;
            let side = usize::from(frontier[1].len() < frontier[0].len());
            let mut next = Vec::new();
            'level: for &n in &frontier[side] {
                edges.clear();
                self.edges(n, if side == 0 { spec } else { &back }, &mut edges);
                self.tick(edges.len() as u64 + 1)?;
                for r in &edges {
                    let m = r.other(n);
                    if parent[side].contains_key(&m) {
                        continue;
                    }
                    self.charge(48)?;
                    parent[side].insert(m, Some(*r));
                    if parent[1 - side].contains_key(&m) {
                        meet = Some(m);
                        break 'level;
                    }
                    next.push(m);
                }
            }
            frontier[side] = next;
        }
        let Some(m) = meet else {
            return Ok(None);
        };
        let mut path = Vec::new();
        let mut n = m;
        while let Some(Some(r)) = parent[0].get(&n) {
            path.push(*r);
            n = r.other(n);
        }
        path.reverse();
        let mut n = m;
        while let Some(Some(r)) = parent[1].get(&n) {
            path.push(*r);
            n = r.other(n);
        }
        Ok(Some(path))
    }

    /// Shortest paths from `a` to `b` of at most `max` relationships: one, or all of them.
    fn shortest(&self, a: u32, b: u32, spec: &RelSpec, max: u32, all: bool) -> R<Vec<Vec<Rel>>> {
        if !all {
            return Ok(self.one_shortest(a, b, spec, max)?.into_iter().collect());
        }
        // Breadth-first, level by level, keeping every parent edge that reaches a node at its
        // first level (all shortest paths form a DAG of those).
        let mut level: HashMap<u32, u32> = HashMap::new();
        let mut parents: HashMap<u32, Vec<Rel>> = HashMap::new();
        level.insert(a, 0);
        let mut frontier = vec![a];
        let mut depth = 0u32;
        let mut found = false;
        let mut edges = Vec::new();
        while !frontier.is_empty() && depth < max && !found {
            depth += 1;
            let mut next = Vec::new();
            for &n in &frontier {
                edges.clear();
                self.edges(n, spec, &mut edges);
                self.tick(edges.len() as u64 + 1)?;
                for &r in &edges {
                    let m = r.other(n);
                    match level.get(&m) {
                        None => {
                            level.insert(m, depth);
                            parents.insert(m, vec![r]);
                            self.charge(48)?;
                            next.push(m);
                        }
                        Some(&d) if d == depth && all => {
                            parents.entry(m).or_default().push(r);
                            self.charge(12)?;
                        }
                        _ => {}
                    }
                    if m == b {
                        found = true;
                    }
                }
            }
            frontier = next;
        }
        if !found {
            return Ok(Vec::new());
        }
        // Walk back from b.
        let mut out = Vec::new();
        let mut stack: Vec<(u32, Vec<Rel>)> = vec![(b, Vec::new())];
        while let Some((n, suffix)) = stack.pop() {
            if n == a {
                let mut p = suffix;
                p.reverse();
                self.charge(12 * p.len() as u64 + 24)?;
                out.push(p);
                if !all {
                    break;
                }
                continue;
            }
            let ps = parents.get(&n).map(Vec::as_slice).unwrap_or(&[]);
            let ps = if all { ps } else { &ps[..ps.len().min(1)] };
            for &r in ps {
                let prev = r.other(n);
                if level.get(&prev).is_some_and(|&d| d + 1 == level[&n]) {
                    let mut s = suffix.clone();
                    s.push(r);
                    stack.push((prev, s));
                }
            }
        }
        Ok(out)
    }

    /// Nodes whose `prop` equals `v` (Cypher equality), restricted to `label`: a binary
    /// search in the key's index (a scan on snapshots of format 1).
    fn seek(&self, prop: usize, v: &Val, label: Option<u32>) -> R<Vec<u32>> {
        let Some(p) = &self.keys[prop] else {
            return Ok(Vec::new());
        };
        let key = match v {
            Val::Int(i) => PropertyValue::Int(*i),
            Val::Float(f) => PropertyValue::Float(*f),
            Val::Bool(b) => PropertyValue::Bool(*b),
            Val::Str(s) => PropertyValue::String(s),
            // Null equals nothing; lists, maps and entities are never stored values.
            _ => return Ok(Vec::new()),
        };
        let mut out = p.seek(key);
        self.charge(4 * out.capacity() as u64)?;
        self.tick(out.len() as u64 + 1)?;
        if let Some(l) = label {
            out.retain(|&n| self.view.has_label(n, l));
        }
        Ok(out)
    }
}

/// The node an expansion starts from and, when its other end is bound, that node; `None` when
/// either is not a node (null from an OPTIONAL MATCH): nothing matches.
fn ends(row: &Row, from: usize, to: usize, to_bound: bool) -> Option<(u32, Option<u32>)> {
    let Val::Node(n) = row[from] else {
        return None;
    };
    if !to_bound {
        return Some((n, None));
    }
    match row[to] {
        Val::Node(m) => Some((n, Some(m))),
        _ => None,
    }
}

/// One adjacency list of a node, in one direction.
#[derive(Clone, Copy)]
pub(crate) struct EdgeList<'a> {
    n: u32,
    dir: Direction,
    edges: neotrav_snapshot::Edges<'a>,
    skip_loops: bool,
}

impl EdgeList<'_> {
    pub fn len(&self) -> usize {
        self.edges.len()
    }

    /// The node at position `k`.
    #[inline]
    pub fn neighbor(&self, k: usize) -> Option<u32> {
        self.edges.neighbors.get(k).copied()
    }

    /// The relationship at position `k` with its true ends; `None` for a self-loop listed
    /// twice or a position without a relationship.
    #[inline]
    pub fn rel(&self, k: usize) -> Option<Rel> {
        let m = self.neighbor(k)?;
        let idx = self.edges.relationship(k)?;
        if self.skip_loops && m == self.n {
            return None;
        }
        Some(match self.dir {
            Direction::Outgoing => Rel {
                idx,
                start: self.n,
                end: m,
            },
            Direction::Incoming => Rel {
                idx,
                start: m,
                end: self.n,
            },
        })
    }
}

struct VarLen<'s> {
    rel: usize,
    to: usize,
    target: Option<u32>,
    spec: &'s RelSpec,
    check: &'s NodeCheck,
    min: u32,
    max: u32,
    reversed: bool,
    next: usize,
}

//! `consistency: "fresh"`: the snapshot, with misses read from Neo4j.
//!
//! A node is a *miss* when the snapshot does not know it (the bloom filter says "certainly
//! not", or the id map has no entry) or when it was invalidated since the export
//! ([`DirtySet`]). A miss's labels, the key properties the request reads, and all its
//! relationships are read from Neo4j with one parameterised, read-only query per batch, and kept
//! in a request-local cache ([`FreshGraph`]): the article's label cache, request-local so it
//! needs no invalidation. The walk asks for a batch at most once per expansion step (depth-first:
//! the children of one node; breadth-first: one whole level), never once per node.
//!
//! The contract: a relationship change is seen only through an invalidated endpoint. When an
//! application creates or deletes a relationship it invalidates both ends (and a deleted node,
//! and a node whose labels or key properties changed); a relationship change on a node that is
//! not invalidated is not seen until the snapshot is refreshed.

use std::time::Duration;

use fastbloom::BloomFilter;
use hashbrown::{HashMap, HashSet};
use neotrav_snapshot::Direction;

use super::EngineError;
use super::graph::{Edge, Graph, Prop, SnapshotGraph, TypeSet};
use super::plan::{KeySlot, Names};
use super::walk::{Bits, Resolve};

/// Nodes invalidated since the snapshot was taken. The hot path asks the bloom filter first,
/// so a traversal over clean nodes pays one filter probe per node.
#[derive(Debug, Clone)]
pub struct DirtySet {
    bloom: BloomFilter,
    ids: HashSet<u64>,
}

impl Default for DirtySet {
    fn default() -> Self {
        DirtySet::new()
    }
}

impl DirtySet {
    /// An empty set.
    pub fn new() -> DirtySet {
        DirtySet {
            bloom: BloomFilter::with_num_bits(1 << 20).expected_items(1 << 16),
            ids: HashSet::new(),
        }
    }

    /// Marks nodes dirty.
    pub fn insert(&mut self, ids: impl IntoIterator<Item = u64>) {
        for id in ids {
            if self.ids.insert(id) {
                self.bloom.insert(&id);
            }
        }
    }

    /// Whether a node is dirty.
    #[inline]
    pub fn contains(&self, id: u64) -> bool {
        !self.ids.is_empty() && self.bloom.contains(&id) && self.ids.contains(&id)
    }

    /// Number of dirty nodes.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether no node is dirty.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// A property value read from Neo4j.
#[derive(Debug, Clone, PartialEq)]
pub enum OwnedProp {
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// A string.
    Str(String),
}

impl OwnedProp {
    fn as_prop(&self) -> Prop<'_> {
        match self {
            OwnedProp::Int(i) => Prop::Int(*i),
            OwnedProp::Float(x) => Prop::Float(*x),
            OwnedProp::Bool(b) => Prop::Bool(*b),
            OwnedProp::Str(s) => Prop::Str(s),
        }
    }
}

/// A node as Neo4j holds it now.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FetchedNode {
    /// Its id.
    pub id: u64,
    /// Whether it exists (it may have been deleted).
    pub exists: bool,
    /// Its labels.
    pub labels: Vec<String>,
    /// The requested keys' values, in request order.
    pub properties: Vec<Option<OwnedProp>>,
    /// Its relationships (id, type, other node id): outgoing, then incoming. A loop is in both.
    pub relationships: [Vec<(u64, String, u64)>; 2],
}

/// Where misses are read from.
pub trait MissSource {
    /// Reads these nodes and the values of `keys`, in one round trip.
    fn fetch(&mut self, ids: &[u64], keys: &[String]) -> Result<Vec<FetchedNode>, EngineError>;
    /// The ids of the nodes with `label` whose `key` equals `value`.
    fn lookup(
        &mut self,
        label: &str,
        key: &str,
        value: &neotrav_wire::Scalar,
    ) -> Result<Vec<u64>, EngineError>;
    /// The ids of the nodes with `label`.
    fn label_ids(&mut self, label: &str) -> Result<Vec<u64>, EngineError>;
    /// Round trips so far, and their total time.
    fn round_trips(&self) -> (u64, Duration);
}

/// A miss, as read.
#[derive(Debug, Default)]
struct Miss {
    exists: bool,
    labels: Vec<u64>,
    properties: Vec<Option<OwnedProp>>,
    edges: [Vec<Edge>; 2],
}

/// The snapshot with misses read from a [`MissSource`].
pub struct FreshGraph<'a, S> {
    snap: SnapshotGraph<'a>,
    known: u32,
    dirty: &'a DirtySet,
    source: &'a mut S,
    labels: &'a Names,
    /// Type names: the plan's, extended with types only Neo4j knows.
    pub(crate) types: Names,
    keys: Vec<String>,
    key_labels: Vec<Option<u32>>,
    new_ids: Vec<u64>,
    new_refs: HashMap<u64, u32>,
    resolved: Bits,
    cache: HashMap<u32, Miss>,
    /// Nodes read from Neo4j.
    pub misses: u64,
    /// The source's round trips and their time when this graph was made.
    trips_before: (u64, Duration),
}

impl<'a, S: MissSource> FreshGraph<'a, S> {
    /// The snapshot graph `snap`, with `dirty` nodes and unknown nodes read from `source`.
    pub fn new(
        snap: SnapshotGraph<'a>,
        dirty: &'a DirtySet,
        source: &'a mut S,
        labels: &'a Names,
        types: &Names,
        keys: &[KeySlot],
    ) -> FreshGraph<'a, S> {
        FreshGraph {
            trips_before: source.round_trips(),
            known: snap.view.node_count() as u32,
            snap,
            dirty,
            source,
            labels,
            types: types.clone(),
            keys: keys.iter().map(|k| k.key.clone()).collect(),
            key_labels: keys.iter().map(|k| k.label_code).collect(),
            new_ids: Vec::new(),
            new_refs: HashMap::new(),
            resolved: Bits::default(),
            cache: HashMap::new(),
            misses: 0,
        }
    }

    /// The node reference of a Neo4j id: the snapshot's index when it knows the node, a new
    /// reference past the snapshot's nodes otherwise.
    pub fn node_ref(&mut self, id: u64) -> u32 {
        if let Some(i) = self.snap.view.node_index(id) {
            return i;
        }
        if let Some(&r) = self.new_refs.get(&id) {
            return r;
        }
        let r = self.known + self.new_ids.len() as u32;
        self.new_ids.push(id);
        self.new_refs.insert(id, r);
        r
    }

    /// Looks up nodes by key property in Neo4j.
    pub fn lookup(
        &mut self,
        label: &str,
        key: &str,
        value: &neotrav_wire::Scalar,
    ) -> Result<Vec<u64>, EngineError> {
        self.source.lookup(label, key, value)
    }

    /// The ids of the nodes with a label, from Neo4j.
    pub fn label_ids(&mut self, label: &str) -> Result<Vec<u64>, EngineError> {
        self.source.label_ids(label)
    }

    /// Reads `nodes` if they are misses, and fails naming the first that Neo4j does not have
    /// ([`EngineError::NotInNeo4j`]).
    pub fn resolve_existing(&mut self, nodes: &[u32]) -> Result<(), EngineError> {
        self.resolve(&mut nodes.iter().copied())?;
        match nodes.iter().find(|&&n| !self.exists(n)) {
            Some(&gone) => Err(EngineError::NotInNeo4j {
                id: self.node_id(gone),
                invalidated: gone < self.known,
            }),
            None => Ok(()),
        }
    }

    /// Writes what this graph cost into a response's stats: misses, and the round trips and
    /// their time since it was made.
    pub fn record(&self, stats: &mut neotrav_wire::Stats) {
        let (trips, time) = self.source.round_trips();
        stats.misses = self.misses;
        stats.cypher_round_trips = trips - self.trips_before.0;
        stats.cypher_ms = (time - self.trips_before.1).as_secs_f64() * 1e3;
    }

    #[inline]
    fn miss(&self, node: u32) -> Option<&Miss> {
        if self.resolved.contains(node) {
            self.cache.get(&node)
        } else {
            None
        }
    }

    fn needs_fetch(&self, node: u32) -> bool {
        !self.resolved.contains(node)
            && (node >= self.known || self.dirty.contains(self.snap.node_id(node)))
    }
}

impl<S: MissSource> Graph for FreshGraph<'_, S> {
    fn node_bound(&self) -> usize {
        self.known as usize + self.new_ids.len()
    }

    #[inline]
    fn label_word(&self, node: u32, w: usize) -> u64 {
        match self.miss(node) {
            Some(m) => m.labels.get(w).copied().unwrap_or(0),
            None => self.snap.label_word(node, w),
        }
    }

    #[inline]
    fn for_each_edge(&self, node: u32, dir: Direction, types: &TypeSet, mut f: impl FnMut(Edge)) {
        match self.miss(node) {
            Some(m) => {
                for e in &m.edges[dir as usize] {
                    if types.contains(e.type_code) {
                        f(*e);
                    }
                }
            }
            None => self.snap.for_each_edge(node, dir, types, |mut e| {
                // With misses, a relationship's key is its Neo4j id whichever side reads it.
                e.rel = self.snap.relationship_id(e.rel);
                f(e)
            }),
        }
    }

    fn node_id(&self, node: u32) -> u64 {
        if node < self.known {
            self.snap.node_id(node)
        } else {
            self.new_ids
                .get((node - self.known) as usize)
                .copied()
                .unwrap_or(u64::MAX)
        }
    }

    fn relationship_id(&self, rel: u64) -> u64 {
        rel
    }

    fn exists(&self, node: u32) -> bool {
        self.miss(node).is_none_or(|m| m.exists)
    }

    fn property(&self, node: u32, slot: usize) -> Option<Prop<'_>> {
        match self.miss(node) {
            Some(m) => {
                if let Some(Some(l)) = self.key_labels.get(slot)
                    && !self.has_label(node, *l)
                {
                    return None;
                }
                m.properties.get(slot)?.as_ref().map(OwnedProp::as_prop)
            }
            None => self.snap.property(node, slot),
        }
    }

    fn type_name<'s>(&'s self, code: u32, _plan: &'s Names) -> &'s str {
        self.types.name(code)
    }
}

impl<S: MissSource> Resolve for FreshGraph<'_, S> {
    fn resolve(&mut self, nodes: &mut dyn Iterator<Item = u32>) -> Result<(), EngineError> {
        let mut wanted: Vec<u32> = nodes.filter(|&n| self.needs_fetch(n)).collect();
        if wanted.is_empty() {
            return Ok(());
        }
        wanted.sort_unstable();
        wanted.dedup();
        let ids: Vec<u64> = wanted.iter().map(|&n| self.node_id(n)).collect();
        let fetched = self.source.fetch(&ids, &self.keys)?;
        let words = self.labels.len().div_ceil(64).max(1);
        for node in fetched {
            let r = self.node_ref(node.id);
            let mut miss = Miss {
                exists: node.exists,
                labels: vec![0; words],
                properties: node.properties,
                edges: [Vec::new(), Vec::new()],
            };
            for l in &node.labels {
                if let Some(code) = self.labels.get(l) {
                    miss.labels[code as usize / 64] |= 1 << (code % 64);
                }
            }
            for (d, rels) in node.relationships.iter().enumerate() {
                for (rel, ty, other) in rels {
                    let neighbor = self.node_ref(*other);
                    let type_code = self.types.code(ty);
                    miss.edges[d].push(Edge {
                        neighbor,
                        rel: *rel,
                        type_code,
                    });
                }
            }
            self.misses += 1;
            self.resolved.insert(r);
            self.cache.insert(r, miss);
        }
        // A node Neo4j did not return at all is absent.
        for n in wanted {
            if self.resolved.insert(n) {
                self.cache.insert(n, Miss::default());
            }
        }
        Ok(())
    }
}

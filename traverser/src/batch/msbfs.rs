//! Multi-source bit-parallel breadth-first search: up to 64 sources per pass, one bit per source
//! in a `u64` per node (the MS-BFS of Then et al., "The More the Merrier", VLDB 2015).
//!
//! [`MultiBfs`] holds the per-node words (`seen`, `frontier`, `next`) and the lists of nodes
//! touched, so a pass costs time proportional to what it reaches, never to the graph's size, and
//! nothing is allocated per pass once the words exist. A node reached by several sources in the
//! same level is expanded once for all of them: that sharing is the gain over 64 single-source
//! searches.
//!
//! [`MultiBfs::run`] answers, per source, how many nodes lie at each distance (a distance
//! histogram, [`Levels`]): k-hop reachability counts are its prefix sums.

use neotrav_snapshot::Direction;

use crate::engine::graph::{Graph, SnapshotGraph, TypeSet};
use crate::engine::plan::Expansion;

/// Neighbour lists, all a reachability search reads.
trait Neighbors {
    /// Node references are below this.
    fn bound(&self) -> usize;
    /// Calls `f` with each neighbour of `node` in `dir` through a relationship in `types`.
    fn each(&self, node: u32, dir: Direction, types: &TypeSet, f: impl FnMut(u32));
}

/// Any [`Graph`], through its edges.
struct ViaGraph<'g, G>(&'g G);

impl<G: Graph> Neighbors for ViaGraph<'_, G> {
    fn bound(&self) -> usize {
        self.0.node_bound()
    }

    #[inline]
    fn each(&self, node: u32, dir: Direction, types: &TypeSet, mut f: impl FnMut(u32)) {
        self.0.for_each_edge(node, dir, types, |e| f(e.neighbor));
    }
}

/// Below this many edges a list is scanned with a type test per edge; above, each wanted
/// type's run is found by binary search (as [`SnapshotGraph`] does).
const SCAN_BELOW: usize = 24;

impl Neighbors for SnapshotGraph<'_> {
    fn bound(&self) -> usize {
        self.view.node_count()
    }

    #[inline]
    fn each(&self, node: u32, dir: Direction, types: &TypeSet, mut f: impl FnMut(u32)) {
        let edges = self.view.edges(node, dir);
        if types.is_all() {
            edges.neighbors.iter().for_each(|&n| f(n));
        } else if edges.len() < SCAN_BELOW {
            for (&n, &t) in edges.neighbors.iter().zip(edges.types) {
                if types.contains(u32::from(t)) {
                    f(n);
                }
            }
        } else if let (Some(&lo), Some(&hi)) = (edges.types.first(), edges.types.last()) {
            for t in u32::from(lo)..=u32::from(hi) {
                if types.contains(t) {
                    edges.of_type(t).neighbors.iter().for_each(|&n| f(n));
                }
            }
        }
    }
}

/// The most sources of one pass.
pub const LANES: usize = 64;

/// Per source, the number of nodes first reached at each distance: `levels[d]` for
/// `d = 0..` (distance 0 is the source itself). Trailing zeros are cut.
pub type Levels = Vec<u64>;

/// Reusable working memory for bit-parallel searches over graphs of up to `n` nodes.
///
/// Invariant between passes: every word is zero and every list is empty.
#[derive(Debug, Default)]
pub struct MultiBfs {
    seen: Vec<u64>,
    frontier: Vec<u64>,
    next: Vec<u64>,
    touched: Vec<u32>,
    current: Vec<u32>,
    upcoming: Vec<u32>,
}

impl MultiBfs {
    /// Working memory for graphs of up to `n` nodes (grown on demand).
    pub fn new(n: usize) -> MultiBfs {
        let mut m = MultiBfs::default();
        m.reserve(n);
        m
    }

    fn reserve(&mut self, n: usize) {
        if self.seen.len() < n {
            self.seen.resize(n, 0);
            self.frontier.resize(n, 0);
            self.next.resize(n, 0);
        }
    }

    /// Breadth-first from each of `sources` (at most [`LANES`]; a source may repeat) to depth
    /// `max_level`, following at each depth `d` the relationships `step(d)` allows (outgoing
    /// types at `[0]`, incoming at `[1]`). Returns each source's [`Levels`], in source order.
    ///
    /// Reachability is all it answers: a node counts once per source, at its shortest distance,
    /// which is what a breadth-first `NODE_GLOBAL` traversal from that source visits.
    pub fn run<G: Graph>(
        &mut self,
        graph: &G,
        sources: &[u32],
        max_level: u32,
        step: impl FnMut(u32) -> Expansion,
    ) -> Vec<Levels> {
        self.search(&ViaGraph(graph), sources, max_level, step)
    }

    /// [`MultiBfs::run`] on a snapshot, reading neighbour lists without the relationship ids a
    /// traversal needs and reachability does not.
    pub fn run_snapshot(
        &mut self,
        graph: &SnapshotGraph<'_>,
        sources: &[u32],
        max_level: u32,
        step: impl FnMut(u32) -> Expansion,
    ) -> Vec<Levels> {
        self.search(graph, sources, max_level, step)
    }

    fn search<N: Neighbors>(
        &mut self,
        graph: &N,
        sources: &[u32],
        max_level: u32,
        mut step: impl FnMut(u32) -> Expansion,
    ) -> Vec<Levels> {
        assert!(sources.len() <= LANES, "at most {LANES} sources per pass");
        self.reserve(graph.bound());
        let mut levels: Vec<[u64; LANES]> = vec![[0; LANES]];
        for (lane, &s) in sources.iter().enumerate() {
            let bit = 1u64 << lane;
            let i = s as usize;
            if self.seen[i] == 0 {
                self.touched.push(s);
                self.current.push(s);
            }
            self.seen[i] |= bit;
            self.frontier[i] |= bit;
            levels[0][lane] += 1;
        }
        let mut depth = 0u32;
        while depth < max_level && !self.current.is_empty() {
            let e = step(depth);
            for &v in &self.current {
                let f = self.frontier[v as usize];
                for dir in Direction::BOTH {
                    let set: &TypeSet = &e[dir as usize];
                    if set.is_empty() {
                        continue;
                    }
                    let (seen, next, upcoming) = (&self.seen, &mut self.next, &mut self.upcoming);
                    graph.each(v, dir, set, |n| {
                        let w = n as usize;
                        let new = f & !seen[w];
                        if new != 0 {
                            if next[w] == 0 {
                                upcoming.push(n);
                            }
                            next[w] |= new;
                        }
                    });
                }
            }
            for &v in &self.current {
                self.frontier[v as usize] = 0;
            }
            self.current.clear();
            depth += 1;
            let mut counts = [0u64; LANES];
            for &w in &self.upcoming {
                let i = w as usize;
                let new = self.next[i];
                self.next[i] = 0;
                if self.seen[i] == 0 {
                    self.touched.push(w);
                }
                self.seen[i] |= new;
                self.frontier[i] = new;
                let mut bits = new;
                while bits != 0 {
                    counts[bits.trailing_zeros() as usize] += 1;
                    bits &= bits - 1;
                }
            }
            std::mem::swap(&mut self.current, &mut self.upcoming);
            if !self.current.is_empty() {
                levels.push(counts);
            }
        }
        for &v in &self.current {
            self.frontier[v as usize] = 0;
        }
        self.current.clear();
        for &v in &self.touched {
            self.seen[v as usize] = 0;
        }
        self.touched.clear();
        (0..sources.len())
            .map(|lane| {
                let mut l: Levels = levels.iter().map(|c| c[lane]).collect();
                while l.last() == Some(&0) {
                    l.pop();
                }
                l
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::graph::{Edge, Prop};

    /// An adjacency-list graph: `out[v]` are `(neighbor, type)`.
    struct Lists {
        out: Vec<Vec<(u32, u32)>>,
        inc: Vec<Vec<(u32, u32)>>,
    }

    impl Lists {
        fn new(n: usize, edges: &[(u32, u32, u32)]) -> Lists {
            let mut g = Lists {
                out: vec![Vec::new(); n],
                inc: vec![Vec::new(); n],
            };
            for &(a, b, t) in edges {
                g.out[a as usize].push((b, t));
                g.inc[b as usize].push((a, t));
            }
            g
        }
    }

    impl Graph for Lists {
        fn node_bound(&self) -> usize {
            self.out.len()
        }
        fn label_word(&self, _: u32, _: usize) -> u64 {
            0
        }
        fn for_each_edge(
            &self,
            node: u32,
            dir: Direction,
            types: &TypeSet,
            mut f: impl FnMut(Edge),
        ) {
            let list = match dir {
                Direction::Outgoing => &self.out[node as usize],
                Direction::Incoming => &self.inc[node as usize],
            };
            for &(n, t) in list {
                if types.contains(t) {
                    f(Edge {
                        neighbor: n,
                        rel: 0,
                        type_code: t,
                    });
                }
            }
        }
        fn node_id(&self, node: u32) -> u64 {
            u64::from(node)
        }
        fn relationship_id(&self, rel: u64) -> u64 {
            rel
        }
        fn exists(&self, _: u32) -> bool {
            true
        }
        fn property(&self, _: u32, _: usize) -> Option<Prop<'_>> {
            None
        }
    }

    /// Plain single-source BFS levels.
    fn single(g: &Lists, s: u32, max: u32, e: &Expansion) -> Levels {
        let mut dist = vec![u32::MAX; g.out.len()];
        dist[s as usize] = 0;
        let mut frontier = vec![s];
        let mut levels = vec![1];
        let mut d = 0;
        while d < max && !frontier.is_empty() {
            let mut next = Vec::new();
            for &v in &frontier {
                for (dir, list) in [(0, &g.out[v as usize]), (1, &g.inc[v as usize])] {
                    for &(w, t) in list {
                        if e[dir].contains(t) && dist[w as usize] == u32::MAX {
                            dist[w as usize] = d + 1;
                            next.push(w);
                        }
                    }
                }
            }
            d += 1;
            if !next.is_empty() {
                levels.push(next.len() as u64);
            }
            frontier = next;
        }
        levels
    }

    #[test]
    fn a_path_and_a_star() {
        // 0 -> 1 -> 2 -> 3, and 4 -> 0, 4 -> 5
        let g = Lists::new(6, &[(0, 1, 0), (1, 2, 0), (2, 3, 0), (4, 0, 1), (4, 5, 1)]);
        let both = [TypeSet::ALL, TypeSet::ALL];
        let mut m = MultiBfs::new(6);
        let got = m.run(&g, &[0, 3, 0], 2, |_| both);
        assert_eq!(got, vec![vec![1, 2, 2], vec![1, 1, 1], vec![1, 2, 2]]);
        let out_only = [TypeSet::ALL, TypeSet::NONE];
        let got = m.run(&g, &[0, 4], u32::MAX, |_| out_only);
        assert_eq!(got, vec![vec![1, 1, 1, 1], vec![1, 2, 1, 1, 1]]);
        // Memory is clean between passes: the same pass twice gives the same answer.
        assert_eq!(m.run(&g, &[0, 4], u32::MAX, |_| out_only), got);
    }

    #[test]
    fn equals_single_source_on_random_graphs() {
        let mut state = 0x5eed_u64;
        let mut rnd = |n: u64| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) % n
        };
        for case in 0..40 {
            let n = 1 + rnd(300) as usize;
            let m = rnd(4 * n as u64) as usize;
            let edges: Vec<(u32, u32, u32)> = (0..m)
                .map(|_| (rnd(n as u64) as u32, rnd(n as u64) as u32, rnd(3) as u32))
                .collect();
            let g = Lists::new(n, &edges);
            let mut t = TypeSet::NONE;
            t.insert(rnd(3) as u32);
            let e = match case % 3 {
                0 => [TypeSet::ALL, TypeSet::ALL],
                1 => [TypeSet::ALL, TypeSet::NONE],
                _ => [t, t],
            };
            let max = [1, 2, 3, u32::MAX][case % 4];
            let sources: Vec<u32> = (0..1 + rnd(LANES as u64))
                .map(|_| rnd(n as u64) as u32)
                .collect();
            let mut bfs = MultiBfs::new(0);
            let got = bfs.run(&g, &sources, max, |_| e);
            for (s, l) in sources.iter().zip(&got) {
                assert_eq!(*l, single(&g, *s, max, &e), "case {case} source {s}");
            }
        }
    }
}

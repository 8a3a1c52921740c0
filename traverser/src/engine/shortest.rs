//! Shortest paths by bidirectional breadth-first search, with the length Cypher's
//! `shortestPath` finds and, with `all`, every path `allShortestPaths` returns.
//!
//! Both sides advance one whole level at a time, always the side with the smaller frontier.
//! Each side records, per node, its distance and every relationship that reaches it from the
//! level before (parallel relationships are distinct paths, as in Cypher). When a level meets the
//! other side, the length is the smallest sum of distances; every shortest path crosses exactly
//! one node at distance `d_from` from the first node, so the paths are enumerated through those.

use hashbrown::HashMap;
use neotrav_client::wire::{OnExceed, ShortestPathRequest};
use neotrav_snapshot::Direction;

use super::graph::{Edge, Graph, TypeSet};
use super::plan::{self, Expansion, Limits, Names};
use super::walk::{Exceeded, Resolve};
use super::{EngineError, RequestError};

/// A compiled shortest-path request.
#[derive(Debug, Clone)]
pub struct Search {
    /// Type names.
    pub types: Names,
    /// Relationships the first side follows; the other side follows them reversed.
    pub expansion: Expansion,
    /// The longest path considered.
    pub max_level: u32,
    /// Every shortest path, not one.
    pub all: bool,
    /// Node and path budget.
    pub max_visited: u64,
    /// Wall-clock limit.
    pub deadline: std::time::Duration,
    /// Error or partial.
    pub on_exceed: OnExceed,
}

impl Search {
    /// Compiles a request.
    pub fn compile(
        req: &ShortestPathRequest,
        dicts: &plan::Dictionaries,
        limits: Limits,
    ) -> Result<Search, RequestError> {
        let mut types = Names::from_base(dicts.types.clone());
        let f = req.relationship_filter.as_deref().unwrap_or("");
        let steps = super::filter::relationship_filter("relationshipFilter", f)?;
        let [step] = steps.as_slice() else {
            return Err(RequestError::new(
                "relationshipFilter",
                "a shortest path takes one relationship step (`A>|<B|C`), not a `,` sequence",
            ));
        };
        let expansion = plan::expansion(step, &mut types)?;
        let max_level = match req.max_level {
            -1 => u32::MAX,
            l if l < 0 => {
                return Err(RequestError::new(
                    "maxLevel",
                    format!("{l} is not a level: use -1 or 0 and up"),
                ));
            }
            l => u32::try_from(l).unwrap_or(u32::MAX),
        };
        let (max_visited, deadline_ms) = plan::budget(&req.budget, limits)?;
        Ok(Search {
            types,
            expansion,
            max_level: req.budget.max_depth.map_or(max_level, |d| d.min(max_level)),
            all: req.all,
            max_visited,
            deadline: std::time::Duration::from_millis(deadline_ms),
            on_exceed: req.budget.on_exceed,
        })
    }
}

/// What a search found.
#[derive(Debug, Default)]
pub struct Found {
    /// The length, if a path exists within `max_level`.
    pub length: Option<u32>,
    /// The paths: nodes, relationship keys, type codes.
    pub paths: Vec<(Vec<u32>, Vec<u64>, Vec<u32>)>,
    /// Whether a budget cut it short.
    pub partial: bool,
    /// Nodes reached.
    pub visited: u64,
    /// Relationships followed.
    pub relationships: u64,
}

#[derive(Debug, Clone, Copy)]
struct Link {
    from: u32,
    rel: u64,
    type_code: u32,
    /// The next link into the same node (`NO_LINK` ends the chain).
    next: u32,
}

const NO_LINK: u32 = u32::MAX;

/// One side of the search: per reached node its distance and the head of its chain of links
/// from the level before, all links in one flat list (no allocation per node).
struct Side {
    expansion: Expansion,
    reached: HashMap<u32, (u32, u32)>,
    links: Vec<Link>,
    frontier: Vec<u32>,
    depth: u32,
}

impl Side {
    fn new(start: u32, expansion: Expansion) -> Side {
        let mut reached = HashMap::new();
        reached.insert(start, (0, NO_LINK));
        Side {
            expansion,
            reached,
            links: Vec::new(),
            frontier: vec![start],
            depth: 0,
        }
    }

    /// Expands one level; returns the relationships followed.
    fn advance<G: Graph>(&mut self, g: &G) -> u64 {
        let mut next = Vec::new();
        let mut followed = 0;
        let depth = self.depth + 1;
        let frontier = std::mem::take(&mut self.frontier);
        let (reached, links) = (&mut self.reached, &mut self.links);
        for &u in &frontier {
            for dir in Direction::BOTH {
                let set: &TypeSet = &self.expansion[dir as usize];
                if set.is_empty() {
                    continue;
                }
                g.for_each_edge(u, dir, set, |e: Edge| {
                    if e.neighbor == u {
                        return;
                    }
                    followed += 1;
                    let head = match reached.get(&e.neighbor) {
                        None => {
                            next.push(e.neighbor);
                            NO_LINK
                        }
                        Some(&(d, head)) if d == depth => head,
                        Some(_) => return,
                    };
                    links.push(Link {
                        from: u,
                        rel: e.rel,
                        type_code: e.type_code,
                        next: head,
                    });
                    reached.insert(e.neighbor, (depth, (links.len() - 1) as u32));
                });
            }
        }
        self.frontier = next;
        self.depth = depth;
        followed
    }

    /// Every chain of links from `node` back to this side's start, as (nodes, rels, types)
    /// in walking order from `node`; at most `cap` of them.
    fn chains(&self, node: u32, cap: usize) -> Vec<(Vec<u32>, Vec<u64>, Vec<u32>)> {
        let mut out = Vec::new();
        let mut stack = vec![(node, Vec::new(), Vec::new(), vec![node])];
        while let Some((n, rels, types, nodes)) = stack.pop() {
            let mut l = self.reached.get(&n).map_or(NO_LINK, |&(_, head)| head);
            if l == NO_LINK {
                out.push((nodes, rels, types));
                if out.len() >= cap {
                    break;
                }
                continue;
            }
            while l != NO_LINK {
                let link = self.links[l as usize];
                let (mut r, mut t, mut ns) = (rels.clone(), types.clone(), nodes.clone());
                r.push(link.rel);
                t.push(link.type_code);
                ns.push(link.from);
                stack.push((link.from, r, t, ns));
                l = link.next;
            }
        }
        out
    }
}

/// Runs a search from `from` to `to`, resolving each frontier's misses (one round trip per
/// level at most) before expanding it.
pub fn run<G: Resolve>(s: &Search, g: &mut G, from: u32, to: u32) -> Result<Found, EngineError> {
    let started = std::time::Instant::now();
    let mut found = Found::default();
    if from == to {
        found.length = Some(0);
        found.paths.push((vec![from], Vec::new(), Vec::new()));
        found.visited = 1;
        return Ok(found);
    }
    let reversed = [s.expansion[1], s.expansion[0]];
    let mut a = Side::new(from, s.expansion);
    let mut b = Side::new(to, reversed);
    loop {
        if a.depth + b.depth >= s.max_level || a.frontier.is_empty() || b.frontier.is_empty() {
            break;
        }
        let a_side = a.frontier.len() <= b.frontier.len();
        let grow = if a_side { &mut a } else { &mut b };
        g.resolve(&mut grow.frontier.iter().copied())?;
        found.relationships += grow.advance(&*g);
        found.visited = (a.reached.len() + b.reached.len()) as u64;
        let (grown, other) = if a_side { (&a, &b) } else { (&b, &a) };
        // Meetings on this level: nodes the other side reached too.
        let best = grown
            .frontier
            .iter()
            .filter_map(|&n| other_dist(other, n).map(|d| grown.depth + d))
            .min();
        if let Some(length) = best {
            found.length = Some(length);
            // Every shortest path crosses exactly one node at distance `cut` from `from`.
            let cut = if a_side { a.depth } else { length - b.depth };
            let cap = if s.all { s.max_visited as usize } else { 1 };
            let mut meet: Vec<u32> = a
                .reached
                .iter()
                .filter(|(n, (d, _))| *d == cut && other_dist(&b, **n) == Some(length - cut))
                .map(|(n, _)| *n)
                .collect();
            meet.sort_unstable();
            'outer: for m in meet {
                for (an, ar, at) in a.chains(m, cap) {
                    for (bn, br, bt) in b.chains(m, cap) {
                        let mut nodes: Vec<u32> = an.iter().rev().copied().collect();
                        nodes.extend(&bn[1..]);
                        let mut rels: Vec<u64> = ar.iter().rev().copied().collect();
                        rels.extend(&br);
                        let mut types: Vec<u32> = at.iter().rev().copied().collect();
                        types.extend(&bt);
                        found.paths.push((nodes, rels, types));
                        if found.paths.len() >= cap {
                            break 'outer;
                        }
                    }
                }
            }
            if s.all && found.paths.len() >= cap {
                return exceeded(s, found, Exceeded::Visited(s.max_visited));
            }
            return Ok(found);
        }
        if found.visited > s.max_visited {
            return exceeded(s, found, Exceeded::Visited(s.max_visited));
        }
        if started.elapsed() > s.deadline {
            return exceeded(s, found, Exceeded::Deadline(s.deadline.as_millis()));
        }
    }
    Ok(found)
}

fn other_dist(side: &Side, n: u32) -> Option<u32> {
    side.reached.get(&n).map(|(d, _)| *d)
}

fn exceeded(s: &Search, mut found: Found, e: Exceeded) -> Result<Found, EngineError> {
    match s.on_exceed {
        OnExceed::Partial => {
            found.partial = true;
            Ok(found)
        }
        OnExceed::Error => Err(EngineError::Budget(e)),
    }
}

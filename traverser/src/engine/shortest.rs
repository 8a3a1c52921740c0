//! Shortest paths by bidirectional breadth-first search, with the length Cypher's
//! `shortestPath` finds and, with `all`, every path `allShortestPaths` returns.
//!
//! Both sides advance one whole level at a time, always the side with the smaller frontier.
//! Each side records, per node, its distance and every relationship that reaches it from the
//! level before (parallel relationships are distinct paths, as in Cypher). When a level meets the
//! other side, the length is the smallest sum of distances; every shortest path crosses exactly
//! one node at distance `d_from` from the first node, so the paths are enumerated through those.

use hashbrown::HashMap;
use neotrav_snapshot::Direction;
use neotrav_wire::{OnExceed, ShortestPathRequest};

use super::budget::{Budgets, Clock, Exceeded, Meter};
use super::graph::{Edge, Graph, TypeSet};
use super::plan::{self, Expansion, Limits, Names};
use super::walk::Resolve;
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
    /// Nodes reached and paths (`maxVisited`), wall clock, memory.
    pub budgets: Budgets,
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
        Ok(Search {
            types,
            expansion,
            max_level: req.budget.max_depth.map_or(max_level, |d| d.min(max_level)),
            all: req.all,
            budgets: Budgets::of(&req.budget, limits)?,
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
    /// Which budget cut it short.
    pub exceeded: Option<Exceeded>,
    /// The most bytes held at once.
    pub peak_memory: u64,
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
    fn new(start: u32, expansion: Expansion, meter: &Meter) -> Result<Side, Exceeded> {
        let mut reached = HashMap::new();
        meter.room(&mut reached)?;
        reached.insert(start, (0, NO_LINK));
        let mut frontier = Vec::new();
        meter.room(&mut frontier)?;
        frontier.push(start);
        Ok(Side {
            expansion,
            reached,
            links: Vec::new(),
            frontier,
            depth: 0,
        })
    }

    /// Expands one level; returns the relationships followed. Every node reached and link
    /// kept is counted against the memory budget as it is made, and the clock is read as the
    /// level's work goes.
    fn advance<G: Graph>(
        &mut self,
        g: &G,
        meter: &Meter,
        clock: &mut Clock,
        work: u64,
    ) -> Result<u64, Exceeded> {
        let mut next = Vec::new();
        let mut followed = 0;
        let depth = self.depth + 1;
        let frontier = std::mem::take(&mut self.frontier);
        let (reached, links) = (&mut self.reached, &mut self.links);
        let mut over = None;
        for &u in &frontier {
            clock.check(work + followed)?;
            for dir in Direction::BOTH {
                let set: &TypeSet = &self.expansion[dir as usize];
                if set.is_empty() {
                    continue;
                }
                g.for_each_edge(u, dir, set, |e: Edge| {
                    if e.neighbor == u || over.is_some() {
                        return;
                    }
                    followed += 1;
                    let head = match reached.get(&e.neighbor) {
                        None => {
                            if let Err(x) = meter.room(&mut next).and_then(|()| meter.room(reached))
                            {
                                over = Some(x);
                                return;
                            }
                            next.push(e.neighbor);
                            NO_LINK
                        }
                        Some(&(d, head)) if d == depth => head,
                        Some(_) => return,
                    };
                    if let Err(x) = meter.room(links) {
                        over = Some(x);
                        return;
                    }
                    links.push(Link {
                        from: u,
                        rel: e.rel,
                        type_code: e.type_code,
                        next: head,
                    });
                    reached.insert(e.neighbor, (depth, (links.len() - 1) as u32));
                });
                if let Some(x) = over {
                    meter.forget(&next);
                    meter.forget(&frontier);
                    return Err(x);
                }
            }
        }
        meter.forget(&frontier);
        self.frontier = next;
        self.depth = depth;
        Ok(followed)
    }

    /// Every chain of links from `node` back to this side's start, as (nodes, rels, types)
    /// in walking order from `node`; at most `cap` of them, each counted against the budget
    /// (what the caller keeps of them it must count itself: they are released here).
    fn chains(&self, node: u32, cap: usize, meter: &Meter) -> Result<Vec<Chain>, Exceeded> {
        let mut out = Vec::new();
        let mut stack = vec![(node, Vec::new(), Vec::new(), vec![node])];
        let mut held = 0u64;
        let result = (|| {
            while let Some((n, rels, types, nodes)) = stack.pop() {
                let bytes = chain_bytes(nodes.len());
                held = held.saturating_sub(bytes);
                meter.release(bytes);
                let mut l = self.reached.get(&n).map_or(NO_LINK, |&(_, head)| head);
                if l == NO_LINK {
                    meter.charge(bytes)?;
                    held += bytes;
                    meter.room(&mut out)?;
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
                    let bytes = chain_bytes(ns.len());
                    meter.charge(bytes)?;
                    held += bytes;
                    meter.room(&mut stack)?;
                    stack.push((link.from, r, t, ns));
                    l = link.next;
                }
            }
            Ok(())
        })();
        meter.release(held);
        meter.forget(&stack);
        meter.forget(&out);
        result.map(|()| out)
    }
}

/// A chain of links: nodes, relationship keys, type codes.
type Chain = (Vec<u32>, Vec<u64>, Vec<u32>);

/// The bytes of a chain or path of `nodes` nodes, in the three lists.
fn chain_bytes(nodes: usize) -> u64 {
    (72 + nodes * 4 + nodes * 8 + nodes * 4) as u64
}

/// Runs a search from `from` to `to`, resolving each frontier's misses (one round trip per
/// level at most) before expanding it.
pub fn run<G: Resolve>(s: &Search, g: &mut G, from: u32, to: u32) -> Result<Found, EngineError> {
    let meter = Meter::new(s.budgets.max_memory);
    let mut found = Found::default();
    let result = search(s, g, from, to, &meter, &mut found);
    found.peak_memory = meter.peak();
    match result {
        Ok(()) => Ok(found),
        Err(EngineError::Budget(e)) if s.budgets.on_exceed == OnExceed::Partial => {
            found.partial = true;
            found.exceeded = Some(e);
            Ok(found)
        }
        Err(e) => Err(e),
    }
}

fn search<G: Resolve>(
    s: &Search,
    g: &mut G,
    from: u32,
    to: u32,
    meter: &Meter,
    found: &mut Found,
) -> Result<(), EngineError> {
    let budget = EngineError::Budget;
    let mut clock = Clock::new(s.budgets.deadline);
    if from == to {
        found.length = Some(0);
        found.paths.push((vec![from], Vec::new(), Vec::new()));
        found.visited = 1;
        return Ok(());
    }
    let reversed = [s.expansion[1], s.expansion[0]];
    let mut a = Side::new(from, s.expansion, meter).map_err(budget)?;
    let mut b = Side::new(to, reversed, meter).map_err(budget)?;
    loop {
        if a.depth + b.depth >= s.max_level || a.frontier.is_empty() || b.frontier.is_empty() {
            break;
        }
        let a_side = a.frontier.len() <= b.frontier.len();
        let grow = if a_side { &mut a } else { &mut b };
        g.resolve(&mut grow.frontier.iter().copied())?;
        let work = found.visited + found.relationships;
        let advanced = grow.advance(&*g, meter, &mut clock, work);
        found.visited = (a.reached.len() + b.reached.len()) as u64;
        found.relationships += advanced.map_err(budget)?;
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
            let max_visited = s.budgets.max_visited;
            let cap = if s.all { max_visited as usize } else { 1 };
            let mut meet: Vec<u32> = a
                .reached
                .iter()
                .filter(|(n, (d, _))| *d == cut && other_dist(&b, **n) == Some(length - cut))
                .map(|(n, _)| *n)
                .collect();
            meter.charge(meet.capacity() as u64 * 4).map_err(budget)?;
            meet.sort_unstable();
            'outer: for m in meet {
                let ahead = a.chains(m, cap, meter).map_err(budget)?;
                for (an, ar, at) in ahead {
                    for (bn, br, bt) in b.chains(m, cap, meter).map_err(budget)? {
                        let mut nodes: Vec<u32> = an.iter().rev().copied().collect();
                        nodes.extend(&bn[1..]);
                        let mut rels: Vec<u64> = ar.iter().rev().copied().collect();
                        rels.extend(&br);
                        let mut types: Vec<u32> = at.iter().rev().copied().collect();
                        types.extend(&bt);
                        meter.charge(chain_bytes(nodes.len())).map_err(budget)?;
                        meter.room(&mut found.paths).map_err(budget)?;
                        found.paths.push((nodes, rels, types));
                        if found.paths.len() >= cap {
                            break 'outer;
                        }
                    }
                }
            }
            if s.all && found.paths.len() >= cap {
                return Err(budget(Exceeded::Visited(max_visited)));
            }
            return Ok(());
        }
        if found.visited > s.budgets.max_visited {
            return Err(budget(Exceeded::Visited(s.budgets.max_visited)));
        }
        clock.check_now().map_err(budget)?;
    }
    Ok(())
}

fn other_dist(side: &Side, n: u32) -> Option<u32> {
    side.reached.get(&n).map(|(d, _)| *d)
}

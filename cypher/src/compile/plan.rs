//! The order of a pattern's steps: each chain from its cheapest anchor, filters as soon as
//! the slots they read are bound.

use hashbrown::HashMap;
use neotrav_snapshot::Direction;

use crate::expr::{CmpOp, Expr};
use crate::ir::{NodeCheck, Source, Step, Steps};

use super::pattern::{Chain, RelPat};
use super::{AggCtx, Compiler, NodeChecks, R, Scope};

impl Compiler<'_> {
    /// Orders the chains' steps: each chain from its cheapest anchor, chains that touch bound
    /// variables first; filters go right after the step that binds the last slot they read.
    #[allow(clippy::type_complexity)]
    pub(super) fn plan_chains(
        &mut self,
        chains: Vec<(Chain<'_>, NodeChecks<'_>)>,
        scope: &Scope,
        bound: &mut Vec<usize>,
        mut filters: Vec<Expr>,
    ) -> R<Steps> {
        // Inline property maps become filters (`n.k = v`), and node checks merge per slot.
        let mut node_checks: HashMap<usize, NodeCheck> = HashMap::new();
        let mut chains_only = Vec::new();
        for (chain, checks) in chains {
            for (slot, check, props) in checks {
                let entry = node_checks.entry(slot).or_default();
                for l in check.labels {
                    if !entry.labels.contains(&l) {
                        entry.labels.push(l);
                    }
                }
                entry.impossible |= check.impossible;
                for (prop, value) in props {
                    let v = self.expr(value, scope, &mut AggCtx::default())?;
                    self.check_prop_known(slot, prop, scope, value.span)?;
                    filters.push(Expr::Cmp(
                        CmpOp::Eq,
                        Box::new(Expr::Prop(Box::new(Expr::Slot(slot)), prop)),
                        Box::new(v),
                    ));
                }
            }
            chains_only.push(chain);
        }
        let mut steps: Vec<Step> = Vec::new();
        let mut pending: Vec<(Expr, Vec<usize>)> = filters
            .into_iter()
            .map(|e| {
                let mut s = Vec::new();
                e.slots(&mut s);
                (e, s)
            })
            .collect();
        let mut place =
            |steps: &mut Vec<Step>, bound: &[usize], pending: &mut Vec<(Expr, Vec<usize>)>| {
                let mut i = 0;
                while i < pending.len() {
                    if pending[i].1.iter().all(|s| bound.contains(s)) {
                        steps.push(Step::Filter(pending.swap_remove(i).0));
                    } else {
                        i += 1;
                    }
                }
            };
        place(&mut steps, bound, &mut pending);
        let mut remaining: Vec<Chain> = chains_only;
        while !remaining.is_empty() {
            // The chain with the cheapest anchor.
            let mut best = (usize::MAX, 0usize, 0usize);
            for (ci, ch) in remaining.iter().enumerate() {
                for (ni, &slot) in ch.nodes.iter().enumerate() {
                    let cost = self.anchor_cost(slot, bound, &node_checks, &pending);
                    if cost < best.0 {
                        best = (cost, ci, ni);
                    }
                }
            }
            let (_, ci, anchor) = best;
            let chain = remaining.swap_remove(ci);
            let anchor = if chain.shortest.is_some() { 0 } else { anchor };
            self.bind_node(
                chain.nodes[anchor],
                &mut steps,
                bound,
                &node_checks,
                &pending,
            );
            place(&mut steps, bound, &mut pending);
            if let Some(all) = chain.shortest {
                let to = chain.nodes[1];
                self.bind_node(to, &mut steps, bound, &node_checks, &pending);
                place(&mut steps, bound, &mut pending);
                let r = &chain.rels[0];
                let (min, max) = r.var_len.unwrap_or((1, 1));
                if min > 1 {
                    return Err(self.forward(
                        r.span,
                        self.src(r.span),
                        "shortestPath with a minimal length above 1 runs on Neo4j",
                    ));
                }
                let rel = r.slot.expect("shortest paths get a relationship slot");
                steps.push(Step::Shortest {
                    from: chain.nodes[0],
                    to,
                    rel,
                    spec: r.spec.clone(),
                    min,
                    max,
                    all,
                });
                bound.push(rel);
            } else {
                for k in anchor..chain.rels.len() {
                    self.expand(
                        &chain.rels[k],
                        chain.nodes[k],
                        chain.nodes[k + 1],
                        false,
                        &mut steps,
                        bound,
                        &node_checks,
                    )?;
                    place(&mut steps, bound, &mut pending);
                }
                for k in (0..anchor).rev() {
                    self.expand(
                        &chain.rels[k],
                        chain.nodes[k + 1],
                        chain.nodes[k],
                        true,
                        &mut steps,
                        bound,
                        &node_checks,
                    )?;
                    place(&mut steps, bound, &mut pending);
                }
            }
            if let Some(path) = chain.path {
                steps.push(Step::BindPath {
                    slot: path,
                    start: chain.nodes[0],
                    rels: chain
                        .rels
                        .iter()
                        .map(|r| {
                            (
                                r.slot.expect("paths get relationship slots"),
                                r.var_len.is_some(),
                            )
                        })
                        .collect(),
                });
                bound.push(path);
                place(&mut steps, bound, &mut pending);
            }
        }
        if let Some((e, _)) = pending.pop() {
            // Only reachable with a slot that is never bound: a bug in planning, not user input.
            steps.push(Step::Filter(e));
        }
        let _ = &mut place;
        self.units += steps.len();
        Ok(Steps {
            steps,
            ..Steps::default()
        })
    }

    fn anchor_cost(
        &self,
        slot: usize,
        bound: &[usize],
        checks: &HashMap<usize, NodeCheck>,
        pending: &[(Expr, Vec<usize>)],
    ) -> usize {
        if bound.contains(&slot) {
            return 0;
        }
        if self.seek_for(slot, bound, checks, pending).is_some() {
            return 1;
        }
        match checks.get(&slot) {
            Some(c) if c.impossible => 1,
            Some(c) if !c.labels.is_empty() => 2,
            _ => 3,
        }
    }

    /// An equality filter `slot.key = e` whose `e` is known before the slot is bound, on a key
    /// exported for one of the node's labels: an index seek.
    fn seek_for(
        &self,
        slot: usize,
        bound: &[usize],
        checks: &HashMap<usize, NodeCheck>,
        pending: &[(Expr, Vec<usize>)],
    ) -> Option<Source> {
        let labels = checks
            .get(&slot)
            .map(|c| c.labels.clone())
            .unwrap_or_default();
        for (e, slots) in pending {
            let Expr::Cmp(CmpOp::Eq, a, b) = e else {
                continue;
            };
            for (p, v) in [(a, b), (b, a)] {
                if let Expr::Prop(target, prop) = p.as_ref()
                    && matches!(target.as_ref(), Expr::Slot(s) if *s == slot)
                    && slots.iter().all(|s| *s == slot || bound.contains(s))
                    && !v.reads(slot)
                {
                    let key = &self.props[*prop];
                    let label = labels
                        .iter()
                        .copied()
                        .find(|l| self.snap.keys.get(key).is_some_and(|ls| ls.contains(l)));
                    if let Some(label) = label {
                        return Some(Source::Seek {
                            prop: *prop,
                            value: v.as_ref().clone(),
                            label: Some(label),
                        });
                    }
                }
            }
        }
        None
    }

    fn bind_node(
        &self,
        slot: usize,
        steps: &mut Vec<Step>,
        bound: &mut Vec<usize>,
        checks: &HashMap<usize, NodeCheck>,
        pending: &[(Expr, Vec<usize>)],
    ) {
        let check = checks.get(&slot).cloned().unwrap_or_default();
        if bound.contains(&slot) {
            steps.push(Step::Check { slot, check });
            return;
        }
        let source = if check.impossible {
            Source::Nothing
        } else if let Some(seek) = self.seek_for(slot, bound, checks, pending) {
            seek
        } else if let Some(&l) = check.labels.first() {
            Source::Label(l)
        } else {
            Source::All
        };
        steps.push(Step::Scan {
            slot,
            source,
            check,
        });
        bound.push(slot);
    }

    #[allow(clippy::too_many_arguments)]
    fn expand(
        &mut self,
        r: &RelPat<'_>,
        from: usize,
        to: usize,
        reversed: bool,
        steps: &mut Vec<Step>,
        bound: &mut Vec<usize>,
        checks: &HashMap<usize, NodeCheck>,
    ) -> R<()> {
        let _ = r.ast;
        let mut spec = r.spec.clone();
        if reversed {
            spec.dir = spec.dir.map(|d| match d {
                Direction::Outgoing => Direction::Incoming,
                Direction::Incoming => Direction::Outgoing,
            });
        }
        let to_bound = bound.contains(&to);
        let check = checks.get(&to).cloned().unwrap_or_default();
        match r.var_len {
            None => {
                steps.push(Step::Expand {
                    from,
                    rel: r.slot,
                    to,
                    to_bound,
                    spec,
                    check,
                    rel_bound: r.bound,
                });
            }
            Some((min, max)) => {
                let rel = match r.slot {
                    Some(s) => s,
                    None => self.slot(),
                };
                steps.push(Step::VarExpand {
                    from,
                    rel,
                    to,
                    to_bound,
                    spec,
                    check,
                    min,
                    max,
                    reversed,
                });
                bound.push(rel);
            }
        }
        if let Some(s) = r.slot {
            bound.push(s);
        }
        bound.push(to);
        Ok(())
    }
}

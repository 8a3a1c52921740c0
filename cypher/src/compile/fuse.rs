//! Fusing a MATCH's last expansion with the aggregation after it.
//!
//! `MATCH (g:Genre {name: $genre})<-[:IS]-(r:Release) WHERE r.year IS NOT NULL
//! RETURN r.year, count(*)` makes one row per release, and the aggregation then reads one
//! property of each. When the aggregation reads the reached node through some of its properties
//! only, the rows one expansion makes differ, as far as the aggregation can tell, in those
//! values alone: the expansion groups them by those values and passes each group on once, with
//! its size ([`Step::GroupedExpand`]). The aggregation must then answer a row standing for `n`
//! rows as it answers `n` equal rows: counts do (they add `n`), `min`, `max` and DISTINCT
//! aggregates do (a value seen `n` times is seen once); `sum`, `avg` and `collect` would round or
//! order differently, so their presence keeps the rows apart.
//!
//! The groups go on in the order their first row would have, each with that first row's node and
//! relationship, so the aggregation keeps its groups in the same order and with the same
//! representative rows as without the fusion.

use crate::expr::{AggFunc, Expr};
use crate::ir::{Clause, GROUPED_PROPS, GroupedExpand, Project, Step, TailFilter};

/// Fuses every MATCH whose last binding step is an expansion to a fresh node, followed by an
/// aggregation that allows it.
pub(super) fn fuse(clauses: &mut [Clause]) {
    for i in 1..clauses.len() {
        let (head, tail) = clauses.split_at_mut(i);
        let (Clause::Match(m), Clause::Project(p)) = (&mut head[i - 1], &tail[0]) else {
            continue;
        };
        if m.optional || p.aggs.is_empty() {
            continue;
        }
        let steps = &mut m.steps.steps;
        let Some(at) = steps.iter().rposition(|s| !matches!(s, Step::Filter(_))) else {
            continue;
        };
        let Step::Expand {
            from,
            rel,
            to,
            ref spec,
            ref check,
            to_bound: false,
            rel_bound: false,
        } = steps[at]
        else {
            continue;
        };
        let Some(props) = grouped_props(p, to, rel) else {
            continue;
        };
        let (spec, check) = (spec.clone(), check.clone());
        // Every step after `at` is a filter (`rposition` above).
        let filters = steps
            .drain(at + 1..)
            .filter_map(|s| match s {
                Step::Filter(e) => Some(tail_filter(e, to, &props)),
                _ => None,
            })
            .collect();
        steps[at] = Step::GroupedExpand(Box::new(GroupedExpand {
            from,
            rel,
            to,
            spec,
            check,
            filters,
            props,
        }));
    }
}

/// The properties of `to` that `p` reads, when it reads `to` through them alone, never reads
/// `rel`, and every aggregate of it answers a counted row as the rows it stands for.
fn grouped_props(p: &Project, to: usize, rel: Option<usize>) -> Option<Vec<usize>> {
    let weighable = p.aggs.iter().all(|a| {
        a.distinct
            || matches!(
                a.func,
                AggFunc::CountStar | AggFunc::Count | AggFunc::Min | AggFunc::Max
            )
    });
    if !weighable {
        return None;
    }
    let mut props = Vec::new();
    let exprs = p
        .items
        .iter()
        .map(|(e, _)| e)
        .chain(p.aggs.iter().filter_map(|a| a.arg.as_ref()))
        .chain(p.order.iter().map(|(e, _)| e))
        .chain(p.filter.iter())
        .chain(p.skip.iter())
        .chain(p.limit.iter());
    for e in exprs {
        if !through_props(e, to, rel, &mut props) {
            return None;
        }
    }
    (props.len() <= GROUPED_PROPS).then_some(props)
}

/// Whether `e` reads `to` only as `to.key` (collected into `props`) and never reads `rel`.
fn through_props(e: &Expr, to: usize, rel: Option<usize>, props: &mut Vec<usize>) -> bool {
    match e {
        Expr::Prop(target, k) if matches!(**target, Expr::Slot(s) if s == to) => {
            if !props.contains(k) {
                props.push(*k);
            }
            true
        }
        Expr::Slot(s) => *s != to && Some(*s) != rel,
        Expr::Exists(steps) | Expr::Count(steps) => {
            steps.outer.iter().all(|&s| s != to && Some(s) != rel)
        }
        _ => {
            let mut ok = true;
            e.for_each_child(|c| ok = ok && through_props(c, to, rel, props));
            ok
        }
    }
}

fn tail_filter(e: Expr, to: usize, props: &[usize]) -> TailFilter {
    if let Expr::IsNull(x, negated) = &e
        && let Expr::Prop(target, prop) = &**x
        && matches!(**target, Expr::Slot(s) if s == to)
    {
        return TailFilter::Present {
            prop: *prop,
            present: *negated,
            key: props.iter().position(|p| p == prop),
        };
    }
    TailFilter::Expr(e)
}

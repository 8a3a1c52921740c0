//! The plan: a pipeline of clauses over rows of slots. A row has one slot per variable the
//! whole query names (hidden ones included), so clauses never reshape rows: they set slots.

use std::fmt;

use neotrav_snapshot::Direction;

use crate::expr::{AggFunc, Expr};

/// A planned query.
#[derive(Debug)]
pub(crate) struct Query {
    /// Column names of the answer.
    pub fields: Vec<String>,
    /// One branch per UNION part (one when there is no UNION).
    pub branches: Vec<Branch>,
    /// UNION (deduplicate) rather than UNION ALL.
    pub union_distinct: bool,
    /// Slots per row.
    pub width: usize,
    /// Property keys read, by index (`Expr::Prop` and node checks refer to them).
    pub props: Vec<String>,
    /// The statement asked only for its plan.
    pub explain: bool,
}

/// One UNION part: its clauses and the slots of the answer's columns.
#[derive(Debug)]
pub(crate) struct Branch {
    pub clauses: Vec<Clause>,
    pub outputs: Vec<usize>,
}

/// One clause.
#[derive(Debug)]
pub(crate) enum Clause {
    Match(Match),
    Unwind { expr: Expr, slot: usize },
    Project(Box<Project>),
}

/// A MATCH (or OPTIONAL MATCH): steps that bind slots, row by row.
#[derive(Debug)]
pub(crate) struct Match {
    pub optional: bool,
    pub steps: Steps,
}

/// A sequence of binding steps and filters. The same form serves MATCH and pattern predicates.
#[derive(Debug, Default)]
pub(crate) struct Steps {
    pub steps: Vec<Step>,
    /// Slots this sequence binds (set to null by an OPTIONAL MATCH that finds nothing).
    pub binds: Vec<usize>,
    /// Slots read from outside (for a pattern predicate: the row it is evaluated on).
    pub outer: Vec<usize>,
    /// Whether relationships must be distinct across the steps (one MATCH: yes).
    pub rel_unique: bool,
    /// For a pattern predicate or subquery: the slots of `outer` its steps read, in order
    /// ([`Steps::outer_reads`]). Its answer depends on nothing else (the snapshot and the
    /// parameters do not change during a run), so the executor may remember it by their
    /// values; `None` (steps planned without it) is never remembered.
    pub reads: Option<Vec<usize>>,
}

impl Steps {
    /// The slots of `outer` that the steps read.
    pub fn outer_reads(&self) -> Vec<usize> {
        let mut read = Vec::new();
        for step in &self.steps {
            match step {
                Step::Scan { source, .. } => {
                    if let Source::Seek { value, .. } = source {
                        value.slots(&mut read);
                    }
                }
                Step::Check { slot, .. } => read.push(*slot),
                Step::Expand {
                    from,
                    rel,
                    to,
                    to_bound,
                    rel_bound,
                    ..
                } => {
                    read.push(*from);
                    if *to_bound {
                        read.push(*to);
                    }
                    if let (true, Some(r)) = (*rel_bound, rel) {
                        read.push(*r);
                    }
                }
                Step::VarExpand {
                    from, to, to_bound, ..
                } => {
                    read.push(*from);
                    if *to_bound {
                        read.push(*to);
                    }
                }
                Step::Shortest { from, to, .. } => read.extend([*from, *to]),
                Step::BindPath { start, rels, .. } => {
                    read.push(*start);
                    read.extend(rels.iter().map(|&(r, _)| r));
                }
                Step::Filter(e) => e.slots(&mut read),
                Step::GroupedExpand(g) => {
                    read.push(g.from);
                    for f in &g.filters {
                        if let TailFilter::Expr(e) = f {
                            e.slots(&mut read);
                        }
                    }
                }
            }
        }
        self.outer
            .iter()
            .copied()
            .filter(|s| read.contains(s))
            .collect()
    }
}

/// Where a node slot's candidates come from when nothing binds it yet.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// Every node.
    All,
    /// One label's nodes (its bitmap).
    Label(u32),
    /// Nodes whose `prop` equals the value (index seek), restricted to `label` when given.
    Seek {
        prop: usize,
        value: Expr,
        label: Option<u32>,
    },
    /// No node can match (a label the snapshot does not have).
    Nothing,
}

/// What a node must satisfy.
#[derive(Debug, Clone, Default)]
pub(crate) struct NodeCheck {
    /// Label codes it must have.
    pub labels: Vec<u32>,
    /// The pattern named a label the snapshot does not have.
    pub impossible: bool,
}

/// Relationship types (empty: any) and direction.
#[derive(Debug, Clone)]
pub(crate) struct RelSpec {
    /// Type codes; `None` when every type in the pattern is unknown to the snapshot.
    pub types: Option<Vec<u32>>,
    /// `Outgoing` for `->`, `Incoming` for `<-`; `None` for either.
    pub dir: Option<Direction>,
}

/// One step.
#[derive(Debug)]
pub(crate) enum Step {
    /// Bind `slot` to each candidate node.
    Scan {
        slot: usize,
        source: Source,
        check: NodeCheck,
    },
    /// `slot` is bound already: check it.
    Check { slot: usize, check: NodeCheck },
    /// Follow one relationship from `from` to `to` (bound already when `to_bound`).
    Expand {
        from: usize,
        rel: Option<usize>,
        to: usize,
        to_bound: bool,
        spec: RelSpec,
        check: NodeCheck,
        /// `rel` was bound before this MATCH (`MATCH (a)-[r]->(b)` with `r` from a WITH).
        rel_bound: bool,
    },
    /// Follow `min..=max` relationships; `rel` gets the list.
    VarExpand {
        from: usize,
        rel: usize,
        to: usize,
        to_bound: bool,
        spec: RelSpec,
        check: NodeCheck,
        min: u32,
        max: u32,
        /// Walked from the pattern's right end: the list is reversed into pattern order.
        reversed: bool,
    },
    /// `shortestPath` / `allShortestPaths` between two bound nodes.
    Shortest {
        from: usize,
        to: usize,
        rel: usize,
        spec: RelSpec,
        min: u32,
        max: u32,
        all: bool,
    },
    /// `p = ...`: a path from node slots and relationship slots (lists for variable length).
    BindPath {
        slot: usize,
        start: usize,
        rels: Vec<(usize, bool)>,
    },
    /// Keep the row only if true.
    Filter(Expr),
    /// A MATCH's last expansion and the filters after it, fused with the aggregation that
    /// follows the MATCH ([`GroupedExpand`]).
    GroupedExpand(Box<GroupedExpand>),
}

/// An [`Step::Expand`] and the filters after it, fused with the aggregation that follows its
/// MATCH: the relationships of one row are grouped by the values of `props` on the node they
/// reach, and each group goes on as one row that stands for as many rows as the group holds.
/// Planned only when the aggregation reads that node through those properties alone, never
/// reads the relationship, and gives for a row counted `n` times what it gives for `n` equal
/// rows (counts, `min`, `max`, DISTINCT aggregates): see `compile::fuse`.
#[derive(Debug)]
pub(crate) struct GroupedExpand {
    pub from: usize,
    pub rel: Option<usize>,
    pub to: usize,
    pub spec: RelSpec,
    pub check: NodeCheck,
    /// The filters that followed the expansion, in order.
    pub filters: Vec<TailFilter>,
    /// The properties of `to` the aggregation reads (at most [`GROUPED_PROPS`]).
    pub props: Vec<usize>,
}

/// The most properties a [`GroupedExpand`] groups by.
pub(crate) const GROUPED_PROPS: usize = 4;

/// A filter of a [`GroupedExpand`].
#[derive(Debug)]
pub(crate) enum TailFilter {
    /// `to.prop IS NOT NULL` (`present`) or `to.prop IS NULL`: a presence test, no value read
    /// but for a property grouped by (`key`: its position in `props`), whose value it keeps.
    Present {
        prop: usize,
        present: bool,
        key: Option<usize>,
    },
    /// Any other predicate, evaluated on the row.
    Expr(Expr),
}

/// WITH or RETURN.
#[derive(Debug)]
pub(crate) struct Project {
    /// Items: expression and the slot it sets.
    pub items: Vec<(Expr, usize)>,
    /// Aggregates, each with the slot of its result; non-empty makes the projection group by the
    /// items that hold no aggregate.
    pub aggs: Vec<Agg>,
    /// Indices into `items` of the grouping keys.
    pub keys: Vec<usize>,
    pub distinct: bool,
    /// Sort keys (evaluated on the projected row) and whether descending.
    pub order: Vec<(Expr, bool)>,
    pub skip: Option<Expr>,
    pub limit: Option<Expr>,
    /// WITH ... WHERE.
    pub filter: Option<Expr>,
    /// The slots visible after the projection (all others are cleared by DISTINCT/grouping).
    pub visible: Vec<usize>,
}

/// One aggregate.
#[derive(Debug)]
pub(crate) struct Agg {
    pub func: AggFunc,
    pub distinct: bool,
    pub arg: Option<Expr>,
    pub slot: usize,
}

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (b, branch) in self.branches.iter().enumerate() {
            let clauses = &branch.clauses;
            if b > 0 {
                writeln!(
                    f,
                    "{}",
                    if self.union_distinct {
                        "UNION"
                    } else {
                        "UNION ALL"
                    }
                )?;
            }
            for c in clauses {
                match c {
                    Clause::Match(m) => {
                        writeln!(f, "{}", if m.optional { "OptionalMatch" } else { "Match" })?;
                        for s in &m.steps.steps {
                            writeln!(f, "  {}", StepLine(s, &self.props))?;
                        }
                    }
                    Clause::Unwind { slot, .. } => writeln!(f, "Unwind -> ${slot}")?,
                    Clause::Project(p) => {
                        let mut line = String::from("Projection");
                        if !p.aggs.is_empty() {
                            line = format!(
                                "HashAggregation keys={} aggregates={}",
                                p.keys.len(),
                                p.aggs.len()
                            );
                        }
                        if p.distinct {
                            line.push_str(" distinct");
                        }
                        if !p.order.is_empty() {
                            line.push_str(if p.limit.is_some() { " top-k" } else { " sort" });
                        }
                        if p.filter.is_some() {
                            line.push_str(" filter");
                        }
                        writeln!(f, "{line}")?;
                    }
                }
            }
        }
        write!(f, "Produce {}", self.fields.join(", "))
    }
}

struct StepLine<'a>(&'a Step, &'a [String]);

impl fmt::Display for StepLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dir = |d: Option<Direction>| match d {
            Some(Direction::Outgoing) => "->",
            Some(Direction::Incoming) => "<-",
            None => "--",
        };
        match self.0 {
            Step::Scan { slot, source, .. } => match source {
                Source::All => write!(f, "AllNodesScan ${slot}"),
                Source::Label(l) => write!(f, "NodeByLabelScan ${slot} label#{l}"),
                Source::Seek { prop, label, .. } => write!(
                    f,
                    "NodeIndexSeek ${slot} {}{}",
                    self.1[*prop],
                    label.map(|l| format!(" label#{l}")).unwrap_or_default()
                ),
                Source::Nothing => write!(f, "Empty ${slot}"),
            },
            Step::Check { slot, .. } => write!(f, "Check ${slot}"),
            Step::Expand {
                from,
                to,
                spec,
                to_bound,
                ..
            } => write!(
                f,
                "{} ${from} {} ${to}",
                if *to_bound { "ExpandInto" } else { "Expand" },
                dir(spec.dir)
            ),
            Step::VarExpand {
                from,
                to,
                spec,
                min,
                max,
                ..
            } => write!(
                f,
                "VarLengthExpand ${from} {} ${to} *{min}..{max}",
                dir(spec.dir)
            ),
            Step::Shortest { from, to, all, .. } => write!(
                f,
                "{} ${from} ${to}",
                if *all {
                    "AllShortestPaths"
                } else {
                    "ShortestPath"
                }
            ),
            Step::BindPath { slot, .. } => write!(f, "ProjectPath ${slot}"),
            Step::Filter(_) => write!(f, "Filter"),
            Step::GroupedExpand(g) => write!(
                f,
                "Expand ${} {} ${} grouped by {}{}",
                g.from,
                dir(g.spec.dir),
                g.to,
                if g.props.is_empty() {
                    "nothing".to_owned()
                } else {
                    g.props
                        .iter()
                        .map(|&p| format!("${}.{}", g.to, self.1[p]))
                        .collect::<Vec<_>>()
                        .join(", ")
                },
                match g.filters.len() {
                    0 => String::new(),
                    n => format!(", {n} filter(s)"),
                }
            ),
        }
    }
}

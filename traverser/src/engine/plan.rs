//! Compiling a [`TraverseRequest`] against a snapshot: names become codes, filters become bit
//! sets, and every mistake becomes a [`RequestError`] naming the field.

use std::collections::BTreeMap;
use std::sync::Arc;

use hashbrown::{HashMap, HashSet};
use neotrav_snapshot::{Header, Snapshot};
use neotrav_wire::{
    NodeSelector, OneOrMany, Op, Predicate, ReturnForm, Scalar, TraverseRequest, Uniqueness,
};

use super::RequestError;
use super::budget::Budgets;
use super::filter::{self, Compound, Dir, LabelStep, RelEntry};
use super::graph::{MAX_TYPES, Prop, TypeSet};

/// A snapshot's names and codes, built once per snapshot and shared by every request.
#[derive(Debug, Default)]
pub struct Dict {
    codes: HashMap<String, u32>,
    names: Vec<String>,
}

impl Dict {
    /// The dictionary of `names`, coded by position.
    pub fn new(names: &[String]) -> Dict {
        Dict {
            codes: names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.clone(), i as u32))
                .collect(),
            names: names.to_vec(),
        }
    }
}

/// A snapshot's label and relationship-type dictionaries.
#[derive(Debug, Clone, Default)]
pub struct Dictionaries {
    /// Labels.
    pub labels: Arc<Dict>,
    /// Relationship types.
    pub types: Arc<Dict>,
}

impl Dictionaries {
    /// The dictionaries of a snapshot header.
    pub fn of(header: &Header) -> Dictionaries {
        Dictionaries {
            labels: Arc::new(Dict::new(&header.labels)),
            types: Arc::new(Dict::new(&header.relationship_types)),
        }
    }
}

/// Names to codes for one request: the snapshot's dictionary (shared, not copied), extended
/// with names only the request or Neo4j knows (a filter may name a label that a miss node has
/// and no snapshot node has).
#[derive(Debug, Clone, Default)]
pub struct Names {
    base: Arc<Dict>,
    extra: Vec<String>,
}

impl Names {
    /// Names starting from a shared dictionary.
    pub fn from_base(base: Arc<Dict>) -> Names {
        Names {
            base,
            extra: Vec::new(),
        }
    }

    /// The code of a name, adding it if new.
    pub fn code(&mut self, name: &str) -> u32 {
        if let Some(c) = self.get(name) {
            return c;
        }
        self.extra.push(name.to_string());
        (self.len() - 1) as u32
    }

    /// The code of a name, if known.
    pub fn get(&self, name: &str) -> Option<u32> {
        self.base.codes.get(name).copied().or_else(|| {
            self.extra
                .iter()
                .position(|n| n == name)
                .map(|i| (self.base.names.len() + i) as u32)
        })
    }

    /// The name of a code.
    pub fn name(&self, code: u32) -> &str {
        let c = code as usize;
        let base = &self.base.names;
        base.get(c)
            .or_else(|| self.extra.get(c.wrapping_sub(base.len())))
            .map_or("?", String::as_str)
    }

    /// Number of codes.
    pub fn len(&self) -> usize {
        self.base.names.len() + self.extra.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Which relationships a node may be expanded through: one set per direction.
pub type Expansion = [TypeSet; 2];

/// A compiled label list: the node matches when it has every label of any one entry.
#[derive(Debug, Clone, Default)]
pub struct LabelList(Vec<Vec<(usize, u64)>>);

impl LabelList {
    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether a node whose label words are read by `word` matches.
    #[inline]
    pub fn matches(&self, word: impl Fn(usize) -> u64) -> bool {
        self.0
            .iter()
            .any(|all| all.iter().all(|&(w, bits)| word(w) & bits == bits))
    }
}

/// One compiled step of a label filter.
#[derive(Debug, Clone, Default)]
pub struct LabelMatcher {
    /// `+`
    pub allow: LabelList,
    /// `-`
    pub deny: LabelList,
    /// `/`
    pub terminator: LabelList,
    /// `>`
    pub end: LabelList,
}

/// The expansion by label (`expandByLabel`).
#[derive(Debug, Clone)]
pub struct ByLabel {
    /// Per listed label, its relationship filter.
    pub labels: Vec<(u32, Expansion)>,
    /// For nodes with none of the listed labels (`"*"`): nothing when absent.
    pub default: Expansion,
    /// When at most [`TABLE_LABELS`] labels are listed: per relationship step `i` and per
    /// combination `m` of the listed labels a node has (bit `j`: `labels[j]`), the expansion,
    /// at `i << labels.len() | m`. Empty otherwise.
    pub table: Vec<Expansion>,
}

/// The most `expandByLabel` labels whose combinations are tabulated (64 per step).
pub const TABLE_LABELS: usize = 6;

impl ByLabel {
    /// `step` narrowed by the listed labels a node has (`has(j)`: it has `labels[j]`).
    fn narrow(&self, step: &Expansion, has: impl Fn(usize) -> bool) -> Expansion {
        let mut chosen: Option<Expansion> = None;
        for (j, (_, e)) in self.labels.iter().enumerate() {
            if has(j) {
                chosen = Some(match chosen {
                    None => *e,
                    Some(c) => [c[0].union(&e[0]), c[1].union(&e[1])],
                });
            }
        }
        let e = chosen.unwrap_or(self.default);
        [step[0].intersection(&e[0]), step[1].intersection(&e[1])]
    }
}

/// A compiled `where` predicate.
#[derive(Debug, Clone)]
pub struct Pred {
    /// The label a node must have to satisfy the predicate at all.
    pub label: Option<u32>,
    /// The key slot read.
    pub slot: usize,
    /// The operator.
    pub op: Op,
    /// The values (one, several for `IN`, none for the null tests).
    pub values: Vec<Scalar>,
}

impl Pred {
    /// Cypher's truth for a node's value (`None`: null): only `IS NULL` holds on null.
    pub fn holds(&self, v: Option<&Prop<'_>>) -> bool {
        use std::cmp::Ordering::*;
        let Some(v) = v else {
            return self.op == Op::IsNull;
        };
        let first = || self.values.first().and_then(|s| v.compare(s));
        match self.op {
            Op::IsNull => false,
            Op::IsNotNull => true,
            Op::Eq => first() == Some(Equal),
            Op::Ne => matches!(first(), Some(Less | Greater)),
            Op::Lt => first() == Some(Less),
            Op::Le => matches!(first(), Some(Less | Equal)),
            Op::Gt => first() == Some(Greater),
            Op::Ge => matches!(first(), Some(Greater | Equal)),
            Op::In => self.values.iter().any(|s| v.compare(s) == Some(Equal)),
        }
    }
}

/// A (label, key) pair a request reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySlot {
    /// The label, or any label.
    pub label: Option<String>,
    /// The label's code.
    pub label_code: Option<u32>,
    /// The key.
    pub key: String,
}

/// A request compiled against a snapshot.
#[derive(Debug, Clone)]
pub struct Plan {
    /// What of the request was ignored ([`neotrav_wire::Stats::warnings`]).
    pub warnings: Vec<String>,
    /// Label names and codes.
    pub labels: Names,
    /// Relationship type names and codes.
    pub types: Names,
    /// Per-hop relationship steps (at least one), applied to the hop from depth `d` with index
    /// `d % len`.
    pub rel_steps: Vec<Expansion>,
    /// `expandByLabel`, if given.
    pub by_label: Option<ByLabel>,
    /// Per-depth label steps; empty when there is no label filter.
    pub label_steps: Vec<LabelMatcher>,
    /// Whether any label step has an end-node or terminator list: then only those are included.
    pub end_nodes_only: bool,
    /// Node lists, as Neo4j ids.
    pub end_nodes: Option<HashSet<u64>>,
    /// Terminator nodes.
    pub terminator_nodes: Option<HashSet<u64>>,
    /// Allowlisted nodes.
    pub allowlist_nodes: Option<HashSet<u64>>,
    /// Denylisted nodes.
    pub denylist_nodes: Option<HashSet<u64>>,
    /// The smallest depth included.
    pub min_level: u32,
    /// The largest depth reached (`u32::MAX`: none).
    pub max_level: u32,
    /// Uniqueness.
    pub uniqueness: Uniqueness,
    /// Breadth-first.
    pub bfs: bool,
    /// At most this many included paths.
    pub limit: u64,
    /// Whether filters apply at depth 0.
    pub filter_start_node: bool,
    /// Whether sequences start at the start node.
    pub begin_sequence_at_start: bool,
    /// `where`.
    pub predicates: Vec<Pred>,
    /// The key slots read by predicates and group-by.
    pub keys: Vec<KeySlot>,
    /// The group-by slot.
    pub group_slot: Option<usize>,
    /// What to return.
    pub return_form: ReturnForm,
    /// Visits, wall clock and memory.
    pub budgets: Budgets,
}

/// Server-side limits applied when a request sets none.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Default and ceiling of `budget.maxVisited`.
    pub max_visited: u64,
    /// Default and ceiling of `budget.deadlineMs`.
    pub deadline_ms: u64,
    /// Ceiling of `budget.maxMemory`, in bytes.
    pub max_memory: u64,
    /// Default of `budget.maxMemory`, in bytes.
    pub default_memory: u64,
}

impl Default for Limits {
    /// 200M visits, two minutes, and a quarter of the machine's memory (see
    /// [`super::budget::machine_memory`]).
    fn default() -> Self {
        let memory = super::budget::machine_memory() / 4;
        Limits {
            max_visited: 200_000_000,
            deadline_ms: 120_000,
            max_memory: memory,
            default_memory: memory,
        }
    }
}

fn bad(field: impl Into<String>, message: impl Into<String>) -> RequestError {
    RequestError::new(field, message)
}

impl From<filter::FilterError> for RequestError {
    fn from(e: filter::FilterError) -> Self {
        RequestError::new(e.field, e.message)
    }
}

fn level(field: &str, v: i64) -> Result<Option<u32>, RequestError> {
    match v {
        -1 => Ok(None),
        v if v < -1 => Err(bad(
            field,
            format!("{v} is not a level: use -1 or 0 and up"),
        )),
        v => u32::try_from(v)
            .map(Some)
            .map_err(|_| bad(field, format!("{v} is too large"))),
    }
}

/// The node id a selector names directly, or `None` when it needs a lookup; a malformed
/// element id is a 400 naming `field`.
pub fn direct_id(field: &str, s: &NodeSelector) -> Result<Option<u64>, RequestError> {
    s.direct_id().map_err(|e| bad(field, e.to_string()))
}

impl Plan {
    /// Compiles a request against a snapshot header.
    pub fn compile<D: AsRef<[u8]>>(
        req: &TraverseRequest,
        snapshot: &Snapshot<D>,
        dicts: &Dictionaries,
        limits: Limits,
    ) -> Result<Plan, RequestError> {
        let header = snapshot.header();
        let mut labels = Names::from_base(dicts.labels.clone());
        let mut types = Names::from_base(dicts.types.clone());

        // A non-blank `sequence` replaces `labelFilter` and `relationshipFilter`, as in APOC,
        // and the answer says so.
        let sequence = req.sequence.as_deref().filter(|s| !s.trim().is_empty());
        let mut warnings: Vec<String> = [
            ("labelFilter", &req.label_filter),
            ("relationshipFilter", &req.relationship_filter),
        ]
        .into_iter()
        .filter(|(_, f)| sequence.is_some() && f.as_deref().is_some_and(|f| !f.trim().is_empty()))
        .map(|(key, _)| format!("`{key}` was ignored: `sequence` replaces it, as in APOC"))
        .collect();
        warnings.extend(req.ignored_keys.iter().map(|key| {
            let key: String = key.chars().take(100).collect();
            format!("`{key}` was ignored: neotrav does not know the key (`lenient`)")
        }));
        let (label_steps, rel_filter) = match sequence {
            Some(seq) => filter::sequence(seq, req.begin_sequence_at_start)?,
            None => (
                match req.label_filter.as_deref() {
                    Some(f) if !f.trim().is_empty() => filter::label_filter("labelFilter", f)?,
                    _ => Vec::new(),
                },
                filter::relationship_filter(
                    "relationshipFilter",
                    req.relationship_filter.as_deref().unwrap_or(""),
                )?,
            ),
        };
        let rel_steps = rel_filter
            .iter()
            .map(|step| expansion(step, &mut types))
            .collect::<Result<Vec<_>, _>>()?;
        let by_label = match &req.expand_by_label {
            None => None,
            Some(map) => {
                let mut by = by_label(map, &mut labels, &mut types)?;
                if by.labels.len() <= TABLE_LABELS {
                    let k = by.labels.len();
                    by.table = rel_steps
                        .iter()
                        .flat_map(|step| {
                            let by = &by;
                            (0..1usize << k).map(move |m| by.narrow(step, |j| m >> j & 1 == 1))
                        })
                        .collect();
                }
                Some(by)
            }
        };
        let end_nodes_only = label_steps
            .iter()
            .any(|s| !s.end.is_empty() || !s.terminator.is_empty());
        let label_steps = label_steps
            .iter()
            .map(|s| label_matcher(s, &mut labels))
            .collect();

        let min_level = level("minLevel", req.min_level)?.unwrap_or(0);
        let mut max_level = level("maxLevel", req.max_level)?.unwrap_or(u32::MAX);
        if let Some(d) = req.budget.max_depth {
            max_level = max_level.min(d);
        }
        let limit = match req.limit {
            -1 => u64::MAX,
            l if l < 0 => {
                return Err(bad(
                    "limit",
                    format!("{l} is not a limit: use -1 or 0 and up"),
                ));
            }
            l => l as u64,
        };

        let mut keys = Vec::new();
        let predicates = req
            .predicates
            .iter()
            .enumerate()
            .map(|(i, p)| predicate(i, p, header, &mut keys, &mut labels))
            .collect::<Result<Vec<_>, _>>()?;
        let group_slot = match &req.return_form {
            ReturnForm::GroupBy { key, label } => Some(key_slot(
                "return.groupBy",
                label.as_deref(),
                key,
                header,
                &mut keys,
                &mut labels,
            )?),
            _ => None,
        };

        let node_list = |field: &str, list: &[NodeSelector]| -> Result<_, RequestError> {
            if list.is_empty() {
                return Ok(None);
            }
            let mut ids = HashSet::default();
            for (i, s) in list.iter().enumerate() {
                let field = format!("{field}[{i}]");
                match (direct_id(&field, s)?, s) {
                    (Some(id), _) => {
                        ids.insert(id);
                    }
                    // A key selector names the snapshot's nodes with that value (none is fine:
                    // the list just holds no node for it).
                    (None, NodeSelector::Key { label, key, value }) => {
                        let view = snapshot.view();
                        for n in super::key_lookup(snapshot, &field, label, key, value)? {
                            ids.extend(view.node_id(n));
                        }
                    }
                    (None, _) => {
                        return Err(bad(
                            &field,
                            "node lists take node ids, element ids or key selectors, not labels",
                        ));
                    }
                }
            }
            Ok(Some(ids))
        };

        let budgets = Budgets::of(&req.budget, limits)?;
        let end_nodes = node_list("endNodes", &req.end_nodes)?;
        let terminator_nodes = node_list("terminatorNodes", &req.terminator_nodes)?;
        // APOC adds the end and terminator nodes to a non-empty allowlist.
        let allowlist_nodes = node_list("allowlistNodes", req.allowlist())?.map(|mut a| {
            a.extend(end_nodes.iter().chain(&terminator_nodes).flatten());
            a
        });
        Ok(Plan {
            labels,
            types,
            rel_steps,
            by_label,
            label_steps,
            end_nodes_only,
            end_nodes,
            terminator_nodes,
            allowlist_nodes,
            denylist_nodes: node_list("denylistNodes", req.denylist())?,
            min_level,
            max_level,
            uniqueness: req.uniqueness,
            bfs: req.bfs,
            limit,
            filter_start_node: req.filter_start_node,
            begin_sequence_at_start: req.begin_sequence_at_start,
            predicates,
            keys,
            group_slot,
            return_form: req.return_form.clone(),
            budgets,
            warnings,
        })
    }

    /// The relationships a node at `depth` may be expanded through: step `depth % n`; or, when
    /// the sequence does not begin at the start node, step 0 for the first hop and the other
    /// steps in turn after it (as APOC's `RelationshipSequenceExpander`).
    ///
    /// Without `expandByLabel` it is the step itself; with it, the combination is written to
    /// `buf`.
    #[inline]
    pub fn expansion<'s>(
        &'s self,
        depth: u32,
        has_label: impl Fn(u32) -> bool,
        buf: &'s mut Expansion,
    ) -> &'s Expansion {
        let n = self.rel_steps.len();
        let i = if n == 1 {
            0
        } else if self.begin_sequence_at_start {
            depth as usize % n
        } else if depth == 0 {
            0
        } else {
            1 + (depth as usize - 1) % (n - 1)
        };
        let step = &self.rel_steps[i];
        match &self.by_label {
            None => step,
            Some(by) if !by.table.is_empty() => {
                let m = by
                    .labels
                    .iter()
                    .enumerate()
                    .fold(0, |m, (j, (l, _))| m | usize::from(has_label(*l)) << j);
                &by.table[i << by.labels.len() | m]
            }
            Some(by) => {
                *buf = by.narrow(step, |j| has_label(by.labels[j].0));
                buf
            }
        }
    }
}

/// Compiles one relationship step into per-direction type sets.
pub fn expansion(step: &[RelEntry], types: &mut Names) -> Result<Expansion, RequestError> {
    if step.is_empty() {
        return Ok([TypeSet::ALL, TypeSet::ALL]);
    }
    let mut e = [TypeSet::NONE, TypeSet::NONE];
    for entry in step {
        let set = match &entry.name {
            None => TypeSet::ALL,
            Some(n) => {
                let code = types.code(n);
                if code as usize >= MAX_TYPES {
                    return Err(bad(
                        "relationshipFilter",
                        format!("too many relationship types (at most {MAX_TYPES})"),
                    ));
                }
                let mut s = TypeSet::NONE;
                s.insert(code);
                s
            }
        };
        if entry.dir != Dir::In {
            e[0] = e[0].union(&set);
        }
        if entry.dir != Dir::Out {
            e[1] = e[1].union(&set);
        }
    }
    Ok(e)
}

fn by_label(
    map: &BTreeMap<String, String>,
    labels: &mut Names,
    types: &mut Names,
) -> Result<ByLabel, RequestError> {
    let mut out = ByLabel {
        labels: Vec::new(),
        default: [TypeSet::NONE, TypeSet::NONE],
        table: Vec::new(),
    };
    for (label, f) in map {
        let step = filter::relationship_step("expandByLabel", f)?;
        if f.contains(',') {
            return Err(bad(
                format!("expandByLabel.{label}"),
                "takes one relationship step (`A>|<B`), not a `,` sequence",
            ));
        }
        let e = expansion(&step, types)?;
        if label == "*" {
            out.default = e;
        } else {
            out.labels.push((labels.code(label), e));
        }
    }
    Ok(out)
}

fn label_list(list: &[Compound], labels: &mut Names) -> LabelList {
    LabelList(
        list.iter()
            .map(|c| match c {
                Compound::Any => Vec::new(),
                Compound::All(names) => {
                    let mut words: Vec<(usize, u64)> = Vec::new();
                    for n in names {
                        let code = labels.code(n);
                        let (w, bit) = (code as usize / 64, 1u64 << (code % 64));
                        match words.iter_mut().find(|(x, _)| *x == w) {
                            Some((_, bits)) => *bits |= bit,
                            None => words.push((w, bit)),
                        }
                    }
                    words
                }
            })
            .collect(),
    )
}

fn label_matcher(step: &LabelStep, labels: &mut Names) -> LabelMatcher {
    LabelMatcher {
        allow: label_list(&step.allow, labels),
        deny: label_list(&step.deny, labels),
        terminator: label_list(&step.terminator, labels),
        end: label_list(&step.end, labels),
    }
}

fn key_slot(
    field: &str,
    label: Option<&str>,
    key: &str,
    header: &Header,
    keys: &mut Vec<KeySlot>,
    labels: &mut Names,
) -> Result<usize, RequestError> {
    let exported = header.columns.iter().any(|c| {
        c.key == key
            && label.is_none_or(|l| {
                c.labels
                    .iter()
                    .any(|&x| header.labels.get(x as usize).is_some_and(|n| n == l))
            })
    });
    if !exported {
        let what = match label {
            Some(l) => format!("{l}.{key}"),
            None => key.to_string(),
        };
        return Err(bad(
            field,
            format!(
                "the snapshot has no column for {what}: export it with `neotrav export --properties {}`",
                label.map_or_else(|| format!("<Label>.{key}"), |l| format!("{l}.{key}"))
            ),
        ));
    }
    let slot = KeySlot {
        label: label.map(str::to_string),
        label_code: label.map(|l| labels.code(l)),
        key: key.to_string(),
    };
    Ok(match keys.iter().position(|k| *k == slot) {
        Some(i) => i,
        None => {
            keys.push(slot);
            keys.len() - 1
        }
    })
}

fn predicate(
    i: usize,
    p: &Predicate,
    header: &Header,
    keys: &mut Vec<KeySlot>,
    labels: &mut Names,
) -> Result<Pred, RequestError> {
    let field = format!("where[{i}]");
    let slot = key_slot(&field, p.label.as_deref(), &p.key, header, keys, labels)?;
    let values = match (&p.op, &p.value) {
        (Op::IsNull | Op::IsNotNull, None) => Vec::new(),
        (Op::IsNull | Op::IsNotNull, Some(_)) => {
            return Err(bad(
                format!("{field}.value"),
                "the null tests take no value",
            ));
        }
        (Op::In, Some(OneOrMany::Many(v))) => v.clone(),
        (Op::In, _) => return Err(bad(format!("{field}.value"), "`IN` takes a list")),
        (_, Some(OneOrMany::One(v))) => vec![v.clone()],
        (_, Some(OneOrMany::Many(_))) => {
            return Err(bad(format!("{field}.value"), "only `IN` takes a list"));
        }
        (_, None) => return Err(bad(format!("{field}.value"), "this operator needs a value")),
    };
    Ok(Pred {
        label: p.label.as_deref().map(|l| labels.code(l)),
        slot,
        op: p.op,
        values,
    })
}

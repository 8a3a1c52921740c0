//! Random statements from the grammar of the supported subset.
//!
//! Every statement is generated with what is needed to compare it: its fields in order and how
//! each column and the row order are compared ([`Shape`]).

use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;
use serde_json::{Value as Json, json};

use super::compare::{Col, Shape};
use super::graph::{LABELS, NAMES, TYPES};

/// One generated statement.
#[derive(Debug, Clone)]
pub struct Case {
    pub text: String,
    pub params: serde_json::Map<String, Json>,
    pub fields: Vec<String>,
    pub shape: Shape,
}

/// What the generator knows of the graph.
pub struct Info {
    /// `key` values of labeled nodes.
    pub keys: Vec<i64>,
    pub neo_ids: Vec<i64>,
    pub rel_ids: Vec<i64>,
    pub database_id: String,
    pub mixed: bool,
    /// Relationships per node (for the cardinality guess).
    pub degree: f64,
    pub nodes: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Node,
    Rel,
    Scalar,
}

#[derive(Debug, Clone)]
struct Var {
    name: String,
    kind: Kind,
    /// May be null (bound by OPTIONAL MATCH).
    nullable: bool,
}

/// A returned item.
struct Item {
    text: String,
    alias: Option<String>,
    col: Col,
    /// May be sorted on (a scalar of a defined order).
    sortable: bool,
    aggregate: bool,
}

pub struct Gen<'a> {
    rng: Pcg64Mcg,
    info: &'a Info,
    params: serde_json::Map<String, Json>,
    vars: Vec<Var>,
    fresh: usize,
    /// Rough number of rows the MATCH clauses make.
    rows: f64,
}

const KEYS_NUMERIC: [&str; 3] = ["key", "num", "score"];

impl<'a> Gen<'a> {
    pub fn new(seed: u64, info: &'a Info) -> Gen<'a> {
        Gen {
            rng: Pcg64Mcg::seed_from_u64(seed),
            info,
            params: serde_json::Map::new(),
            vars: Vec::new(),
            fresh: 0,
            rows: 1.0,
        }
    }

    fn p(&mut self, percent: u32) -> bool {
        self.rng.random_range(0..100) < percent
    }

    fn below(&mut self, n: usize) -> usize {
        self.rng.random_range(0..n.max(1))
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())].clone()
    }

    fn fresh(&mut self, prefix: &str) -> String {
        self.fresh += 1;
        format!("{prefix}{}", self.fresh)
    }

    fn param(&mut self, v: Json) -> String {
        let name = format!("p{}", self.params.len());
        self.params.insert(name.clone(), v);
        format!("${name}")
    }

    fn nodes(&self, nullable: bool) -> Vec<String> {
        self.vars
            .iter()
            .filter(|v| v.kind == Kind::Node && (nullable || !v.nullable))
            .map(|v| v.name.clone())
            .collect()
    }

    fn of_kind(&self, kind: Kind) -> Vec<Var> {
        self.vars
            .iter()
            .filter(|v| v.kind == kind)
            .cloned()
            .collect()
    }

    // ----- literals -----

    fn key_value(&mut self) -> i64 {
        if self.info.keys.is_empty() || self.p(5) {
            return 100_000;
        }
        self.pick(&self.info.keys.clone())
    }

    /// A literal to compare `key` with: usually of its type, sometimes of another (null).
    fn literal(&mut self, key: &str) -> Json {
        if self.p(7) {
            // Cross-type: null in comparisons.
            return match self.below(3) {
                0 => json!("al"),
                1 => json!(true),
                _ => json!(2.5),
            };
        }
        match key {
            "key" => {
                if self.p(15) {
                    json!(self.key_value() as f64)
                } else {
                    json!(self.key_value())
                }
            }
            "num" => match self.below(8) {
                0 => json!(f64::from(self.rng.random_range(-20i32..80)) / 4.0),
                1 if self.info.mixed => json!(self.pick(&NAMES)),
                _ => json!(self.rng.random_range(-5i64..20)),
            },
            "score" => match self.below(4) {
                0 => json!(self.rng.random_range(-10i64..10)),
                _ => json!(f64::from(self.rng.random_range(-1000i32..1000)) / 100.0),
            },
            "flag" => json!(self.p(50)),
            _ => json!(self.pick(&NAMES)),
        }
    }

    fn lit_text(v: &Json) -> String {
        match v {
            Json::String(s) => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
            Json::Number(n) if n.is_f64() => {
                let x = n.as_f64().unwrap();
                if x.fract() == 0.0 && x.abs() < 1e15 {
                    format!("{x:.1}")
                } else {
                    format!("{x}")
                }
            }
            Json::Array(a) => format!(
                "[{}]",
                a.iter().map(Self::lit_text).collect::<Vec<_>>().join(", ")
            ),
            other => other.to_string(),
        }
    }

    /// A literal or a parameter holding it.
    fn value(&mut self, key: &str) -> String {
        let v = self.literal(key);
        if self.p(30) {
            self.param(v)
        } else {
            Self::lit_text(&v)
        }
    }

    // ----- patterns -----

    fn labels(&mut self) -> String {
        match self.below(10) {
            0..=3 => String::new(),
            4 => format!(":{}:{}", self.pick(&LABELS), self.pick(&LABELS)),
            _ => format!(":{}", self.pick(&LABELS)),
        }
    }

    /// A node pattern; binds `name` when given. Returns the text and whether it is anchored
    /// (matches at most a node or two).
    fn node_pattern(&mut self, name: Option<&str>, bound: bool) -> (String, bool) {
        let var = name.unwrap_or("");
        if bound {
            return (format!("({var})"), true);
        }
        let labels = self.labels();
        let mut anchored = false;
        let props = match self.below(14) {
            0..=1 => {
                anchored = true;
                format!(" {{key: {}}}", self.value("key"))
            }
            2 => format!(" {{name: {}}}", self.value("name")),
            3 => format!(" {{flag: {}}}", self.value("flag")),
            4 if self.p(50) => format!(" {{num: {}}}", self.value("num")),
            _ => String::new(),
        };
        (format!("({var}{labels}{props})"), anchored)
    }

    fn types(&mut self) -> String {
        match self.below(10) {
            0..=2 => String::new(),
            3..=4 => format!(":{}|{}", self.pick(&TYPES), self.pick(&TYPES)),
            _ => format!(":{}", self.pick(&TYPES)),
        }
    }

    /// A relationship pattern: text, rows per start node (guess), whether variable-length.
    fn rel_pattern(&mut self, var: Option<&str>, anchored: bool, allow_var: bool) -> (String, f64) {
        let types = self.types();
        let d = self.info.degree.max(0.5);
        let per_type = if types.is_empty() { 1.0 } else { 0.5 };
        let (range, hops) = if allow_var && var.is_none() && self.p(25) {
            let choices: &[(&str, f64)] = if anchored {
                &[
                    ("*", 5.0),
                    ("*2", 2.0),
                    ("*1..3", 3.0),
                    ("*..2", 2.0),
                    ("*0..2", 2.0),
                    ("*2..3", 3.0),
                ]
            } else {
                &[
                    ("*2", 2.0),
                    ("*1..2", 2.0),
                    ("*..2", 2.0),
                    ("*0..2", 2.0),
                    ("*0..1", 1.0),
                ]
            };
            let (r, h) = self.pick(choices);
            (r.to_string(), h)
        } else {
            (String::new(), 1.0)
        };
        let (l, r, dir) = match self.below(3) {
            0 => ("-", "->", 1.0),
            1 => ("<-", "-", 1.0),
            _ => ("-", "-", 2.0),
        };
        // Unbounded only along one type in one direction: Neo4j enumerates every trail, and
        // undirected or over all types those are too many on the larger graphs.
        let range = if range == "*" && (dir > 1.0 || types.is_empty() || types.contains('|')) {
            "*1..3".to_string()
        } else {
            range
        };
        let body = format!("{}{types}{range}", var.unwrap_or(""));
        let text = if body.is_empty() && self.p(50) {
            match r {
                "->" => "-->".to_string(),
                _ if l == "<-" => "<--".to_string(),
                _ => "--".to_string(),
            }
        } else {
            format!("{l}[{body}]{r}")
        };
        let fan = (d * per_type * dir).max(0.3);
        (
            text,
            fan.powf(hops) + if range.contains('0') { 1.0 } else { 0.0 },
        )
    }

    /// A path pattern of 0..=`max_hops` hops; may start at a bound node. Returns its text.
    fn chain(&mut self, max_hops: usize, allow_var: bool) -> String {
        let bound = self.nodes(false);
        let start_bound = !bound.is_empty() && self.p(60);
        let start = if start_bound {
            self.pick(&bound)
        } else {
            let n = self.fresh("n");
            self.vars.push(Var {
                name: n.clone(),
                kind: Kind::Node,
                nullable: false,
            });
            n
        };
        let (mut text, anchored) = self.node_pattern(Some(&start), start_bound);
        if !start_bound {
            self.rows *= if anchored {
                1.0
            } else {
                self.info.nodes as f64 / 3.0
            };
        }
        let hops = if max_hops == 0 {
            0
        } else {
            1 + self.below(max_hops)
        };
        for _ in 0..hops {
            let rvar = if self.p(35) {
                let r = self.fresh("r");
                Some(r)
            } else {
                None
            };
            let (rel, fan) =
                self.rel_pattern(rvar.as_deref(), anchored || self.rows < 5.0, allow_var);
            if let Some(r) = &rvar {
                self.vars.push(Var {
                    name: r.clone(),
                    kind: Kind::Rel,
                    nullable: false,
                });
            }
            self.rows *= fan;
            let (node, _) = if self.p(40) {
                let n = self.fresh("n");
                self.vars.push(Var {
                    name: n.clone(),
                    kind: Kind::Node,
                    nullable: false,
                });
                self.node_pattern(Some(&n), false)
            } else {
                self.node_pattern(None, false)
            };
            text.push_str(&rel);
            text.push_str(&node);
        }
        text
    }

    /// `MATCH` with one to three comma-separated patterns.
    fn match_clause(&mut self) -> String {
        let n = match self.below(10) {
            0..=6 => 1,
            7..=8 => 2,
            _ => 3,
        };
        let mut parts = Vec::new();
        for i in 0..n {
            parts.push(self.chain(if i == 0 { 2 } else { 1 }, true));
        }
        let mut text = format!("MATCH {}", parts.join(", "));
        if self.p(50) {
            let w = self.predicate(2);
            text.push_str(&format!(" WHERE {w}"));
        }
        text
    }

    fn optional_match(&mut self) -> String {
        let bound = self.nodes(false);
        let start = self.pick(&bound);
        let r = self.fresh("r");
        let m = self.fresh("n");
        let (rel, _) = {
            let types = self.types();
            let (l, rr) = self.pick(&[("-", "->"), ("<-", "-"), ("-", "-")]);
            (format!("{l}[{r}{types}]{rr}"), 0.0)
        };
        let (node, _) = self.node_pattern(Some(&m), false);
        let mut text = format!("OPTIONAL MATCH ({start}){rel}{node}");
        self.vars.push(Var {
            name: r,
            kind: Kind::Rel,
            nullable: true,
        });
        self.vars.push(Var {
            name: m.clone(),
            kind: Kind::Node,
            nullable: true,
        });
        if self.p(40) {
            let key = self.pick(&KEYS_NUMERIC);
            let v = self.value(key);
            let op = self.pick(&["=", "<>", "<", "<=", ">", ">="]);
            text.push_str(&format!(" WHERE {m}.{key} {op} {v}"));
        }
        self.rows *= self.info.degree.max(1.0);
        text
    }

    // ----- expressions -----

    fn prop(&mut self, nullable: bool) -> Option<(String, &'static str)> {
        let nodes = self.nodes(nullable);
        if nodes.is_empty() {
            return None;
        }
        let n = self.pick(&nodes);
        let key = self.pick(&["key", "num", "name", "score", "flag"]);
        Some((format!("{n}.{key}"), key))
    }

    /// A boolean expression over the bound variables.
    fn predicate(&mut self, depth: usize) -> String {
        if depth > 0 && self.p(30) {
            let a = self.predicate(depth - 1);
            let b = self.predicate(depth - 1);
            return match self.below(4) {
                0 => format!("({a} AND {b})"),
                1 => format!("({a} OR {b})"),
                2 => format!("({a} XOR {b})"),
                _ => format!("NOT ({a})"),
            };
        }
        let Some((prop, key)) = self.prop(true) else {
            return "true".into();
        };
        match self.below(16) {
            0..=4 => {
                let op = self.pick(&["=", "<>", "<", "<=", ">", ">="]);
                let rhs = if self.p(15) {
                    self.prop(true).map(|p| p.0).unwrap_or_else(|| "1".into())
                } else {
                    self.value(key)
                };
                format!("{prop} {op} {rhs}")
            }
            5 => format!("{prop} IS {}NULL", if self.p(50) { "NOT " } else { "" }),
            6 => {
                let n = 1 + self.below(4);
                let mut items: Vec<Json> = (0..n).map(|_| self.literal(key)).collect();
                if self.p(20) {
                    items.push(Json::Null);
                }
                let list = Json::Array(items);
                if self.p(30) {
                    format!("{prop} IN {}", self.param(list))
                } else {
                    format!("{prop} IN {}", Self::lit_text(&list))
                }
            }
            7 => {
                let op = self.pick(&["STARTS WITH", "ENDS WITH", "CONTAINS"]);
                let s = self.pick(&["al", "a", "e", "AL", "bet", "", "pha", "zz"]);
                let nodes = self.nodes(true);
                let n = self.pick(&nodes);
                let rhs = if self.p(25) {
                    self.param(json!(s))
                } else {
                    format!("'{s}'")
                };
                format!("{n}.name {op} {rhs}")
            }
            8 => {
                let nodes = self.nodes(true);
                let n = self.pick(&nodes);
                let ids: Vec<i64> = (0..1 + self.below(3))
                    .map(|_| self.pick(&self.info.neo_ids.clone()))
                    .collect();
                if ids.len() == 1 {
                    format!("id({n}) = {}", ids[0])
                } else {
                    format!("id({n}) IN {:?}", ids)
                }
            }
            9 => {
                let nodes = self.nodes(true);
                let n = self.pick(&nodes);
                let id = self.pick(&self.info.neo_ids.clone());
                format!("elementId({n}) = '4:{}:{id}'", self.info.database_id)
            }
            10 => {
                let nodes = self.nodes(true);
                let n = self.pick(&nodes);
                format!("{n}:{}", self.pick(&LABELS))
            }
            11..=13 => self.pattern_predicate(),
            14 => {
                let rels = self.of_kind(Kind::Rel);
                if rels.is_empty() {
                    return format!("{prop} IS NULL");
                }
                let r = self.pick(&rels).name;
                if self.p(50) {
                    let id = self.pick(&self.info.rel_ids.clone());
                    format!("id({r}) = {id}")
                } else {
                    format!("type({r}) = '{}'", self.pick(&TYPES))
                }
            }
            _ => {
                let nodes = self.nodes(true);
                let a = self.pick(&nodes);
                let b = self.pick(&nodes);
                format!("{a} {} {b}", self.pick(&["=", "<>"]))
            }
        }
    }

    fn pattern_predicate(&mut self) -> String {
        let nodes = self.nodes(false);
        if nodes.is_empty() {
            return "true".into();
        }
        let a = self.pick(&nodes);
        let types = self.types();
        let (l, r) = self.pick(&[("-", "->"), ("<-", "-"), ("-", "-")]);
        let other = if nodes.len() > 1 && self.p(40) {
            format!("({})", self.pick(&nodes))
        } else if self.p(40) {
            format!("(:{})", self.pick(&LABELS))
        } else {
            "()".into()
        };
        let pat = format!("({a}){l}[{types}]{r}{other}");
        match self.below(4) {
            0 => pat,
            1 => format!("NOT {pat}"),
            2 => format!("EXISTS {{ {pat} }}"),
            _ => {
                let x = self.fresh("x");
                let key = self.pick(&KEYS_NUMERIC);
                let v = self.value(key);
                format!("EXISTS {{ MATCH ({a}){l}[{types}]{r}({x}) WHERE {x}.{key} > {v} }}")
            }
        }
    }

    /// A scalar expression over one node variable (or literals).
    fn scalar_expr(&mut self, nullable: bool) -> Option<(String, bool)> {
        let nodes = self.nodes(nullable);
        if nodes.is_empty() {
            return None;
        }
        let n = self.pick(&nodes);
        // (text, sortable)
        Some(match self.below(14) {
            0..=3 => {
                let key = self.pick(&["key", "num", "name", "score", "flag"]);
                (format!("{n}.{key}"), true)
            }
            4 => {
                let key = if self.info.mixed {
                    self.pick(&["key", "score"])
                } else {
                    self.pick(&KEYS_NUMERIC)
                };
                let op = self.pick(&["+", "-", "*", "%", "/"]);
                let rhs = match op {
                    "/" | "%" => self.pick(&["2", "3", "-4", "2.0"]).to_string(),
                    _ => self.pick(&["1", "2", "0.5", "-3"]).to_string(),
                };
                (format!("{n}.{key} {op} {rhs}"), true)
            }
            5 => (
                format!(
                    "{n}.key * 2 - coalesce({n}.{}, 0)",
                    if self.info.mixed { "score" } else { "num" }
                ),
                true,
            ),
            6 => {
                let f = self.pick(&["toLower", "toUpper", "size"]);
                (format!("{f}({n}.name)"), true)
            }
            7 => {
                let start = self.below(3);
                if self.p(50) {
                    (format!("substring({n}.name, {start})"), true)
                } else {
                    (
                        format!("substring({n}.name, {start}, {})", self.below(4)),
                        true,
                    )
                }
            }
            8 => (
                format!(
                    "coalesce({n}.{}, {n}.{}, {})",
                    self.pick(&["num", "score", "name"]),
                    self.pick(&["key", "flag"]),
                    self.pick(&["-1", "'none'", "null"])
                ),
                true,
            ),
            9 => {
                let key = self.pick(&KEYS_NUMERIC);
                let v = self.value(key);
                (
                    format!(
                        "CASE WHEN {n}.{key} > {v} THEN 'big' WHEN {n}.{key} IS NULL THEN 'none' ELSE 'small' END"
                    ),
                    true,
                )
            }
            10 => {
                let a = self.pick(&NAMES);
                (
                    format!("CASE {n}.name WHEN '{a}' THEN 1 WHEN 'beta' THEN 2 ELSE 0 END"),
                    true,
                )
            }
            11 => (format!("id({n})"), true),
            12 => (format!("elementId({n})"), true),
            _ => {
                let key = self.pick(&["key", "num", "score", "flag", "name"]);
                let v = self.value(key);
                let op = self.pick(&["=", "<>", "<", ">="]);
                (format!("{n}.{key} {op} {v}"), true)
            }
        })
    }

    fn rel_expr(&mut self) -> Option<(String, bool)> {
        let rels = self.of_kind(Kind::Rel);
        if rels.is_empty() {
            return None;
        }
        let r = self.pick(&rels).name;
        Some(match self.below(4) {
            0 => (r, false),
            1 => (format!("type({r})"), true),
            2 => (format!("id({r})"), true),
            _ => (format!("startNode({r})"), false),
        })
    }

    fn item(&mut self, i: usize, text: String, sortable: bool, simple: bool) -> Item {
        let alias = if simple && self.p(30) {
            None
        } else {
            Some(format!("c{i}"))
        };
        Item {
            text,
            alias,
            col: Col::default(),
            sortable,
            aggregate: false,
        }
    }

    /// Projection items (no aggregation).
    fn projection(&mut self, max: usize) -> Vec<Item> {
        let n = 1 + self.below(max);
        let mut items: Vec<Item> = Vec::new();
        for i in 0..n {
            let roll = self.below(10);
            let item = if roll < 2 {
                let nodes = self.nodes(true);
                let v = self.pick(&nodes);
                self.item(i, v, false, true)
            } else if roll < 4 {
                match self.rel_expr() {
                    Some((t, s)) => self.item(i, t, s, false),
                    None => continue,
                }
            } else {
                let (t, s) = self.scalar_expr(true).unwrap();
                let simple = !t.contains(' ') && !t.contains('(');
                self.item(i, t, s, simple)
            };
            if items.iter().any(|x| x.text == item.text) {
                continue;
            }
            items.push(item);
        }
        if items.is_empty() {
            let nodes = self.nodes(true);
            let v = self.pick(&nodes);
            items.push(self.item(0, v, false, true));
        }
        items
    }

    fn aggregate(&mut self, i: usize) -> Item {
        let (t, col, sortable) = match self.below(10) {
            0 | 1 => ("count(*)".to_string(), Col::default(), true),
            2 => {
                let x = match self.p(50) {
                    true => self.pick(&self.nodes(true)),
                    false => self.prop(true).unwrap().0,
                };
                (format!("count({x})"), Col::default(), true)
            }
            3 => {
                let x = match self.p(40) {
                    true => self.pick(&self.nodes(true)),
                    false => self.prop(true).unwrap().0,
                };
                (format!("count(DISTINCT {x})"), Col::default(), true)
            }
            4 | 5 => {
                let x = match self.p(30) {
                    true => self.pick(&self.nodes(true)),
                    false => self.scalar_expr(true).unwrap().0,
                };
                let d = if self.p(30) { "DISTINCT " } else { "" };
                (
                    format!("collect({d}{x})"),
                    Col {
                        unordered: true,
                        path_length: false,
                    },
                    false,
                )
            }
            6 | 7 => {
                let f = self.pick(&["min", "max"]);
                let x = self.scalar_expr(true).unwrap().0;
                (format!("{f}({x})"), Col::default(), true)
            }
            _ => {
                let f = self.pick(&["sum", "avg"]);
                let n = self.pick(&self.nodes(true));
                let key = if self.info.mixed && self.p(80) {
                    self.pick(&["key", "score"])
                } else {
                    self.pick(&KEYS_NUMERIC)
                };
                (format!("{f}({n}.{key})"), Col::default(), true)
            }
        };
        let alias = if t == "count(*)" && self.p(30) {
            None
        } else {
            Some(format!("c{i}"))
        };
        Item {
            text: t,
            alias,
            col,
            sortable,
            aggregate: true,
        }
    }

    fn aggregation(&mut self) -> Vec<Item> {
        let mut items = Vec::new();
        let keys = self.below(3);
        for i in 0..keys {
            let roll = self.below(10);
            let item = if roll < 3 {
                let v = self.pick(&self.nodes(true));
                self.item(i, v, false, true)
            } else {
                let (t, s) = self.scalar_expr(true).unwrap();
                let simple = !t.contains(' ') && !t.contains('(');
                self.item(i, t, s, simple)
            };
            if items.iter().any(|x: &Item| x.text == item.text) {
                continue;
            }
            items.push(item);
        }
        for i in 0..1 + self.below(3) {
            let item = self.aggregate(keys + i);
            if items.iter().any(|x: &Item| x.text == item.text) {
                continue;
            }
            items.push(item);
        }
        items
    }

    /// RETURN (or WITH ... RETURN) with order, skip and limit; fills the case's fields and shape.
    fn finish(&mut self, mut items: Vec<Item>, head: String, distinct: bool) -> Case {
        // Unaliased items are named by their text; names must be unique.
        let mut fields: Vec<String> = Vec::new();
        for (i, it) in items.iter_mut().enumerate() {
            let name = it.alias.clone().unwrap_or_else(|| it.text.clone());
            if fields.contains(&name) {
                it.alias = Some(format!("d{i}"));
            }
            fields.push(it.alias.clone().unwrap_or_else(|| it.text.clone()));
        }
        let mut shape = Shape {
            cols: items.iter().map(|i| i.col).collect(),
            ..Shape::default()
        };
        let ret = items
            .iter()
            .map(|i| match &i.alias {
                Some(a) => format!("{} AS {a}", i.text),
                None => i.text.clone(),
            })
            .collect::<Vec<_>>()
            .join(", ");
        let mut text = format!(
            "{head} RETURN {}{ret}",
            if distinct { "DISTINCT " } else { "" }
        );
        let sortable: Vec<usize> = (0..items.len()).filter(|&i| items[i].sortable).collect();
        if !sortable.is_empty() && self.p(40) {
            let mut keys = sortable.clone();
            // Shuffle, then keep a prefix (all of them half the time: a total order).
            for i in (1..keys.len()).rev() {
                let j = self.below(i + 1);
                keys.swap(i, j);
            }
            if self.p(50) {
                keys.truncate(1 + self.below(keys.len()));
            }
            let order = keys
                .iter()
                .map(|&k| {
                    let dir = self.pick(&["", " ASC", " DESC", " DESC"]);
                    format!("{}{dir}", fields[k])
                })
                .collect::<Vec<_>>()
                .join(", ");
            text.push_str(&format!(" ORDER BY {order}"));
            shape.order = keys.clone();
            shape.total = keys.len() == items.len();
            if self.p(50) {
                if self.p(40) {
                    text.push_str(&format!(" SKIP {}", self.below(4)));
                }
                text.push_str(&format!(" LIMIT {}", self.below(8)));
                shape.limited = true;
            }
        } else if self.p(5) {
            text.push_str(&format!(" LIMIT {}", self.below(5)));
            shape.limited = true;
        }
        Case {
            text,
            params: std::mem::take(&mut self.params),
            fields,
            shape,
        }
    }

    /// One random statement.
    pub fn case(&mut self) -> Case {
        self.vars.clear();
        self.params.clear();
        self.rows = 1.0;
        self.fresh = 0;
        match self.below(20) {
            0..=9 => self.match_return(),
            10..=12 => self.with_pipeline(),
            13..=14 => self.unwind(),
            15..=16 => self.paths(),
            17..=18 => self.shortest(),
            _ => self.expressions(),
        }
    }

    fn body(&mut self) -> String {
        let mut head = self.match_clause();
        if self.p(25) {
            head.push(' ');
            head.push_str(&self.optional_match());
        }
        if self.p(20) {
            // Another MATCH sharing a variable (no relationship uniqueness across clauses).
            let more = self.chain(1, false);
            head.push_str(&format!(" MATCH {more}"));
        }
        head
    }

    fn match_return(&mut self) -> Case {
        let head = self.body();
        let big = self.rows > 3000.0;
        if big || self.p(45) {
            let items = self.aggregation();
            let items = if big {
                items
                    .into_iter()
                    .filter(|i| i.aggregate && !i.col.unordered)
                    .collect::<Vec<_>>()
            } else {
                items
            };
            let items = if items.is_empty() {
                vec![Item {
                    text: "count(*)".into(),
                    alias: Some("c0".into()),
                    col: Col::default(),
                    sortable: true,
                    aggregate: true,
                }]
            } else {
                items
            };
            self.finish(items, head, false)
        } else {
            let items = self.projection(4);
            let distinct = self.p(20);
            self.finish(items, head, distinct)
        }
    }

    fn with_pipeline(&mut self) -> Case {
        let mut head = self.body();
        let nodes = self.nodes(false);
        let keep = self.pick(&nodes);
        match self.below(4) {
            0 => {
                // Group by a node, filter on the aggregate.
                let agg = self.pick(&["count(*)", "count(DISTINCT n1)", "collect(n1.key)"]);
                let agg = if agg.contains("n1") && !nodes.contains(&"n1".to_string()) {
                    "count(*)"
                } else {
                    agg
                };
                let w = "w1".to_string();
                head.push_str(&format!(" WITH {keep}, {agg} AS {w}"));
                if agg.starts_with("collect") {
                    head.push_str(&format!(" WHERE size({w}) > {}", self.below(3)));
                } else {
                    head.push_str(&format!(" WHERE {w} > {}", self.below(3)));
                }
                self.vars.retain(|v| v.name == keep);
                if !agg.starts_with("collect") {
                    self.vars.push(Var {
                        name: w.clone(),
                        kind: Kind::Scalar,
                        nullable: false,
                    });
                }
                self.rows = (self.info.nodes as f64).min(self.rows);
                let mut items = self.projection(2);
                items.push(Item {
                    text: if agg.starts_with("collect") {
                        format!("size({w})")
                    } else {
                        w
                    },
                    alias: Some("cw".into()),
                    col: Col::default(),
                    sortable: true,
                    aggregate: false,
                });
                self.finish(items, head, false)
            }
            1 => {
                // DISTINCT values, then aggregate over them.
                let key = self.pick(&["name", "num", "flag", "score"]);
                head.push_str(&format!(" WITH DISTINCT {keep}.{key} AS w1"));
                self.vars.clear();
                let items = vec![
                    Item {
                        text: "w1".into(),
                        alias: None,
                        col: Col::default(),
                        sortable: true,
                        aggregate: false,
                    },
                    Item {
                        text: if self.p(50) {
                            "w1 IS NULL"
                        } else {
                            "coalesce(w1, 'x')"
                        }
                        .into(),
                        alias: Some("c1".into()),
                        col: Col::default(),
                        sortable: true,
                        aggregate: false,
                    },
                ];
                self.finish(items, head, false)
            }
            2 => {
                // Keep a node (ordered by its key with a limit when labeled), match on.
                head.push_str(&format!(" WITH DISTINCT {keep}"));
                self.vars.retain(|v| v.name == keep);
                if self.p(50) {
                    head.push_str(&format!(" WHERE {}", self.predicate(1)));
                }
                let more = self.chain(1, true);
                head.push_str(&format!(" MATCH {more}"));
                let items = if self.p(50) {
                    self.aggregation()
                } else {
                    self.projection(3)
                };
                self.finish(items, head, false)
            }
            _ => {
                let (e, _) = self.scalar_expr(false).unwrap();
                head.push_str(&format!(" WITH {keep}, {e} AS w1 WHERE w1 IS NOT NULL"));
                self.vars.retain(|v| v.name == keep);
                let items = vec![
                    Item {
                        text: "w1".into(),
                        alias: None,
                        col: Col::default(),
                        sortable: true,
                        aggregate: false,
                    },
                    Item {
                        text: format!("count({keep})"),
                        alias: Some("c1".into()),
                        col: Col::default(),
                        sortable: true,
                        aggregate: true,
                    },
                ];
                self.finish(items, head, false)
            }
        }
    }

    fn unwind(&mut self) -> Case {
        let n = 1 + self.below(4);
        if self.p(50) {
            let keys: Vec<Json> = (0..n).map(|_| json!(self.key_value())).collect();
            let list = Self::lit_text(&Json::Array(keys));
            let m = "n1".to_string();
            self.vars.push(Var {
                name: m.clone(),
                kind: Kind::Node,
                nullable: false,
            });
            let mut head = format!("UNWIND {list} AS x MATCH ({m} {{key: x}})");
            if self.p(50) {
                let (rel, _) = self.rel_pattern(None, true, true);
                head.push_str(&format!("{rel}(n2)"));
                self.vars.push(Var {
                    name: "n2".into(),
                    kind: Kind::Node,
                    nullable: false,
                });
            }
            self.vars.push(Var {
                name: "x".into(),
                kind: Kind::Scalar,
                nullable: false,
            });
            let mut items = vec![Item {
                text: "x".into(),
                alias: None,
                col: Col::default(),
                sortable: true,
                aggregate: false,
            }];
            if self.p(50) {
                items.push(self.aggregate(1));
            } else {
                items.extend(self.projection(2));
            }
            self.finish(items, head, false)
        } else {
            let s = self.pick(&["al", "be", "ga", "Al", "z"]);
            let t = self.pick(&["al", "be", "ga", "x"]);
            let head = format!(
                "UNWIND ['{s}', '{t}'] AS s MATCH (n1{}) WHERE n1.name STARTS WITH s",
                self.labels()
            );
            self.vars.push(Var {
                name: "n1".into(),
                kind: Kind::Node,
                nullable: false,
            });
            let mut items = vec![Item {
                text: "s".into(),
                alias: None,
                col: Col::default(),
                sortable: true,
                aggregate: false,
            }];
            items.push(self.aggregate(1));
            self.finish(items, head, false)
        }
    }

    fn paths(&mut self) -> Case {
        let a = "n1";
        let (start, _) = if self.p(70) {
            (
                format!("(n1{} {{key: {}}})", self.labels(), self.value("key")),
                true,
            )
        } else {
            (format!("(n1:{})", self.pick(&LABELS)), false)
        };
        let types = self.types();
        let range = self.pick(&["*1..2", "*0..2", "*2", "*..2", "*1..3"]);
        let (l, r) = self.pick(&[("-", "->"), ("<-", "-"), ("-", "-")]);
        let end = if self.p(30) {
            format!("(n2:{})", self.pick(&LABELS))
        } else {
            "(n2)".into()
        };
        let mut head = format!("MATCH p = {start}{l}[{types}{range}]{r}{end}");
        self.vars.push(Var {
            name: a.into(),
            kind: Kind::Node,
            nullable: false,
        });
        self.vars.push(Var {
            name: "n2".into(),
            kind: Kind::Node,
            nullable: false,
        });
        if self.p(30) {
            head.push_str(&format!(" WHERE {}", self.predicate(1)));
        }
        let mut items = Vec::new();
        let choice = self.below(4);
        if choice == 0 {
            items.push(Item {
                text: "length(p)".into(),
                alias: Some("len".into()),
                col: Col::default(),
                sortable: true,
                aggregate: false,
            });
            items.push(self.aggregate(1));
        } else {
            for (t, alias, sortable) in [
                ("p", None, false),
                ("length(p)", Some("len"), true),
                ("nodes(p)", Some("ns"), false),
            ] {
                if self.p(60) || (t == "p" && choice == 1) {
                    items.push(Item {
                        text: t.into(),
                        alias: alias.map(String::from),
                        col: Col::default(),
                        sortable,
                        aggregate: false,
                    });
                }
            }
            if items.is_empty() {
                items.push(Item {
                    text: "p".into(),
                    alias: None,
                    col: Col::default(),
                    sortable: false,
                    aggregate: false,
                });
            }
        }
        self.finish(items, head, false)
    }

    fn shortest(&mut self) -> Case {
        let keys = &self.info.keys;
        let k1 = self.pick(keys);
        let mut k2 = self.pick(keys);
        if k2 == k1 {
            k2 = *keys.iter().find(|k| **k != k1).unwrap_or(&100_000);
        }
        let types = self.types();
        let range = self.pick(&["*", "*..3", "*1..5", "*..6"]);
        let (l, r) = self.pick(&[("-", "->"), ("<-", "-"), ("-", "-"), ("-", "-")]);
        let all = self.p(40);
        let f = if all {
            "allShortestPaths"
        } else {
            "shortestPath"
        };
        let v1 = self.value_of(json!(k1));
        let v2 = self.value_of(json!(k2));
        let head = if self.p(50) {
            format!(
                "MATCH (a {{key: {v1}}}), (b {{key: {v2}}}) MATCH p = {f}((a){l}[{types}{range}]{r}(b))"
            )
        } else {
            format!("MATCH p = {f}((a {{key: {v1}}}){l}[{types}{range}]{r}(b {{key: {v2}}}))")
        };
        let mut items = vec![Item {
            text: "length(p)".into(),
            alias: Some("len".into()),
            col: Col::default(),
            sortable: true,
            aggregate: false,
        }];
        if self.p(60) {
            items.push(Item {
                text: "p".into(),
                alias: None,
                col: Col {
                    unordered: false,
                    path_length: !all,
                },
                sortable: false,
                aggregate: false,
            });
        }
        if self.p(30) {
            items = vec![Item {
                text: "count(p)".into(),
                alias: Some("c0".into()),
                col: Col::default(),
                sortable: true,
                aggregate: true,
            }];
        }
        self.finish(items, head, false)
    }

    fn value_of(&mut self, v: Json) -> String {
        if self.p(30) {
            self.param(v)
        } else {
            Self::lit_text(&v)
        }
    }

    /// Expressions without a graph: cross-type comparisons, min/max over mixed types,
    /// arithmetic, string functions, CASE.
    fn expressions(&mut self) -> Case {
        let pool: Vec<Json> = vec![
            json!(1),
            json!(-3),
            json!(2.5),
            json!(2.0),
            json!("al"),
            json!("alpha"),
            json!("Beta"),
            json!(true),
            json!(false),
            Json::Null,
            json!(10),
        ];
        let n = 1 + self.below(5);
        let items: Vec<Json> = (0..n).map(|_| self.pick(&pool)).collect();
        let list = Json::Array(items);
        let list = if self.p(30) {
            self.param(list)
        } else {
            Self::lit_text(&list)
        };
        let head = format!("UNWIND {list} AS x");
        let aggregate = self.p(50);
        let items = if aggregate {
            let mut v = Vec::new();
            for (i, f) in [
                "min(x)",
                "max(x)",
                "count(x)",
                "count(DISTINCT x)",
                "collect(x)",
            ]
            .iter()
            .enumerate()
            {
                if self.p(50) {
                    v.push(Item {
                        text: f.to_string(),
                        alias: Some(format!("c{i}")),
                        col: Col {
                            unordered: f.starts_with("collect"),
                            path_length: false,
                        },
                        sortable: !f.starts_with("collect"),
                        aggregate: true,
                    });
                }
            }
            if v.is_empty() {
                v.push(Item {
                    text: "count(*)".into(),
                    alias: None,
                    col: Col::default(),
                    sortable: true,
                    aggregate: true,
                });
            }
            v
        } else {
            let y = Self::lit_text(&self.pick(&pool));
            let mut v = vec![Item {
                text: "x".into(),
                alias: None,
                col: Col::default(),
                sortable: true,
                aggregate: false,
            }];
            let exprs = [
                format!("x = {y}"),
                format!("x < {y}"),
                format!("x >= {y}"),
                format!("x <> {y}"),
                format!("x IN [{y}, 1]"),
                "x IS NULL".to_string(),
                "coalesce(x, 'none')".to_string(),
                format!("CASE WHEN x = {y} THEN 'same' ELSE 'other' END"),
                format!("CASE x WHEN {y} THEN 1 ELSE 0 END"),
            ];
            for (i, e) in exprs.iter().enumerate() {
                if self.p(30) {
                    v.push(Item {
                        text: e.clone(),
                        alias: Some(format!("c{i}")),
                        col: Col::default(),
                        sortable: true,
                        aggregate: false,
                    });
                }
            }
            v
        };
        self.finish(items, head, false)
    }
}

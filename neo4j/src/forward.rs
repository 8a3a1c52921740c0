//! Forwarding: a read-only Cypher statement the snapshot cannot answer, run on Neo4j in a read
//! transaction, its rows converted into the Query API's value model
//! ([`neotrav_wire::cypher::Value`]), so an answer from Neo4j has the shape of one from the
//! snapshot.
//!
//! - [`forward`] runs the statement with access mode READ (Bolt `mode: "r"`): Neo4j itself
//!   refuses a statement that writes (`Neo.ClientError.Statement.AccessMode`), whatever the
//!   caller checked before. It runs on the database the [`Graph`] was configured with
//!   ([`crate::connect::Connection::database`]).
//! - Bolt 4.4, the protocol neo4rs speaks, carries numeric ids, not element ids. Neo4j 5's
//!   element ids are `4:<database id>:<id>` for nodes and `5:<database id>:<id>` for
//!   relationships, where the database id is the store's uuid (not `CALL db.info()`'s `id`,
//!   which is another one); [`database_id`] reads it from `elementId()` of any node, and
//!   [`forward`] takes it to build element ids (this crate's tests check them against
//!   `elementId()`).
//! - Temporal and spatial values and byte arrays become [`Value::Other`] with the Query API's
//!   typed-JSON type names (`Date`, `Time`, `LocalTime`, `OffsetDateTime`, `ZonedDateTime`,
//!   `LocalDateTime`, `Duration`, `Point`, `Base64`) and the text Neo4j writes for them.
//!
//! ```no_run
//! # async fn example(graph: neo4rs::Graph) -> Result<(), neotrav_neo4j::forward::ForwardError> {
//! use neotrav_neo4j::forward::{database_id, forward};
//!
//! let db = database_id(&graph).await?.unwrap_or_default();
//! let answer = forward(&graph, &db, "CALL db.labels() YIELD label RETURN label", &[]).await?;
//! println!("{:?}: {} rows", answer.fields, answer.rows.len());
//! # Ok(())
//! # }
//! ```

use std::fmt::Write as _;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, SecondsFormat};
use neo4rs::{BoltList, BoltMap, BoltString, BoltType, Graph, query};
use neotrav_wire::cypher::{Node, Path, Relationship, Value};
use serde::Deserialize;
use serde::de::IntoDeserializer;

/// Why a forwarded statement gave no answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ForwardError {
    /// Neo4j ran the statement and refused it (a syntax error, a write in a read transaction,
    /// a missing parameter): its own code and message.
    #[error("Neo4j refused the statement: {code}: {message}")]
    Refused {
        /// Neo4j's status code (`Neo.ClientError.Statement.AccessMode`, ...).
        code: String,
        /// Neo4j's message.
        message: String,
    },
    /// Neo4j could not be reached or the connection failed.
    #[error("Neo4j could not be reached: {0}")]
    Unavailable(String),
    /// A value in a row could not be converted.
    #[error("a value from Neo4j could not be read: {0}")]
    Value(String),
}

impl ForwardError {
    fn of(e: neo4rs::Error) -> ForwardError {
        match e {
            neo4rs::Error::Neo4j(e) => ForwardError::Refused {
                code: e.code().to_string(),
                message: e.message().to_string(),
            },
            other => ForwardError::Unavailable(other.to_string()),
        }
    }

    /// Whether Neo4j itself refused the statement (not a connection failure).
    pub fn is_refusal(&self) -> bool {
        matches!(self, ForwardError::Refused { .. })
    }
}

/// What Neo4j answered: the fields in RETURN order and the rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Forwarded {
    /// Column names.
    pub fields: Vec<String>,
    /// One value per field per row.
    pub rows: Vec<Vec<Value>>,
}

/// The database id element ids are built from: the middle of `elementId()` of any node (the
/// store's uuid, `4:<uuid>:<id>`), or `None` when the database has no node (then no node or
/// relationship can be in an answer; ask again later). `CALL db.info()`'s `id` is another id
/// (a 64-digit hex store id), not this one.
pub async fn database_id(graph: &Graph) -> Result<Option<String>, ForwardError> {
    let rows = crate::cypher::rows(
        graph,
        query("MATCH (n) RETURN elementId(n) AS id LIMIT 1"),
        true,
    )
    .await
    .map_err(ForwardError::of)?;
    Ok(rows
        .first()
        .and_then(|r| r.get::<String>("id").ok())
        .and_then(|id| parse_element_id(&id).map(|(db, _)| db.to_owned())))
}

/// The database id and numeric id of an element id (`4:<db>:<id>`, `5:<db>:<id>`).
pub fn parse_element_id(element_id: &str) -> Option<(&str, i64)> {
    let rest = element_id
        .strip_prefix("4:")
        .or_else(|| element_id.strip_prefix("5:"))?;
    let (db, id) = rest.rsplit_once(':')?;
    Some((db, id.parse().ok()?))
}

/// Runs `statement` with `params` on Neo4j in a read transaction and converts the rows;
/// `database_id` is the id element ids are built from ([`database_id`]).
pub async fn forward(
    graph: &Graph,
    database_id: &str,
    statement: &str,
    params: &[(String, Value)],
) -> Result<Forwarded, ForwardError> {
    let mut q = query(statement);
    for (name, v) in params {
        q = q.param(name, to_bolt(v));
    }
    let mut stream = graph.execute_read(q).await.map_err(ForwardError::of)?;
    // A neo4rs row is a hash map (its keys' order differs from row to row): the RETURN order is
    // recovered from the statement's text once, and every row is read by name in it.
    let mut fields: Option<Vec<String>> = None;
    let mut rows = Vec::new();
    while let Some(row) = stream.next().await.map_err(ForwardError::of)? {
        let names = fields.get_or_insert_with(|| {
            let names: Vec<String> = row.keys().iter().map(|k| k.value.clone()).collect();
            field_order(statement, &names)
                .into_iter()
                .map(|i| names[i].clone())
                .collect()
        });
        let mut values = Vec::with_capacity(names.len());
        for name in names.iter() {
            let v: BoltType = row
                .get(name)
                .map_err(|e| ForwardError::Value(format!("field {name}: {e}")))?;
            values.push(from_bolt(&v, database_id)?);
        }
        rows.push(values);
    }
    // An empty answer carries no row to read the fields from: the stream's keys are not public
    // in this neo4rs, so an empty answer has no fields.
    Ok(Forwarded {
        fields: fields.unwrap_or_default(),
        rows,
    })
}

/// The order of `names` (the keys of a row) in the statement's last `RETURN` (or `YIELD`)
/// clause: each key is found as `AS key` or as an item of its own (followed by `,` or the
/// clause's end); keys not found go last, by name.
fn field_order(statement: &str, names: &[String]) -> Vec<usize> {
    let lower = statement.to_ascii_lowercase();
    let clause_at = last_keyword(&lower, "return").or_else(|| last_keyword(&lower, "yield"));
    let clause = clause_at.map_or("", |at| &statement[at..]);
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let position = |name: &str| -> Option<usize> {
        let quoted = format!("`{}`", name.replace('`', "``"));
        let lower_clause = clause.to_ascii_lowercase();
        for needle in [quoted.as_str(), name] {
            let mut from = 0;
            while let Some(i) = clause[from..].find(needle).map(|i| i + from) {
                from = i + needle.len().max(1);
                let before = clause[..i].chars().next_back();
                let after = clause[i + needle.len()..].chars().next();
                let bounded = !before.is_some_and(ident) && !after.is_some_and(ident);
                if !bounded {
                    continue;
                }
                let alias = lower_clause[..i].trim_end().ends_with(" as");
                let rest = clause[i + needle.len()..].trim_start();
                let rest_lower = rest.to_ascii_lowercase();
                let ends_item = rest.is_empty()
                    || rest.starts_with([',', ';'])
                    || ["order", "skip", "limit", "union", "where"]
                        .iter()
                        .any(|k| rest_lower.starts_with(k));
                if alias || ends_item {
                    return Some(i);
                }
            }
        }
        None
    };
    let mut order: Vec<(Option<usize>, usize)> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (position(n), i))
        .collect();
    order.sort_by(|a, b| match (a.0, b.0) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => names[a.1].cmp(&names[b.1]),
    });
    order.into_iter().map(|(_, i)| i).collect()
}

/// The byte just past the last `keyword` (lowercase) standing as a word outside quotes.
fn last_keyword(lower: &str, keyword: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    let mut found = None;
    let bytes = lower.as_bytes();
    for (i, c) in lower.char_indices() {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            continue;
        }
        if matches!(c, '\'' | '"' | '`') {
            quote = Some(c);
            continue;
        }
        if lower[i..].starts_with(keyword) {
            let before = i.checked_sub(1).map(|b| bytes[b]);
            let after = bytes.get(i + keyword.len()).copied();
            let word = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !word(before) && !word(after) {
                found = Some(i + keyword.len());
            }
        }
    }
    found
}

/// A parameter as Bolt. [`Value::Other`] (a typed-JSON temporal or spatial value) is sent as
/// its text: Neo4j's functions (`date($d)`, ...) take it.
pub fn to_bolt(v: &Value) -> BoltType {
    match v {
        Value::Null => BoltType::Null(neo4rs::BoltNull),
        Value::Bool(b) => BoltType::from(*b),
        Value::Int(i) => BoltType::from(*i),
        Value::Float(x) => BoltType::from(*x),
        Value::String(s) => BoltType::String(BoltString::from(s.as_str())),
        Value::List(l) => {
            let mut out = BoltList::new();
            for x in l {
                out.push(to_bolt(x));
            }
            BoltType::List(out)
        }
        Value::Map(m) => map_to_bolt(m),
        Value::Node(n) => map_to_bolt(&n.properties),
        Value::Relationship(r) => map_to_bolt(&r.properties),
        Value::Path(p) => {
            let mut out = BoltList::new();
            for n in &p.nodes {
                out.push(map_to_bolt(&n.properties));
            }
            BoltType::List(out)
        }
        Value::Other { text, .. } => BoltType::String(BoltString::from(text.as_str())),
    }
}

fn map_to_bolt(m: &[(String, Value)]) -> BoltType {
    let mut out = BoltMap::new();
    for (k, x) in m {
        out.put(BoltString::from(k.as_str()), to_bolt(x));
    }
    BoltType::Map(out)
}

/// A node's element id on database `db`.
pub fn node_element_id(db: &str, id: i64) -> String {
    format!("4:{db}:{id}")
}

/// A relationship's element id on database `db`.
pub fn relationship_element_id(db: &str, id: i64) -> String {
    format!("5:{db}:{id}")
}

fn other(type_name: &str, text: String) -> Value {
    Value::Other {
        type_name: type_name.to_owned(),
        text,
    }
}

fn bad<E: std::fmt::Display>(what: &str) -> impl Fn(E) -> ForwardError + '_ {
    move |e| ForwardError::Value(format!("{what}: {e}"))
}

/// A value of a row as the Query API's value model; `db` is the database id for element ids.
pub fn from_bolt(v: &BoltType, db: &str) -> Result<Value, ForwardError> {
    Ok(match v {
        BoltType::Null(_) => Value::Null,
        BoltType::Boolean(b) => Value::Bool(b.value),
        BoltType::Integer(i) => Value::Int(i.value),
        BoltType::Float(x) => Value::Float(x.value),
        BoltType::String(s) => Value::String(s.value.clone()),
        BoltType::List(l) => Value::List(
            l.value
                .iter()
                .map(|x| from_bolt(x, db))
                .collect::<Result<_, _>>()?,
        ),
        BoltType::Map(m) => Value::Map(properties(m, db)?),
        BoltType::Node(n) => Value::Node(node(n, db)?),
        BoltType::Relation(r) => Value::Relationship(Relationship {
            element_id: relationship_element_id(db, r.id.value),
            start_node_element_id: node_element_id(db, r.start_node_id.value),
            end_node_element_id: node_element_id(db, r.end_node_id.value),
            rel_type: r.typ.value.clone(),
            properties: properties(&r.properties, db)?,
        }),
        BoltType::UnboundedRelation(r) => Value::Relationship(Relationship {
            element_id: relationship_element_id(db, r.id.value),
            start_node_element_id: String::new(),
            end_node_element_id: String::new(),
            rel_type: r.typ.value.clone(),
            properties: properties(&r.properties, db)?,
        }),
        BoltType::Path(p) => Value::Path(path(p, db)?),
        BoltType::Point2D(p) => other(
            "Point",
            format!(
                "SRID={};POINT ({} {})",
                p.sr_id.value,
                coordinate(p.x.value),
                coordinate(p.y.value)
            ),
        ),
        BoltType::Point3D(p) => other(
            "Point",
            format!(
                "SRID={};POINT Z ({} {} {})",
                p.sr_id.value,
                coordinate(p.x.value),
                coordinate(p.y.value),
                coordinate(p.z.value)
            ),
        ),
        BoltType::Bytes(b) => other("Base64", base64(&b.value)),
        BoltType::Duration(_) => {
            let (months, days, seconds, nanos) =
                <(i64, i64, i64, i64)>::deserialize(v.into_deserializer())
                    .map_err(bad("a duration"))?;
            other("Duration", duration_text(months, days, seconds, nanos))
        }
        BoltType::Date(d) => {
            let d: NaiveDate = d.try_into().map_err(bad("a date"))?;
            other("Date", d.format("%Y-%m-%d").to_string())
        }
        BoltType::Time(t) => {
            let (t, offset): (NaiveTime, FixedOffset) = t.into();
            other("Time", format!("{}{}", time_text(t), offset_text(offset)))
        }
        BoltType::LocalTime(t) => {
            let t: NaiveTime = t.into();
            other("LocalTime", time_text(t))
        }
        BoltType::DateTime(d) => {
            let d: DateTime<FixedOffset> = d.try_into().map_err(bad("a datetime"))?;
            other(
                "OffsetDateTime",
                d.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            )
        }
        BoltType::LocalDateTime(d) => {
            let d: NaiveDateTime = d.try_into().map_err(bad("a local datetime"))?;
            other(
                "LocalDateTime",
                format!("{}T{}", d.date().format("%Y-%m-%d"), time_text(d.time())),
            )
        }
        BoltType::DateTimeZoneId(d) => {
            let at: DateTime<FixedOffset> = d.try_into().map_err(bad("a zoned datetime"))?;
            other(
                "ZonedDateTime",
                format!(
                    "{}[{}]",
                    at.to_rfc3339_opts(SecondsFormat::AutoSi, true),
                    d.tz_id()
                ),
            )
        }
    })
}

fn properties(m: &BoltMap, db: &str) -> Result<Vec<(String, Value)>, ForwardError> {
    let mut out: Vec<(String, Value)> = m
        .value
        .iter()
        .map(|(k, v)| Ok((k.value.clone(), from_bolt(v, db)?)))
        .collect::<Result<_, ForwardError>>()?;
    // Bolt maps are unordered; sorted keys make answers comparable.
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

fn node(n: &neo4rs::BoltNode, db: &str) -> Result<Node, ForwardError> {
    Ok(Node {
        element_id: node_element_id(db, n.id.value),
        labels: n
            .labels
            .value
            .iter()
            .filter_map(|l| match l {
                BoltType::String(s) => Some(s.value.clone()),
                _ => None,
            })
            .collect(),
        properties: properties(&n.properties, db)?,
    })
}

/// A Bolt path: its distinct nodes, its distinct (unbounded) relationships, and `indices`,
/// pairs of (relationship index, node index) per hop: a relationship index `i > 0` is
/// `rels[i - 1]` traversed along its direction, `i < 0` is `rels[-i - 1]` against it.
fn path(p: &neo4rs::BoltPath, db: &str) -> Result<Path, ForwardError> {
    let nodes: Vec<&neo4rs::BoltNode> = p
        .nodes
        .value
        .iter()
        .filter_map(|n| match n {
            BoltType::Node(n) => Some(n),
            _ => None,
        })
        .collect();
    let rels: Vec<&BoltType> = p.rels.value.iter().collect();
    let indices: Vec<i64> = p
        .indices
        .value
        .iter()
        .filter_map(|i| match i {
            BoltType::Integer(i) => Some(i.value),
            _ => None,
        })
        .collect();
    let broken = || ForwardError::Value("a path whose indices do not match its parts".into());
    let first = nodes.first().ok_or_else(broken)?;
    let mut out = Path {
        nodes: vec![node(first, db)?],
        relationships: Vec::with_capacity(indices.len() / 2),
    };
    let mut previous = *first;
    for hop in indices.chunks(2) {
        let [r, n] = hop else { return Err(broken()) };
        let next = *nodes
            .get(usize::try_from(*n).map_err(|_| broken())?)
            .ok_or_else(broken)?;
        let rel_at = usize::try_from(r.unsigned_abs().checked_sub(1).ok_or_else(broken)?)
            .map_err(|_| broken())?;
        let (id, typ, props) = match rels.get(rel_at).ok_or_else(broken)? {
            BoltType::UnboundedRelation(u) => (u.id.value, &u.typ, &u.properties),
            BoltType::Relation(u) => (u.id.value, &u.typ, &u.properties),
            _ => return Err(broken()),
        };
        let (start, end) = if *r > 0 {
            (previous, next)
        } else {
            (next, previous)
        };
        out.relationships.push(Relationship {
            element_id: relationship_element_id(db, id),
            start_node_element_id: node_element_id(db, start.id.value),
            end_node_element_id: node_element_id(db, end.id.value),
            rel_type: typ.value.clone(),
            properties: properties(props, db)?,
        });
        out.nodes.push(node(next, db)?);
        previous = next;
    }
    Ok(out)
}

/// A coordinate as Neo4j writes it in WKT (`1.0`, `-0.5`).
fn coordinate(x: f64) -> String {
    let s = x.to_string();
    if s.contains(['.', 'e', 'E', 'N', 'i']) {
        s
    } else {
        format!("{s}.0")
    }
}

/// `HH:MM:SS` with the fraction Neo4j writes (none, or 3, 6 or 9 digits).
fn time_text(t: NaiveTime) -> String {
    t.format("%H:%M:%S%.f").to_string()
}

/// `Z` for UTC, else `+HH:MM` (with `:SS` when the offset has seconds).
fn offset_text(o: FixedOffset) -> String {
    let secs = o.local_minus_utc();
    if secs == 0 {
        return "Z".into();
    }
    let sign = if secs < 0 { '-' } else { '+' };
    let a = secs.unsigned_abs();
    let mut s = format!("{sign}{:02}:{:02}", a / 3600, a / 60 % 60);
    if !a.is_multiple_of(60) {
        let _ = write!(s, ":{:02}", a % 60);
    }
    s
}

/// An ISO 8601 duration as Neo4j writes it: `P1Y2M3DT4H5M6.5S`, `PT0S` when zero.
fn duration_text(months: i64, days: i64, seconds: i64, nanos: i64) -> String {
    let mut s = String::from("P");
    let (years, months) = (months / 12, months % 12);
    if years != 0 {
        let _ = write!(s, "{years}Y");
    }
    if months != 0 {
        let _ = write!(s, "{months}M");
    }
    if days != 0 {
        let _ = write!(s, "{days}D");
    }
    let total_nanos = i128::from(seconds) * 1_000_000_000 + i128::from(nanos);
    if total_nanos != 0 || s == "P" {
        s.push('T');
        let negative = total_nanos < 0;
        let abs = total_nanos.unsigned_abs();
        let (secs, frac) = (abs / 1_000_000_000, abs % 1_000_000_000);
        let (h, m, sec) = (secs / 3600, secs / 60 % 60, secs % 60);
        let sign = if negative { "-" } else { "" };
        if h != 0 {
            let _ = write!(s, "{sign}{h}H");
        }
        if m != 0 {
            let _ = write!(s, "{sign}{m}M");
        }
        if sec != 0 || frac != 0 || (h == 0 && m == 0) {
            let _ = write!(s, "{sign}{sec}");
            if frac != 0 {
                let f = format!("{frac:09}");
                let _ = write!(s, ".{}", f.trim_end_matches('0'));
            }
            s.push('S');
        }
    }
    s
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_come_back_in_return_order() {
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let order = |q: &str, n: &[&str]| {
            let n = names(n);
            field_order(q, &n)
                .into_iter()
                .map(|i| n[i].clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            order("MATCH (a) RETURN a.x AS x, a", &["a", "x"]),
            ["x", "a"]
        );
        assert_eq!(
            order(
                "MATCH (n) RETURN count(n), n.name AS name ORDER BY name",
                &["name", "count(n)"]
            ),
            ["count(n)", "name"]
        );
        assert_eq!(
            order(
                "MATCH (n) WITH n AS m RETURN m.b AS `b b`, m.a AS a",
                &["a", "b b"]
            ),
            ["b b", "a"]
        );
        assert_eq!(order("CALL db.labels()", &["label"]), ["label"]);
    }

    #[test]
    fn durations_are_written_as_neo4j_writes_them() {
        assert_eq!(duration_text(0, 0, 0, 0), "PT0S");
        assert_eq!(
            duration_text(14, 3, 3600 + 60 + 6, 500_000_000),
            "P1Y2M3DT1H1M6.5S"
        );
        assert_eq!(duration_text(0, 2, 0, 0), "P2D");
        assert_eq!(duration_text(0, 0, -90, 0), "PT-1M-30S");
    }

    #[test]
    fn offsets_times_and_bytes() {
        assert_eq!(offset_text(FixedOffset::east_opt(0).unwrap()), "Z");
        assert_eq!(offset_text(FixedOffset::east_opt(3600).unwrap()), "+01:00");
        assert_eq!(offset_text(FixedOffset::west_opt(5400).unwrap()), "-01:30");
        let t = NaiveTime::from_hms_milli_opt(12, 0, 1, 500).unwrap();
        assert_eq!(time_text(t), "12:00:01.500");
        assert_eq!(base64(b"Man"), "TWFu");
        assert_eq!(base64(b"Ma"), "TWE=");
        assert_eq!(base64(b"M"), "TQ==");
        assert_eq!(coordinate(1.0), "1.0");
        assert_eq!(coordinate(-0.25), "-0.25");
    }

    #[test]
    fn values_convert_both_ways() {
        let v = Value::Map(vec![
            ("a".into(), Value::Int(1)),
            (
                "b".into(),
                Value::List(vec![Value::Float(0.5), Value::Null, Value::Bool(true)]),
            ),
            ("c".into(), Value::String("x".into())),
        ]);
        assert_eq!(from_bolt(&to_bolt(&v), "db").unwrap(), v);
        let date = BoltType::Date(NaiveDate::from_ymd_opt(2024, 2, 29).unwrap().into());
        assert_eq!(
            from_bolt(&date, "db").unwrap(),
            other("Date", "2024-02-29".into())
        );
        let dt = DateTime::parse_from_rfc3339("2024-01-02T03:04:05+01:00").unwrap();
        assert_eq!(
            from_bolt(&BoltType::DateTime(dt.into()), "db").unwrap(),
            other("OffsetDateTime", "2024-01-02T03:04:05+01:00".into())
        );
        let d = BoltType::Duration(neo4rs::BoltDuration::new(
            14.into(),
            3.into(),
            7.into(),
            0.into(),
        ));
        assert_eq!(
            from_bolt(&d, "db").unwrap(),
            other("Duration", "P1Y2M3DT7S".into())
        );
    }

    #[test]
    fn a_path_follows_its_indices_and_directions() {
        let n = |id: i64| {
            BoltType::Node(neo4rs::BoltNode::new(
                id.into(),
                BoltList::new(),
                BoltMap::new(),
            ))
        };
        let r = |id: i64| {
            BoltType::UnboundedRelation(neo4rs::BoltUnboundedRelation::new(
                id.into(),
                "T".into(),
                BoltMap::new(),
            ))
        };
        // (1)-[10]->(2)<-[11]-(3)
        let p = neo4rs::BoltPath {
            nodes: BoltList::from(vec![n(1), n(2), n(3)]),
            rels: BoltList::from(vec![r(10), r(11)]),
            indices: BoltList::from(vec![
                BoltType::from(1_i64),
                BoltType::from(1_i64),
                BoltType::from(-2_i64),
                BoltType::from(2_i64),
            ]),
        };
        let Value::Path(p) = from_bolt(&BoltType::Path(p), "d").unwrap() else {
            panic!("a path")
        };
        let ids: Vec<&str> = p.nodes.iter().map(|n| n.element_id.as_str()).collect();
        assert_eq!(ids, ["4:d:1", "4:d:2", "4:d:3"]);
        assert_eq!(p.relationships[0].start_node_element_id, "4:d:1");
        assert_eq!(p.relationships[0].end_node_element_id, "4:d:2");
        assert_eq!(p.relationships[1].element_id, "5:d:11");
        assert_eq!(p.relationships[1].start_node_element_id, "4:d:3");
        assert_eq!(p.relationships[1].end_node_element_id, "4:d:2");
    }
}

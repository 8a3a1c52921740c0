//! The exporter: a live Neo4j database into a snapshot file.
//!
//! # How it reads
//!
//! Node ids are cut into pages of consecutive ids (`page_size`, 50,000 by default). For every
//! page two read-only queries run, each returning one row of parallel lists rather than one row
//! per entity (so the driver decodes a few large messages instead of millions of small ones):
//!
//! ```cypher
//! UNWIND range($lo, $hi) AS i MATCH (n) WHERE id(n) = i
//! RETURN collect(i) AS ids, collect(labels(n)) AS labels, collect([n.`k1`, ...]) AS props
//!
//! UNWIND range($lo, $hi) AS i MATCH (a)-[r]->(b) WHERE id(a) = i
//! RETURN collect(id(r)) AS ids, collect(i) AS starts, collect(id(b)) AS ends,
//!        collect($codes[type(r)]) AS types
//! ```
//!
//! Each `id(n) = i` is a constant-time id seek, so a page costs what it holds, and every
//! relationship is read exactly once, from its start node. Pages run `concurrency` at a time over
//! separate pooled connections while the builder takes the pages already read.
//!
//! # Completeness
//!
//! Counts of the chosen nodes and relationships are read from Neo4j before and after the export.
//! The snapshot is written only when the exported counts equal both; otherwise the export fails
//! and the previous file at the output path is untouched (a result stream cut short, or writes
//! during the export, both end up here).
//!
//! # The watermark
//!
//! Neo4j 5.26 Community exposes no last-committed transaction id to Cypher: `SHOW DATABASES`
//! yields `lastCommittedTxn` as null in Community, the JMX beans that held it were removed in
//! 5.0, and `apoc.monitor.tx` is not in APOC core. The id is carried only inside Bolt bookmarks,
//! whose encoding is internal to Neo4j and which the pinned neo4rs does not return. The
//! snapshot's watermark therefore records `last_committed_tx: None` and, in its note, the wall
//! clock time at which the export started and the counts it was checked against.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use futures::StreamExt;
use neo4rs::{BoltType, Graph, Query, query};

use neotrav_snapshot::{
    BuildError, Progress, PropertyKind, SnapshotBuilder, Source, Value, Watermark,
};

use crate::cypher::{BadIdentifier, quote, rows};

/// What to export.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// Export only nodes with at least one of these labels (all nodes when empty), and only
    /// relationships between such nodes.
    pub labels: Vec<String>,
    /// Export only relationships of these types (all when empty).
    pub types: Vec<String>,
    /// Key properties to export as typed columns, as `(label, key)`.
    pub properties: Vec<(String, String)>,
    /// Node ids per page.
    pub page_size: u64,
    /// Pages read at once, each on its own connection.
    pub concurrency: usize,
}

impl Default for ExportOptions {
    fn default() -> ExportOptions {
        ExportOptions {
            labels: Vec::new(),
            types: Vec::new(),
            properties: Vec::new(),
            page_size: 50_000,
            concurrency: 4,
        }
    }
}

impl ExportOptions {
    /// Parses a `--properties` list: `Label.key` items separated by commas. Backticks quote a
    /// label holding a dot: `` `My.Label`.key ``.
    pub fn parse_properties(list: &str) -> Result<Vec<(String, String)>, String> {
        let mut out = Vec::new();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let split = if let Some(rest) = item.strip_prefix('`') {
                rest.find('`').map(|end| (&rest[..end], &rest[end + 1..]))
            } else {
                item.rfind('.').map(|dot| (&item[..dot], &item[dot..]))
            };
            match split {
                Some((label, key))
                    if !label.is_empty() && key.len() > 1 && key.starts_with('.') =>
                {
                    out.push((label.to_string(), key[1..].to_string()));
                }
                _ => {
                    return Err(format!(
                        "{item:?} is not Label.key (for example Release.year or `My.Label`.name)"
                    ));
                }
            }
        }
        Ok(out)
    }
}

/// Why an export failed. The previous file at the output path, if any, is untouched.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// A query failed: Neo4j went away, refused, or answered unexpectedly.
    #[error("reading {what} from Neo4j failed: {source}")]
    Neo4j {
        /// What was being read.
        what: String,
        /// The driver's error.
        #[source]
        source: neo4rs::Error,
    },
    /// A label, type or key to export does not exist in the database.
    #[error("the {what} {name:?} does not exist in the database; it has: {known}")]
    Unknown {
        /// `label`, `relationship type` or `property key`.
        what: &'static str,
        /// The name asked for.
        name: String,
        /// What the database has, comma-separated.
        known: String,
    },
    /// A name cannot be put in a query.
    #[error(transparent)]
    Identifier(#[from] BadIdentifier),
    /// A property value cannot be held in a column.
    #[error(
        "property {label}.{key} of node {node} is a {found}; snapshot columns hold integers, \
         floats, booleans and strings (leave it out of --properties)"
    )]
    UnsupportedValue {
        /// The label it was exported for.
        label: String,
        /// The key.
        key: String,
        /// The Neo4j node id.
        node: u64,
        /// What the value was.
        found: &'static str,
    },
    /// The exported counts differ from Neo4j's own.
    #[error(
        "exported {exported} {what}, but Neo4j counted {before} at the start and {after} at the \
         end; {hint}. Nothing was written"
    )]
    CountMismatch {
        /// `nodes` or `relationships`.
        what: &'static str,
        /// How many the export read.
        exported: u64,
        /// Neo4j's count when the export started.
        before: u64,
        /// Neo4j's count when it ended.
        after: u64,
        /// What probably happened.
        hint: &'static str,
    },
    /// The graph gained a label or type while it was read.
    #[error(
        "a relationship of a type created after the export started was read (relationship {rel}); \
         re-run the export when writes are quiet"
    )]
    GraphChanged {
        /// The relationship's id.
        rel: u64,
    },
    /// Building or writing the file failed.
    #[error(transparent)]
    Build(#[from] BuildError),
}

fn neo(what: impl Into<String>) -> impl FnOnce(neo4rs::Error) -> ExportError {
    let what = what.into();
    move |source| ExportError::Neo4j { what, source }
}

/// What an export did.
#[derive(Debug, Clone)]
pub struct ExportReport {
    /// Nodes exported.
    pub nodes: u64,
    /// Relationships exported.
    pub relationships: u64,
    /// Size of the written file (0 for a drain).
    pub bytes: u64,
    /// Time spent reading from Neo4j (including feeding the builder).
    pub read: Duration,
    /// Time spent building and writing the file.
    pub write: Duration,
    /// Neo4j's version.
    pub neo4j_version: String,
}

impl ExportReport {
    /// Total time.
    pub fn elapsed(&self) -> Duration {
        self.read + self.write
    }
}

/// Where the graph is read from, for the snapshot's header. Never holds credentials.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    /// The Neo4j address without user or password.
    pub address: String,
    /// The database name (empty for the server's default).
    pub database: String,
}

/// Exports the graph `graph` is connected to into a snapshot at `out`, atomically.
pub async fn export(
    graph: &Graph,
    origin: &Origin,
    options: &ExportOptions,
    out: &Path,
    progress: &dyn Progress,
) -> Result<ExportReport, ExportError> {
    let started = Instant::now();
    let started_at = SystemTime::now();
    let plan = Plan::new(graph, options).await?;
    let mut sink = BuildSink::new(&plan)?;
    let (nodes, relationships) = plan.run(graph, options, &mut sink, progress).await?;
    let read = started.elapsed();

    let mut builder = sink.builder;
    builder.source(Source {
        address: origin.address.clone(),
        database: origin.database.clone(),
        neo4j_version: plan.version.clone(),
        description: String::new(),
    });
    builder.watermark(Watermark {
        last_committed_tx: None,
        note: format!(
            "export started {}; checked against Neo4j's counts ({nodes} nodes, {relationships} \
             relationships) at its start and end; Neo4j 5.26 Community exposes no committed \
             transaction id",
            humantime::format_rfc3339_seconds(started_at)
        ),
    });
    progress.phase("writing the snapshot", None);
    let path = out.to_path_buf();
    let written = Instant::now();
    let summary = tokio::task::spawn_blocking(move || builder.write(&path))
        .await
        .expect("the snapshot writer does not panic")?;
    Ok(ExportReport {
        nodes,
        relationships,
        bytes: summary.bytes,
        read,
        write: written.elapsed(),
        neo4j_version: plan.version,
    })
}

/// Reads exactly what [`export`] reads, with the same queries, and throws it away: the cost of
/// the Bolt streams alone, to compare the export against.
pub async fn drain(
    graph: &Graph,
    options: &ExportOptions,
    progress: &dyn Progress,
) -> Result<ExportReport, ExportError> {
    let started = Instant::now();
    let plan = Plan::new(graph, options).await?;
    let (nodes, relationships) = plan.run(graph, options, &mut Discard, progress).await?;
    Ok(ExportReport {
        nodes,
        relationships,
        bytes: 0,
        read: started.elapsed(),
        write: Duration::ZERO,
        neo4j_version: plan.version,
    })
}

/// The queries of one export, built once.
#[derive(Debug)]
struct Plan {
    version: String,
    node_query: String,
    rel_query: String,
    count_nodes: String,
    count_rels: String,
    /// Property keys read per node, in the order of the `props` lists.
    keys: Vec<String>,
    /// For each key, the labels it is exported for.
    key_labels: Vec<Vec<String>>,
    /// Relationship type name -> code sent as `$codes`, and back.
    type_codes: HashMap<String, i64>,
    types: Vec<String>,
}

impl Plan {
    async fn new(graph: &Graph, options: &ExportOptions) -> Result<Plan, ExportError> {
        let version: String = value(
            graph,
            "CALL dbms.components() YIELD versions RETURN versions[0] AS v",
            "the Neo4j version",
        )
        .await?
        .unwrap_or_default();
        let labels = names(graph, "CALL db.labels() YIELD label RETURN label AS name").await?;
        let types = names(
            graph,
            "CALL db.relationshipTypes() YIELD relationshipType RETURN relationshipType AS name",
        )
        .await?;
        let keys = names(
            graph,
            "CALL db.propertyKeys() YIELD propertyKey RETURN propertyKey AS name",
        )
        .await?;
        let check = |what: &'static str, name: &str, known: &[String]| {
            if known.iter().any(|k| k == name) {
                Ok(())
            } else {
                Err(ExportError::Unknown {
                    what,
                    name: name.to_string(),
                    known: if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    },
                })
            }
        };
        for label in &options.labels {
            check("label", label, &labels)?;
        }
        for t in &options.types {
            check("relationship type", t, &types)?;
        }
        let mut prop_keys: Vec<String> = Vec::new();
        let mut key_labels: Vec<Vec<String>> = Vec::new();
        for (label, key) in &options.properties {
            check("label", label, &labels)?;
            check("property key", key, &keys)?;
            match prop_keys.iter().position(|k| k == key) {
                Some(i) => key_labels[i].push(label.clone()),
                None => {
                    prop_keys.push(key.clone());
                    key_labels.push(vec![label.clone()]);
                }
            }
        }

        let label_filter = |var: &str| -> Result<String, BadIdentifier> {
            if options.labels.is_empty() {
                return Ok(String::new());
            }
            let any = options
                .labels
                .iter()
                .map(|l| Ok(format!("{var}:{}", quote("label", l)?)))
                .collect::<Result<Vec<_>, BadIdentifier>>()?;
            Ok(format!(" AND ({})", any.join(" OR ")))
        };
        let type_pattern = if options.types.is_empty() {
            String::new()
        } else {
            let quoted = options
                .types
                .iter()
                .map(|t| quote("relationship type", t))
                .collect::<Result<Vec<_>, _>>()?;
            format!(":{}", quoted.join("|"))
        };
        let props = prop_keys
            .iter()
            .map(|k| Ok(format!("n.{}", quote("property key", k)?)))
            .collect::<Result<Vec<_>, BadIdentifier>>()?;
        let node_filter = label_filter("n")?;
        let rel_filter = format!("{}{}", label_filter("a")?, label_filter("b")?);
        let node_query = format!(
            "UNWIND range($lo, $hi) AS i MATCH (n) WHERE id(n) = i{node_filter} \
             RETURN collect(i) AS ids, collect(labels(n)) AS labels, collect([{}]) AS props",
            props.join(", ")
        );
        let rel_query = format!(
            "UNWIND range($lo, $hi) AS i MATCH (a)-[r{type_pattern}]->(b) WHERE id(a) = i{rel_filter} \
             RETURN collect(id(r)) AS ids, collect(i) AS starts, collect(id(b)) AS ends, \
             collect($codes[type(r)]) AS types"
        );
        let where_nodes = node_filter.strip_prefix(" AND ").unwrap_or_default();
        let count_nodes = if where_nodes.is_empty() {
            "MATCH (n) RETURN count(n) AS v".to_string()
        } else {
            format!("MATCH (n) WHERE {where_nodes} RETURN count(n) AS v")
        };
        let where_rels = rel_filter.strip_prefix(" AND ").unwrap_or_default();
        let count_rels = if where_rels.is_empty() {
            format!("MATCH ()-[r{type_pattern}]->() RETURN count(r) AS v")
        } else {
            format!("MATCH (a)-[r{type_pattern}]->(b) WHERE {where_rels} RETURN count(r) AS v")
        };
        let type_codes = types
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i as i64))
            .collect();
        Ok(Plan {
            version,
            node_query,
            rel_query,
            count_nodes,
            count_rels,
            keys: prop_keys,
            key_labels,
            type_codes,
            types,
        })
    }

    async fn counts(&self, graph: &Graph) -> Result<(u64, u64), ExportError> {
        let nodes = count(graph, &self.count_nodes, "the node count").await?;
        let rels = count(graph, &self.count_rels, "the relationship count").await?;
        Ok((nodes, rels))
    }

    /// Reads every page into `sink` and checks the counts; returns what was read.
    async fn run(
        &self,
        graph: &Graph,
        options: &ExportOptions,
        sink: &mut dyn PageSink,
        progress: &dyn Progress,
    ) -> Result<(u64, u64), ExportError> {
        let (nodes_before, rels_before) = self.counts(graph).await?;
        let max_id: i64 = value(
            graph,
            "MATCH (n) RETURN coalesce(max(id(n)), -1) AS v",
            "the highest node id",
        )
        .await?
        .unwrap_or(-1);
        let page = options.page_size.max(1) as i64;
        let pages: Vec<(bool, i64)> = (0..=max_id)
            .step_by(page as usize)
            .flat_map(|lo| [(true, lo), (false, lo)])
            .collect();
        progress.phase(
            "reading nodes and relationships",
            Some(nodes_before + rels_before),
        );
        let codes: Arc<BoltType> = Arc::new(
            self.type_codes
                .iter()
                .map(|(k, v)| (k.clone(), *v))
                .collect::<HashMap<String, i64>>()
                .into(),
        );
        let mut results = futures::stream::iter(pages)
            .map(|(is_nodes, lo)| {
                let graph = graph.clone();
                let codes = codes.clone();
                async move {
                    let hi = lo + page - 1;
                    let q = if is_nodes {
                        query(&self.node_query)
                    } else {
                        query(&self.rel_query).param("codes", (*codes).clone())
                    };
                    let q: Query = q.param("lo", lo).param("hi", hi);
                    let what = format!(
                        "{} of nodes {lo}..={hi}",
                        if is_nodes { "nodes" } else { "relationships" }
                    );
                    let mut got = rows(&graph, q, true).await.map_err(neo(&what))?;
                    let row = got.pop().ok_or_else(|| ExportError::Neo4j {
                        what: what.clone(),
                        source: neo4rs::Error::NoMoreRows,
                    })?;
                    let decoded = if is_nodes {
                        Page::Nodes {
                            ids: row.get("ids").map_err(de(&what))?,
                            labels: row.get("labels").map_err(de(&what))?,
                            props: row.get("props").map_err(de(&what))?,
                        }
                    } else {
                        Page::Rels {
                            ids: row.get("ids").map_err(de(&what))?,
                            starts: row.get("starts").map_err(de(&what))?,
                            ends: row.get("ends").map_err(de(&what))?,
                            types: row.get("types").map_err(de(&what))?,
                        }
                    };
                    Ok::<Page, ExportError>(decoded)
                }
            })
            .buffer_unordered(options.concurrency.max(1));

        let (mut nodes, mut rels) = (0u64, 0u64);
        while let Some(page) = results.next().await {
            match page? {
                Page::Nodes { ids, labels, props } => {
                    nodes += ids.len() as u64;
                    progress.advance(ids.len() as u64);
                    sink.nodes(self, ids, labels, props)?;
                }
                Page::Rels {
                    ids,
                    starts,
                    ends,
                    types,
                } => {
                    rels += ids.len() as u64;
                    progress.advance(ids.len() as u64);
                    sink.relationships(self, ids, starts, ends, types)?;
                }
            }
        }
        drop(results);

        let (nodes_after, rels_after) = self.counts(graph).await?;
        for (what, exported, before, after) in [
            ("nodes", nodes, nodes_before, nodes_after),
            ("relationships", rels, rels_before, rels_after),
        ] {
            if exported != before || exported != after {
                let hint = if before != after {
                    "the graph changed during the export; re-run it when writes are quiet"
                } else {
                    "a result stream was cut short"
                };
                return Err(ExportError::CountMismatch {
                    what,
                    exported,
                    before,
                    after,
                    hint,
                });
            }
        }
        Ok((nodes, rels))
    }
}

fn de(what: &str) -> impl FnOnce(neo4rs::DeError) -> ExportError {
    let what = what.to_string();
    move |e| ExportError::Neo4j {
        what,
        source: neo4rs::Error::DeserializationError(e),
    }
}

async fn names(graph: &Graph, q: &str) -> Result<Vec<String>, ExportError> {
    let got = rows(graph, query(q), true)
        .await
        .map_err(neo("the database's schema"))?;
    let mut names = got
        .iter()
        .map(|row| row.get::<String>("name"))
        .collect::<Result<Vec<_>, _>>()
        .map_err(de("the database's schema"))?;
    names.sort();
    Ok(names)
}

/// The column `v` of the first row of a read-only query, if there is a row.
async fn value<T: for<'de> serde::Deserialize<'de>>(
    graph: &Graph,
    q: &str,
    what: &str,
) -> Result<Option<T>, ExportError> {
    let got = rows(graph, query(q), true).await.map_err(neo(what))?;
    got.first()
        .map(|row| row.get::<T>("v"))
        .transpose()
        .map_err(de(what))
}

async fn count(graph: &Graph, q: &str, what: &str) -> Result<u64, ExportError> {
    let c: i64 = value(graph, q, what)
        .await?
        .ok_or_else(|| ExportError::Neo4j {
            what: what.to_string(),
            source: neo4rs::Error::NoMoreRows,
        })?;
    Ok(c.max(0) as u64)
}

/// One page as decoded from its single row.
enum Page {
    Nodes {
        ids: Vec<i64>,
        labels: Vec<Vec<String>>,
        props: Vec<Vec<BoltType>>,
    },
    Rels {
        ids: Vec<i64>,
        starts: Vec<i64>,
        ends: Vec<i64>,
        types: Vec<Option<i64>>,
    },
}

/// Where decoded pages go.
trait PageSink: Send {
    fn nodes(
        &mut self,
        plan: &Plan,
        ids: Vec<i64>,
        labels: Vec<Vec<String>>,
        props: Vec<Vec<BoltType>>,
    ) -> Result<(), ExportError>;

    fn relationships(
        &mut self,
        plan: &Plan,
        ids: Vec<i64>,
        starts: Vec<i64>,
        ends: Vec<i64>,
        types: Vec<Option<i64>>,
    ) -> Result<(), ExportError>;
}

/// Reads and forgets: the drain.
struct Discard;

impl PageSink for Discard {
    fn nodes(
        &mut self,
        _: &Plan,
        _: Vec<i64>,
        _: Vec<Vec<String>>,
        _: Vec<Vec<BoltType>>,
    ) -> Result<(), ExportError> {
        Ok(())
    }

    fn relationships(
        &mut self,
        _: &Plan,
        _: Vec<i64>,
        _: Vec<i64>,
        _: Vec<i64>,
        _: Vec<Option<i64>>,
    ) -> Result<(), ExportError> {
        Ok(())
    }
}

/// Feeds pages to a [`SnapshotBuilder`], declaring each key when its first value arrives.
/// Neo4j has no declared property types: a key whose values are of several types (an int on
/// one node, a string on another) gets one column per type, which the builder makes when the
/// first value of each type comes. Values the snapshot cannot hold (lists, maps, byte arrays,
/// temporal values, points) fail the export, naming the node, the key and the type.
struct BuildSink {
    builder: SnapshotBuilder,
    declared: Vec<Option<PropertyKind>>,
}

impl BuildSink {
    fn new(plan: &Plan) -> Result<BuildSink, ExportError> {
        Ok(BuildSink {
            builder: SnapshotBuilder::new(),
            declared: vec![None; plan.keys.len()],
        })
    }
}

impl PageSink for BuildSink {
    fn nodes(
        &mut self,
        plan: &Plan,
        ids: Vec<i64>,
        labels: Vec<Vec<String>>,
        props: Vec<Vec<BoltType>>,
    ) -> Result<(), ExportError> {
        let mut values: Vec<(&str, Value)> = Vec::with_capacity(plan.keys.len());
        for ((id, labels), props) in ids.into_iter().zip(labels).zip(props) {
            let id = id as u64;
            values.clear();
            for (k, value) in props.into_iter().enumerate() {
                let key = plan.keys[k].as_str();
                let value = match value {
                    BoltType::Null(_) => continue,
                    BoltType::Integer(i) => Value::Int(i.value),
                    BoltType::Float(f) => Value::Float(f.value),
                    BoltType::Boolean(b) => Value::Bool(b.value),
                    BoltType::String(s) => Value::String(s.value),
                    other => {
                        // Only an error where the node has a label the key was exported for.
                        let Some(label) = plan.key_labels[k]
                            .iter()
                            .find(|l| labels.iter().any(|x| x == *l))
                        else {
                            continue;
                        };
                        return Err(ExportError::UnsupportedValue {
                            label: label.clone(),
                            key: key.to_string(),
                            node: id,
                            found: bolt_kind(&other),
                        });
                    }
                };
                if self.declared[k].is_none() {
                    let kind = match value {
                        Value::Int(_) => PropertyKind::Int,
                        Value::Float(_) => PropertyKind::Float,
                        Value::Bool(_) => PropertyKind::Bool,
                        Value::String(_) => PropertyKind::String,
                    };
                    for label in &plan.key_labels[k] {
                        self.builder.column(label, key, kind)?;
                    }
                    self.declared[k] = Some(kind);
                }
                values.push((key, value));
            }
            self.builder
                .add_node(id, labels.iter().map(String::as_str), values.drain(..))?;
        }
        Ok(())
    }

    fn relationships(
        &mut self,
        plan: &Plan,
        ids: Vec<i64>,
        starts: Vec<i64>,
        ends: Vec<i64>,
        types: Vec<Option<i64>>,
    ) -> Result<(), ExportError> {
        for (((id, start), end), code) in ids.into_iter().zip(starts).zip(ends).zip(types) {
            let name = code
                .and_then(|c| plan.types.get(c as usize))
                .ok_or(ExportError::GraphChanged { rel: id as u64 })?;
            self.builder
                .add_relationship(id as u64, name, start as u64, end as u64)?;
        }
        Ok(())
    }
}

fn bolt_kind(value: &BoltType) -> &'static str {
    match value {
        BoltType::List(_) => "list",
        BoltType::Map(_) => "map",
        BoltType::Bytes(_) => "byte array",
        BoltType::Point2D(_) | BoltType::Point3D(_) => "point",
        BoltType::Duration(_) => "duration",
        BoltType::Date(_)
        | BoltType::Time(_)
        | BoltType::LocalTime(_)
        | BoltType::DateTime(_)
        | BoltType::LocalDateTime(_)
        | BoltType::DateTimeZoneId(_) => "temporal value",
        _ => "value of another type",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_parse() {
        assert_eq!(
            ExportOptions::parse_properties("B.flag, Release.year,Artist.name").unwrap(),
            vec![
                ("B".to_string(), "flag".to_string()),
                ("Release".to_string(), "year".to_string()),
                ("Artist".to_string(), "name".to_string()),
            ]
        );
        assert_eq!(
            ExportOptions::parse_properties("`My.Label`.name").unwrap(),
            vec![("My.Label".to_string(), "name".to_string())]
        );
        for bad in ["flag", "B.", ".flag", "`B.flag"] {
            let err = ExportOptions::parse_properties(bad).unwrap_err();
            assert!(err.contains("Label.key"), "{bad}: {err}");
        }
    }
}

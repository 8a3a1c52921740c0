//! `neotrav cypher`: one read-only Cypher statement on a snapshot file, in-process; what the
//! snapshot cannot answer is forwarded to Neo4j (`--unsupported forward`) or refused.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;
use neotrav_cypher::{CypherError, Forward, Limits, Params, Prepared};
use neotrav_wire::cypher::{Encoding, Value};
use serde_json::{Map, Value as Json, json};

use super::connection::Neo4jArgs;
use super::serve::UnsupportedArg;

/// Output formats of `neotrav cypher`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum Format {
    /// A table, one row per line.
    Table,
    /// One JSON document: `fields`, `values` (plain encoding), `answeredBy`, `forwardedBecause`.
    Json,
    /// A line `{"fields": [...]}`, one JSON array per row, then a line with `answeredBy`.
    Ndjson,
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:
  neotrav cypher --snapshot graph.snap 'MATCH (a:Artist)<-[:BY]-(r) RETURN a.name AS name, count(r) AS n'
  neotrav cypher --snapshot graph.snap 'MATCH (n:B) WHERE n.flag = $f RETURN count(n)' --param f=true
  neotrav cypher --snapshot graph.snap 'MATCH (n) WHERE id(n) IN $ids RETURN n' --params-json '{\"ids\": [1, 2]}'
  neotrav cypher --snapshot graph.snap --explain 'MATCH (n:A) RETURN n'
  neotrav cypher --snapshot graph.snap --unsupported forward --uri bolt://127.0.0.1:7687 'CALL db.labels()'")]
pub(super) struct CypherArgs {
    /// The snapshot file to answer from.
    #[arg(long)]
    snapshot: PathBuf,
    /// The statement: one read-only Cypher query, with `$name` parameters.
    statement: String,
    /// A parameter, `name=value`: the value is read as JSON when it parses (`42` an integer,
    /// `1.5` a float, `true`, `[1, 2]`, `{"k": 1}`, `"quoted"`), else taken as a string.
    /// Repeatable; wins over --params-json.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    params: Vec<String>,
    /// Parameters as one JSON object (plain or Neo4j's typed JSON values).
    #[arg(long, value_name = "JSON")]
    params_json: Option<String>,
    /// Print the plan (or the construct that needs Neo4j) instead of running the statement.
    #[arg(long)]
    explain: bool,
    /// How to print the answer.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// What to do with a statement the snapshot cannot answer: `forward` runs it on Neo4j
    /// (the --uri/--user/--password/--database options) in a read transaction; `refuse` fails
    /// naming the construct. Default: forward when --uri (or NEO4J_URI) is given, else refuse.
    #[arg(long, value_enum, value_name = "WHAT")]
    unsupported: Option<UnsupportedArg>,
    /// Wall-clock limit of the run on the snapshot.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration,
          default_value = "10s")]
    deadline: std::time::Duration,
    #[command(flatten)]
    neo4j: Neo4jArgs,
}

/// `name=value`, the value as JSON when it parses, else as a string.
pub(super) fn parse_param(s: &str) -> Result<(String, Json)> {
    let Some((name, value)) = s.split_once('=') else {
        bail!("--param {s:?}: give it as name=value");
    };
    let name = name.trim().trim_start_matches('$');
    if name.is_empty() {
        bail!("--param {s:?}: the name is empty");
    }
    let value = serde_json::from_str(value).unwrap_or_else(|_| Json::String(value.to_owned()));
    Ok((name.to_owned(), value))
}

fn parameters(args: &CypherArgs) -> Result<Map<String, Json>> {
    let mut out = match &args.params_json {
        None => Map::new(),
        Some(text) => match serde_json::from_str(text).context("--params-json is not JSON")? {
            Json::Object(o) => o,
            _ => bail!("--params-json must be a JSON object, such as '{{\"name\": 1}}'"),
        },
    };
    for p in &args.params {
        let (k, v) = parse_param(p)?;
        out.insert(k, v);
    }
    Ok(out)
}

/// The statement without a leading `EXPLAIN` (blanked, so lines and columns stay), and
/// whether it had one.
fn strip_explain(text: &str) -> (String, bool) {
    let start = text.len() - text.trim_start().len();
    let rest = &text[start..];
    if rest
        .get(..7)
        .is_some_and(|w| w.eq_ignore_ascii_case("explain"))
        && rest[7..].starts_with(char::is_whitespace)
    {
        let mut t = text.to_owned();
        t.replace_range(start..start + 7, "       ");
        (t, true)
    } else {
        (text.to_owned(), false)
    }
}

/// A statement error, as the user should read it.
fn explain_error(e: CypherError) -> anyhow::Error {
    match e {
        CypherError::Syntax(s) => anyhow::anyhow!("{s}\n{}", s.rendered),
        other => anyhow::anyhow!("{other}"),
    }
}

struct Answer {
    fields: Vec<String>,
    rows: Vec<Vec<Value>>,
    by: &'static str,
    because: Option<String>,
}

pub(super) async fn run(args: CypherArgs) -> Result<ExitCode> {
    let params_json = parameters(&args)?;
    let (text, explain_prefix) = strip_explain(&args.statement);
    let explain = args.explain || explain_prefix;
    let statement = neotrav_cypher::parse(&text).map_err(explain_error)?;
    let explain = explain || statement.is_explain();
    let params = Params::from_map(&params_json).map_err(explain_error)?;
    let snapshot = neotrav_snapshot::Snapshot::open(&args.snapshot)
        .with_context(|| format!("cannot read {}", args.snapshot.display()))?;
    let unsupported = args.unsupported.unwrap_or(if args.neo4j.given() {
        UnsupportedArg::Forward
    } else {
        UnsupportedArg::Refuse
    });
    let graph = match unsupported {
        UnsupportedArg::Forward => Some(args.neo4j.connect()?),
        UnsupportedArg::Refuse => None,
    };
    let forward = match statement.plan(&snapshot).map_err(explain_error)? {
        Prepared::Local(plan) => {
            if explain {
                println!("{plan}");
                return Ok(ExitCode::SUCCESS);
            }
            let database_id = match &graph {
                Some(g) => neotrav_neo4j::forward::database_id(g)
                    .await
                    .ok()
                    .flatten()
                    .unwrap_or_default(),
                None => String::new(),
            };
            let limits = Limits {
                deadline: args.deadline,
                database_id,
                ..Limits::default()
            };
            match plan.run(&snapshot, &params, &limits) {
                Ok(a) => {
                    print(
                        args.format,
                        &Answer {
                            fields: a.fields,
                            rows: a.rows,
                            by: "snapshot",
                            because: None,
                        },
                    )?;
                    return Ok(ExitCode::SUCCESS);
                }
                Err(CypherError::NeedsNeo4j(f)) => f,
                Err(e) => return Err(explain_error(e)),
            }
        }
        Prepared::Forward(f) => f,
    };
    if explain {
        println!(
            "Forward to Neo4j: {} (line {}, column {}): {}",
            forward.construct, forward.line, forward.column, forward.reason
        );
        return Ok(ExitCode::SUCCESS);
    }
    let Some(graph) = graph else {
        bail!(
            "{}; the snapshot cannot answer it. Run it on Neo4j with --unsupported forward \
             (and --uri)",
            describe(&forward)
        );
    };
    let values: Vec<(String, Value)> = params_json
        .iter()
        .map(|(k, v)| {
            Value::from_parameter(v)
                .map(|v| (k.clone(), v))
                .map_err(|e| anyhow::anyhow!("parameter ${k}: {e}"))
        })
        .collect::<Result<_>>()?;
    let database_id = neotrav_neo4j::forward::database_id(&graph)
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    let answer = neotrav_neo4j::forward::forward(&graph, &database_id, &args.statement, &values)
        .await
        .with_context(|| format!("forwarding to Neo4j at {}", args.neo4j.origin().address))?;
    print(
        args.format,
        &Answer {
            fields: answer.fields,
            rows: answer.rows,
            by: "neo4j",
            because: Some(forward.to_string()),
        },
    )?;
    Ok(ExitCode::SUCCESS)
}

fn describe(f: &Forward) -> String {
    format!(
        "{} at line {}, column {} needs Neo4j: {}",
        f.construct, f.line, f.column, f.reason
    )
}

fn print(format: Format, a: &Answer) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let plain =
        |row: &[Value]| -> Vec<Json> { row.iter().map(|v| v.encode(Encoding::Plain)).collect() };
    match format {
        Format::Json => {
            let mut doc = json!({
                "data": {"fields": a.fields, "values": a.rows.iter().map(|r| plain(r)).collect::<Vec<_>>()},
                "answeredBy": a.by,
            });
            if let Some(b) = &a.because {
                doc["forwardedBecause"] = Json::String(b.clone());
            }
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
        Format::Ndjson => {
            serde_json::to_writer(&mut out, &json!({ "fields": a.fields }))?;
            writeln!(out)?;
            for r in &a.rows {
                serde_json::to_writer(&mut out, &plain(r))?;
                writeln!(out)?;
            }
            let mut last = json!({"answeredBy": a.by, "rows": a.rows.len()});
            if let Some(b) = &a.because {
                last["forwardedBecause"] = Json::String(b.clone());
            }
            serde_json::to_writer(&mut out, &last)?;
            writeln!(out)?;
        }
        Format::Table => {
            let cells: Vec<Vec<String>> = a
                .rows
                .iter()
                .map(|r| r.iter().map(cell).collect())
                .collect();
            out.write_all(table(&a.fields, &cells).as_bytes())?;
            let n = a.rows.len();
            let by = match &a.because {
                Some(b) => format!("answered by Neo4j, because {b}"),
                None => "answered by the snapshot".to_string(),
            };
            writeln!(out, "{n} row{}; {by}", if n == 1 { "" } else { "s" })?;
        }
    }
    out.flush()?;
    Ok(())
}

/// A value as a table cell: strings bare, other values as compact JSON.
fn cell(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "null".into(),
        Value::Other { text, .. } => text.clone(),
        other => other.encode(Encoding::Plain).to_string(),
    }
}

/// Columns padded to their widest cell, with a header and a rule.
fn table(fields: &[String], rows: &[Vec<String>]) -> String {
    let width = |i: usize| {
        rows.iter()
            .filter_map(|r| r.get(i))
            .chain(fields.get(i))
            .map(|c| c.chars().count())
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..fields.len()).map(width).collect();
    let line = |cells: &[String]| {
        let mut s = String::new();
        for (i, w) in widths.iter().enumerate() {
            let c = cells.get(i).map_or("", String::as_str);
            if i > 0 {
                s.push_str(" | ");
            }
            s.push_str(c);
            if i + 1 < widths.len() {
                s.push_str(&" ".repeat(w - c.chars().count()));
            }
        }
        s.push('\n');
        s
    };
    let mut out = line(fields);
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    out.push_str(&line(&rule).replace(" | ", "-+-"));
    for r in rows {
        out.push_str(&line(r));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_are_json_when_they_parse_else_strings() {
        let p = |s| parse_param(s).unwrap().1;
        assert_eq!(p("n=42"), json!(42));
        assert_eq!(p("n=1.5"), json!(1.5));
        assert_eq!(p("n=true"), json!(true));
        assert_eq!(p("n=[1,2]"), json!([1, 2]));
        assert_eq!(p(r#"n={"k":1}"#), json!({"k": 1}));
        assert_eq!(p(r#"n="42""#), json!("42"));
        assert_eq!(p("n=Nina Simone"), json!("Nina Simone"));
        assert_eq!(p("n=a=b"), json!("a=b"));
        assert!(parse_param("novalue").is_err());
        assert!(parse_param("=1").is_err());
    }

    #[test]
    fn a_table_lines_up() {
        let t = table(
            &["name".into(), "n".into()],
            &[vec!["Nina".into(), "12".into()]],
        );
        assert_eq!(t, "name | n\n-----+---\nNina | 12\n");
    }
}

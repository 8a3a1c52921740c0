//! The openCypher TCK's scenarios: read from the TCK jar (`zip`), parsed (`gherkin`, the
//! cucumber-rs parser), outlines expanded with their examples, and sorted into the ones this
//! suite runs ([`Scenario`]) and the ones it leaves out, with why ([`Tck::skipped`]).
//!
//! The jar is not in the repository: the Maven project in `neo4j/maven/` copies it from Maven
//! Central to `target/tck/tck.jar` (see its pom.xml), beside the bundled Neo4j.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;

use gherkin::{Feature, GherkinEnv, Step};

/// The TCK release the pom fetches (its `tck.version`).
pub const VERSION: &str = "1.0.0-M23";

/// The command that fetches the jar (and builds the bundled Neo4j).
pub const MAVEN: &str = "mvn -B -q -f neo4j/maven/pom.xml package";

/// Where the jar is: `target/tck/tck.jar` of the Maven project (`NEOTRAV_NEO4J_PROJECT`, as
/// for the test kit, else `neo4j/maven/` of this checkout).
pub fn jar_path() -> PathBuf {
    let project = match std::env::var_os("NEOTRAV_NEO4J_PROJECT") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../neo4j/maven")),
    };
    project.join("target/tck/tck.jar")
}

/// What a scenario expects of its query's result.
#[derive(Debug, Clone)]
pub struct Expect {
    /// `in order`: rows compared in order, else as a multiset.
    pub ordered: bool,
    /// `ignoring element order for lists`: lists compared as multisets.
    pub lists_unordered: bool,
    /// The expected table, header first; `None` for `the result should be empty`.
    pub table: Option<Vec<Vec<String>>>,
}

impl Expect {
    /// The expected column names, when the TCK gives them.
    pub fn header(&self) -> Option<&[String]> {
        self.table
            .as_ref()
            .and_then(|t| t.first())
            .map(Vec::as_slice)
    }

    /// The number of expected rows.
    pub fn rows(&self) -> usize {
        self.table.as_ref().map_or(0, |t| t.len().saturating_sub(1))
    }
}

/// One scenario this suite runs (an outline's example row counts as one).
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Short and unique: `Match4 [3]`, and for an outline's example `Match4 [3] #2`.
    pub id: String,
    /// The feature file inside the jar.
    pub file: String,
    /// The scenario's name.
    pub name: String,
    /// Its line in the file.
    pub line: usize,
    /// Statements that build the graph, in order (a named graph's script, `having executed`
    /// steps, and a write before a control query): run on Neo4j only.
    pub setup: Vec<String>,
    /// `parameters are:` as (name, Cypher literal).
    pub params: Vec<(String, String)>,
    /// The query the result is expected of.
    pub query: String,
    pub expect: Expect,
}

/// The TCK, read and sorted.
pub struct Tck {
    /// Feature files read.
    pub files: usize,
    /// Scenarios read, an outline counting once per example row.
    pub scenarios: usize,
    /// Outlines among the scenarios as written.
    pub outlines: usize,
    /// The scenarios this suite runs.
    pub selected: Vec<Scenario>,
    /// How many were left out, by reason.
    pub skipped: BTreeMap<&'static str, usize>,
    /// Feature files the `gherkin` crate does not parse, with its error.
    pub unparsed: Vec<String>,
}

/// Reads the jar.
///
/// # Panics
///
/// When the jar is missing (with the Maven command that fetches it) or unreadable.
pub fn load() -> Tck {
    let path = jar_path();
    let file = std::fs::File::open(&path).unwrap_or_else(|e| {
        panic!(
            "the openCypher TCK jar is not at {} ({e}); fetch it with `{MAVEN}` (the Maven project \
             that also builds the bundled Neo4j copies org.opencypher:tck:{VERSION} there)",
            path.display()
        )
    });
    let mut zip = zip::ZipArchive::new(file)
        .unwrap_or_else(|e| panic!("{} is not a readable jar: {e}", path.display()));
    let mut features: BTreeMap<String, String> = BTreeMap::new();
    let mut graphs: BTreeMap<String, String> = BTreeMap::new();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).expect("a jar entry");
        let name = entry.name().expect("a jar entry's name").to_string();
        let is_feature = name.starts_with("features/") && name.ends_with(".feature");
        let graph = name
            .strip_prefix("graphs/")
            .and_then(|rest| rest.split_once('/'))
            .filter(|(_, file)| file.ends_with(".cypher"))
            .map(|(dir, _)| dir.to_string());
        if !is_feature && graph.is_none() {
            continue;
        }
        let mut text = String::new();
        entry
            .read_to_string(&mut text)
            .unwrap_or_else(|e| panic!("reading {name} from the TCK jar: {e}"));
        match graph {
            Some(dir) => {
                graphs.insert(dir, text);
            }
            None => {
                features.insert(name, text);
            }
        }
    }
    let mut tck = Tck {
        files: features.len(),
        scenarios: 0,
        outlines: 0,
        selected: Vec::new(),
        skipped: BTreeMap::new(),
        unparsed: Vec::new(),
    };
    for (file, text) in &features {
        match Feature::parse(text, GherkinEnv::default()) {
            Ok(feature) => read_feature(file, &feature, &graphs, &mut tck),
            Err(e) => tck.unparsed.push(format!("{file}: {e}")),
        }
    }
    tck
}

fn read_feature(file: &str, feature: &Feature, graphs: &BTreeMap<String, String>, tck: &mut Tck) {
    let stem = file
        .rsplit('/')
        .next()
        .and_then(|f| f.strip_suffix(".feature"))
        .unwrap_or(file);
    let background: Vec<Step> = feature
        .background
        .iter()
        .flat_map(|b| b.steps.clone())
        .collect();
    let scenarios = feature
        .scenarios
        .iter()
        .chain(feature.rules.iter().flat_map(|r| r.scenarios.iter()));
    for scenario in scenarios {
        // TCK scenarios are numbered within their file: `[3] Match a ...`.
        let number = match scenario.name.split_once(']') {
            Some((n, _)) if n.starts_with('[') => format!("{n}]"),
            _ => scenario.name.clone(),
        };
        let base = format!("{stem} {number}");
        let ignored = ignored(&feature.tags) || ignored(&scenario.tags);
        let steps: Vec<Step> = background.iter().chain(&scenario.steps).cloned().collect();
        let line = scenario.position.line;
        if scenario.examples.is_empty() {
            tck.scenarios += 1;
            let outcome = if ignored {
                Err("tagged @ignore")
            } else {
                select(&steps, graphs)
            };
            record(tck, outcome, base, file, &scenario.name, line);
            continue;
        }
        tck.outlines += 1;
        let mut n = 0;
        for examples in &scenario.examples {
            let Some(table) = &examples.table else {
                continue;
            };
            let Some((header, rows)) = table.rows.split_first() else {
                continue;
            };
            for row in rows {
                n += 1;
                tck.scenarios += 1;
                let outcome = if ignored || self::ignored(&examples.tags) {
                    Err("tagged @ignore")
                } else {
                    let steps: Vec<Step> = steps.iter().map(|s| fill(s, header, row)).collect();
                    select(&steps, graphs)
                };
                record(
                    tck,
                    outcome,
                    format!("{base} #{n}"),
                    file,
                    &scenario.name,
                    line,
                );
            }
        }
    }
}

fn record(
    tck: &mut Tck,
    outcome: Result<Selected, &'static str>,
    id: String,
    file: &str,
    name: &str,
    line: usize,
) {
    match outcome {
        Ok(s) => tck.selected.push(Scenario {
            id,
            file: file.to_string(),
            name: name.to_string(),
            line,
            setup: s.setup,
            params: s.params,
            query: s.query,
            expect: s.expect,
        }),
        Err(why) => *tck.skipped.entry(why).or_default() += 1,
    }
}

fn ignored(tags: &[String]) -> bool {
    tags.iter().any(|t| t.trim_start_matches('@') == "ignore")
}

/// An outline's step with `<name>` replaced by the example row's value, as Cucumber does.
fn fill(step: &Step, header: &[String], row: &[String]) -> Step {
    let sub = |s: &str| {
        let mut s = s.to_string();
        for (h, v) in header.iter().zip(row) {
            s = s.replace(&format!("<{h}>"), v);
        }
        s
    };
    let mut out = step.clone();
    out.value = sub(&step.value);
    out.docstring = step.docstring.as_deref().map(sub);
    if let Some(t) = &mut out.table {
        for cell in t.rows.iter_mut().flatten() {
            *cell = sub(cell);
        }
    }
    out
}

struct Selected {
    setup: Vec<String>,
    params: Vec<(String, String)>,
    query: String,
    expect: Expect,
}

/// Whether a scenario is one this suite runs: a known graph, setup statements, parameters,
/// one query and an expected result.
fn select(steps: &[Step], graphs: &BTreeMap<String, String>) -> Result<Selected, &'static str> {
    let mut graph = false;
    let mut setup = Vec::new();
    let mut params = Vec::new();
    let mut query: Option<String> = None;
    let mut expect: Option<Expect> = None;
    for step in steps {
        let v = step.value.trim().trim_end_matches(':').trim();
        let doc = || step.docstring.clone().ok_or("a step without its statement");
        match v {
            "an empty graph" | "any graph" => graph = true,
            _ if v.starts_with("the ") && v.ends_with(" graph") => {
                let name = &v["the ".len()..v.len() - " graph".len()];
                let script = graphs.get(name).ok_or("a named graph the jar lacks")?;
                setup.push(script.clone());
                graph = true;
            }
            "having executed" => setup.push(doc()?),
            "parameters are" => {
                let table = step.table.as_ref().ok_or("parameters without a table")?;
                for row in &table.rows {
                    let [name, value] = row.as_slice() else {
                        return Err("a parameter row that is not name and value");
                    };
                    params.push((name.clone(), value.clone()));
                }
            }
            _ if v.starts_with("there exists a procedure") => {
                return Err("needs a procedure the TCK defines");
            }
            "executing query" => {
                if query.is_some() {
                    return Err("more than one query");
                }
                query = Some(doc()?);
            }
            // The query before a control query writes; the result expected is the control
            // query's, so the write joins the setup.
            "executing control query" => {
                setup.extend(query.take());
                expect = None;
                query = Some(doc()?);
            }
            "the result should be empty" => {
                expect = Some(Expect {
                    ordered: false,
                    lists_unordered: false,
                    table: None,
                })
            }
            _ if v.starts_with("the result should be") => {
                let how = &v["the result should be".len()..];
                let ordered = match how.trim_start_matches(',').trim() {
                    s if s.starts_with("in any order") => false,
                    s if s.starts_with("in order") => true,
                    s if s.starts_with("(ignoring element order for lists)") => false,
                    _ => return Err("a result step of another form"),
                };
                let table = step.table.as_ref().ok_or("a result without a table")?;
                expect = Some(Expect {
                    ordered,
                    lists_unordered: how.contains("ignoring element order for lists"),
                    table: Some(table.rows.clone()),
                });
            }
            _ if v.contains("should be raised") => return Err("expects an error"),
            "no side effects" | "the side effects should be" => {}
            _ => return Err("a step of another kind"),
        }
    }
    if !graph {
        return Err("no graph given");
    }
    let query = query.ok_or("no query")?;
    let expect = expect.ok_or("no result expected")?;
    Ok(Selected {
        setup,
        params,
        query,
        expect,
    })
}

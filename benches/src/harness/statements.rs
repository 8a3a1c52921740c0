//! The Cypher suite: API-style statements over the Discogs-shaped graph, the kind a
//! music-catalogue API sends, with nodes named by catalogue key. Every system runs the same text
//! with the same parameters: neotrav in this process (`neotrav-cypher`), the sidecar over HTTP
//! (`POST /v1/cypher`), and Neo4j over Bolt. Answers are scalars (keys, names, counts), so they
//! compare exactly; rows are compared in order when the statement orders them totally, else as
//! sorted lists.

use serde_json::Value;

use neotrav_cypher::{Limits, Params, Plan, Prepared};
use neotrav_wire::cypher::{Encoding, Value as Wire};

use super::BenchError;
use super::cases::Input;

/// One statement of the suite.
#[derive(Debug, Clone, Copy)]
pub struct Statement {
    /// Case name.
    pub name: &'static str,
    /// One line for the report.
    pub description: &'static str,
    /// The text.
    pub text: &'static str,
    /// What the inputs are: `$artist` (one artist), `$a`/`$b` (two artists) or `$genre`.
    pub inputs: Inputs,
    /// Whether the statement's ORDER BY fixes the order of every row.
    pub ordered: bool,
}

/// The parameters a statement takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inputs {
    /// `$artist`: an artist's catalogue id.
    Artist,
    /// `$a` and `$b`: two artists' catalogue ids.
    Pair,
    /// `$genre`: a genre's name.
    Genre,
}

/// The suite. The placeholder super-hub artist "Various" (`a1`) is left out of co-artist
/// patterns, as an API would leave it out.
pub const STATEMENTS: &[Statement] = &[
    Statement {
        name: "cypher-artist-by-key",
        description: "an artist by catalogue key: its name",
        text: "MATCH (a:Artist {id: $artist}) RETURN a.name AS name",
        inputs: Inputs::Artist,
        ordered: false,
    },
    Statement {
        name: "cypher-co-artists",
        description: "artists sharing releases with an artist, top 20 by shared releases",
        text: "MATCH (a:Artist {id: $artist})<-[:BY]-(r:Release)-[:BY]->(co:Artist) \
               WHERE co <> a AND co.id <> 'a1' \
               RETURN co.id AS artist, count(DISTINCT r) AS shared \
               ORDER BY shared DESC, artist LIMIT 20",
        inputs: Inputs::Artist,
        ordered: true,
    },
    Statement {
        name: "cypher-collaborators-by-year",
        description: "an artist's distinct collaborators per release year",
        text: "MATCH (a:Artist {id: $artist})<-[:BY]-(r:Release)-[:BY]->(co:Artist) \
               WHERE co <> a AND r.year IS NOT NULL \
               RETURN r.year AS year, count(DISTINCT co) AS collaborators ORDER BY year",
        inputs: Inputs::Artist,
        ordered: true,
    },
    Statement {
        name: "cypher-genre-breakdown",
        description: "an artist's releases per genre (a middle node's neighbour grouped by its name)",
        text: "MATCH (a:Artist {id: $artist})<-[:BY]-(r:Release)-[:IS]->(g:Genre) \
               RETURN g.name AS genre, count(r) AS releases ORDER BY releases DESC, genre",
        inputs: Inputs::Artist,
        ordered: true,
    },
    Statement {
        name: "cypher-artist-labels",
        description: "an artist's labels with release counts, top 10",
        text: "MATCH (a:Artist {id: $artist})<-[:BY]-(r:Release)-[:ON]->(l:Label) \
               RETURN l.id AS label, count(*) AS releases ORDER BY releases DESC, label LIMIT 10",
        inputs: Inputs::Artist,
        ordered: true,
    },
    Statement {
        name: "cypher-styles-to-explore",
        description: "styles of co-artists' releases that the artist has no release in (anti-pattern), top 10",
        text: "MATCH (a:Artist {id: $artist})<-[:BY]-(:Release)-[:BY]->(co:Artist)<-[:BY]-(:Release)-[:IS]->(s:Style) \
               WHERE co <> a AND co.id <> 'a1' AND NOT (a)<-[:BY]-(:Release)-[:IS]->(s) \
               RETURN s.name AS style, count(*) AS n ORDER BY n DESC, style LIMIT 10",
        inputs: Inputs::Artist,
        ordered: true,
    },
    Statement {
        name: "cypher-shortest-path",
        description: "shortest path length between two artists, at most 6 hops, undirected",
        text: "MATCH (a:Artist {id: $a}), (b:Artist {id: $b}) \
               MATCH p = shortestPath((a)-[:BY|ON|IS|ALIAS_OF|MEMBER_OF|DERIVED_FROM*..6]-(b)) \
               RETURN length(p) AS hops",
        inputs: Inputs::Pair,
        ordered: false,
    },
    Statement {
        name: "cypher-genre-years",
        description: "a genre's releases per year",
        text: "MATCH (g:Genre {name: $genre})<-[:IS]-(r:Release) WHERE r.year IS NOT NULL \
               RETURN r.year AS year, count(*) AS releases ORDER BY year",
        inputs: Inputs::Genre,
        ordered: true,
    },
];

/// The parameters of one input: catalogue keys read from Neo4j's answer for the input's ids.
pub fn params(
    s: &Statement,
    input: &Input,
    key: &dyn Fn(u64) -> Option<String>,
) -> Result<Vec<(String, Wire)>, BenchError> {
    let k = |id: u64| key(id).map(Wire::String).ok_or(BenchError::NoKey { id });
    Ok(match (s.inputs, input) {
        (Inputs::Artist, Input::Node(n)) => vec![("artist".into(), k(*n)?)],
        (Inputs::Genre, Input::Node(n)) => vec![("genre".into(), k(*n)?)],
        (Inputs::Pair, Input::Pair(a, b)) => vec![("a".into(), k(*a)?), ("b".into(), k(*b)?)],
        _ => return Err(BenchError::NoKey { id: u64::MAX }),
    })
}

/// The canonical answer of rows: plain Query API JSON, sorted unless the order is fixed.
pub fn canonical(s: &Statement, rows: &[Vec<Wire>]) -> Value {
    let mut out: Vec<Value> = rows
        .iter()
        .map(|r| Value::Array(r.iter().map(|v| v.encode(Encoding::Plain)).collect()))
        .collect();
    if !s.ordered {
        out.sort_by_cached_key(|v| v.to_string());
    }
    Value::Array(out)
}

/// The canonical answer of rows already in plain Query API JSON (the sidecar's answer).
pub fn canonical_json(s: &Statement, rows: &[Vec<Value>]) -> Value {
    let mut out: Vec<Value> = rows.iter().map(|r| Value::Array(r.clone())).collect();
    if !s.ordered {
        out.sort_by_cached_key(|v| v.to_string());
    }
    Value::Array(out)
}

/// Limits no statement of the suite reaches at the scales the bench runs.
pub fn limits() -> Limits {
    Limits {
        deadline: std::time::Duration::from_secs(600),
        max_memory: 4 << 30,
        ..Limits::default()
    }
}

/// `text` (the statement `name`) parsed and planned on `snapshot`; a statement the snapshot
/// would forward is an error.
pub fn plan<D: AsRef<[u8]>>(
    name: &'static str,
    text: &str,
    snapshot: &neotrav_snapshot::Snapshot<D>,
) -> Result<Plan, BenchError> {
    let cypher = |e: neotrav_cypher::CypherError| BenchError::Cypher {
        statement: name,
        message: e.to_string(),
    };
    match neotrav_cypher::parse(text)
        .and_then(|st| st.plan(snapshot))
        .map_err(cypher)?
    {
        Prepared::Local(p) => Ok(p),
        Prepared::Forward(f) => Err(BenchError::Cypher {
            statement: name,
            message: format!("the snapshot would forward it: {f}"),
        }),
    }
}

/// The first column of every row `text` answers on `snapshot`, which must be strings: the
/// catalogue keys the micro-benchmarks take their inputs from.
pub fn strings<D: AsRef<[u8]>>(
    text: &'static str,
    snapshot: &neotrav_snapshot::Snapshot<D>,
) -> Result<Vec<String>, BenchError> {
    let answer = plan(text, text, snapshot)?
        .run(snapshot, &Params::default(), &limits())
        .map_err(|e| BenchError::Cypher {
            statement: text,
            message: e.to_string(),
        })?;
    answer
        .rows
        .into_iter()
        .map(|r| match r.into_iter().next() {
            Some(Wire::String(s)) => Ok(s),
            other => Err(BenchError::Cypher {
                statement: text,
                message: format!("answered {other:?} where a string key was expected"),
            }),
        })
        .collect()
}

/// The inputs the examples rotate over: 64 artists with releases (by
/// catalogue key, the placeholder `a1` left out) and every genre's name.
pub fn suite_inputs<D: AsRef<[u8]>>(
    snapshot: &neotrav_snapshot::Snapshot<D>,
) -> Result<(Vec<String>, Vec<String>), BenchError> {
    let artists = strings(
        "MATCH (a:Artist)<-[:BY]-(:Release) WHERE a.id <> 'a1' \
         RETURN DISTINCT a.id ORDER BY a.id LIMIT 64",
        snapshot,
    )?;
    let genres = strings("MATCH (g:Genre) RETURN g.name ORDER BY g.name", snapshot)?;
    Ok((artists, genres))
}

/// The parameters of input `i` of a statement taking `inputs`, rotating over `artists` (pairs
/// of neighbours in the list for [`Inputs::Pair`]) or `genres`.
pub fn rotating_params(inputs: Inputs, i: usize, artists: &[String], genres: &[String]) -> Params {
    let mut p = Params::default();
    let mut set = |name: &str, list: &[String], k: usize| {
        p.set(name, &Wire::String(list[k % list.len()].clone()))
            .expect("a string parameter is always accepted");
    };
    match inputs {
        Inputs::Artist => set("artist", artists, i),
        Inputs::Genre => set("genre", genres, i),
        Inputs::Pair => {
            set("a", artists, 2 * i);
            set("b", artists, 2 * i + 1);
        }
    }
    p
}

/// Plans and runs a statement in this process.
pub fn run_local<D: AsRef<[u8]>>(
    s: &Statement,
    snapshot: &neotrav_snapshot::Snapshot<D>,
    params: &[(String, Wire)],
) -> Result<Value, BenchError> {
    let cypher = |e: neotrav_cypher::CypherError| BenchError::Cypher {
        statement: s.name,
        message: e.to_string(),
    };
    let plan = plan(s.name, s.text, snapshot)?;
    let mut p = Params::default();
    for (k, v) in params {
        p.set(k, v).map_err(cypher)?;
    }
    let answer = plan.run(snapshot, &p, &limits()).map_err(cypher)?;
    Ok(canonical(s, &answer.rows))
}

//! A small Discogs-like catalogue and the API-style statements a music service sends.

use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;
use serde_json::{Value as Json, json};

use super::compare::{Col, Shape};
use super::grammar::Case;
use super::graph::{self, GenNode, TestGraph};

/// Exported keys of the catalogue.
pub const KEYS: [&str; 3] = ["name", "title", "year"];

pub struct Catalogue {
    pub graph: TestGraph,
    pub artists: Vec<String>,
    pub labels: Vec<String>,
    pub genres: Vec<String>,
}

fn node(i: usize, label: &'static str, props: &[(&str, Json)]) -> GenNode {
    let mut p = serde_json::Map::new();
    p.insert("idx".into(), json!(i));
    for (k, v) in props {
        p.insert(k.to_string(), v.clone());
    }
    GenNode {
        labels: vec![label],
        props: p,
    }
}

pub async fn build(db: &neo4rs::Graph, uri: &str, seed: u64) -> Catalogue {
    let mut rng = Pcg64Mcg::seed_from_u64(seed ^ 0xd15c_0905);
    let mut nodes = Vec::new();
    let mut rels: Vec<(&'static str, usize, usize)> = Vec::new();
    let genre_names = ["Rock", "Jazz", "Electronic", "Folk"];
    let genres: Vec<usize> = genre_names
        .iter()
        .map(|g| {
            nodes.push(node(nodes.len(), "Genre", &[("name", json!(g))]));
            nodes.len() - 1
        })
        .collect();
    let styles: Vec<usize> = (0..8)
        .map(|i| {
            nodes.push(node(
                nodes.len(),
                "Style",
                &[("name", json!(format!("Style {i}")))],
            ));
            rels.push(("PART_OF", nodes.len() - 1, genres[i % genres.len()]));
            nodes.len() - 1
        })
        .collect();
    let label_names: Vec<String> = (0..5).map(|i| format!("Records {i}")).collect();
    let labels: Vec<usize> = label_names
        .iter()
        .map(|l| {
            nodes.push(node(nodes.len(), "Label", &[("name", json!(l))]));
            nodes.len() - 1
        })
        .collect();
    rels.push(("SUBLABEL_OF", labels[3], labels[0]));
    rels.push(("SUBLABEL_OF", labels[4], labels[0]));
    let artist_names: Vec<String> = (0..30)
        .map(|i| format!("{} {i:02}", ["Nina", "Nick", "Ana", "Bo"][i % 4]))
        .collect();
    let artists: Vec<usize> = artist_names
        .iter()
        .map(|a| {
            nodes.push(node(nodes.len(), "Artist", &[("name", json!(a))]));
            nodes.len() - 1
        })
        .collect();
    for i in 0..6 {
        rels.push(("MEMBER_OF", artists[i + 10], artists[i]));
    }
    let masters: Vec<usize> = (0..20)
        .map(|i| {
            nodes.push(node(
                nodes.len(),
                "Master",
                &[("title", json!(format!("Master {i}")))],
            ));
            nodes.len() - 1
        })
        .collect();
    for i in 0..70 {
        let year = 1965 + rng.random_range(0..55i64);
        let mut props = vec![("title", json!(format!("Release {i}")))];
        if rng.random_range(0..10) > 0 {
            props.push(("year", json!(year)));
        }
        nodes.push(node(nodes.len(), "Release", &props));
        let r = nodes.len() - 1;
        // Popular artists first: a skewed choice.
        for _ in 0..1 + rng.random_range(0..3) {
            let a = (rng.random_range(0..30usize) * rng.random_range(0..30usize)) / 29;
            rels.push(("BY", r, artists[a.min(29)]));
        }
        rels.push(("ON", r, labels[rng.random_range(0..labels.len())]));
        for _ in 0..1 + rng.random_range(0..2) {
            rels.push(("IS", r, styles[rng.random_range(0..styles.len())]));
        }
        if rng.random_range(0..3) == 0 {
            rels.push((
                "DERIVED_FROM",
                r,
                masters[rng.random_range(0..masters.len())],
            ));
        }
    }
    let keys = [
        ("Artist", "name"),
        ("Genre", "name"),
        ("Style", "name"),
        ("Label", "name"),
        ("Release", "title"),
        ("Release", "year"),
        ("Master", "title"),
    ];
    let graph = graph::build(db, uri, nodes, rels, false, &keys).await;
    Catalogue {
        graph,
        artists: artist_names,
        labels: label_names,
        genres: genre_names.iter().map(|s| s.to_string()).collect(),
    }
}

fn case(text: &str, params: Json, fields: &[&str], shape: Shape) -> Case {
    let Json::Object(params) = params else {
        unreachable!()
    };
    let mut shape = shape;
    if shape.cols.is_empty() {
        shape.cols = vec![Col::default(); fields.len()];
    }
    Case {
        text: text.to_string(),
        params,
        fields: fields.iter().map(|f| f.to_string()).collect(),
        shape,
    }
}

/// An ORDER BY over `order`; `limited`: under SKIP/LIMIT.
fn ordered(order: &[usize], total: bool, limited: bool) -> Shape {
    Shape {
        cols: Vec::new(),
        order: order.to_vec(),
        total,
        limited,
        ..Shape::default()
    }
}

fn collected(n: usize, at: &[usize]) -> Shape {
    let mut cols = vec![Col::default(); n];
    for &i in at {
        cols[i].unordered = true;
    }
    Shape {
        cols,
        ..Shape::default()
    }
}

pub fn cases(c: &Catalogue, seed: u64) -> Vec<Case> {
    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    let mut out = Vec::new();
    for round in 0..6 {
        let a = c.artists[if round < 3 {
            round
        } else {
            rng.random_range(0..c.artists.len())
        }]
        .clone();
        let b = c.artists[rng.random_range(0..c.artists.len())].clone();
        let label = c.labels[rng.random_range(0..c.labels.len())].clone();
        let genre = c.genres[rng.random_range(0..c.genres.len())].clone();
        let year = 1965 + rng.random_range(0..55i64);
        // Co-artists, most shared releases first.
        out.push(case(
            "MATCH (a:Artist {name: $name})<-[:BY]-(r:Release)-[:BY]->(co:Artist) WHERE co <> a \
             RETURN co.name AS name, count(DISTINCT r) AS together ORDER BY together DESC, name LIMIT 10",
            json!({"name": a}),
            &["name", "together"],
            ordered(&[1, 0], true, true),
        ));
        // Counts per middle node's property.
        out.push(case(
            "MATCH (a:Artist {name: $name})<-[:BY]-(r:Release)-[:ON]->(l:Label) \
             RETURN l.name AS label, count(r) AS releases, collect(r.year) AS years",
            json!({"name": a}),
            &["label", "releases", "years"],
            collected(3, &[2]),
        ));
        out.push(case(
            "MATCH (r:Release)-[:BY]->(a:Artist) RETURN r.year AS year, count(DISTINCT a) AS artists ORDER BY year",
            json!({}),
            &["year", "artists"],
            ordered(&[0], true, false),
        ));
        // Top-k by count.
        out.push(case(
            "MATCH (g:Genre)<-[:PART_OF]-(:Style)<-[:IS]-(r:Release) \
             RETURN g.name AS genre, count(DISTINCT r) AS releases ORDER BY releases DESC, genre LIMIT 3",
            json!({}),
            &["genre", "releases"],
            ordered(&[1, 0], true, true),
        ));
        out.push(case(
            "MATCH (a:Artist)<-[:BY]-(r:Release) WITH a, count(r) AS n WHERE n >= $min \
             RETURN a.name AS artist, n ORDER BY n DESC, artist LIMIT 5",
            json!({"min": 2}),
            &["artist", "n"],
            ordered(&[1, 0], true, true),
        ));
        // Anti-pattern: artists in the same genre, not already on a release together.
        out.push(case(
            "MATCH (a:Artist {name: $name})<-[:BY]-(:Release)-[:IS]->(:Style)-[:PART_OF]->(g:Genre), \
             (g)<-[:PART_OF]-(:Style)<-[:IS]-(:Release)-[:BY]->(other:Artist) \
             WHERE other <> a AND NOT (other)<-[:BY]-(:Release)-[:BY]->(a) \
             RETURN other.name AS name, count(*) AS score ORDER BY score DESC, name LIMIT 5",
            json!({"name": a}),
            &["name", "score"],
            ordered(&[1, 0], true, true),
        ));
        out.push(case(
            "MATCH (a:Artist) WHERE NOT EXISTS { MATCH (a)<-[:BY]-(r:Release) WHERE r.year >= $year } \
             RETURN count(a) AS quiet",
            json!({"year": year}),
            &["quiet"],
            Shape::default(),
        ));
        // Shortest paths between two artists.
        out.push(case(
            "MATCH (a:Artist {name: $a}), (b:Artist {name: $b}) \
             MATCH p = shortestPath((a)-[:BY|MEMBER_OF*..6]-(b)) RETURN length(p) AS hops, p",
            json!({"a": a, "b": if a == b { c.artists[29].clone() } else { b.clone() }}),
            &["hops", "p"],
            Shape {
                cols: vec![
                    Col::default(),
                    Col {
                        unordered: false,
                        path_length: true,
                    },
                ],
                ..Shape::default()
            },
        ));
        out.push(case(
            "MATCH p = allShortestPaths((a:Artist {name: $a})-[:BY*..6]-(b:Artist {name: $b})) \
             RETURN p, length(p) AS hops",
            json!({"a": a, "b": if a == b { c.artists[29].clone() } else { b.clone() }}),
            &["p", "hops"],
            Shape::default(),
        ));
        // A label's artists and their years; a genre's releases per label.
        out.push(case(
            "MATCH (l:Label {name: $label})<-[:ON]-(r:Release)-[:BY]->(a:Artist) \
             RETURN a.name AS artist, collect(DISTINCT r.year) AS years",
            json!({"label": label}),
            &["artist", "years"],
            collected(2, &[1]),
        ));
        out.push(case(
            "MATCH (g:Genre {name: $genre})<-[:PART_OF]-(:Style)<-[:IS]-(r:Release)-[:ON]->(l:Label) \
             OPTIONAL MATCH (l)-[:SUBLABEL_OF]->(parent:Label) \
             RETURN l.name AS label, parent.name AS parent, count(DISTINCT r) AS releases, \
             min(r.year) AS first, max(r.year) AS last",
            json!({"genre": genre}),
            &["label", "parent", "releases", "first", "last"],
            Shape::default(),
        ));
        // Artists and their release count, zero included.
        out.push(case(
            "MATCH (a:Artist) OPTIONAL MATCH (a)<-[:BY]-(r:Release {year: $year}) \
             RETURN a.name AS name, count(r) AS n",
            json!({"year": year}),
            &["name", "n"],
            Shape::default(),
        ));
        // Search by prefix.
        out.push(case(
            "MATCH (a:Artist) WHERE a.name STARTS WITH $prefix RETURN a ORDER BY a.name",
            json!({"prefix": (["Ni", "Nina", "A", "Bo 1"][round % 4])}),
            &["a"],
            Shape::default(),
        ));
        // Decades with CASE.
        out.push(case(
            "MATCH (r:Release)-[:BY]->(:Artist {name: $name}) \
             RETURN CASE WHEN r.year IS NULL THEN 'unknown' WHEN r.year < 1990 THEN 'old' ELSE 'new' END AS era, \
             count(*) AS n, avg(r.year) AS mean ORDER BY era",
            json!({"name": a}),
            &["era", "n", "mean"],
            ordered(&[0], true, false),
        ));
        // Members and masters.
        out.push(case(
            "MATCH (m:Artist)-[:MEMBER_OF]->(band:Artist) OPTIONAL MATCH (band)<-[:BY]-(r:Release)-[:DERIVED_FROM]->(ms:Master) \
             RETURN band.name AS band, collect(DISTINCT m.name) AS members, count(DISTINCT ms) AS masters",
            json!({}),
            &["band", "members", "masters"],
            collected(3, &[1]),
        ));
    }
    out
}

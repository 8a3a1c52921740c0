//! Generates the Discogs-shaped graph into a sink that only counts, and prints the counts per
//! label and relationship type with the time taken.
//!
//! ```text
//! cargo run --release -p neotrav-datasets --example discogs_count -- [SCALE] [SEED] [--stats]
//! ```
//!
//! `SCALE` defaults to 1.0 (33.8M nodes), `SEED` to 42. With `--stats` it also measures the
//! degree distributions and shares that `datasets/discogs-shape.md` states (this keeps a few
//! bytes per node, so memory is higher than the generator's own).

use std::time::Instant;

use neotrav_datasets::generate::discogs::Discogs;
use neotrav_datasets::generate::{Dataset, GraphSink, Node, Relationship, SinkError, Value};

/// Counts per label and per type.
#[derive(Default)]
struct Counter {
    labels: Vec<(&'static str, u64)>,
    types: Vec<(&'static str, u64)>,
}

fn bump(counts: &mut Vec<(&'static str, u64)>, key: &'static str) {
    match counts.iter_mut().find(|(k, _)| *k == key) {
        Some((_, n)) => *n += 1,
        None => counts.push((key, 1)),
    }
}

impl GraphSink for Counter {
    fn node(&mut self, node: &Node<'_>) -> Result<(), SinkError> {
        bump(&mut self.labels, node.labels[0]);
        Ok(())
    }

    fn relationship(&mut self, rel: Relationship) -> Result<(), SinkError> {
        bump(&mut self.types, rel.rel_type);
        Ok(())
    }
}

/// The figures of the shape file, measured.
#[derive(Default)]
struct Stats {
    counter: Counter,
    /// `(label, first id, end id)`, in id order.
    ranges: Vec<(&'static str, u64, u64)>,
    release_years: Vec<u64>,
    releases_without_year: u64,
    masters: u64,
    masters_without_year: u64,
    ready: bool,
    // Per release.
    by_out: Vec<u8>,
    on_out: Vec<u8>,
    genre_out: Vec<u8>,
    style_out: Vec<u8>,
    // Per artist.
    release_by_in: Vec<u32>,
    /// bit 0 any relationship, 1 member of a band, 2 band, 3 alias relation, 4 BY.
    artist_flags: Vec<u8>,
    members_in: Vec<u32>,
    // Per master.
    derived_in: Vec<u32>,
    // Per label.
    on_in: Vec<u32>,
    label_any: Vec<u8>,
    sub_out: Vec<u8>,
    children: Vec<u32>,
    // Per genre and style: releases.
    genre_in: Vec<u64>,
    style_in: Vec<u64>,
}

impl Stats {
    fn range(&self, label: &str) -> (u64, u64) {
        self.ranges
            .iter()
            .find(|r| r.0 == label)
            .map_or((0, 0), |r| (r.1, r.2))
    }

    fn label_of(&self, id: u64) -> (&'static str, usize) {
        for &(label, start, end) in &self.ranges {
            if (start..end).contains(&id) {
                return (label, (id - start) as usize);
            }
        }
        panic!("relationship endpoint {id} is not a node");
    }

    fn prepare(&mut self) {
        let len = |label| {
            let (s, e) = self.range(label);
            (e - s) as usize
        };
        let (r, a, m, l) = (len("Release"), len("Artist"), len("Master"), len("Label"));
        let (g, st) = (len("Genre"), len("Style"));
        self.by_out = vec![0; r];
        self.on_out = vec![0; r];
        self.genre_out = vec![0; r];
        self.style_out = vec![0; r];
        self.release_by_in = vec![0; a];
        self.artist_flags = vec![0; a];
        self.members_in = vec![0; a];
        self.derived_in = vec![0; m];
        self.on_in = vec![0; l];
        self.label_any = vec![0; l];
        self.sub_out = vec![0; l];
        self.children = vec![0; l];
        self.genre_in = vec![0; g];
        self.style_in = vec![0; st];
        self.ready = true;
    }
}

impl GraphSink for Stats {
    fn node(&mut self, node: &Node<'_>) -> Result<(), SinkError> {
        self.counter.node(node)?;
        let label = node.labels[0];
        match self.ranges.last_mut() {
            Some(last) if last.0 == label => last.2 = node.id + 1,
            _ => self.ranges.push((label, node.id, node.id + 1)),
        }
        let year = node.properties.iter().find_map(|(k, v)| match (*k, v) {
            ("year", Value::Int(y)) => Some(*y),
            _ => None,
        });
        match label {
            "Release" => match year {
                Some(y) => self.release_years.push(y as u64),
                None => self.releases_without_year += 1,
            },
            "Master" => {
                self.masters += 1;
                if year.is_none() {
                    self.masters_without_year += 1;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn relationship(&mut self, rel: Relationship) -> Result<(), SinkError> {
        self.counter.relationship(rel)?;
        if !self.ready {
            self.prepare();
        }
        let (start_label, s) = self.label_of(rel.start);
        let (end_label, e) = self.label_of(rel.end);
        let inc = |x: &mut u8| *x = x.saturating_add(1);
        match (rel.rel_type, start_label, end_label) {
            ("BY", "Release", "Artist") => {
                inc(&mut self.by_out[s]);
                self.release_by_in[e] += 1;
                self.artist_flags[e] |= 1 | 16;
            }
            ("BY", "Master", "Artist") => self.artist_flags[e] |= 1 | 16,
            ("ON", "Release", "Label") => {
                inc(&mut self.on_out[s]);
                self.on_in[e] += 1;
                self.label_any[e] = 1;
            }
            ("IS", "Release", "Genre") => {
                inc(&mut self.genre_out[s]);
                self.genre_in[e] += 1;
            }
            ("IS", "Release", "Style") => {
                inc(&mut self.style_out[s]);
                self.style_in[e] += 1;
            }
            ("IS", "Master", "Genre" | "Style") => {}
            ("DERIVED_FROM", "Release", "Master") => self.derived_in[e] += 1,
            ("MEMBER_OF", "Artist", "Artist") => {
                self.artist_flags[s] |= 1 | 2;
                self.artist_flags[e] |= 1 | 4;
                self.members_in[e] += 1;
            }
            ("ALIAS_OF", "Artist", "Artist") => {
                self.artist_flags[s] |= 1 | 8;
                self.artist_flags[e] |= 1 | 8;
            }
            ("SUBLABEL_OF", "Label", "Label") => {
                inc(&mut self.sub_out[s]);
                self.children[e] += 1;
                self.label_any[s] = 1;
                self.label_any[e] = 1;
            }
            ("PART_OF", "Style", "Genre") => {}
            other => panic!("unexpected relationship {other:?}"),
        }
        Ok(())
    }
}

/// `p`-th percentile of sorted values.
fn pct<T: Copy>(sorted: &[T], p: f64) -> T {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

fn mean_u8(v: &[u8]) -> f64 {
    v.iter().map(|&x| f64::from(x)).sum::<f64>() / v.len() as f64
}

fn describe_u8(name: &str, v: &[u8], ps: &[f64]) {
    let mut sorted = v.to_vec();
    sorted.sort_unstable();
    let mut line = format!("  {name}: mean {:.3}", mean_u8(v));
    for &p in ps {
        line += &format!(", p{} {}", (p * 100.0) as u32, pct(&sorted, p));
    }
    line += &format!(", max {}", sorted.last().copied().unwrap_or(0));
    println!("{line}");
}

fn describe_u32(name: &str, mut v: Vec<u32>, ps: &[f64]) {
    if v.is_empty() {
        println!("  {name}: none");
        return;
    }
    v.sort_unstable();
    let mean = v.iter().map(|&x| f64::from(x)).sum::<f64>() / v.len() as f64;
    let mut line = format!("  {name}: n {}, mean {mean:.3}", v.len());
    for &p in ps {
        line += &format!(", p{} {}", (p * 100.0) as u32, pct(&v, p));
    }
    line += &format!(", max {}", v[v.len() - 1]);
    println!("{line}");
}

fn print_counts(counter: &Counter, hint: u64) {
    let nodes: u64 = counter.labels.iter().map(|l| l.1).sum();
    let rels: u64 = counter.types.iter().map(|t| t.1).sum();
    println!("nodes: {nodes}");
    for (label, n) in &counter.labels {
        println!("  {label:<8} {n:>12}");
    }
    println!(
        "relationships: {rels} (hint {hint}, {:+.2}%)",
        (hint as f64 / rels as f64 - 1.0) * 100.0
    );
    for (t, n) in &counter.types {
        println!("  {t:<13} {n:>12}");
    }
}

fn print_stats(s: &Stats) {
    let share = |n: usize, d: usize| 100.0 * n as f64 / d as f64;
    println!("figures (shape file in brackets):");
    describe_u8(
        "artists per release [mean 1.21, p50 1, p90 2, p99 4, max 49]",
        &s.by_out,
        &[0.5, 0.9, 0.99],
    );
    let credited: Vec<u32> = s.release_by_in.iter().copied().filter(|&n| n > 0).collect();
    describe_u32(
        "releases per credited artist [mean 8.17, p50 2, p90 10, p99 86, max ~1.3M]",
        credited,
        &[0.5, 0.9, 0.99],
    );
    describe_u8(
        "labels per release [mean 1.09, p50 1, p95 2, max 100]",
        &s.on_out,
        &[0.5, 0.95],
    );
    let on: Vec<u32> = s.on_in.iter().copied().filter(|&n| n > 0).collect();
    let big = on.iter().filter(|&&n| n >= 10_000).count();
    describe_u32("releases per label with releases", on, &[0.5, 0.9, 0.99]);
    println!("  labels with >= 10K releases: {big}");
    describe_u32(
        "releases per master [mean 7.5, p50 2, p90 7, p99 32]",
        s.derived_in.clone(),
        &[0.5, 0.9, 0.99],
    );
    describe_u8(
        "genres per release [mean 1.33, p90 2, max 15]",
        &s.genre_out,
        &[0.5, 0.9],
    );
    let styled: Vec<u8> = s.style_out.iter().copied().filter(|&n| n > 0).collect();
    let unstyled = s.style_out.len() - styled.len();
    describe_u8(
        "styles per styled release [mean 1.79, p90 3, max 90]",
        &styled,
        &[0.5, 0.9],
    );
    println!(
        "  mean styles over all releases: {:.3}; releases without style: {:.2}% [about 8%]",
        mean_u8(&s.style_out),
        share(unstyled, s.style_out.len())
    );
    let releases = s.by_out.len();
    println!("  releases per genre (millions at scale 1 in brackets; shown as share of releases):");
    let names = [
        "Rock 6.18",
        "Electronic 4.87",
        "Pop 3.85",
        "Folk/World & Country 2.48",
        "Jazz 1.51",
        "Funk/Soul 1.29",
        "Classical 1.20",
        "Hip Hop 0.96",
        "Latin 0.85",
        "Stage & Screen 0.58",
        "Reggae 0.47",
        "Blues 0.38",
        "Non-Music 0.27",
        "Children's 0.10",
        "Brass & Military 0.04",
        "No Genre 0.01",
    ];
    for (g, &n) in s.genre_in.iter().enumerate() {
        let want: f64 = names[g]
            .rsplit(' ')
            .next()
            .and_then(|x| x.parse().ok())
            .unwrap_or(0.0);
        println!(
            "    {:<30} {n:>10}  {:.2}% [{:.2}%]",
            names[g],
            share(n as usize, releases),
            100.0 * want * 1e6 / 18_954_226.0
        );
    }
    let mut styles = s.style_in.clone();
    styles.sort_unstable_by(|a, b| b.cmp(a));
    println!(
        "  releases per style: largest {}, 10th {}, 100th {}, 757th {} [largest ~930K at scale 1]",
        styles[0],
        styles[9],
        styles[99],
        styles[styles.len() - 1]
    );

    let artists = s.artist_flags.len();
    let count = |bit: u8| s.artist_flags.iter().filter(|&&f| f & bit != 0).count();
    println!(
        "  artists: orphans {:.2}% [57.8%], with BY {:.2}% [28%], members {:.2}% [13.4%], bands {:.2}% [6.6%], alias relations {:.2}% [12.8%]",
        share(artists - count(1), artists),
        share(count(16), artists),
        share(count(2), artists),
        share(count(4), artists),
        share(count(8), artists)
    );
    let bands: Vec<u32> = s.members_in.iter().copied().filter(|&n| n > 0).collect();
    describe_u32("members per band [mean 3.5, p90 6]", bands, &[0.5, 0.9]);
    let labels = s.label_any.len();
    let subs = s.sub_out.iter().filter(|&&n| n > 0).count();
    println!(
        "  labels: orphans {:.2}% [39.3%], sublabels {:.2}% [11.7%]",
        share(
            labels - s.label_any.iter().filter(|&&n| n > 0).count(),
            labels
        ),
        share(subs, labels)
    );
    let parents: Vec<u32> = s.children.iter().copied().filter(|&n| n > 0).collect();
    describe_u32(
        "sublabels per parent [mean 4.5, p50 1, max ~140K]",
        parents,
        &[0.5, 0.9],
    );

    let mut years = s.release_years.clone();
    years.sort_unstable();
    let dated = years.len();
    let decade = |from: u64, to: u64| years.iter().filter(|&&y| (from..to).contains(&y)).count();
    println!(
        "  release years: {}..{}, median {} [1998]; without year {:.2}%",
        years[0],
        years[dated - 1],
        pct(&years, 0.5),
        share(s.releases_without_year as usize, releases)
    );
    let decades = [
        ("<1950", 0, 1950, 1),
        ("1950s", 1950, 1960, 3),
        ("1960s", 1960, 1970, 7),
        ("1970s", 1970, 1980, 10),
        ("1980s", 1980, 1990, 12),
        ("1990s", 1990, 2000, 18),
        ("2000s", 2000, 2010, 18),
        ("2010s", 2010, 2020, 21),
        ("2020s", 2020, 2100, 8),
    ];
    let line: Vec<String> = decades
        .iter()
        .map(|&(name, from, to, want)| {
            format!("{name} {:.1}% [{want}%]", share(decade(from, to), dated))
        })
        .collect();
    println!("    {}", line.join(", "));
    println!(
        "  masters without year: {:.2}% [about 7%]",
        share(s.masters_without_year as usize, s.masters as usize)
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let stats = args.iter().any(|a| a == "--stats");
    let mut positional = args.iter().filter(|a| !a.starts_with("--"));
    let scale: f64 = positional
        .next()
        .map_or(Ok(1.0), |s| s.parse())
        .expect("SCALE is a number");
    let seed: u64 = positional
        .next()
        .map_or(Ok(42), |s| s.parse())
        .expect("SEED is a whole number");
    let dataset = Discogs::new(scale, seed).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2);
    });
    println!("{}: {} nodes", dataset.describe(), dataset.node_count());
    let hint = dataset.relationship_count_hint();
    let started = Instant::now();
    if stats {
        let mut sink = Stats::default();
        dataset.generate(&mut sink).expect("counting cannot fail");
        let elapsed = started.elapsed();
        print_counts(&sink.counter, hint);
        println!(
            "generated in {:.2} s (with statistics)",
            elapsed.as_secs_f64()
        );
        print_stats(&sink);
    } else {
        let mut sink = Counter::default();
        dataset.generate(&mut sink).expect("counting cannot fail");
        let elapsed = started.elapsed();
        print_counts(&sink, hint);
        println!("generated in {:.2} s", elapsed.as_secs_f64());
    }
}

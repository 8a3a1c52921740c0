//! Emission: streams the planned graph into a sink, every node in id order (Genre, Style,
//! Label, Artist, Master, Release) and then every relationship, drawing the per-release credits
//! and tags from the same streams the plan counted them with.

use rand_distr::Distribution;
use rand_distr::weighted::WeightedAliasIndex;
use rand_pcg::rand_core::Rng;

use crate::generate::{GraphSink, Node, Relationship, SinkError, Value};

use super::arith::{
    H_ARTIST_NAME, H_FORMAT, H_LABEL_NAME, H_MASTER_YEAR, H_RELEASE_YEAR, H_TITLE, Hash,
    S_ARTIST_COUNTS, S_LABEL_COUNTS, S_TAGS, below, mix64, stream,
};
use super::curves::CountTable;
use super::names::{
    artist_name, formats, id_slot, label_name, release_year, set_list, set_str, title, year_from,
};
use super::plan::{ARTIST_HUB, Plan};
use super::shape::{
    ARTISTS_PER_RELEASE, GENRES, GENRES_PER_RELEASE, LABELS_PER_RELEASE, MASTER_NO_YEAR_PPM,
    NO_STYLE_PPM, PPM, STYLES_PER_RELEASE,
};

const L_GENRE: &[&str] = &["Genre"];
const L_STYLE: &[&str] = &["Style"];
const L_LABEL: &[&str] = &["Label"];
const L_ARTIST: &[&str] = &["Artist"];
const L_MASTER: &[&str] = &["Master"];
const L_RELEASE: &[&str] = &["Release"];

pub(super) fn emit_nodes(
    seed: u64,
    plan: &Plan,
    sink: &mut dyn GraphSink,
) -> Result<(), SinkError> {
    let c = plan.counts;
    let mut id: u64 = 0;
    let mut one = [("name", Value::Str(String::new()))];
    for (name, _, _) in GENRES {
        set_str(&mut one[0].1, |s| s.push_str(name));
        sink.node(&Node {
            id,
            labels: L_GENRE,
            properties: &one,
        })?;
        id += 1;
    }
    for name in &plan.styles.names {
        set_str(&mut one[0].1, |s| s.push_str(name));
        sink.node(&Node {
            id,
            labels: L_STYLE,
            properties: &one,
        })?;
        id += 1;
    }

    let mut two = [
        ("id", Value::Str(String::new())),
        ("name", Value::Str(String::new())),
    ];
    let names = Hash::new(seed, H_LABEL_NAME);
    for label in 0..c.labels {
        id_slot(&mut two[0].1, 'l', u64::from(label));
        set_str(&mut two[1].1, |s| {
            if Some(label) == plan.label_hub {
                s.push_str("Not On Label");
            } else {
                label_name(s, names.at(u64::from(label)));
            }
        });
        sink.node(&Node {
            id,
            labels: L_LABEL,
            properties: &two,
        })?;
        id += 1;
    }
    let names = Hash::new(seed, H_ARTIST_NAME);
    for artist in 0..c.artists {
        id_slot(&mut two[0].1, 'a', u64::from(artist));
        set_str(&mut two[1].1, |s| {
            if artist == ARTIST_HUB {
                s.push_str("Various");
            } else {
                artist_name(s, names.at(u64::from(artist)));
            }
        });
        sink.node(&Node {
            id,
            labels: L_ARTIST,
            properties: &two,
        })?;
        id += 1;
    }

    let titles = Hash::new(seed, H_TITLE);
    let years = Hash::new(seed, H_RELEASE_YEAR);
    let master_years = Hash::new(seed, H_MASTER_YEAR);
    let mut master = [
        ("id", Value::Str(String::new())),
        ("title", Value::Str(String::new())),
        ("year", Value::Int(0)),
    ];
    let mut first_release: u64 = 0;
    for (m, &size) in plan.master_sizes.iter().enumerate() {
        let m = m as u64;
        id_slot(&mut master[0].1, 'm', m);
        set_str(&mut master[1].1, |s| title(s, titles.at(m)));
        let h = master_years.at(m);
        let year = if mix64(h) % PPM < MASTER_NO_YEAR_PPM {
            None
        } else {
            let span = first_release..first_release + u64::from(size);
            Some(
                span.filter_map(|r| release_year(years, r))
                    .min()
                    .unwrap_or_else(|| year_from(h)),
            )
        };
        first_release += u64::from(size);
        let len = match year {
            Some(y) => {
                master[2].1 = Value::Int(i64::from(y));
                3
            }
            None => 2,
        };
        sink.node(&Node {
            id,
            labels: L_MASTER,
            properties: &master[..len],
        })?;
        id += 1;
    }

    let formats_hash = Hash::new(seed, H_FORMAT);
    let mut release = [
        ("id", Value::Str(String::new())),
        ("title", Value::Str(String::new())),
        ("formats", Value::StrList(Vec::new())),
        ("year", Value::Int(0)),
    ];
    let mut emit_release = |r: u64, release: &mut [(&'static str, Value); 4], id: u64| {
        id_slot(&mut release[0].1, 'r', r);
        let year = release_year(years, r);
        set_list(&mut release[2].1, formats(year, formats_hash.at(r)));
        let len = match year {
            Some(y) => {
                release[3].1 = Value::Int(i64::from(y));
                4
            }
            None => 3,
        };
        sink.node(&Node {
            id,
            labels: L_RELEASE,
            properties: &release[..len],
        })
    };
    let mut r: u64 = 0;
    for (m, &size) in plan.master_sizes.iter().enumerate() {
        set_str(&mut release[1].1, |s| title(s, titles.at(m as u64)));
        for _ in 0..size {
            emit_release(r, &mut release, id)?;
            r += 1;
            id += 1;
        }
    }
    // Only when there are more releases than master credits (never: the sizes sum exactly).
    while r < u64::from(c.releases) {
        set_str(&mut release[1].1, |s| title(s, titles.at(u64::MAX - r)));
        emit_release(r, &mut release, id)?;
        r += 1;
        id += 1;
    }
    debug_assert_eq!(id, c.total());
    Ok(())
}

pub(super) fn emit_relationships(
    seed: u64,
    plan: &mut Plan,
    sink: &mut dyn GraphSink,
) -> Result<(), SinkError> {
    let c = plan.counts;
    let (style_base, label_base, artist_base, master_base, release_base) = (
        c.style_base(),
        c.label_base(),
        c.artist_base(),
        c.master_base(),
        c.release_base(),
    );
    let mut rel = |rel_type: &'static str, start: u64, end: u64| {
        sink.relationship(Relationship {
            rel_type,
            start,
            end,
        })
    };

    // PART_OF.
    for (s, genres) in plan.styles.part_of.iter().enumerate() {
        for &g in genres {
            rel("PART_OF", style_base + s as u64, u64::from(g))?;
        }
    }
    // SUBLABEL_OF.
    let mut next = 0;
    for (&parent, &children) in plan.parents.iter().zip(&plan.children) {
        for &child in &plan.sublabels[next..next + children as usize] {
            rel(
                "SUBLABEL_OF",
                label_base + u64::from(child),
                label_base + u64::from(parent),
            )?;
        }
        next += children as usize;
    }
    // MEMBER_OF.
    let mut in_band = Vec::new();
    for (&band, &size) in plan.bands.iter().zip(&plan.band_sizes) {
        in_band.clear();
        for _ in 0..size {
            if let Some(member) = plan.members.take_avoiding(&in_band) {
                in_band.push(member);
                rel(
                    "MEMBER_OF",
                    artist_base + u64::from(member),
                    artist_base + u64::from(band),
                )?;
            }
        }
    }
    // ALIAS_OF: every alias to the group's primary name and to the other aliases.
    let mut next = 0;
    for &size in &plan.groups {
        let group = &plan.aliases[next..next + size as usize];
        next += size as usize;
        for &alias in &group[1..] {
            for &other in group {
                if other != alias {
                    rel(
                        "ALIAS_OF",
                        artist_base + u64::from(alias),
                        artist_base + u64::from(other),
                    )?;
                }
            }
        }
    }

    // Releases, in order, with their masters' edges at each master's first release.
    let artist_table = CountTable::new(ARTISTS_PER_RELEASE);
    let label_table = CountTable::new(LABELS_PER_RELEASE);
    let genre_table = CountTable::new(GENRES_PER_RELEASE);
    let style_table = CountTable::new(STYLES_PER_RELEASE);
    let genre_weights: Vec<u32> = GENRES.iter().map(|&(_, _, w)| w).collect();
    let genre_alias = WeightedAliasIndex::new(genre_weights).map_err(|e| SinkError(e.into()))?;
    let no_style = ((NO_STYLE_PPM as f64 / PPM as f64) * 18_446_744_073_709_551_616.0) as u64;
    let mut artist_counts = stream(seed, S_ARTIST_COUNTS);
    let mut label_counts = stream(seed, S_LABEL_COUNTS);
    let mut tags = stream(seed, S_TAGS);
    let (mut artists, mut labels, mut genres, mut styles) =
        (Vec::new(), Vec::new(), Vec::<u8>::new(), Vec::<u16>::new());

    let mut master_iter = plan.master_sizes.iter().enumerate();
    let mut master: Option<(u64, u32)> = None;
    for r in 0..u64::from(c.releases) {
        // The master and whether this is its first release.
        let mut first = false;
        loop {
            match master {
                Some((_, left)) if left > 0 => break,
                _ => match master_iter.next() {
                    Some((m, &size)) => {
                        master = Some((m as u64, size));
                        first = true;
                    }
                    None => {
                        master = None;
                        break;
                    }
                },
            }
        }
        let release = release_base + r;
        if let Some((m, left)) = master.as_mut() {
            *left -= 1;
            rel("DERIVED_FROM", release, master_base + *m)?;
        }

        artists.clear();
        let k = artist_table.sample(&mut artist_counts);
        if let Some(a) = plan.artist_runs.take() {
            artists.push(a);
        }
        for _ in 1..k {
            if let Some(a) = plan.artist_pool.take_avoiding(&artists) {
                artists.push(a);
            }
        }
        labels.clear();
        let k = label_table.sample(&mut label_counts);
        if let Some(l) = plan.label_runs.take() {
            labels.push(l);
        }
        for _ in 1..k {
            if let Some(l) = plan.label_pool.take_avoiding(&labels) {
                labels.push(l);
            }
        }

        genres.clear();
        let k = genre_table.sample(&mut tags) as usize;
        for _ in 0..64 {
            if genres.len() >= k {
                break;
            }
            let g = genre_alias.sample(&mut tags) as u8;
            if !genres.contains(&g) {
                genres.push(g);
            }
        }
        styles.clear();
        if tags.next_u64() >= no_style && !genres.is_empty() {
            let k = style_table.sample(&mut tags) as usize;
            for _ in 0..4 * k + 16 {
                if styles.len() >= k {
                    break;
                }
                let g = genres[below(&mut tags, genres.len())];
                if let Some((ids, table)) = &plan.styles.by_genre[usize::from(g)] {
                    let s = ids[table.sample(&mut tags)];
                    if !styles.contains(&s) {
                        styles.push(s);
                    }
                }
            }
        }

        for &a in &artists {
            rel("BY", release, artist_base + u64::from(a))?;
        }
        for &l in &labels {
            rel("ON", release, label_base + u64::from(l))?;
        }
        for &g in &genres {
            rel("IS", release, u64::from(g))?;
        }
        for &s in &styles {
            rel("IS", release, style_base + u64::from(s))?;
        }
        if let (true, Some((m, _))) = (first, master) {
            let node = master_base + m;
            for &a in &artists {
                rel("BY", node, artist_base + u64::from(a))?;
            }
            if let Some(&g) = genres.first() {
                rel("IS", node, u64::from(g))?;
            }
            if let Some(&s) = styles.first() {
                rel("IS", node, style_base + u64::from(s))?;
            }
        }
    }
    Ok(())
}

//! `discogs`: a synthetic music catalogue shaped like the production Discogs graph.
//!
//! [`Discogs`] streams a graph whose counts, directions and degree distributions follow the
//! project's `discogs-shape.md` notes (the production Neo4j graph built from the public Discogs
//! dumps): at `--scale 1.0` it emits the full 33.8M nodes and about 134M relationships; other
//! scales multiply every count except the genre and style vocabularies (16 genres, 757 styles).
//!
//! # Labels, properties and relationships
//!
//! | label   | properties                                                                  |
//! |---------|-----------------------------------------------------------------------------|
//! | Release | `id` (unique, `"r1"`...), `title`, `year` (int or null), `formats` (list)   |
//! | Artist  | `id` (unique, `"a1"`...), `name`                                            |
//! | Master  | `id` (unique, `"m1"`...), `title` (its releases' title), `year` (or null)   |
//! | Label   | `id` (unique, `"l1"`...), `name`                                            |
//! | Style   | `name` (unique)                                                             |
//! | Genre   | `name` (unique; the 16 Discogs genres)                                      |
//!
//! `IS` (Release/Master -> Genre or Style), `BY` (Release/Master -> Artist), `ON`
//! (Release -> Label), `DERIVED_FROM` (Release -> Master), `ALIAS_OF` (alias Artist -> primary
//! Artist), `MEMBER_OF` (member Artist -> band Artist), `SUBLABEL_OF` (child Label -> parent
//! Label), `PART_OF` (Style -> Genre). Ids are dense per label in the order Genre, Style, Label,
//! Artist, Master, Release.
//!
//! # The model
//!
//! - **Roles by segment.** Artists are shuffled once; consecutive segments of the shuffled order
//!   get fixed role sets (credited on releases, band, band member, in an alias group) whose
//!   shares are exactly the shape file's: 28% credited, 6.6% bands, 13.4% members, 12.8% in
//!   alias groups, and the remaining 57.8% orphans. Labels likewise: 2.6% parents, 11.7%
//!   sublabels, 57.5% with releases, 39.3% orphans. Artist `a1` is the placeholder super-hub
//!   "Various"; the first parent label is the placeholder "Not On Label".
//! - **Quotas by rank.** Every heavy-tailed count (releases per artist, per label and per master,
//!   members per band, bands per member, aliases per group, sublabels per parent) is a
//!   deterministic quantile curve: entity of rank `r` of `n` gets the curve's value at tail share
//!   `(r + 0.5) / n`, and the ranks are dealt to entities in shuffled order. The curves pass
//!   through the shape file's percentiles (log-log interpolated between them) and their tops are
//!   tuned so the means match; the few entities in the top 1% absorb whatever difference remains
//!   so that totals are exact. Hence these figures hold at every scale, not only on average.
//! - **Releases in runs.** Releases are walked in id order. Masters own consecutive runs of
//!   releases (sizes from the master curve, summing to the release count: every release has a
//!   master). Each release has one primary artist and one primary label taken from shuffled runs
//!   of up to 32 consecutive releases per artist or label (a discography, a catalogue series), so
//!   most releases of a master share their primary artist; further artists and labels (per
//!   release counts drawn from the shape's per-release distributions) come from shuffled pools of
//!   the remaining credits. An artist's credits (primary plus further) equal its quota exactly,
//!   so every credited artist has a `BY` edge.
//! - **Tags.** Genres per release are drawn without replacement, with weights tuned so that each
//!   genre's share of releases is the shape's; 8% of releases have no style, the others draw
//!   styles from their genres' styles with Zipf weights (exponent 0.6, which puts the largest
//!   style near 900K releases at scale 1; the shape says about 930K). Each style belongs to one home genre (styles are dealt so that each
//!   genre's style weight matches its release share); `PART_OF` links a style to its home genre
//!   and to the other genres it co-occurs with (9 to 16, about 10K edges in all).
//! - **Aliases and bands.** Artists in alias groups are cut into groups (one to 50 aliases
//!   besides the primary name); every alias points to its group's primary name and to the
//!   group's other aliases (Discogs lists aliases both ways), the primary name has in-edges only,
//!   which gives the shape's 4.9M `ALIAS_OF` over 12.8% of artists. Band members are dealt to
//!   bands from a shuffled pool of their quotas, never twice to the same band.
//! - **Masters** take the artists of their first release and its first genre and first style.
//!   A master's year is its earliest release's year; 7% of masters have none.
//! - **Years** follow the shape's decade shares (median 1998); 5% of releases have no year.
//!   Formats follow the year's era (shellac, vinyl, CD, file).
//!
//! # Figures reproduced (scale 1.0)
//!
//! Exact by construction: node counts; `DERIVED_FROM` = releases; `SUBLABEL_OF` = 11.7% of
//! labels with 140K children under the hub parent; the orphan, credited, band, member, alias and
//! sublabel shares; releases per master mean 7.49 (p50 2, p90 7, p99 32); releases per
//! credited artist p50 2, p90 10, p99 about 86, mean about 8.2 with the hub at 1.3M.
//! Close in expectation (within a few percent): artists per release 1.21 (p50 1, p90 2, p99 4,
//! max 49), labels per release 1.09 (p95 2, max 100), genres per release 1.32 (max 15), styles
//! per styled release about 1.79 (p90 3, max 90), members per band 3.5 (p90 6), `ALIAS_OF` about
//! 4.9M, `MEMBER_OF` about 2.3M, `IS` about 61M, `BY` about 26M, `ON` about 20.7M, `PART_OF`
//! 10,047 at every scale. Releases per genre are within about 1% of the shape's shares; the
//! decade shares of release years within 0.5 points, median 1998.
//!
//! # Determinism
//!
//! Structure comes from PCG streams ([`rand_pcg::Pcg64`], one stream per purpose) and alias
//! tables with integer weights ([`rand_distr::weighted::WeightedAliasIndex`]); names, titles,
//! years and formats come from a SplitMix64 hash of the node's index, so they cost no state.
//! Logarithms and exponentials are computed here with basic IEEE operations only (never the
//! platform's `libm`), so the same `(scale, seed)` give the same bits on every machine.
//!
//! # Memory
//!
//! Generation keeps a few `u32` per credited entity and per credit (artists' and labels' runs
//! and pools, master sizes, band and alias structure) and, while roles are dealt, one per artist:
//! the peak is about 120 MB at scale 1.0 (measured into a sink that only counts, where the whole
//! graph takes 13 to 16 s on one core). Nothing is kept per release.

mod arith;
mod credits;
mod curves;
mod emit;
mod names;
mod plan;
mod roles;
mod shape;
mod styles;

use super::{BadParameters, Dataset, GraphSink, Kind, PropertySpec, Schema, SinkError};

use curves::CountTable;
use emit::{emit_nodes, emit_relationships};
use plan::Plan;
use roles::{Counts, Segments, alias_groups, band_sizes};
use shape::{
    ALIAS, ARTIST_SEGMENTS, ARTISTS_PER_RELEASE, BAND, GENRES_PER_RELEASE, LABEL_SEGMENTS,
    LABELS_PER_RELEASE, MEMBER, NO_STYLE_PPM, PARENT, PPM, STYLES_PER_RELEASE, SUB,
};
use styles::Styles;

/// A Discogs-shaped graph of `scale` times the production graph's size.
///
/// Invariants: `scale` is finite and within `(0, 4]`.
#[derive(Debug, Clone, Copy)]
pub struct Discogs {
    scale: f64,
    seed: u64,
}

impl Discogs {
    /// The largest scale accepted (4 times the production graph: 135M nodes, 540M
    /// relationships).
    pub const MAX_SCALE: f64 = 4.0;

    /// A graph of `scale` times the production graph (1.0 is 33.8M nodes and about 134M
    /// relationships) from `seed`.
    pub fn new(scale: f64, seed: u64) -> Result<Discogs, BadParameters> {
        if !scale.is_finite() || scale <= 0.0 || scale > Self::MAX_SCALE {
            return Err(BadParameters(format!(
                "discogs scale {scale} is not allowed: give a number greater than 0 and at most \
                 {} (1.0 is the full 33.8M-node graph, 0.01 a 338K-node one)",
                Self::MAX_SCALE
            )));
        }
        Ok(Discogs { scale, seed })
    }
}

impl Dataset for Discogs {
    fn name(&self) -> &'static str {
        "discogs"
    }

    fn describe(&self) -> String {
        format!(
            "discogs-shaped graph, scale {:?}, seed {}",
            self.scale, self.seed
        )
    }

    fn schema(&self) -> Schema {
        let prop = |label, key, kind, unique, indexed| PropertySpec {
            label,
            key,
            kind,
            unique,
            indexed,
        };
        Schema {
            labels: vec!["Release", "Artist", "Master", "Label", "Style", "Genre"],
            relationship_types: vec![
                "IS",
                "BY",
                "ON",
                "DERIVED_FROM",
                "ALIAS_OF",
                "MEMBER_OF",
                "SUBLABEL_OF",
                "PART_OF",
            ],
            properties: vec![
                prop("Release", "id", Kind::Str, true, false),
                prop("Release", "title", Kind::Str, false, false),
                prop("Release", "year", Kind::Int, false, true),
                prop("Release", "formats", Kind::StrList, false, false),
                prop("Artist", "id", Kind::Str, true, false),
                prop("Artist", "name", Kind::Str, false, false),
                prop("Master", "id", Kind::Str, true, false),
                prop("Master", "title", Kind::Str, false, false),
                prop("Master", "year", Kind::Int, false, true),
                prop("Label", "id", Kind::Str, true, false),
                prop("Label", "name", Kind::Str, false, false),
                prop("Style", "name", Kind::Str, true, false),
                prop("Genre", "name", Kind::Str, true, false),
            ],
        }
    }

    fn node_count(&self) -> u64 {
        Counts::new(self.scale).total()
    }

    fn relationship_count_hint(&self) -> u64 {
        let c = Counts::new(self.scale);
        let (releases, masters) = (f64::from(c.releases), f64::from(c.masters));
        let artists = CountTable::new(ARTISTS_PER_RELEASE).mean();
        let labels = CountTable::new(LABELS_PER_RELEASE).mean();
        let genres = CountTable::new(GENRES_PER_RELEASE).mean();
        let styled = 1.0 - NO_STYLE_PPM as f64 / PPM as f64;
        let styles = CountTable::new(STYLES_PER_RELEASE).mean();
        let by = (releases + masters) * artists;
        let on = releases * labels;
        let is = releases * (genres + styled * styles) + masters * (1.0 + styled);
        let estimated = (by + on + is + releases).round() as u64;

        let parents = Segments::count(&LABEL_SEGMENTS, c.labels, PARENT);
        let sublabels = Segments::count(&LABEL_SEGMENTS, c.labels, SUB) as u64;
        let sublabel_of = if parents > 0 { sublabels } else { 0 };
        let members = Segments::count(&ARTIST_SEGMENTS, c.artists, MEMBER);
        let bands = Segments::count(&ARTIST_SEGMENTS, c.artists, BAND);
        let member_of: u64 = if members > 0 {
            band_sizes(bands).iter().map(|&s| u64::from(s)).sum()
        } else {
            0
        };
        let alias_of: u64 = alias_groups(Segments::count(&ARTIST_SEGMENTS, c.artists, ALIAS))
            .iter()
            .map(|&g| u64::from(g - 1) * u64::from(g - 1))
            .sum();
        let part_of = Styles::new().part_of_count();
        estimated + sublabel_of + member_of + alias_of + part_of
    }

    fn generate(&self, sink: &mut dyn GraphSink) -> Result<(), SinkError> {
        let mut plan = Plan::new(self);
        emit_nodes(self.seed, &plan, sink)?;
        emit_relationships(self.seed, &mut plan, sink)
    }
}

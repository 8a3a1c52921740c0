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

use std::fmt::Write as _;

use rand_distr::Distribution;
use rand_distr::weighted::WeightedAliasIndex;
use rand_pcg::Pcg64;
use rand_pcg::rand_core::Rng;

use super::{Dataset, GraphSink, Kind, Node, PropertySpec, Relationship, Schema, SinkError, Value};

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
    pub fn new(scale: f64, seed: u64) -> Result<Discogs, String> {
        if !scale.is_finite() || scale <= 0.0 || scale > Self::MAX_SCALE {
            return Err(format!(
                "discogs scale {scale} is not allowed: give a number greater than 0 and at most \
                 {} (1.0 is the full 33.8M-node graph, 0.01 a 338K-node one)",
                Self::MAX_SCALE
            ));
        }
        Ok(Discogs { scale, seed })
    }
}

// ---------------------------------------------------------------------------------------------
// The shape: counts, shares and curves.

/// Node counts of the production graph (scale 1.0).
const FULL_RELEASES: f64 = 18_954_226.0;
const FULL_ARTISTS: f64 = 9_974_217.0;
const FULL_MASTERS: f64 = 2_531_018.0;
const FULL_LABELS: f64 = 2_363_420.0;
/// Releases credited to the placeholder artist "Various" at scale 1.0.
const FULL_HUB_RELEASES: f64 = 1_300_000.0;
/// Sublabels of the placeholder label "Not On Label" at scale 1.0.
const FULL_HUB_SUBLABELS: f64 = 140_000.0;
/// Fixed vocabulary sizes.
const GENRE_COUNT: u32 = 16;
const STYLE_COUNT: u32 = 757;

/// Shares in parts per million.
const PPM: u64 = 1_000_000;
/// Releases without a style.
const NO_STYLE_PPM: u64 = 80_000;
/// Releases without a year.
const RELEASE_NO_YEAR_PPM: u64 = 50_000;
/// Masters without a year.
const MASTER_NO_YEAR_PPM: u64 = 70_000;

/// The longest run of consecutive releases sharing a primary artist or label.
const RUN: u32 = 32;
/// How far ahead in a credit pool to look for an entity not yet on the release.
const SWAP_WINDOW: usize = 64;

/// Artist roles.
const ACTIVE: u8 = 1;
const BAND: u8 = 2;
const MEMBER: u8 = 4;
const ALIAS: u8 = 8;
/// Segments of the shuffled artists (ppm, roles); the rest are orphans (57.8%). Credited 28%,
/// bands 6.6%, members 13.4%, alias groups 12.8%.
const ARTIST_SEGMENTS: [(u64, u8); 9] = [
    (124_000, ACTIVE),
    (60_000, ACTIVE | BAND),
    (40_000, ACTIVE | MEMBER),
    (46_000, ACTIVE | ALIAS),
    (10_000, ACTIVE | MEMBER | ALIAS),
    (6_000, BAND),
    (64_000, MEMBER),
    (52_000, ALIAS),
    (20_000, MEMBER | ALIAS),
];

/// Label roles.
const PARENT: u8 = 1;
const HAS_RELEASES: u8 = 2;
const SUB: u8 = 4;
/// Segments of the shuffled labels (ppm, roles); the rest are orphans (39.3%). Parents 2.6%
/// (4.5 sublabels each), sublabels 11.7%.
const LABEL_SEGMENTS: [(u64, u8); 4] = [
    (26_000, PARENT | HAS_RELEASES),
    (464_000, HAS_RELEASES),
    (90_000, SUB | HAS_RELEASES),
    (27_000, SUB),
];

/// A discrete heavy-tailed distribution given by points `(x, P(X >= x))`, log-log interpolated
/// between them, starting at `(1, 1)` and capped at the last `x`.
#[derive(Debug, Clone, Copy)]
struct Curve(&'static [(f64, f64)]);

/// Releases per credited artist (the hub excepted): p50 2, p90 10, p99 86, mean 7.75.
const ARTIST_RELEASES: Curve = Curve(&[
    (1.0, 1.0),
    (2.0, 0.52),
    (10.0, 0.105),
    (86.0, 0.0102),
    (4500.0, 0.0001),
    (28000.0, 0.000_000_3),
]);
/// Releases per master: p50 2, p90 7, p99 32, mean 7.5.
const MASTER_RELEASES: Curve = Curve(&[
    (1.0, 1.0),
    (2.0, 0.52),
    (7.0, 0.105),
    (32.0, 0.0102),
    (1600.0, 0.001),
    (5000.0, 0.0001),
    (20000.0, 0.000_000_2),
]);
/// Releases per label with releases: mean about 15, tens of thousands for the largest.
const LABEL_RELEASES: Curve = Curve(&[
    (1.0, 1.0),
    (2.0, 0.7),
    (4.0, 0.45),
    (20.0, 0.1),
    (150.0, 0.01),
    (3000.0, 0.0005),
    (25000.0, 0.00002),
    (50000.0, 0.000_000_3),
]);
/// Sublabels per parent label (the hub excepted): p50 1, mean about 2.2.
const SUBLABELS_PER_PARENT: Curve = Curve(&[
    (1.0, 1.0),
    (2.0, 0.3),
    (3.0, 0.15),
    (10.0, 0.025),
    (100.0, 0.001),
    (1000.0, 0.00005),
]);
/// Members per band: mean 3.5, p90 6.
const MEMBERS_PER_BAND: Curve = Curve(&[
    (1.0, 1.0),
    (2.0, 0.83),
    (3.0, 0.64),
    (4.0, 0.41),
    (5.0, 0.23),
    (6.0, 0.11),
    (8.0, 0.045),
    (20.0, 0.003),
    (60.0, 0.0001),
]);
/// Bands per member: mean about 1.72 (2.3M memberships over 1.34M members).
const BANDS_PER_MEMBER: Curve = Curve(&[
    (1.0, 1.0),
    (2.0, 0.3),
    (3.0, 0.13),
    (5.0, 0.045),
    (20.0, 0.003),
    (200.0, 0.00003),
]);
/// Aliases per alias group besides its primary name: with `(g - 1)^2` edges per group of `g`,
/// about 3.8 `ALIAS_OF` edges per artist in a group (4.9M at scale 1.0).
const ALIASES_PER_GROUP: Curve = Curve(&[
    (1.0, 1.0),
    (2.0, 0.4),
    (3.0, 0.22),
    (5.0, 0.09),
    (10.0, 0.02),
    (30.0, 0.0015),
    (50.0, 0.0003),
]);
/// Artists per release: mean 1.21, p50 1, p90 2, p99 4, max 49.
const ARTISTS_PER_RELEASE: Curve = Curve(&[
    (1.0, 1.0),
    (2.0, 0.12),
    (3.0, 0.042),
    (4.0, 0.017),
    (5.0, 0.008),
    (49.0, 0.00002),
]);
/// Labels per release: mean 1.09, p50 1, p95 2, max 100.
const LABELS_PER_RELEASE: Curve =
    Curve(&[(1.0, 1.0), (2.0, 0.054), (3.0, 0.011), (100.0, 0.00001)]);
/// Genres per release: mean 1.32, p90 2, max 15.
const GENRES_PER_RELEASE: Curve = Curve(&[
    (1.0, 1.0),
    (2.0, 0.27),
    (3.0, 0.04),
    (4.0, 0.008),
    (15.0, 0.00002),
]);
/// Styles per release that has any: mean 1.79, p90 3, max 90.
const STYLES_PER_RELEASE: Curve = Curve(&[
    (1.0, 1.0),
    (2.0, 0.44),
    (3.0, 0.175),
    (4.0, 0.068),
    (5.0, 0.025),
    (90.0, 0.00003),
]);

/// The genres, in decreasing order of releases: name, releases per genre at scale 1.0 (in tens
/// of thousands; the shape's figures) and the weight a release draws it with. Drawing several
/// genres per release without replacement flattens the largest genres' shares, so the draw
/// weights were tuned (by simulating the draw) until each genre's share of releases matches its
/// shape share to within about 1%.
const GENRES: [(&str, u32, u32); 16] = [
    ("Rock", 618, 26029),
    ("Electronic", 487, 19898),
    ("Pop", 385, 15305),
    ("Folk/World & Country", 248, 9663),
    ("Jazz", 151, 5808),
    ("Funk/Soul", 129, 4974),
    ("Classical", 120, 4536),
    ("Hip Hop", 96, 3631),
    ("Latin", 85, 3215),
    ("Stage & Screen", 58, 2183),
    ("Reggae", 47, 1760),
    ("Blues", 38, 1414),
    ("Non-Music", 27, 1014),
    ("Children's", 10, 381),
    ("Brass & Military", 4, 152),
    ("No Genre", 1, 37),
];

/// Well-known styles: (rank by releases, name, index of the home genre in [`GENRES`]). The
/// other styles are named `Style <rank + 1>` and dealt to genres to balance their weights.
const NAMED_STYLES: &[(usize, &str, u8)] = &[
    (0, "Pop Rock", 0),
    (1, "House", 1),
    (2, "Vocal", 2),
    (3, "Experimental", 1),
    (4, "Punk", 0),
    (5, "Alternative Rock", 0),
    (6, "Synth-pop", 1),
    (7, "Techno", 1),
    (8, "Indie Rock", 0),
    (9, "Ambient", 1),
    (10, "Soul", 5),
    (11, "Disco", 1),
    (12, "Hard Rock", 0),
    (13, "Folk", 3),
    (14, "Ballad", 2),
    (15, "Country", 3),
    (16, "Electro", 1),
    (17, "Rock & Roll", 0),
    (18, "Downtempo", 1),
    (19, "Chanson", 2),
    (20, "Classic Rock", 0),
    (21, "Schlager", 2),
    (22, "Soundtrack", 9),
    (23, "Heavy Metal", 0),
    (24, "Tech House", 1),
    (25, "Deep House", 1),
    (26, "Trance", 1),
    (27, "Folk Rock", 0),
    (28, "Psychedelic Rock", 0),
    (29, "Noise", 1),
    (30, "Funk", 5),
    (31, "Romantic", 6),
    (32, "Easy Listening", 4),
    (33, "Rhythm & Blues", 5),
    (34, "Contemporary Jazz", 4),
    (35, "Black Metal", 0),
    (36, "Death Metal", 0),
    (37, "Drum n Bass", 1),
    (38, "Hardcore", 0),
    (39, "Industrial", 1),
    (40, "Europop", 2),
    (41, "Dub", 10),
    (42, "Roots Reggae", 10),
    (43, "Blues Rock", 0),
    (44, "Baroque", 6),
    (45, "Modern Classical", 6),
    (46, "Big Band", 4),
    (47, "Score", 9),
    (48, "Gospel", 5),
    (49, "Boom Bap", 7),
    (50, "Gangsta", 7),
    (51, "Conscious", 7),
    (52, "Salsa", 8),
    (53, "Cumbia", 8),
    (54, "Bossa Nova", 8),
    (55, "Chicago Blues", 11),
    (56, "Electric Blues", 11),
    (57, "Spoken Word", 12),
    (58, "Comedy", 12),
    (59, "Nursery Rhymes", 13),
    (199, "Marches", 14),
];

/// Year buckets `[from, to)` with weights (per 980; the shape's decade shares).
const YEAR_BUCKETS: [(u16, u16, u64); 10] = [
    (1860, 1900, 2),
    (1900, 1950, 8),
    (1950, 1960, 30),
    (1960, 1970, 70),
    (1970, 1980, 100),
    (1980, 1990, 120),
    (1990, 2000, 180),
    (2000, 2010, 180),
    (2010, 2020, 210),
    (2020, 2027, 80),
];

// ---------------------------------------------------------------------------------------------
// Portable arithmetic: the same bits on every machine.

const LN_2: f64 = std::f64::consts::LN_2;

/// Natural logarithm from basic IEEE operations only (the platform's `ln` may differ in the
/// last bit between machines). Relative error about 1e-15; `x` must be positive and normal.
fn portable_ln(x: f64) -> f64 {
    if x.is_nan() || x < f64::MIN_POSITIVE {
        return -708.0;
    }
    let bits = x.to_bits();
    let mut exponent = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut mantissa = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    if mantissa > std::f64::consts::SQRT_2 {
        mantissa *= 0.5;
        exponent += 1;
    }
    // ln(m) = 2 atanh(t), t = (m - 1) / (m + 1), |t| < 0.172.
    let t = (mantissa - 1.0) / (mantissa + 1.0);
    let t2 = t * t;
    let (mut term, mut sum) = (t, 0.0);
    for k in 0..14 {
        sum += term / f64::from(2 * k + 1);
        term *= t2;
    }
    exponent as f64 * LN_2 + 2.0 * sum
}

/// `e^x` from basic IEEE operations only. Relative error about 1e-15.
fn portable_exp(x: f64) -> f64 {
    if x.is_nan() || x < -708.0 {
        return 0.0;
    }
    if x > 709.0 {
        return f64::INFINITY;
    }
    let k = (x / LN_2).round();
    let r = x - k * LN_2;
    let (mut term, mut sum) = (1.0, 1.0);
    for i in 1..=20 {
        term *= r / f64::from(i);
        sum += term;
    }
    sum * f64::from_bits(((k as i64 + 1023) as u64) << 52)
}

/// `x^y` for positive `x`, portably.
fn portable_pow(x: f64, y: f64) -> f64 {
    portable_exp(y * portable_ln(x))
}

/// SplitMix64's finaliser: a bijective mix of 64 bits.
fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Independent per-item values: `Hash::new(seed, purpose).at(index)`.
#[derive(Debug, Clone, Copy)]
struct Hash(u64);

impl Hash {
    fn new(seed: u64, purpose: u64) -> Hash {
        Hash(mix64(
            seed ^ mix64(purpose.wrapping_mul(0xd6e8_feb8_6659_fd93)),
        ))
    }

    fn at(self, index: u64) -> u64 {
        mix64(self.0 ^ mix64(index))
    }
}

/// Purposes of the hashes.
const H_ARTIST_NAME: u64 = 1;
const H_LABEL_NAME: u64 = 2;
const H_TITLE: u64 = 3;
const H_RELEASE_YEAR: u64 = 4;
const H_MASTER_YEAR: u64 = 5;
const H_FORMAT: u64 = 6;

/// Streams of the structure: one PCG stream per purpose.
const S_ARTIST_ROLES: u64 = 1;
const S_LABEL_ROLES: u64 = 2;
const S_ARTIST_COUNTS: u64 = 3;
const S_LABEL_COUNTS: u64 = 4;
const S_ARTIST_CREDITS: u64 = 5;
const S_LABEL_CREDITS: u64 = 6;
const S_MASTERS: u64 = 7;
const S_MEMBERS: u64 = 8;
const S_TAGS: u64 = 9;

/// The PCG stream for `purpose`.
fn stream(seed: u64, purpose: u64) -> Pcg64 {
    let state = (u128::from(mix64(seed)) << 64) | u128::from(mix64(seed ^ 0x5851_f42d_4c95_7f2d));
    Pcg64::new(state, u128::from(purpose))
}

/// A uniform integer in `0..n` (`n > 0`), by multiply-shift (bias below `n / 2^64`).
fn below(rng: &mut Pcg64, n: usize) -> usize {
    ((u128::from(rng.next_u64()) * n as u128) >> 64) as usize
}

/// Fisher-Yates, with [`below`].
fn shuffle<T>(items: &mut [T], rng: &mut Pcg64) {
    for i in (1..items.len()).rev() {
        let j = below(rng, i + 1);
        items.swap(i, j);
    }
}

/// `x * scale` rounded, at least 1.
fn scaled(x: f64, scale: f64) -> u32 {
    ((x * scale).round() as u32).max(1)
}

/// `round(total * part / whole)` in integers.
fn share(total: u64, part: u64, whole: u64) -> u64 {
    ((u128::from(total) * u128::from(part) + u128::from(whole / 2)) / u128::from(whole)) as u64
}

// ---------------------------------------------------------------------------------------------
// Curves, per-release count tables and quotas.

impl Curve {
    /// The value `x` with `P(X >= x) = u`, for `u` in `(0, 1]`, before flooring.
    fn value(self, u: f64) -> f64 {
        for w in self.0.windows(2) {
            let ((x0, s0), (x1, s1)) = (w[0], w[1]);
            if u > s1 {
                let t = portable_ln(u / s0) / portable_ln(s1 / s0);
                return portable_exp(portable_ln(x0) + t * (portable_ln(x1) - portable_ln(x0)));
            }
        }
        self.0[self.0.len() - 1].0
    }

    /// `P(X >= k)` for a whole `k >= 1`.
    fn survival(self, k: u32) -> f64 {
        let k = f64::from(k);
        for w in self.0.windows(2) {
            let ((x0, s0), (x1, s1)) = (w[0], w[1]);
            if k <= x1 {
                if k <= x0 {
                    return s0;
                }
                let t = portable_ln(k / x0) / portable_ln(x1 / x0);
                return portable_exp(portable_ln(s0) + t * (portable_ln(s1) - portable_ln(s0)));
            }
        }
        0.0
    }

    /// The largest value.
    fn cap(self) -> u32 {
        self.0[self.0.len() - 1].0 as u32
    }

    /// The mean, `sum over k >= 1 of P(X >= k)`.
    fn mean(self) -> f64 {
        (1..=self.cap()).map(|k| self.survival(k)).sum()
    }
}

/// A small count (1 to the curve's cap) drawn with one 64-bit word.
#[derive(Debug, Clone)]
struct CountTable {
    /// `thresholds[i] = P(X >= i + 2) * 2^64`, decreasing.
    thresholds: Vec<u64>,
}

impl CountTable {
    fn new(curve: Curve) -> CountTable {
        let thresholds = (2..=curve.cap())
            .map(|k| (curve.survival(k) * 18_446_744_073_709_551_616.0) as u64)
            .collect();
        CountTable { thresholds }
    }

    fn sample(&self, rng: &mut Pcg64) -> u32 {
        let x = rng.next_u64();
        let mut k = 1;
        for &t in &self.thresholds {
            if x >= t {
                break;
            }
            k += 1;
        }
        k
    }

    fn mean(&self) -> f64 {
        1.0 + self
            .thresholds
            .iter()
            .map(|&t| t as f64 / 18_446_744_073_709_551_616.0)
            .sum::<f64>()
    }
}

/// The curve's values for ranks `0..n` (largest first), floored, at least `min`.
fn raw_quotas(curve: Curve, n: usize, min: u32) -> Vec<u32> {
    (0..n)
        .map(|r| {
            let u = (r as f64 + 0.5) / n as f64;
            (curve.value(u).floor() as u32).max(min)
        })
        .collect()
}

/// The curve's values for ranks `0..n` adjusted to sum to exactly `total`: the top 1% absorb
/// the difference in proportion to their values (or, when removing, to what they hold above
/// `min`), so the body of the distribution keeps its percentiles. When `total < n * min`, the
/// first entries get `min` and the rest what is left.
fn quotas(curve: Curve, n: usize, total: u64, min: u32) -> Vec<u32> {
    let mut q = raw_quotas(curve, n, min);
    fit(&mut q, total, min);
    q
}

/// Adjusts rank-ordered `q` (largest first) to sum to `total`; see [`quotas`].
fn fit(q: &mut [u32], total: u64, min: u32) {
    let n = q.len();
    if n == 0 {
        return;
    }
    let sum: u64 = q.iter().map(|&x| u64::from(x)).sum();
    if sum == total {
        return;
    }
    let floor = n as u64 * u64::from(min);
    if total <= floor {
        let mut left = total;
        for x in q.iter_mut() {
            let v = left.min(u64::from(min));
            *x = v as u32;
            left -= v;
        }
        return;
    }
    let top = n.div_ceil(100);
    if total > sum {
        let weights: Vec<u64> = q[..top].iter().map(|&x| u64::from(x)).collect();
        spread(&mut q[..top], &weights, total - sum, true);
    } else {
        let excess = sum - total;
        let room = |s: &[u32]| -> Vec<u64> { s.iter().map(|&x| u64::from(x - min)).collect() };
        let top_room = room(&q[..top]);
        if top_room.iter().sum::<u64>() >= excess {
            spread(&mut q[..top], &top_room, excess, false);
        } else {
            let all_room = room(q);
            spread(q, &all_room, excess, false);
        }
    }
}

/// Adds (or removes) exactly `amount` over `q` in proportion to `weights` (whose sum is
/// positive and, when removing, at least `amount`).
fn spread(q: &mut [u32], weights: &[u64], amount: u64, add: bool) {
    let whole: u128 = weights.iter().map(|&w| u128::from(w)).sum();
    if whole == 0 {
        return;
    }
    let mut cum: u128 = 0;
    for (x, &w) in q.iter_mut().zip(weights) {
        let before = cum * u128::from(amount) / whole;
        cum += u128::from(w);
        let after = cum * u128::from(amount) / whole;
        let d = (after - before) as u64;
        *x = if add {
            (u64::from(*x) + d).min(u64::from(u32::MAX)) as u32
        } else {
            (u64::from(*x) - d) as u32
        };
    }
}

// ---------------------------------------------------------------------------------------------
// Counts and roles.

/// Node counts and id ranges (Genre, Style, Label, Artist, Master, Release).
#[derive(Debug, Clone, Copy)]
struct Counts {
    labels: u32,
    artists: u32,
    masters: u32,
    releases: u32,
}

impl Counts {
    fn new(scale: f64) -> Counts {
        Counts {
            labels: scaled(FULL_LABELS, scale),
            artists: scaled(FULL_ARTISTS, scale),
            masters: scaled(FULL_MASTERS, scale),
            releases: scaled(FULL_RELEASES, scale),
        }
    }

    const fn style_base(self) -> u64 {
        GENRE_COUNT as u64
    }

    const fn label_base(self) -> u64 {
        self.style_base() + STYLE_COUNT as u64
    }

    const fn artist_base(self) -> u64 {
        self.label_base() + self.labels as u64
    }

    const fn master_base(self) -> u64 {
        self.artist_base() + self.artists as u64
    }

    const fn release_base(self) -> u64 {
        self.master_base() + self.masters as u64
    }

    const fn total(self) -> u64 {
        self.release_base() + self.releases as u64
    }
}

/// Walks positions `0..n` of a shuffled order and tells each position's roles.
struct Segments {
    ends: Vec<(u64, u8)>,
    at: usize,
}

impl Segments {
    fn new(segments: &[(u64, u8)], n: u32) -> Segments {
        let mut cum = 0;
        let ends = segments
            .iter()
            .map(|&(ppm, roles)| {
                cum += ppm;
                (share(u64::from(n), cum, PPM), roles)
            })
            .collect();
        Segments { ends, at: 0 }
    }

    /// Roles at `position`; positions must come in increasing order.
    fn roles(&mut self, position: u64) -> u8 {
        while self.at < self.ends.len() && position >= self.ends[self.at].0 {
            self.at += 1;
        }
        self.ends.get(self.at).map_or(0, |&(_, roles)| roles)
    }

    /// How many positions have all of `roles` (any role at all for `0`).
    fn count(segments: &[(u64, u8)], n: u32, roles: u8) -> usize {
        let mut start = 0;
        let mut count = 0;
        for &(end, r) in &Segments::new(segments, n).ends {
            if r & roles == roles {
                count += (end - start) as usize;
            }
            start = end;
        }
        count
    }
}

/// Alias group sizes (primary included) for `members` artists in groups.
fn alias_groups(members: usize) -> Vec<u32> {
    if members < 2 {
        return Vec::new();
    }
    let mean_group = 1.0 + ALIASES_PER_GROUP.mean();
    let groups = ((members as f64 / mean_group).round() as usize).clamp(1, members / 2);
    let mut sizes = quotas(ALIASES_PER_GROUP, groups, (members - groups) as u64, 1);
    for s in &mut sizes {
        *s += 1;
    }
    sizes
}

/// Band sizes for `bands` bands.
fn band_sizes(bands: usize) -> Vec<u32> {
    raw_quotas(MEMBERS_PER_BAND, bands, 1)
}

// ---------------------------------------------------------------------------------------------
// Styles.

/// The fixed style vocabulary: names, home genres, weights and `PART_OF` genres.
struct Styles {
    names: Vec<String>,
    /// Per style, the genres it is `PART_OF`, its home first.
    part_of: Vec<Vec<u8>>,
    /// Per genre, its home styles and an alias table over their weights (none when it has no
    /// style).
    by_genre: Vec<Option<(Vec<u16>, WeightedAliasIndex<u32>)>>,
}

impl Styles {
    fn new() -> Styles {
        let n = STYLE_COUNT as usize;
        let weights: Vec<u32> = (0..n)
            .map(|s| (1e6 * portable_pow(s as f64 + 1.0, -0.6)).round() as u32)
            .collect();
        let total_style: u64 = weights.iter().map(|&w| u64::from(w)).sum();
        let total_genre: u64 = GENRES.iter().map(|&(_, w, _)| u64::from(w)).sum();
        let target: Vec<u64> = GENRES
            .iter()
            .map(|&(_, w, _)| share(total_style, u64::from(w), total_genre))
            .collect();
        let mut held = [0u64; GENRE_COUNT as usize];
        let mut home = vec![u8::MAX; n];
        let mut names: Vec<String> = (0..n).map(|s| format!("Style {}", s + 1)).collect();
        for &(rank, name, genre) in NAMED_STYLES {
            home[rank] = genre;
            names[rank] = name.to_string();
            held[usize::from(genre)] += u64::from(weights[rank]);
        }
        for s in 0..n {
            if home[s] != u8::MAX {
                continue;
            }
            // The genre furthest below its share (first on ties).
            let mut best = 0;
            let mut best_gap = i128::MIN;
            for g in 0..GENRE_COUNT as usize {
                let gap = i128::from(target[g]) - i128::from(held[g]);
                if gap > best_gap {
                    best_gap = gap;
                    best = g;
                }
            }
            home[s] = best as u8;
            held[best] += u64::from(weights[s]);
        }
        let part_of = (0..n)
            .map(|s| {
                let rho = s as f64 / n as f64;
                let drop = (8.0 * rho * rho.sqrt()).floor() as usize;
                let count = GENRE_COUNT as usize - drop;
                let mut genres = vec![home[s]];
                genres.extend((0..GENRE_COUNT as u8).filter(|&g| g != home[s]));
                genres.truncate(count);
                genres
            })
            .collect();
        let by_genre = (0..GENRE_COUNT as u8)
            .map(|g| {
                let ids: Vec<u16> = (0..n).filter(|&s| home[s] == g).map(|s| s as u16).collect();
                let w: Vec<u32> = ids.iter().map(|&s| weights[usize::from(s)]).collect();
                WeightedAliasIndex::new(w).ok().map(|table| (ids, table))
            })
            .collect();
        Styles {
            names,
            part_of,
            by_genre,
        }
    }

    fn part_of_count(&self) -> u64 {
        self.part_of.iter().map(|g| g.len() as u64).sum()
    }
}

// ---------------------------------------------------------------------------------------------
// Credits: runs of consecutive releases and pools of further credits.

/// Primary credits: shuffled runs `(entity, releases)`, consumed one release at a time.
struct Lane {
    runs: Vec<(u32, u32)>,
    next: usize,
    entity: u32,
    left: u32,
}

impl Lane {
    fn new(mut runs: Vec<(u32, u32)>, rng: &mut Pcg64) -> Lane {
        shuffle(&mut runs, rng);
        Lane {
            runs,
            next: 0,
            entity: 0,
            left: 0,
        }
    }

    fn take(&mut self) -> Option<u32> {
        while self.left == 0 {
            let &(entity, len) = self.runs.get(self.next)?;
            self.next += 1;
            self.entity = entity;
            self.left = len;
        }
        self.left -= 1;
        Some(self.entity)
    }
}

/// Further credits: a shuffled multiset of entities, consumed in order.
struct Pool {
    slots: Vec<u32>,
    next: usize,
}

impl Pool {
    fn new(mut slots: Vec<u32>, rng: &mut Pcg64) -> Pool {
        shuffle(&mut slots, rng);
        Pool { slots, next: 0 }
    }

    /// The next credit whose entity is not in `taken`, swapped forward from at most
    /// [`SWAP_WINDOW`] slots ahead; `None` when there is none (the slot stays for later).
    fn take_avoiding(&mut self, taken: &[u32]) -> Option<u32> {
        let end = (self.next + SWAP_WINDOW).min(self.slots.len());
        for t in self.next..end {
            if !taken.contains(&self.slots[t]) {
                self.slots.swap(self.next, t);
                let entity = self.slots[self.next];
                self.next += 1;
                return Some(entity);
            }
        }
        None
    }
}

/// Splits each entity's quota into primary runs and further credits, so that the further ones
/// sum to `further` exactly (in proportion to the quotas).
fn split_credits(
    entities: &[u32],
    quotas: &[u32],
    further: u64,
    runs: &mut Vec<(u32, u32)>,
    pool: &mut Vec<u32>,
) {
    let total: u64 = quotas.iter().map(|&q| u64::from(q)).sum();
    if total == 0 {
        return;
    }
    let further = further.min(total);
    let mut cum: u128 = 0;
    for (&entity, &q) in entities.iter().zip(quotas) {
        let before = cum * u128::from(further) / u128::from(total);
        cum += u128::from(q);
        let after = cum * u128::from(further) / u128::from(total);
        let extra = (after - before) as u32;
        push_runs(entity, q - extra, runs);
        pool.extend(std::iter::repeat_n(entity, extra as usize));
    }
}

/// `releases` primary credits of `entity`, in runs of at most [`RUN`].
fn push_runs(entity: u32, releases: u32, runs: &mut Vec<(u32, u32)>) {
    if releases == 0 {
        return;
    }
    let pieces = releases.div_ceil(RUN);
    let (base, extra) = (releases / pieces, releases % pieces);
    for i in 0..pieces {
        runs.push((entity, base + u32::from(i < extra)));
    }
}

// ---------------------------------------------------------------------------------------------
// The plan: everything decided before the first node is emitted.

struct Plan {
    counts: Counts,
    styles: Styles,
    /// The "Not On Label" parent, as a label index.
    label_hub: Option<u32>,
    /// Parent labels and their sublabel counts; sublabels in order.
    parents: Vec<u32>,
    children: Vec<u32>,
    sublabels: Vec<u32>,
    /// Bands, their sizes, and the member credits.
    bands: Vec<u32>,
    band_sizes: Vec<u32>,
    members: Pool,
    /// Artists in alias groups, in group order, and the group sizes.
    aliases: Vec<u32>,
    groups: Vec<u32>,
    /// Releases per master, in master order.
    master_sizes: Vec<u32>,
    artist_runs: Lane,
    artist_pool: Pool,
    label_runs: Lane,
    label_pool: Pool,
}

/// Index of the placeholder artist "Various".
const ARTIST_HUB: u32 = 0;

impl Plan {
    fn new(d: &Discogs) -> Plan {
        let counts = Counts::new(d.scale);
        let releases = u64::from(counts.releases);

        // Artists: hub first, the others shuffled; roles by segment.
        let mut rng = stream(d.seed, S_ARTIST_ROLES);
        let mut order: Vec<u32> = (1..counts.artists).collect();
        shuffle(&mut order, &mut rng);
        let mut segments = Segments::new(&ARTIST_SEGMENTS, counts.artists);
        let (mut active, mut bands, mut members, mut aliases) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (position, artist) in std::iter::once(ARTIST_HUB).chain(order).enumerate() {
            let roles = if position == 0 {
                ACTIVE
            } else {
                segments.roles(position as u64)
            };
            if roles & ACTIVE != 0 {
                active.push(artist);
            }
            if roles & BAND != 0 {
                bands.push(artist);
            }
            if roles & MEMBER != 0 {
                members.push(artist);
            }
            if roles & ALIAS != 0 {
                aliases.push(artist);
            }
        }

        // Bands and members.
        let band_sizes = if members.is_empty() {
            Vec::new()
        } else {
            band_sizes(bands.len())
        };
        let memberships: u64 = band_sizes.iter().map(|&s| u64::from(s)).sum();
        let member_quotas = quotas(BANDS_PER_MEMBER, members.len(), memberships, 1);
        let mut slots = Vec::with_capacity(memberships as usize);
        for (&m, &q) in members.iter().zip(&member_quotas) {
            slots.extend(std::iter::repeat_n(m, q as usize));
        }
        let mut rng = stream(d.seed, S_MEMBERS);
        let members = Pool::new(slots, &mut rng);
        let groups = alias_groups(aliases.len());

        // Artist credits: the per-release counts are replayed later from the same stream.
        let table = CountTable::new(ARTISTS_PER_RELEASE);
        let mut rng = stream(d.seed, S_ARTIST_COUNTS);
        let further: u64 = (0..releases)
            .map(|_| u64::from(table.sample(&mut rng) - 1))
            .sum();
        let hub = if active.len() == 1 {
            releases
        } else {
            u64::from(scaled(FULL_HUB_RELEASES, d.scale)).min(releases)
        };
        let others = &active[1..];
        let artist_quotas = quotas(ARTIST_RELEASES, others.len(), releases - hub + further, 1);
        let mut runs = Vec::new();
        let mut pool = Vec::with_capacity(further as usize);
        push_runs(ARTIST_HUB, hub as u32, &mut runs);
        split_credits(others, &artist_quotas, further, &mut runs, &mut pool);
        drop(artist_quotas);
        let mut rng = stream(d.seed, S_ARTIST_CREDITS);
        let artist_runs = Lane::new(runs, &mut rng);
        let artist_pool = Pool::new(pool, &mut rng);
        drop(active);

        // Labels: shuffled; roles by segment.
        let mut rng = stream(d.seed, S_LABEL_ROLES);
        let mut order: Vec<u32> = (0..counts.labels).collect();
        shuffle(&mut order, &mut rng);
        let mut segments = Segments::new(&LABEL_SEGMENTS, counts.labels);
        let (mut parents, mut with_releases, mut sublabels) = (Vec::new(), Vec::new(), Vec::new());
        for (position, &label) in order.iter().enumerate() {
            let roles = segments.roles(position as u64);
            if roles & PARENT != 0 {
                parents.push(label);
            }
            if roles & HAS_RELEASES != 0 {
                with_releases.push(label);
            }
            if roles & SUB != 0 {
                sublabels.push(label);
            }
        }
        drop(order);
        let (label_hub, children) = if parents.is_empty() || sublabels.is_empty() {
            (None, Vec::new())
        } else {
            let subs = sublabels.len() as u64;
            let others = parents.len() as u64 - 1;
            let hub = u64::from(scaled(FULL_HUB_SUBLABELS, d.scale))
                .min(subs.saturating_sub(others).max(1));
            let mut children = vec![hub as u32];
            children.extend(quotas(SUBLABELS_PER_PARENT, others as usize, subs - hub, 1));
            (Some(parents[0]), children)
        };

        // Label credits.
        let table = CountTable::new(LABELS_PER_RELEASE);
        let mut rng = stream(d.seed, S_LABEL_COUNTS);
        let further: u64 = (0..releases)
            .map(|_| u64::from(table.sample(&mut rng) - 1))
            .sum();
        let label_quotas = quotas(LABEL_RELEASES, with_releases.len(), releases + further, 1);
        let mut runs = Vec::new();
        let mut pool = Vec::with_capacity(further as usize);
        split_credits(&with_releases, &label_quotas, further, &mut runs, &mut pool);
        drop(label_quotas);
        let mut rng = stream(d.seed, S_LABEL_CREDITS);
        let label_runs = Lane::new(runs, &mut rng);
        let label_pool = Pool::new(pool, &mut rng);

        // Masters.
        let mut master_sizes = quotas(MASTER_RELEASES, counts.masters as usize, releases, 1);
        let mut rng = stream(d.seed, S_MASTERS);
        shuffle(&mut master_sizes, &mut rng);

        Plan {
            counts,
            styles: Styles::new(),
            label_hub,
            parents,
            children,
            sublabels,
            bands,
            band_sizes,
            members,
            aliases,
            groups,
            master_sizes,
            artist_runs,
            artist_pool,
            label_runs,
            label_pool,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Names, titles, years and formats.

const FIRST_NAMES: [&str; 40] = [
    "John", "Maria", "David", "Anna", "Michael", "Laura", "Peter", "Sofia", "James", "Elena",
    "Carlos", "Yuki", "Ahmed", "Ingrid", "Luca", "Nina", "Kofi", "Marta", "Pierre", "Olga", "Tom",
    "Aisha", "Jan", "Chloe", "Diego", "Hana", "Erik", "Fatima", "Paul", "Lena", "Sam", "Ines",
    "Viktor", "Rosa", "Ken", "Ada", "Marco", "Eva", "Bill", "Zoe",
];
const LAST_NAMES: [&str; 40] = [
    "Smith", "Garcia", "Muller", "Rossi", "Tanaka", "Silva", "Johnson", "Novak", "Dubois",
    "Kowalski", "Jensen", "Haddad", "Brown", "Costa", "Ivanov", "Larsen", "Moreau", "Nakamura",
    "Okafor", "Petrov", "Quinn", "Reyes", "Schmidt", "Torres", "Ueda", "Vargas", "Weber", "Young",
    "Zimmer", "Andersen", "Baker", "Clarke", "Davis", "Evans", "Fischer", "Gray", "Hughes",
    "Keller", "Lopez", "Martin",
];
const ADJECTIVES: [&str; 40] = [
    "Blue",
    "Electric",
    "Silent",
    "Golden",
    "Broken",
    "Midnight",
    "Velvet",
    "Crystal",
    "Wild",
    "Hidden",
    "Lost",
    "Neon",
    "Burning",
    "Frozen",
    "Distant",
    "Sacred",
    "Hollow",
    "Bright",
    "Dark",
    "Endless",
    "Secret",
    "Shining",
    "Wandering",
    "Restless",
    "Quiet",
    "Northern",
    "Southern",
    "Lunar",
    "Solar",
    "Cosmic",
    "Urban",
    "Rusty",
    "Paper",
    "Iron",
    "Glass",
    "Crimson",
    "Emerald",
    "Purple",
    "Sonic",
    "Strange",
];
const NOUNS: [&str; 40] = [
    "Echo", "River", "Dream", "Shadow", "Heart", "Fire", "Ocean", "Mountain", "Garden", "Mirror",
    "Storm", "Rose", "Star", "Horizon", "Signal", "Wave", "Machine", "Island", "Forest", "City",
    "Light", "Road", "Window", "Harbor", "Engine", "Voice", "Circle", "Flame", "Desert", "Tide",
    "Comet", "Tower", "Valley", "Bridge", "Orbit", "Pulse", "Lantern", "Winter", "Summer",
    "Planet",
];
const LABEL_SUFFIXES: [&str; 8] = [
    "Records",
    "Music",
    "Recordings",
    "Sounds",
    "Productions",
    "Label",
    "Audio",
    "Tapes",
];

fn word(list: &[&'static str], h: u64, shift: u32) -> &'static str {
    list[((h >> shift) % list.len() as u64) as usize]
}

fn artist_name(out: &mut String, h: u64) {
    let _ = match h % 5 {
        0 | 1 => write!(
            out,
            "{} {}",
            word(&FIRST_NAMES, h, 8),
            word(&LAST_NAMES, h, 20)
        ),
        2 => write!(
            out,
            "The {} {}s",
            word(&ADJECTIVES, h, 8),
            word(&NOUNS, h, 20)
        ),
        3 => write!(out, "{} {}", word(&ADJECTIVES, h, 8), word(&NOUNS, h, 20)),
        _ => write!(out, "DJ {}", word(&NOUNS, h, 8)),
    };
    if (h >> 40).is_multiple_of(8) {
        let _ = write!(out, " ({})", 2 + (h >> 44) % 9);
    }
}

fn label_name(out: &mut String, h: u64) {
    let _ = match h % 3 {
        0 => write!(out, "{} {}", word(&ADJECTIVES, h, 8), word(&NOUNS, h, 20)),
        1 => write!(
            out,
            "{} {}",
            word(&NOUNS, h, 8),
            word(&LABEL_SUFFIXES, h, 20)
        ),
        _ => write!(
            out,
            "{} {}",
            word(&LAST_NAMES, h, 8),
            word(&LABEL_SUFFIXES, h, 20)
        ),
    };
}

fn title(out: &mut String, h: u64) {
    let _ = match h % 4 {
        0 | 1 => write!(out, "{} {}", word(&ADJECTIVES, h, 8), word(&NOUNS, h, 20)),
        2 => write!(out, "{} of the {}", word(&NOUNS, h, 8), word(&NOUNS, h, 20)),
        _ => write!(out, "{}", word(&NOUNS, h, 8)),
    };
}

/// A year from the decade shares.
fn year_from(h: u64) -> u16 {
    let total: u64 = YEAR_BUCKETS.iter().map(|b| b.2).sum();
    let mut pick = (h & 0xffff_ffff) % total;
    for &(from, to, weight) in &YEAR_BUCKETS {
        if pick < weight {
            return from + ((h >> 32) % u64::from(to - from)) as u16;
        }
        pick -= weight;
    }
    1998
}

/// A release's year, `None` for 5% of them.
fn release_year(hash: Hash, release: u64) -> Option<u16> {
    let h = hash.at(release);
    if mix64(h) % PPM < RELEASE_NO_YEAR_PPM {
        None
    } else {
        Some(year_from(h))
    }
}

const FORMATS_UNDATED: &[&[&str]] = &[
    &["CD", "Album"],
    &["Vinyl", "LP", "Album"],
    &["File", "MP3", "Album"],
];
const FORMATS_SHELLAC: &[&[&str]] = &[&["Shellac", "10\"", "78 RPM"]];
const FORMATS_VINYL: &[&[&str]] = &[
    &["Vinyl", "LP", "Album"],
    &["Vinyl", "7\"", "Single"],
    &["Vinyl", "12\"", "Compilation"],
    &["Cassette", "Album"],
];
const FORMATS_CD: &[&[&str]] = &[
    &["CD", "Album"],
    &["CD", "Single"],
    &["CD", "Compilation"],
    &["Vinyl", "12\"", "33 ⅓ RPM"],
    &["Cassette", "Album"],
];
const FORMATS_FILE: &[&[&str]] = &[
    &["File", "MP3", "Album"],
    &["File", "FLAC", "EP"],
    &["CD", "Album"],
    &["Vinyl", "LP", "Album", "Reissue"],
    &["File", "WAV", "Single"],
];

fn formats(year: Option<u16>, h: u64) -> &'static [&'static str] {
    let era = match year {
        None => FORMATS_UNDATED,
        Some(y) if y < 1950 => FORMATS_SHELLAC,
        Some(y) if y < 1985 => FORMATS_VINYL,
        Some(y) if y < 2005 => FORMATS_CD,
        Some(_) => FORMATS_FILE,
    };
    era[(h % era.len() as u64) as usize]
}

/// Writes into a `Value::Str` slot, reusing its allocation.
fn set_str(slot: &mut Value, write: impl FnOnce(&mut String)) {
    if let Value::Str(s) = slot {
        s.clear();
        write(s);
    }
}

/// Writes into a `Value::StrList` slot, reusing its allocations.
fn set_list(slot: &mut Value, items: &[&str]) {
    if let Value::StrList(list) = slot {
        list.truncate(items.len());
        for (i, item) in items.iter().enumerate() {
            match list.get_mut(i) {
                Some(s) => {
                    s.clear();
                    s.push_str(item);
                }
                None => list.push((*item).to_string()),
            }
        }
    }
}

fn id_slot(slot: &mut Value, prefix: char, index: u64) {
    set_str(slot, |s| {
        let _ = write!(s, "{prefix}{}", index + 1);
    });
}

// ---------------------------------------------------------------------------------------------
// The dataset.

const L_GENRE: &[&str] = &["Genre"];
const L_STYLE: &[&str] = &["Style"];
const L_LABEL: &[&str] = &["Label"];
const L_ARTIST: &[&str] = &["Artist"];
const L_MASTER: &[&str] = &["Master"];
const L_RELEASE: &[&str] = &["Release"];

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

fn emit_nodes(seed: u64, plan: &Plan, sink: &mut dyn GraphSink) -> Result<(), SinkError> {
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

fn emit_relationships(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portable_ln_and_exp_agree_with_std() {
        for &x in &[1e-9, 0.001, 0.37, 1.0, 1.5, 2.0, 7.0, 86.0, 1e6, 3.3e12] {
            let (ours, std) = (portable_ln(x), f64::ln(x));
            assert!(
                (ours - std).abs() <= 1e-14 * std.abs().max(1.0),
                "ln {x}: {ours} vs {std}"
            );
        }
        for &x in &[-30.0, -2.5, -0.1, 0.0, 0.3, 1.0, 4.2, 11.5, 40.0] {
            let (ours, std) = (portable_exp(x), f64::exp(x));
            assert!(
                (ours - std).abs() <= 1e-14 * std,
                "exp {x}: {ours} vs {std}"
            );
        }
        assert_eq!(portable_exp(0.0), 1.0);
        assert_eq!(portable_ln(1.0), 0.0);
    }

    #[test]
    fn curves_pass_through_their_points() {
        for curve in [
            ARTIST_RELEASES,
            MASTER_RELEASES,
            MEMBERS_PER_BAND,
            ARTISTS_PER_RELEASE,
        ] {
            for &(x, s) in curve.0 {
                let k = x as u32;
                assert!((curve.survival(k) - s).abs() < 1e-12, "{curve:?} at {k}");
                // Just below a point's share the value reaches the point.
                assert!(curve.value(s * 0.999_999).floor() >= x - 1e-9);
            }
        }
    }

    #[test]
    fn per_release_means_match_the_shape() {
        let close = |got: f64, want: f64| (got - want).abs() / want < 0.01;
        assert!(close(CountTable::new(ARTISTS_PER_RELEASE).mean(), 1.21));
        assert!(close(CountTable::new(LABELS_PER_RELEASE).mean(), 1.09));
        assert!(close(CountTable::new(GENRES_PER_RELEASE).mean(), 1.3213));
        assert!(close(CountTable::new(STYLES_PER_RELEASE).mean(), 1.79));
    }

    #[test]
    fn quotas_hit_their_total_and_keep_the_body() {
        for (n, total) in [
            (1000, 7_000),
            (1000, 9_000),
            (1000, 1_000),
            (1000, 500),
            (1, 9),
            (0, 5),
        ] {
            let q = quotas(ARTIST_RELEASES, n, total, 1);
            assert_eq!(q.len(), n);
            if n > 0 {
                assert_eq!(
                    q.iter().map(|&x| u64::from(x)).sum::<u64>(),
                    total,
                    "{n} {total}"
                );
            }
        }
        let q = quotas(MASTER_RELEASES, 100_000, 749_000, 1);
        let mut sorted = q.clone();
        sorted.sort_unstable();
        assert_eq!(sorted[50_000], 2);
        assert_eq!(sorted[90_000], 7);
        assert!((31..=33).contains(&sorted[99_000]), "{}", sorted[99_000]);
    }

    #[test]
    fn styles_balance_their_genres() {
        let styles = Styles::new();
        assert_eq!(styles.names.len(), 757);
        let mut unique = styles.names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 757, "style names are unique");
        let part_of = styles.part_of_count();
        assert!((9_500..10_500).contains(&part_of), "{part_of} PART_OF");
        // Every genre but "No Genre" (too small for even the smallest style) has styles, and
        // each genre's style weight is its share of releases.
        let weight = |s: u16| (1e6 * portable_pow(f64::from(s) + 1.0, -0.6)).round();
        let all: f64 = (0..757).map(weight).sum();
        let releases: f64 = GENRES.iter().map(|g| f64::from(g.1)).sum();
        for (g, entry) in styles.by_genre.iter().enumerate().take(15) {
            let (ids, _) = entry.as_ref().expect("a genre without styles");
            let held: f64 = ids.iter().map(|&s| weight(s)).sum::<f64>() / all;
            let want = f64::from(GENRES[g].1) / releases;
            // Within 2%, or one of the smallest styles for the smallest genres.
            let slack = (0.02 * want).max(weight(756) / all);
            assert!(
                (held - want).abs() <= slack,
                "{}: {held} vs {want}",
                GENRES[g].0
            );
        }
    }

    #[test]
    fn segments_give_the_shape_shares() {
        let n = 1_000_000;
        let share = |roles| Segments::count(&ARTIST_SEGMENTS, n, roles) as f64 / f64::from(n);
        assert!((share(ACTIVE) - 0.28).abs() < 1e-6);
        assert!((share(BAND) - 0.066).abs() < 1e-6);
        assert!((share(MEMBER) - 0.134).abs() < 1e-6);
        assert!((share(ALIAS) - 0.128).abs() < 1e-6);
        let any = Segments::count(&ARTIST_SEGMENTS, n, 0);
        assert_eq!(any, 422_000, "42.2% have a role, 57.8% are orphans");
    }
}

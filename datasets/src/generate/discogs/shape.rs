//! The shape of the production graph as constants: node counts at scale 1.0, role segments and
//! shares, the heavy-tailed count curves, the genre and named-style vocabularies and the year
//! buckets. Everything the generator reproduces is stated here; nothing here computes.

use super::curves::Curve;

/// Node counts of the production graph (scale 1.0).
pub(super) const FULL_RELEASES: f64 = 18_954_226.0;
pub(super) const FULL_ARTISTS: f64 = 9_974_217.0;
pub(super) const FULL_MASTERS: f64 = 2_531_018.0;
pub(super) const FULL_LABELS: f64 = 2_363_420.0;
/// Releases credited to the placeholder artist "Various" at scale 1.0.
pub(super) const FULL_HUB_RELEASES: f64 = 1_300_000.0;
/// Sublabels of the placeholder label "Not On Label" at scale 1.0.
pub(super) const FULL_HUB_SUBLABELS: f64 = 140_000.0;
/// Fixed vocabulary sizes.
pub(super) const GENRE_COUNT: u32 = 16;
pub(super) const STYLE_COUNT: u32 = 757;

/// Shares in parts per million.
pub(super) const PPM: u64 = 1_000_000;
/// Releases without a style.
pub(super) const NO_STYLE_PPM: u64 = 80_000;
/// Releases without a year.
pub(super) const RELEASE_NO_YEAR_PPM: u64 = 50_000;
/// Masters without a year.
pub(super) const MASTER_NO_YEAR_PPM: u64 = 70_000;

/// The longest run of consecutive releases sharing a primary artist or label.
pub(super) const RUN: u32 = 32;
/// How far ahead in a credit pool to look for an entity not yet on the release.
pub(super) const SWAP_WINDOW: usize = 64;

/// Artist roles.
pub(super) const ACTIVE: u8 = 1;
pub(super) const BAND: u8 = 2;
pub(super) const MEMBER: u8 = 4;
pub(super) const ALIAS: u8 = 8;
/// Segments of the shuffled artists (ppm, roles); the rest are orphans (57.8%). Credited 28%,
/// bands 6.6%, members 13.4%, alias groups 12.8%.
pub(super) const ARTIST_SEGMENTS: [(u64, u8); 9] = [
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
pub(super) const PARENT: u8 = 1;
pub(super) const HAS_RELEASES: u8 = 2;
pub(super) const SUB: u8 = 4;
/// Segments of the shuffled labels (ppm, roles); the rest are orphans (39.3%). Parents 2.6%
/// (4.5 sublabels each), sublabels 11.7%.
pub(super) const LABEL_SEGMENTS: [(u64, u8); 4] = [
    (26_000, PARENT | HAS_RELEASES),
    (464_000, HAS_RELEASES),
    (90_000, SUB | HAS_RELEASES),
    (27_000, SUB),
];

/// Releases per credited artist (the hub excepted): p50 2, p90 10, p99 86, mean 7.75.
pub(super) const ARTIST_RELEASES: Curve = Curve(&[
    (1.0, 1.0),
    (2.0, 0.52),
    (10.0, 0.105),
    (86.0, 0.0102),
    (4500.0, 0.0001),
    (28000.0, 0.000_000_3),
]);
/// Releases per master: p50 2, p90 7, p99 32, mean 7.5.
pub(super) const MASTER_RELEASES: Curve = Curve(&[
    (1.0, 1.0),
    (2.0, 0.52),
    (7.0, 0.105),
    (32.0, 0.0102),
    (1600.0, 0.001),
    (5000.0, 0.0001),
    (20000.0, 0.000_000_2),
]);
/// Releases per label with releases: mean about 15, tens of thousands for the largest.
pub(super) const LABEL_RELEASES: Curve = Curve(&[
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
pub(super) const SUBLABELS_PER_PARENT: Curve = Curve(&[
    (1.0, 1.0),
    (2.0, 0.3),
    (3.0, 0.15),
    (10.0, 0.025),
    (100.0, 0.001),
    (1000.0, 0.00005),
]);
/// Members per band: mean 3.5, p90 6.
pub(super) const MEMBERS_PER_BAND: Curve = Curve(&[
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
pub(super) const BANDS_PER_MEMBER: Curve = Curve(&[
    (1.0, 1.0),
    (2.0, 0.3),
    (3.0, 0.13),
    (5.0, 0.045),
    (20.0, 0.003),
    (200.0, 0.00003),
]);
/// Aliases per alias group besides its primary name: with `(g - 1)^2` edges per group of `g`,
/// about 3.8 `ALIAS_OF` edges per artist in a group (4.9M at scale 1.0).
pub(super) const ALIASES_PER_GROUP: Curve = Curve(&[
    (1.0, 1.0),
    (2.0, 0.4),
    (3.0, 0.22),
    (5.0, 0.09),
    (10.0, 0.02),
    (30.0, 0.0015),
    (50.0, 0.0003),
]);
/// Artists per release: mean 1.21, p50 1, p90 2, p99 4, max 49.
pub(super) const ARTISTS_PER_RELEASE: Curve = Curve(&[
    (1.0, 1.0),
    (2.0, 0.12),
    (3.0, 0.042),
    (4.0, 0.017),
    (5.0, 0.008),
    (49.0, 0.00002),
]);
/// Labels per release: mean 1.09, p50 1, p95 2, max 100.
pub(super) const LABELS_PER_RELEASE: Curve =
    Curve(&[(1.0, 1.0), (2.0, 0.054), (3.0, 0.011), (100.0, 0.00001)]);
/// Genres per release: mean 1.32, p90 2, max 15.
pub(super) const GENRES_PER_RELEASE: Curve = Curve(&[
    (1.0, 1.0),
    (2.0, 0.27),
    (3.0, 0.04),
    (4.0, 0.008),
    (15.0, 0.00002),
]);
/// Styles per release that has any: mean 1.79, p90 3, max 90.
pub(super) const STYLES_PER_RELEASE: Curve = Curve(&[
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
pub(super) const GENRES: [(&str, u32, u32); 16] = [
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
pub(super) const NAMED_STYLES: &[(usize, &str, u8)] = &[
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
pub(super) const YEAR_BUCKETS: [(u16, u16, u64); 10] = [
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

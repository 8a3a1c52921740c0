//! The fixed style vocabulary: 757 styles with Zipf weights, each dealt to a home genre so that
//! every genre's style weight matches its share of releases, and the genres each style is
//! `PART_OF`.

use rand_distr::weighted::WeightedAliasIndex;

use super::arith::{portable_pow, share};
use super::shape::{GENRE_COUNT, GENRES, NAMED_STYLES, STYLE_COUNT};

/// The fixed style vocabulary: names, home genres, weights and `PART_OF` genres.
pub(super) struct Styles {
    pub(super) names: Vec<String>,
    /// Per style, the genres it is `PART_OF`, its home first.
    pub(super) part_of: Vec<Vec<u8>>,
    /// Per genre, its home styles and an alias table over their weights (none when it has no
    /// style).
    pub(super) by_genre: Vec<Option<(Vec<u16>, WeightedAliasIndex<u32>)>>,
}

impl Styles {
    pub(super) fn new() -> Styles {
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

    pub(super) fn part_of_count(&self) -> u64 {
        self.part_of.iter().map(|g| g.len() as u64).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}

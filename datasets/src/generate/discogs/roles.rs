//! Node counts and roles: [`Counts`] (how many nodes of each label a scale gives, and their id
//! ranges), [`Segments`] (which roles each position of a shuffled order gets), and the sizes of
//! alias groups and bands.

use super::arith::{scaled, share};
use super::curves::{quotas, raw_quotas};
use super::shape::{
    ALIASES_PER_GROUP, FULL_ARTISTS, FULL_LABELS, FULL_MASTERS, FULL_RELEASES, GENRE_COUNT,
    MEMBERS_PER_BAND, PPM, STYLE_COUNT,
};

/// Node counts and id ranges (Genre, Style, Label, Artist, Master, Release).
#[derive(Debug, Clone, Copy)]
pub(super) struct Counts {
    pub(super) labels: u32,
    pub(super) artists: u32,
    pub(super) masters: u32,
    pub(super) releases: u32,
}

impl Counts {
    pub(super) fn new(scale: f64) -> Counts {
        Counts {
            labels: scaled(FULL_LABELS, scale),
            artists: scaled(FULL_ARTISTS, scale),
            masters: scaled(FULL_MASTERS, scale),
            releases: scaled(FULL_RELEASES, scale),
        }
    }

    pub(super) const fn style_base(self) -> u64 {
        GENRE_COUNT as u64
    }

    pub(super) const fn label_base(self) -> u64 {
        self.style_base() + STYLE_COUNT as u64
    }

    pub(super) const fn artist_base(self) -> u64 {
        self.label_base() + self.labels as u64
    }

    pub(super) const fn master_base(self) -> u64 {
        self.artist_base() + self.artists as u64
    }

    pub(super) const fn release_base(self) -> u64 {
        self.master_base() + self.masters as u64
    }

    pub(super) const fn total(self) -> u64 {
        self.release_base() + self.releases as u64
    }
}

/// Walks positions `0..n` of a shuffled order and tells each position's roles.
pub(super) struct Segments {
    ends: Vec<(u64, u8)>,
    at: usize,
}

impl Segments {
    pub(super) fn new(segments: &[(u64, u8)], n: u32) -> Segments {
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
    pub(super) fn roles(&mut self, position: u64) -> u8 {
        while self.at < self.ends.len() && position >= self.ends[self.at].0 {
            self.at += 1;
        }
        self.ends.get(self.at).map_or(0, |&(_, roles)| roles)
    }

    /// How many positions have all of `roles` (any role at all for `0`).
    pub(super) fn count(segments: &[(u64, u8)], n: u32, roles: u8) -> usize {
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
pub(super) fn alias_groups(members: usize) -> Vec<u32> {
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
pub(super) fn band_sizes(bands: usize) -> Vec<u32> {
    raw_quotas(MEMBERS_PER_BAND, bands, 1)
}

#[cfg(test)]
mod tests {
    use super::super::shape::{ACTIVE, ALIAS, ARTIST_SEGMENTS, BAND, MEMBER};
    use super::*;

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

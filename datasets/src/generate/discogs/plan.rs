//! The plan: everything decided before the first node is emitted. Roles of artists and labels,
//! band memberships, alias groups, sublabels, master sizes and the credit lanes and pools, all
//! drawn from their own streams so that emission only replays them.

use super::Discogs;
use super::arith::{
    S_ARTIST_COUNTS, S_ARTIST_CREDITS, S_ARTIST_ROLES, S_LABEL_COUNTS, S_LABEL_CREDITS,
    S_LABEL_ROLES, S_MASTERS, S_MEMBERS, scaled, shuffle, stream,
};
use super::credits::{Lane, Pool, push_runs, split_credits};
use super::curves::{CountTable, quotas};
use super::roles::{Counts, Segments, alias_groups, band_sizes};
use super::shape::{
    ACTIVE, ALIAS, ARTIST_RELEASES, ARTIST_SEGMENTS, ARTISTS_PER_RELEASE, BAND, BANDS_PER_MEMBER,
    FULL_HUB_RELEASES, FULL_HUB_SUBLABELS, HAS_RELEASES, LABEL_RELEASES, LABEL_SEGMENTS,
    LABELS_PER_RELEASE, MASTER_RELEASES, MEMBER, PARENT, SUB, SUBLABELS_PER_PARENT,
};
use super::styles::Styles;

pub(super) struct Plan {
    pub(super) counts: Counts,
    pub(super) styles: Styles,
    /// The "Not On Label" parent, as a label index.
    pub(super) label_hub: Option<u32>,
    /// Parent labels and their sublabel counts; sublabels in order.
    pub(super) parents: Vec<u32>,
    pub(super) children: Vec<u32>,
    pub(super) sublabels: Vec<u32>,
    /// Bands, their sizes, and the member credits.
    pub(super) bands: Vec<u32>,
    pub(super) band_sizes: Vec<u32>,
    pub(super) members: Pool,
    /// Artists in alias groups, in group order, and the group sizes.
    pub(super) aliases: Vec<u32>,
    pub(super) groups: Vec<u32>,
    /// Releases per master, in master order.
    pub(super) master_sizes: Vec<u32>,
    pub(super) artist_runs: Lane,
    pub(super) artist_pool: Pool,
    pub(super) label_runs: Lane,
    pub(super) label_pool: Pool,
}

/// Index of the placeholder artist "Various".
pub(super) const ARTIST_HUB: u32 = 0;

impl Plan {
    pub(super) fn new(d: &Discogs) -> Plan {
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

//! Credits of artists and labels on releases: [`Lane`] deals primary credits in runs of
//! consecutive releases, [`Pool`] deals further credits from a shuffled multiset, and
//! [`split_credits`] cuts each entity's quota between the two.

use rand_pcg::Pcg64;

use super::arith::shuffle;
use super::shape::{RUN, SWAP_WINDOW};

/// Primary credits: shuffled runs `(entity, releases)`, consumed one release at a time.
pub(super) struct Lane {
    runs: Vec<(u32, u32)>,
    next: usize,
    entity: u32,
    left: u32,
}

impl Lane {
    pub(super) fn new(mut runs: Vec<(u32, u32)>, rng: &mut Pcg64) -> Lane {
        shuffle(&mut runs, rng);
        Lane {
            runs,
            next: 0,
            entity: 0,
            left: 0,
        }
    }

    pub(super) fn take(&mut self) -> Option<u32> {
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
pub(super) struct Pool {
    slots: Vec<u32>,
    next: usize,
}

impl Pool {
    pub(super) fn new(mut slots: Vec<u32>, rng: &mut Pcg64) -> Pool {
        shuffle(&mut slots, rng);
        Pool { slots, next: 0 }
    }

    /// The next credit whose entity is not in `taken`, swapped forward from at most
    /// [`SWAP_WINDOW`] slots ahead; `None` when there is none (the slot stays for later).
    pub(super) fn take_avoiding(&mut self, taken: &[u32]) -> Option<u32> {
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
pub(super) fn split_credits(
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
pub(super) fn push_runs(entity: u32, releases: u32, runs: &mut Vec<(u32, u32)>) {
    if releases == 0 {
        return;
    }
    let pieces = releases.div_ceil(RUN);
    let (base, extra) = (releases / pieces, releases % pieces);
    for i in 0..pieces {
        runs.push((entity, base + u32::from(i < extra)));
    }
}

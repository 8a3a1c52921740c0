//! Heavy-tailed counts: [`Curve`] (a quantile curve through the shape's percentiles),
//! [`CountTable`] (a small per-release count drawn from one 64-bit word) and the quotas that deal
//! a curve's values over ranks so that they sum to an exact total.

use rand_pcg::Pcg64;
use rand_pcg::rand_core::Rng;

use super::arith::{portable_exp, portable_ln};

/// A discrete heavy-tailed distribution given by points `(x, P(X >= x))`, log-log interpolated
/// between them, starting at `(1, 1)` and capped at the last `x`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Curve(pub(super) &'static [(f64, f64)]);

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
    pub(super) fn cap(self) -> u32 {
        self.0[self.0.len() - 1].0 as u32
    }

    /// The mean, `sum over k >= 1 of P(X >= k)`.
    pub(super) fn mean(self) -> f64 {
        (1..=self.cap()).map(|k| self.survival(k)).sum()
    }
}

/// A small count (1 to the curve's cap) drawn with one 64-bit word.
#[derive(Debug, Clone)]
pub(super) struct CountTable {
    /// `thresholds[i] = P(X >= i + 2) * 2^64`, decreasing.
    thresholds: Vec<u64>,
}

impl CountTable {
    pub(super) fn new(curve: Curve) -> CountTable {
        let thresholds = (2..=curve.cap())
            .map(|k| (curve.survival(k) * 18_446_744_073_709_551_616.0) as u64)
            .collect();
        CountTable { thresholds }
    }

    pub(super) fn sample(&self, rng: &mut Pcg64) -> u32 {
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

    pub(super) fn mean(&self) -> f64 {
        1.0 + self
            .thresholds
            .iter()
            .map(|&t| t as f64 / 18_446_744_073_709_551_616.0)
            .sum::<f64>()
    }
}

/// The curve's values for ranks `0..n` (largest first), floored, at least `min`.
pub(super) fn raw_quotas(curve: Curve, n: usize, min: u32) -> Vec<u32> {
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
pub(super) fn quotas(curve: Curve, n: usize, total: u64, min: u32) -> Vec<u32> {
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

#[cfg(test)]
mod tests {
    use super::super::shape::{
        ARTIST_RELEASES, ARTISTS_PER_RELEASE, GENRES_PER_RELEASE, LABELS_PER_RELEASE,
        MASTER_RELEASES, MEMBERS_PER_BAND, STYLES_PER_RELEASE,
    };
    use super::*;

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
}

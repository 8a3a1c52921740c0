//! Portable arithmetic: logarithms and exponentials from basic IEEE operations, the SplitMix64
//! hash behind names, titles, years and formats, the per-purpose PCG streams, and the integer
//! helpers (uniform draws, shuffles, rounding shares) that give the same bits on every machine.

use rand_pcg::Pcg64;
use rand_pcg::rand_core::Rng;

const LN_2: f64 = std::f64::consts::LN_2;

/// Natural logarithm from basic IEEE operations only (the platform's `ln` may differ in the
/// last bit between machines). Relative error about 1e-15; `x` must be positive and normal.
pub(super) fn portable_ln(x: f64) -> f64 {
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
pub(super) fn portable_exp(x: f64) -> f64 {
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
pub(super) fn portable_pow(x: f64, y: f64) -> f64 {
    portable_exp(y * portable_ln(x))
}

/// SplitMix64's finaliser: a bijective mix of 64 bits.
pub(super) fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Independent per-item values: `Hash::new(seed, purpose).at(index)`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Hash(u64);

impl Hash {
    pub(super) fn new(seed: u64, purpose: u64) -> Hash {
        Hash(mix64(
            seed ^ mix64(purpose.wrapping_mul(0xd6e8_feb8_6659_fd93)),
        ))
    }

    pub(super) fn at(self, index: u64) -> u64 {
        mix64(self.0 ^ mix64(index))
    }
}

/// Purposes of the hashes.
pub(super) const H_ARTIST_NAME: u64 = 1;
pub(super) const H_LABEL_NAME: u64 = 2;
pub(super) const H_TITLE: u64 = 3;
pub(super) const H_RELEASE_YEAR: u64 = 4;
pub(super) const H_MASTER_YEAR: u64 = 5;
pub(super) const H_FORMAT: u64 = 6;

/// Streams of the structure: one PCG stream per purpose.
pub(super) const S_ARTIST_ROLES: u64 = 1;
pub(super) const S_LABEL_ROLES: u64 = 2;
pub(super) const S_ARTIST_COUNTS: u64 = 3;
pub(super) const S_LABEL_COUNTS: u64 = 4;
pub(super) const S_ARTIST_CREDITS: u64 = 5;
pub(super) const S_LABEL_CREDITS: u64 = 6;
pub(super) const S_MASTERS: u64 = 7;
pub(super) const S_MEMBERS: u64 = 8;
pub(super) const S_TAGS: u64 = 9;

/// The PCG stream for `purpose`.
pub(super) fn stream(seed: u64, purpose: u64) -> Pcg64 {
    let state = (u128::from(mix64(seed)) << 64) | u128::from(mix64(seed ^ 0x5851_f42d_4c95_7f2d));
    Pcg64::new(state, u128::from(purpose))
}

/// A uniform integer in `0..n` (`n > 0`), by multiply-shift (bias below `n / 2^64`).
pub(super) fn below(rng: &mut Pcg64, n: usize) -> usize {
    ((u128::from(rng.next_u64()) * n as u128) >> 64) as usize
}

/// Fisher-Yates, with [`below`].
pub(super) fn shuffle<T>(items: &mut [T], rng: &mut Pcg64) {
    for i in (1..items.len()).rev() {
        let j = below(rng, i + 1);
        items.swap(i, j);
    }
}

/// `x * scale` rounded, at least 1.
pub(super) fn scaled(x: f64, scale: f64) -> u32 {
    ((x * scale).round() as u32).max(1)
}

/// `round(total * part / whole)` in integers.
pub(super) fn share(total: u64, part: u64, whole: u64) -> u64 {
    ((u128::from(total) * u128::from(part) + u128::from(whole / 2)) / u128::from(whole)) as u64
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
}

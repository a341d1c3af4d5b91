//! Sampling helpers: one random stream per customer, derived from the seed and the customer's
//! index alone, so that a customer's data does not depend on how the range is split into chunks
//! or on which thread generates it.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub(crate) type DemoRng = ChaCha8Rng;

/// SplitMix64's finaliser: a bijective mixer, so distinct (seed, index) pairs give well-spread
/// and, in practice, distinct stream seeds.
fn splitmix64(value: u64) -> u64 {
    let mut z = value.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The random stream of the customer with global `index`.
pub(crate) fn customer_rng(seed: u64, index: u64) -> DemoRng {
    DemoRng::seed_from_u64(splitmix64(splitmix64(seed) ^ index))
}

/// True with probability `p`.
pub(crate) fn chance(rng: &mut DemoRng, p: f64) -> bool {
    rng.random::<f64>() < p
}

/// A uniformly chosen element; `items` must not be empty.
pub(crate) fn pick<'a, T>(rng: &mut DemoRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// An index chosen with the given relative weights; the weights must not all be zero.
pub(crate) fn weighted(rng: &mut DemoRng, weights: &[u32]) -> usize {
    let total: u32 = weights.iter().sum();
    let mut ticket = rng.random_range(0..total);
    for (index, weight) in weights.iter().enumerate() {
        if ticket < *weight {
            return index;
        }
        ticket -= weight;
    }
    weights.len() - 1
}

/// A uniform integer in `low..=high`.
pub(crate) fn between(rng: &mut DemoRng, low: i64, high: i64) -> i64 {
    rng.random_range(low..=high)
}

/// An exponential variate with the given mean (inversion).
pub(crate) fn exponential(rng: &mut DemoRng, mean: f64) -> f64 {
    -mean * (1.0 - rng.random::<f64>()).ln()
}

//! Seeded bootstrap confidence intervals for a speedup (baseline statistic ÷ candidate
//! statistic). Distribution-free and reproducible: the same samples and seed give the same interval.

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;

/// The statistic a speedup compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Statistic {
    P50,
    P90,
    Mean,
}

impl Statistic {
    pub fn of(self, values: &mut [f64]) -> f64 {
        match self {
            Statistic::Mean => values.iter().sum::<f64>() / values.len() as f64,
            Statistic::P50 => quantile(values, 0.5),
            Statistic::P90 => quantile(values, 0.9),
        }
    }
}

/// Linear-interpolated quantile (sorts `values`).
pub fn quantile(values: &mut [f64], q: f64) -> f64 {
    values.sort_unstable_by(f64::total_cmp);
    let position = q * (values.len() - 1) as f64;
    let (low, high) = (position.floor() as usize, position.ceil() as usize);
    values[low] + (values[high] - values[low]) * (position - low as f64)
}

/// A point estimate with its confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Interval {
    pub estimate: f64,
    pub low: f64,
    pub high: f64,
}

pub const DEFAULT_SEED: u64 = 0x6364_6e70_726f_6265; // "cdnprobe"
pub const DEFAULT_RESAMPLES: usize = 2000;

/// Percentile bootstrap of `stat(baseline) / stat(candidate)`, resampling each side independently.
/// Both slices must be non-empty.
pub fn speedup_interval(
    baseline: &[f64],
    candidate: &[f64],
    stat: Statistic,
    confidence: f64,
    resamples: usize,
    seed: u64,
) -> Interval {
    let estimate = stat.of(&mut baseline.to_vec()) / stat.of(&mut candidate.to_vec());
    let mut rng = Pcg64::seed_from_u64(seed);
    let mut draw = |from: &[f64], into: &mut Vec<f64>| {
        into.clear();
        into.extend((0..from.len()).map(|_| from[rng.random_range(0..from.len())]));
    };
    let (mut b, mut c) = (
        Vec::with_capacity(baseline.len()),
        Vec::with_capacity(candidate.len()),
    );
    let mut ratios: Vec<f64> = (0..resamples)
        .map(|_| {
            draw(baseline, &mut b);
            draw(candidate, &mut c);
            stat.of(&mut b) / stat.of(&mut c)
        })
        .collect();
    let alpha = (1.0 - confidence) / 2.0;
    let low = quantile(&mut ratios, alpha);
    let high = quantile(&mut ratios, 1.0 - alpha);
    Interval {
        estimate,
        low,
        high,
    }
}

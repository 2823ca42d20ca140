//! Variant choice for HLS `--variant auto`, after hls.js's default rule (`EwmaBandWidthEstimator`
//! and `AbrController`, hls.js 1.x defaults for VOD):
//!
//! - every finished segment is a throughput sample: bits ÷ seconds (from request to last byte,
//!   at least [`MIN_SAMPLE_MS`]), weighted by its duration in seconds;
//! - two exponentially weighted moving averages of it, a fast one with a half-life of
//!   [`FAST_HALF_LIFE_S`] and a slow one of [`SLOW_HALF_LIFE_S`]; the estimate is the lower of
//!   the two (quick to drop, slow to rise), or [`DEFAULT_ESTIMATE_BPS`] before any sample;
//! - the next segment comes from the highest variant whose `BANDWIDTH` is at most the estimate ×
//!   [`SAFETY_FACTOR`] (× [`UP_SAFETY_FACTOR`] for a variant above the current one), or the
//!   lowest variant when none fits.
//!
//! hls.js also weighs the buffer level and the time left to fetch a segment before switching; this
//! rule keeps only the throughput part, which decides the switches on a steady or stepped link.

/// hls.js `abrEwmaFastVoD`.
pub const FAST_HALF_LIFE_S: f64 = 3.0;
/// hls.js `abrEwmaSlowVoD`.
pub const SLOW_HALF_LIFE_S: f64 = 9.0;
/// hls.js `abrEwmaDefaultEstimate`: 500 kbit/s.
pub const DEFAULT_ESTIMATE_BPS: f64 = 500_000.0;
/// hls.js `abrBandWidthFactor`: share of the estimate a variant may use to stay or go down.
pub const SAFETY_FACTOR: f64 = 0.95;
/// hls.js `abrBandWidthUpFactor`: share of the estimate a higher variant may use.
pub const UP_SAFETY_FACTOR: f64 = 0.7;
/// hls.js's `minDelayMs`: a faster sample counts as this long (loopback would give ∞).
pub const MIN_SAMPLE_MS: f64 = 50.0;

/// One EWMA, corrected for its start at zero as hls.js's `EWMA.getEstimate` does.
#[derive(Debug, Clone)]
struct Ewma {
    alpha: f64,
    estimate: f64,
    total_weight: f64,
}

impl Ewma {
    fn new(half_life_s: f64) -> Self {
        Self {
            alpha: (0.5f64.ln() / half_life_s).exp(),
            estimate: 0.0,
            total_weight: 0.0,
        }
    }

    fn sample(&mut self, weight: f64, value: f64) {
        let adjusted = self.alpha.powf(weight);
        self.estimate = value * (1.0 - adjusted) + adjusted * self.estimate;
        self.total_weight += weight;
    }

    fn get(&self) -> f64 {
        let zero_factor = 1.0 - self.alpha.powf(self.total_weight);
        if zero_factor > 0.0 {
            self.estimate / zero_factor
        } else {
            self.estimate
        }
    }
}

/// The throughput estimate of one session.
#[derive(Debug, Clone)]
pub struct Estimator {
    fast: Ewma,
    slow: Ewma,
}

impl Default for Estimator {
    fn default() -> Self {
        Self {
            fast: Ewma::new(FAST_HALF_LIFE_S),
            slow: Ewma::new(SLOW_HALF_LIFE_S),
        }
    }
}

impl Estimator {
    /// A segment of `bytes` took `ms` from request to last byte.
    pub fn sample(&mut self, ms: f64, bytes: u64) {
        let seconds = ms.max(MIN_SAMPLE_MS) / 1e3;
        let bps = bytes as f64 * 8.0 / seconds;
        self.fast.sample(seconds, bps);
        self.slow.sample(seconds, bps);
    }

    /// Bits per second.
    pub fn estimate(&self) -> f64 {
        if self.fast.total_weight <= 0.0 {
            DEFAULT_ESTIMATE_BPS
        } else {
            self.fast.get().min(self.slow.get())
        }
    }
}

/// The variant for the next segment. `bandwidths` as listed in the playlist, `current` an index
/// into it.
pub fn choose(bandwidths: &[u64], current: usize, estimate_bps: f64) -> usize {
    let current_bw = bandwidths.get(current).copied().unwrap_or(0);
    let fits = |bw: u64| {
        let factor = if bw > current_bw {
            UP_SAFETY_FACTOR
        } else {
            SAFETY_FACTOR
        };
        bw as f64 <= estimate_bps * factor
    };
    let best = bandwidths
        .iter()
        .enumerate()
        .filter(|(_, bw)| fits(**bw))
        .max_by_key(|(_, bw)| **bw);
    match best {
        Some((index, _)) => index,
        None => bandwidths
            .iter()
            .enumerate()
            .min_by_key(|(_, bw)| **bw)
            .map_or(current, |(index, _)| index),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LADDER: [u64; 3] = [176_000, 105_600, 70_400];

    #[test]
    fn before_any_sample_the_estimate_is_the_default() {
        assert_eq!(Estimator::default().estimate(), DEFAULT_ESTIMATE_BPS);
    }

    #[test]
    fn a_steady_throughput_is_estimated_as_itself() {
        let mut estimator = Estimator::default();
        for _ in 0..5 {
            estimator.sample(1000.0, 125_000); // 1 Mbit/s
        }
        assert!(
            (estimator.estimate() - 1e6).abs() < 1.0,
            "{}",
            estimator.estimate()
        );
    }

    #[test]
    fn the_estimate_falls_fast_and_rises_slowly() {
        let mut estimator = Estimator::default();
        for _ in 0..10 {
            estimator.sample(1000.0, 125_000);
        }
        estimator.sample(2000.0, 25_000); // 100 kbit/s for 2 s
        let after_drop = estimator.estimate();
        assert!(after_drop < 700_000.0, "{after_drop}");
        for _ in 0..10 {
            estimator.sample(2000.0, 25_000);
        }
        estimator.sample(1000.0, 125_000);
        assert!(estimator.estimate() < 300_000.0, "{}", estimator.estimate());
    }

    #[test]
    fn choice_is_the_highest_variant_under_the_safety_factor() {
        // 0.95 × 120 000 = 114 000: the 105.6k variant fits, not the 176k one.
        assert_eq!(choose(&LADDER, 1, 120_000.0), 1);
        // Going up needs 0.7 × estimate ≥ 176 000: 250 000 is enough, 240 000 not.
        assert_eq!(choose(&LADDER, 1, 252_000.0), 0);
        assert_eq!(choose(&LADDER, 1, 240_000.0), 1);
        // Nothing fits: the lowest variant.
        assert_eq!(choose(&LADDER, 0, 10_000.0), 2);
    }
}

//! Baseline against candidate, per region and phase: medians, speedup and a bootstrap interval.

use crate::stats::bootstrap::{self, Statistic};
use crate::stats::{Phase, PhaseStats};

use super::summary::Summary;

/// Confidence level of the speedup intervals.
pub const CONFIDENCE: f64 = 0.95;

/// A bootstrap of fewer samples than this says nothing; the interval is left empty.
const MIN_SAMPLES_FOR_INTERVAL: u64 = 2;

#[derive(Debug)]
pub struct Comparison {
    pub baseline: String,
    pub candidate: String,
    pub rows: Vec<PhaseComparison>,
}

/// One region and phase where both targets have samples.
#[derive(Debug, Clone)]
pub struct PhaseComparison {
    pub region: String,
    pub phase: Phase,
    pub baseline: PhaseStats,
    pub candidate: PhaseStats,
    /// Baseline p50 ÷ candidate p50: above 1 means the candidate is faster.
    pub speedup: Option<f64>,
    /// `CONFIDENCE` interval of the speedup, bootstrapped from each side's reservoir.
    pub interval: Option<(f64, f64)>,
}

impl Comparison {
    pub fn compute(summary: &Summary, baseline: &str, candidate: &str) -> Comparison {
        let mut rows = Vec::new();
        let mut samples = Vec::new();
        for region in summary.regions() {
            let (Some(b), Some(c)) = (
                summary.series(region, baseline),
                summary.series(region, candidate),
            ) else {
                continue;
            };
            for phase in Phase::ALL {
                let (Some(b_stats), Some(c_stats)) = (b.stats(phase), c.stats(phase)) else {
                    continue;
                };
                let speedup = b_stats.p50 / c_stats.p50;
                rows.push(PhaseComparison {
                    region: region.to_owned(),
                    phase,
                    baseline: b_stats,
                    candidate: c_stats,
                    speedup: speedup.is_finite().then_some(speedup),
                    interval: None,
                });
                samples.push((b.phase(phase).reservoir(), c.phase(phase).reservoir()));
            }
        }
        let intervals = bootstrap_all(&samples);
        for (row, interval) in rows.iter_mut().zip(intervals) {
            let enough = row.baseline.count.min(row.candidate.count) >= MIN_SAMPLES_FOR_INTERVAL;
            row.interval = interval.filter(|_| enough && row.speedup.is_some());
        }
        Comparison {
            baseline: baseline.to_owned(),
            candidate: candidate.to_owned(),
            rows,
        }
    }

    pub fn get(&self, region: &str, phase: Phase) -> Option<&PhaseComparison> {
        self.rows
            .iter()
            .find(|row| row.region == region && row.phase == phase)
    }
}

/// One bootstrap per distinct (baseline, candidate) pair, spread over the machine's cores: each
/// is thousands of resamples, and there are regions × phases of them. Phases that share their
/// values (`resolve` is `dns`) share the summary, so the same slices are bootstrapped once.
fn bootstrap_all(pairs: &[(&[f64], &[f64])]) -> Vec<Option<(f64, f64)>> {
    let same = |a: &(&[f64], &[f64]), b: &(&[f64], &[f64])| {
        std::ptr::eq(a.0, b.0) && std::ptr::eq(a.1, b.1)
    };
    let mut distinct: Vec<(&[f64], &[f64])> = Vec::new();
    for pair in pairs {
        if !distinct.iter().any(|d| same(d, pair)) {
            distinct.push(*pair);
        }
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = distinct.len().div_ceil(threads).max(1);
    let intervals: Vec<Option<(f64, f64)>> = std::thread::scope(|scope| {
        let workers: Vec<_> = distinct
            .chunks(chunk)
            .map(|chunk| scope.spawn(move || chunk.iter().map(|(b, c)| interval(b, c)).collect()))
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| -> Vec<_> { worker.join().expect("bootstrap thread panicked") })
            .collect()
    });
    pairs
        .iter()
        .map(|pair| {
            let index = distinct.iter().position(|d| same(d, pair));
            index.and_then(|i| intervals[i])
        })
        .collect()
}

fn interval(baseline: &[f64], candidate: &[f64]) -> Option<(f64, f64)> {
    if baseline.len() < MIN_SAMPLES_FOR_INTERVAL as usize
        || candidate.len() < MIN_SAMPLES_FOR_INTERVAL as usize
    {
        return None;
    }
    let found = bootstrap::speedup_interval(
        baseline,
        candidate,
        Statistic::P50,
        CONFIDENCE,
        bootstrap::DEFAULT_RESAMPLES,
        bootstrap::DEFAULT_SEED,
    );
    (found.low.is_finite() && found.high.is_finite()).then_some((found.low, found.high))
}

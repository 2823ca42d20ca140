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
    /// `CONFIDENCE` interval of the speedup, bootstrapped from each side's reservoir (see
    /// `interval`); `None` when a side has fewer than two samples or a median of zero.
    pub interval: Option<(f64, f64)>,
}

/// One speedup to bootstrap: each side's reservoir and how many values it stands for.
#[derive(Clone, Copy)]
struct Bootstrap<'a> {
    baseline: &'a [f64],
    candidate: &'a [f64],
    baseline_count: u64,
    candidate_count: u64,
    /// The speedup of the full run's medians, which the interval is placed around.
    estimate: f64,
}

impl Bootstrap<'_> {
    /// Phases that share their values (`resolve` is `dns`) share a reservoir.
    fn same(&self, other: &Bootstrap) -> bool {
        std::ptr::eq(self.baseline, other.baseline) && std::ptr::eq(self.candidate, other.candidate)
    }
}

impl Comparison {
    pub fn compute(summary: &Summary, baseline: &str, candidate: &str) -> Comparison {
        let mut rows = Vec::new();
        let mut bootstraps = Vec::new();
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
                let speedup = speedup.is_finite().then_some(speedup);
                rows.push(PhaseComparison {
                    region: region.to_owned(),
                    phase,
                    baseline: b_stats,
                    candidate: c_stats,
                    speedup,
                    interval: None,
                });
                bootstraps.push(speedup.map(|estimate| Bootstrap {
                    baseline: b.phase(phase).reservoir(),
                    candidate: c.phase(phase).reservoir(),
                    baseline_count: b_stats.count,
                    candidate_count: c_stats.count,
                    estimate,
                }));
            }
        }
        for (row, interval) in rows.iter_mut().zip(bootstrap_all(&bootstraps)) {
            row.interval = interval;
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

/// Each distinct bootstrap once, spread over the machine's cores: each is thousands of
/// resamples, and there are regions × phases of them.
fn bootstrap_all(jobs: &[Option<Bootstrap>]) -> Vec<Option<(f64, f64)>> {
    let mut distinct: Vec<Bootstrap> = Vec::new();
    for job in jobs.iter().flatten() {
        if !distinct.iter().any(|d| d.same(job)) {
            distinct.push(*job);
        }
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = distinct.len().div_ceil(threads).max(1);
    let intervals: Vec<Option<(f64, f64)>> = std::thread::scope(|scope| {
        let workers: Vec<_> = distinct
            .chunks(chunk)
            .map(|chunk| scope.spawn(move || chunk.iter().map(interval).collect()))
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| -> Vec<_> { worker.join().expect("bootstrap thread panicked") })
            .collect()
    });
    jobs.iter()
        .map(|job| {
            let job = job.as_ref()?;
            intervals[distinct.iter().position(|d| d.same(job))?]
        })
        .collect()
}

/// The percentile bootstrap of the speedup of medians. While a reservoir holds every value this
/// is the ordinary bootstrap. For longer runs it is an m-out-of-n bootstrap: resamples of the
/// m kept values spread as a run of m would, so the interval is placed around the full run's
/// estimate with its log-spread shrunk by √(m/n) (the median's error falls as 1/√n).
fn interval(job: &Bootstrap) -> Option<(f64, f64)> {
    let (m_b, m_c) = (job.baseline.len() as f64, job.candidate.len() as f64);
    if m_b.min(m_c) < MIN_SAMPLES_FOR_INTERVAL as f64 {
        return None;
    }
    let found = bootstrap::speedup_interval(
        job.baseline,
        job.candidate,
        Statistic::P50,
        CONFIDENCE,
        bootstrap::DEFAULT_RESAMPLES,
        bootstrap::DEFAULT_SEED,
    );
    let (n_b, n_c) = (job.baseline_count as f64, job.candidate_count as f64);
    let (low, high) = if (n_b, n_c) == (m_b, m_c) {
        (found.low, found.high)
    } else {
        let shrink = ((1.0 / n_b + 1.0 / n_c) / (1.0 / m_b + 1.0 / m_c)).sqrt();
        let around = |bound: f64| job.estimate * ((bound / found.estimate).ln() * shrink).exp();
        (around(found.low), around(found.high))
    };
    (low.is_finite() && high.is_finite()).then_some((low, high))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spread(median: f64) -> Vec<f64> {
        (0..500)
            .map(|i| median * (0.8 + 0.4 * f64::from(i) / 499.0))
            .collect()
    }

    fn job<'a>(baseline: &'a [f64], candidate: &'a [f64], count: u64) -> Bootstrap<'a> {
        Bootstrap {
            baseline,
            candidate,
            baseline_count: count,
            candidate_count: count,
            estimate: 2.0,
        }
    }

    #[test]
    fn a_run_the_reservoirs_hold_whole_gets_the_ordinary_bootstrap() {
        let (b, c) = (spread(200.0), spread(100.0));
        let (low, high) = interval(&job(&b, &c, 500)).unwrap();
        let ordinary = bootstrap::speedup_interval(
            &b,
            &c,
            Statistic::P50,
            CONFIDENCE,
            2000,
            bootstrap::DEFAULT_SEED,
        );
        assert_eq!((low, high), (ordinary.low, ordinary.high));
    }

    #[test]
    fn a_longer_run_gets_a_narrower_interval_around_its_own_estimate() {
        let (b, c) = (spread(200.0), spread(100.0));
        let (whole_low, whole_high) = interval(&job(&b, &c, 500)).unwrap();
        let (low, high) = interval(&job(&b, &c, 50_000)).unwrap();
        assert!(low < 2.0 && 2.0 < high, "{low}–{high}");
        let ratio = (high / low).ln() / (whole_high / whole_low).ln();
        assert!(
            (ratio - 0.1).abs() < 1e-9,
            "log-width shrinks by √(500/50000): {ratio}"
        );
    }
}

//! Statistics over samples: the phases a report or check can look at, HdrHistogram summaries
//! (memory independent of the number of rows), and bootstrap confidence intervals.

pub mod bootstrap;
pub mod groups;
pub mod quantile;

use hdrhistogram::Histogram;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;

use crate::sample::Sample;

/// A duration a sample can be judged on: the six measured phases, plus the original project's
/// grouping (`resolve` = dns, `connection` = connect + tls, `transfer` = ttfb + download).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, clap::ValueEnum)]
pub enum Phase {
    Dns,
    Connect,
    Tls,
    Ttfb,
    Download,
    Total,
    Resolve,
    Connection,
    Transfer,
    /// Playback sessions (`cdnprobe play`): session start → startup buffer complete.
    Startup,
    /// Playback sessions: seek → playing again at the new position.
    Seek,
}

impl Phase {
    /// The phases measured directly, in the order of a fetch.
    pub const MEASURED: [Phase; 6] = [
        Phase::Dns,
        Phase::Connect,
        Phase::Tls,
        Phase::Ttfb,
        Phase::Download,
        Phase::Total,
    ];
    /// Every phase: the measured ones, then the seed's grouping.
    pub const ALL: [Phase; 9] = [
        Phase::Dns,
        Phase::Connect,
        Phase::Tls,
        Phase::Ttfb,
        Phase::Download,
        Phase::Total,
        Phase::Resolve,
        Phase::Connection,
        Phase::Transfer,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Phase::Dns => "dns",
            Phase::Connect => "connect",
            Phase::Tls => "tls",
            Phase::Ttfb => "ttfb",
            Phase::Download => "download",
            Phase::Total => "total",
            Phase::Resolve => "resolve",
            Phase::Connection => "connection",
            Phase::Transfer => "transfer",
            Phase::Startup => "startup",
            Phase::Seek => "seek",
        }
    }

    /// This phase's duration in a sample, in ms; `None` when the phase was not performed.
    /// `connection` is connect alone for plain http (no TLS phase).
    pub fn of(self, s: &Sample) -> Option<f64> {
        match self {
            Phase::Dns | Phase::Resolve => s.dns_ms,
            Phase::Connect => s.connect_ms,
            Phase::Tls => s.tls_ms,
            Phase::Ttfb => s.ttfb_ms,
            Phase::Download => s.download_ms,
            Phase::Total => s.total_ms,
            Phase::Connection => s.connect_ms.map(|c| c + s.tls_ms.unwrap_or(0.0)),
            Phase::Transfer => Some(s.ttfb_ms? + s.download_ms?),
            // Measured per playback session, not per sample: see `check`'s playback input.
            Phase::Startup | Phase::Seek => None,
        }
    }

    /// Whether this metric is read from playback CSVs rather than sample CSVs.
    pub fn is_playback(self) -> bool {
        matches!(self, Phase::Startup | Phase::Seek)
    }
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Durations in milliseconds, kept as microseconds in an HdrHistogram with three significant
/// digits (0.1 % resolution) that grows to fit any value.
#[derive(Debug, Clone)]
pub struct MsHistogram(Histogram<u64>);

impl Default for MsHistogram {
    fn default() -> Self {
        Self(Histogram::new(3).expect("3 significant digits is a valid histogram"))
    }
}

impl MsHistogram {
    pub fn record(&mut self, ms: f64) {
        let micros = (ms * 1000.0).round().max(0.0) as u64;
        self.0
            .record(micros)
            .expect("auto-resizing histogram accepts any value");
    }

    pub fn add(&mut self, other: &MsHistogram) {
        self.0
            .add(&other.0)
            .expect("auto-resizing histograms can be added");
    }

    pub fn count(&self) -> u64 {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value at quantile `q` (0.0–1.0), ms, as `quantile` defines it. Must be non-empty.
    pub fn quantile(&self, q: f64) -> f64 {
        quantile::histogram_quantile(&self.0, q) / 1000.0
    }

    pub fn min(&self) -> f64 {
        self.0.min() as f64 / 1000.0
    }

    pub fn max(&self) -> f64 {
        self.0.max() as f64 / 1000.0
    }

    pub fn mean(&self) -> f64 {
        self.0.mean() / 1000.0
    }

    pub fn stddev(&self) -> f64 {
        self.0.stdev() / 1000.0
    }

    /// The underlying histogram (microseconds), for iterating recorded values.
    pub fn micros(&self) -> &Histogram<u64> {
        &self.0
    }
}

/// Values kept per phase for exact small-run percentiles and for bootstrap intervals: a uniform
/// random sample of at most this many values (seeded, so reports are reproducible).
pub const RESERVOIR_CAPACITY: usize = 500;

/// A bounded, seeded, uniform random sample of a stream (Vitter's algorithm R): every value seen
/// has the same chance `capacity / seen` of being kept.
#[derive(Debug, Clone)]
pub struct Reservoir {
    values: Vec<f64>,
    capacity: usize,
    seen: u64,
    rng: Pcg64,
}

impl Reservoir {
    pub fn new(capacity: usize, seed: u64) -> Self {
        Reservoir {
            values: Vec::new(),
            capacity,
            seen: 0,
            rng: Pcg64::seed_from_u64(seed),
        }
    }

    pub fn push(&mut self, value: f64) {
        self.seen += 1;
        if self.values.len() < self.capacity {
            self.values.push(value);
        } else {
            let slot = self.rng.random_range(0..self.seen);
            if let Some(kept) = self.values.get_mut(slot as usize) {
                *kept = value;
            }
        }
    }

    /// The kept values, in no particular order.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// True while every value seen is still kept.
    pub fn is_complete(&self) -> bool {
        self.seen == self.values.len() as u64
    }
}

/// One phase of one series, streamed: exact count, min, max, mean and standard deviation; exact
/// percentiles while the run fits the reservoir, HdrHistogram percentiles (0.1 %) beyond.
#[derive(Debug, Clone)]
pub struct PhaseSummary {
    histogram: MsHistogram,
    reservoir: Reservoir,
    min: f64,
    max: f64,
    /// Welford's running mean and sum of squared deviations: stable for long runs.
    mean: f64,
    squares: f64,
}

/// What a summary row says about one phase; milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PhaseStats {
    pub count: u64,
    pub min: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
    pub mean: f64,
    /// Population standard deviation.
    pub stddev: f64,
}

impl PhaseSummary {
    pub fn new(seed: u64) -> Self {
        PhaseSummary {
            histogram: MsHistogram::default(),
            reservoir: Reservoir::new(RESERVOIR_CAPACITY, seed),
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            mean: 0.0,
            squares: 0.0,
        }
    }

    pub fn record(&mut self, ms: f64) {
        self.histogram.record(ms);
        self.reservoir.push(ms);
        self.min = self.min.min(ms);
        self.max = self.max.max(ms);
        let count = self.histogram.count() as f64;
        let delta = ms - self.mean;
        self.mean += delta / count;
        self.squares += delta * (ms - self.mean);
    }

    pub fn count(&self) -> u64 {
        self.histogram.count()
    }

    pub fn histogram(&self) -> &MsHistogram {
        &self.histogram
    }

    /// A uniform sample of the recorded values (all of them for short runs), for bootstraps.
    pub fn reservoir(&self) -> &[f64] {
        self.reservoir.values()
    }

    /// The quantile as `quantile` defines it (the check's definition too): exact while the
    /// reservoir holds every value, from the histogram's order statistics beyond. Must be
    /// non-empty.
    pub fn quantile(&self, q: f64) -> f64 {
        if !self.reservoir.is_complete() {
            // A bucket's value may lie a hair outside the exact extremes.
            return self.histogram.quantile(q).clamp(self.min, self.max);
        }
        quantile::quantile(&mut self.reservoir.values().to_vec(), q)
    }

    pub fn stats(&self) -> Option<PhaseStats> {
        let count = self.count();
        (count > 0).then(|| PhaseStats {
            count,
            min: self.min,
            p50: self.quantile(0.5),
            p90: self.quantile(0.9),
            p99: self.quantile(0.99),
            max: self.max,
            mean: self.mean,
            stddev: (self.squares / count as f64).sqrt(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservoir_keeps_a_bounded_uniform_sample() {
        let mut reservoir = Reservoir::new(1000, 1);
        for i in 0..100_000 {
            reservoir.push(i as f64);
        }
        assert_eq!(reservoir.values().len(), 1000);
        assert!(!reservoir.is_complete());
        let mean = reservoir.values().iter().sum::<f64>() / 1000.0;
        assert!((mean - 50_000.0).abs() < 5_000.0, "mean {mean}");
    }

    #[test]
    fn short_runs_have_exact_statistics() {
        let mut phase = PhaseSummary::new(0);
        for ms in [2437.0, 4516.0, 32.0, 127.0] {
            phase.record(ms);
        }
        let stats = phase.stats().unwrap();
        // Sorted 32, 127, 2437, 4516: the median is the mean of the middle two.
        assert_eq!((stats.min, stats.p50, stats.max), (32.0, 1282.0, 4516.0));
        assert!((stats.p99 - (2437.0 + 0.97 * 2079.0)).abs() < 1e-9);
        assert!((stats.mean - 1778.0).abs() < 1e-9);
    }
}

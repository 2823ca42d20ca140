//! Statistics over samples: the phases a report or check can look at, HdrHistogram summaries
//! (memory independent of the number of rows), and bootstrap confidence intervals.

pub mod bootstrap;

use hdrhistogram::Histogram;

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
        }
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

    /// The value at quantile `q` (0.0–1.0), ms.
    pub fn quantile(&self, q: f64) -> f64 {
        self.0.value_at_quantile(q) as f64 / 1000.0
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

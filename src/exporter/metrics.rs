//! The exporter's `/metrics`: one registry of the probe's samples, by target.
//!
//! Every label value comes from the configuration (the target's label and role, `--region`)
//! or from a fixed set (phase, result, cache state), never from a response or a URL, so the
//! number of series is fixed by the config file: every series exists from the start (at zero),
//! and nothing a server answers can add one. The one exception is the certificate expiry
//! (`tls.rs`), which appears with a target's first certificate: a zero would read as expired.

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, NativeHistogramConfig};
use prometheus_client::registry::{Registry, Unit};

use super::playback::PlaybackMetrics;
use super::tls::CertificateMetrics;
use crate::play::record::PlaybackRow;
use crate::sample::{CacheStatus, ErrorClass, Sample};
use crate::schedule::config::Role;
use crate::stats::Phase;

/// Histogram bucket bounds in seconds, 1 ms to 60 s at six steps a decade (1, 1.5, 2, 3, 5,
/// 7.5): a bound at most 1.67× the one below keeps `histogram_quantile`'s interpolation error
/// small next to the 1.5× speedup the alerts judge, at 33 lines a series. Written out so the
/// `le` labels read as typed (no 0.0030000000000000005).
pub const BUCKETS_SECONDS: [f64; 30] = [
    0.001, 0.0015, 0.002, 0.003, 0.005, 0.0075, //
    0.01, 0.015, 0.02, 0.03, 0.05, 0.075, //
    0.1, 0.15, 0.2, 0.3, 0.5, 0.75, //
    1.0, 1.5, 2.0, 3.0, 5.0, 7.5, //
    10.0, 15.0, 20.0, 30.0, 50.0, 60.0,
];

/// Native histograms' bucket growth factor (Prometheus schema 3), as client_golang's common
/// `NativeHistogramBucketFactor: 1.1`: a quantile off by at most about 5 %.
pub const NATIVE_BUCKET_FACTOR: f64 = 1.1;

/// A duration histogram with the classic buckets above and native buckets beside them: the
/// text formats carry the classic ones, the protobuf format (what Prometheus asks for with
/// `--enable-feature=native-histograms`) both.
pub fn duration_histogram() -> Histogram {
    Histogram::new_classic_and_native(
        BUCKETS_SECONDS,
        NativeHistogramConfig::new(NATIVE_BUCKET_FACTOR),
    )
}

/// Every value of the `result` label: `ok`, then each error class.
pub const RESULTS: [&str; 10] = [
    "ok",
    "dns",
    "connect",
    "tls",
    "timeout",
    "reset",
    "truncated",
    "protocol",
    "http_status",
    "media",
];

impl EncodeLabelValue for Role {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        EncodeLabelValue::encode(&self.name(), encoder)
    }
}

/// The labels every per-target series carries (`region` is on the registry).
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct TargetLabels {
    pub target: Arc<String>,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct PhaseLabels {
    target: Arc<String>,
    role: Role,
    phase: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct ResultLabels {
    target: Arc<String>,
    role: Role,
    result: &'static str,
}

impl ResultLabels {
    pub fn new(labels: &TargetLabels, result: &'static str) -> Self {
        Self {
            target: labels.target.clone(),
            role: labels.role,
            result,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct CacheLabels {
    target: Arc<String>,
    role: Role,
    cache: &'static str,
}

pub type FloatGauge = Gauge<f64, AtomicU64>;

/// The registry and handles to its families. Cheap to share: the families are `Arc`s inside.
pub struct ExporterMetrics {
    registry: Registry,
    targets: Vec<TargetLabels>,
    phase_seconds: Family<PhaseLabels, Histogram>,
    samples: Family<ResultLabels, Counter>,
    cache_responses: Family<CacheLabels, Counter>,
    response_bytes: Family<TargetLabels, Counter>,
    last_sample: Family<TargetLabels, FloatGauge>,
    certificates: CertificateMetrics,
    playback: PlaybackMetrics,
    /// Counts the samples and sessions recorded, so an encoding knows whether it is current.
    generation: AtomicU64,
    /// The length of the last encoding.
    encoded_len: AtomicUsize,
}

impl ExporterMetrics {
    /// A registry for these targets, in config order; `record` takes the same index. Targets
    /// whose index is in `playback` also get the playback series.
    pub fn new(
        region: &str,
        targets: impl IntoIterator<Item = TargetLabels>,
        playback: &[usize],
    ) -> Self {
        let region_label = [(Cow::Borrowed("region"), Cow::Owned(region.to_string()))];
        let mut registry = Registry::with_prefix_and_labels("cdnprobe", region_label.into_iter());
        let phase_seconds =
            Family::<PhaseLabels, Histogram>::new_with_constructor(duration_histogram);
        let samples = Family::<ResultLabels, Counter>::default();
        let cache_responses = Family::<CacheLabels, Counter>::default();
        let response_bytes = Family::<TargetLabels, Counter>::default();
        let last_sample = Family::<TargetLabels, FloatGauge>::default();
        registry.register_with_unit(
            "phase_duration",
            "Duration of each phase of successful probes (dns, connect, tls, ttfb, download, total)",
            Unit::Seconds,
            phase_seconds.clone(),
        );
        registry.register(
            "samples",
            "Probes by result: ok or the error class",
            samples.clone(),
        );
        registry.register(
            "cache_responses",
            "Responses by the CDN's cache state (hit, miss, refresh, unknown)",
            cache_responses.clone(),
        );
        registry.register_with_unit(
            "response",
            "Response body bytes received",
            Unit::Bytes,
            response_bytes.clone(),
        );
        registry.register_with_unit(
            "last_sample_timestamp",
            "When the last probe of this target ended (Unix time)",
            Unit::Seconds,
            last_sample.clone(),
        );
        // A gauge at 1, as Go exporters' `*_build_info`: an OpenMetrics `info` metric would
        // be the same series, but promtool's (and older scrapers') text parser refuses its type.
        let build_info = Family::<[(&'static str, &'static str); 1], Gauge>::default();
        build_info
            .get_or_create(&[("version", env!("CARGO_PKG_VERSION"))])
            .set(1);
        registry.register(
            "build_info",
            "The cdnprobe version serving these metrics",
            build_info,
        );
        let certificates = CertificateMetrics::register(&mut registry);
        let playback_metrics = PlaybackMetrics::register(&mut registry);
        let metrics = Self {
            registry,
            targets: targets.into_iter().collect(),
            phase_seconds,
            samples,
            cache_responses,
            response_bytes,
            last_sample,
            certificates,
            playback: playback_metrics,
            generation: AtomicU64::new(0),
            encoded_len: AtomicUsize::new(0),
        };
        metrics.create_every_series(playback);
        for labels in playback.iter().filter_map(|&i| metrics.targets.get(i)) {
            metrics.playback.create_series(labels);
        }
        metrics
    }

    /// Series at zero from the start: `rate()` and "absent" alerts see a target before its
    /// first failure, and the series count is known before the first probe. A playback target
    /// (index in `playback`) gets no fetch-phase histograms: its sessions never fill them, and
    /// empty ones would give it a NaN speedup in the recording rules.
    fn create_every_series(&self, playback: &[usize]) {
        for (index, labels) in self.targets.iter().enumerate() {
            let phases = if playback.contains(&index) {
                &[][..]
            } else {
                &Phase::MEASURED[..]
            };
            for &phase in phases {
                let _ = self
                    .phase_seconds
                    .get_or_create(&phase_labels(labels, phase));
            }
            for result in RESULTS {
                let _ = self
                    .samples
                    .get_or_create(&ResultLabels::new(labels, result));
            }
            for cache in [
                CacheStatus::Hit,
                CacheStatus::Miss,
                CacheStatus::Refresh,
                CacheStatus::Unknown,
            ] {
                let _ = self
                    .cache_responses
                    .get_or_create(&cache_labels(labels, cache));
            }
            let _ = self.response_bytes.get_or_create(labels);
        }
    }

    /// Counts one finished probe of target `index`. Phases are observed for successful probes
    /// only (a failed probe's phases describe a different event, as in `run`'s summary).
    pub fn record(&self, index: usize, sample: &Sample, ended_unix_seconds: f64) {
        let Some(labels) = self.targets.get(index) else {
            return;
        };
        self.samples
            .get_or_create(&ResultLabels::new(labels, result_name(sample.error)))
            .inc();
        self.response_bytes
            .get_or_create(labels)
            .inc_by(sample.bytes);
        self.last_sample
            .get_or_create(labels)
            .set(ended_unix_seconds);
        self.certificates.record(labels, sample);
        if sample.status.is_some() {
            self.cache_responses
                .get_or_create(&cache_labels(labels, sample.cache))
                .inc();
        }
        if sample.succeeded() {
            for phase in Phase::MEASURED {
                if let Some(ms) = phase.of(sample) {
                    self.phase_seconds
                        .get_or_create(&phase_labels(labels, phase))
                        .observe(ms / 1e3);
                }
            }
        }
        // After the values: an encoding that read this generation missed nothing before it.
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// Counts one finished playback session of target `index`.
    pub fn record_playback(&self, index: usize, row: &PlaybackRow, ended_unix_seconds: f64) {
        if let Some(labels) = self.targets.get(index) {
            self.playback.record(labels, row);
            self.last_sample
                .get_or_create(labels)
                .set(ended_unix_seconds);
            self.generation.fetch_add(1, Ordering::Release);
        }
    }

    /// Changes with every sample or session recorded.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The Prometheus protobuf exposition (length-delimited `io.prometheus.client.MetricFamily`
    /// messages): the only one that carries the native histograms.
    pub fn encode_protobuf(&self) -> Vec<u8> {
        prometheus_client::encoding::prometheus_protobuf::encode_to_vec(&self.registry)
            .expect("encoding to memory cannot fail")
    }

    /// The OpenMetrics text exposition (ends with `# EOF`).
    pub fn encode(&self) -> String {
        // The series are fixed by the config, so the last size is the next one, near enough.
        let expected = self.encoded_len.load(Ordering::Relaxed);
        let mut text = String::with_capacity(expected + expected / 8 + 1024);
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        self.encoded_len.store(text.len(), Ordering::Relaxed);
        text
    }
}

/// The `result` label of a sample.
pub fn result_name(error: Option<ErrorClass>) -> &'static str {
    match error {
        None => "ok",
        Some(ErrorClass::Dns) => "dns",
        Some(ErrorClass::Connect) => "connect",
        Some(ErrorClass::Tls) => "tls",
        Some(ErrorClass::Timeout) => "timeout",
        Some(ErrorClass::Reset) => "reset",
        Some(ErrorClass::Truncated) => "truncated",
        Some(ErrorClass::Protocol) => "protocol",
        Some(ErrorClass::HttpStatus) => "http_status",
        Some(ErrorClass::Media) => "media",
    }
}

fn cache_name(cache: CacheStatus) -> &'static str {
    match cache {
        CacheStatus::Hit => "hit",
        CacheStatus::Miss => "miss",
        CacheStatus::Refresh => "refresh",
        CacheStatus::Unknown => "unknown",
    }
}

fn phase_labels(labels: &TargetLabels, phase: Phase) -> PhaseLabels {
    PhaseLabels {
        target: labels.target.clone(),
        role: labels.role,
        phase: phase.name(),
    }
}

fn cache_labels(labels: &TargetLabels, cache: CacheStatus) -> CacheLabels {
    CacheLabels {
        target: labels.target.clone(),
        role: labels.role,
        cache: cache_name(cache),
    }
}

#[cfg(test)]
mod tests;

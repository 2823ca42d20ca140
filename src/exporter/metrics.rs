//! The exporter's `/metrics`: one registry of the probe's samples, by target.
//!
//! Every label value comes from the configuration (the target's label and role, `--region`)
//! or from a fixed set (phase, result, cache state), never from a response or a URL, so the
//! number of series is fixed by the config file: every series exists from the start (at zero),
//! and nothing a server answers can add one.

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use super::playback::PlaybackMetrics;
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

type FloatGauge = Gauge<f64, AtomicU64>;

/// The registry and handles to its families. Cheap to share: the families are `Arc`s inside.
pub struct ExporterMetrics {
    registry: Registry,
    targets: Vec<TargetLabels>,
    phase_seconds: Family<PhaseLabels, Histogram>,
    samples: Family<ResultLabels, Counter>,
    cache_responses: Family<CacheLabels, Counter>,
    response_bytes: Family<TargetLabels, Counter>,
    last_sample: Family<TargetLabels, FloatGauge>,
    playback: PlaybackMetrics,
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
        let phase_seconds = Family::<PhaseLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(BUCKETS_SECONDS)
        });
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
        let playback_metrics = PlaybackMetrics::register(&mut registry);
        let metrics = Self {
            registry,
            targets: targets.into_iter().collect(),
            phase_seconds,
            samples,
            cache_responses,
            response_bytes,
            last_sample,
            playback: playback_metrics,
        };
        metrics.create_every_series();
        for labels in playback.iter().filter_map(|&i| metrics.targets.get(i)) {
            metrics.playback.create_series(labels);
        }
        metrics
    }

    /// Series at zero from the start: `rate()` and "absent" alerts see a target before its
    /// first failure, and the series count is known before the first probe.
    fn create_every_series(&self) {
        for labels in &self.targets {
            for phase in Phase::MEASURED {
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
    }

    /// Counts one finished playback session of target `index`.
    pub fn record_playback(&self, index: usize, row: &PlaybackRow, ended_unix_seconds: f64) {
        if let Some(labels) = self.targets.get(index) {
            self.playback.record(labels, row);
            self.last_sample
                .get_or_create(labels)
                .set(ended_unix_seconds);
        }
    }

    /// The OpenMetrics text exposition (ends with `# EOF`).
    pub fn encode(&self) -> String {
        let mut text = String::with_capacity(64 * 1024);
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
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
mod tests {
    use super::*;

    fn metrics() -> ExporterMetrics {
        ExporterMetrics::new(
            "eu",
            [TargetLabels {
                target: Arc::new("cdn".into()),
                role: Role::Candidate,
            }],
            &[],
        )
    }

    #[test]
    fn every_result_is_an_error_class_name_or_ok() {
        let classes = [
            ErrorClass::Dns,
            ErrorClass::Connect,
            ErrorClass::Tls,
            ErrorClass::Timeout,
            ErrorClass::Reset,
            ErrorClass::Truncated,
            ErrorClass::Protocol,
            ErrorClass::HttpStatus,
            ErrorClass::Media,
        ];
        for class in classes {
            // The CSV's error column and the metric's result label say the same word.
            let csv = serde_json::to_value(class).unwrap();
            assert_eq!(csv.as_str(), Some(result_name(Some(class))));
            assert!(RESULTS.contains(&result_name(Some(class))));
        }
    }

    /// The value of the series `name` carrying every label of `labels` (in any order).
    fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        text.lines().find_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (series_name, rest) = series.split_once('{').unwrap_or((series, ""));
            let all = labels
                .iter()
                .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")));
            (series_name == name && all).then(|| value.parse().ok())?
        })
    }

    #[test]
    fn a_successful_sample_lands_in_its_phase_buckets_and_counters() {
        let metrics = metrics();
        let sample = Sample {
            status: Some(200),
            bytes: 1000,
            ttfb_ms: Some(12.0),
            total_ms: Some(40.0),
            cache: CacheStatus::Hit,
            ..Sample::default()
        };
        metrics.record(0, &sample, 1_700_000_000.5);
        let text = metrics.encode();
        let cdn = [("region", "eu"), ("target", "cdn"), ("role", "candidate")];
        let with = |extra: &[(&'static str, &'static str)]| [&cdn[..], extra].concat();
        let ok = with(&[("result", "ok")]);
        assert_eq!(
            value(&text, "cdnprobe_samples_total", &ok),
            Some(1.0),
            "{text}"
        );
        let hit = with(&[("cache", "hit")]);
        assert_eq!(
            value(&text, "cdnprobe_cache_responses_total", &hit),
            Some(1.0)
        );
        assert_eq!(
            value(&text, "cdnprobe_response_bytes_total", &cdn),
            Some(1000.0)
        );
        let bucket = "cdnprobe_phase_duration_seconds_bucket";
        let above = with(&[("phase", "ttfb"), ("le", "0.015")]);
        assert_eq!(value(&text, bucket, &above), Some(1.0));
        let below = with(&[("phase", "ttfb"), ("le", "0.01")]);
        assert_eq!(value(&text, bucket, &below), Some(0.0));
        let last = "cdnprobe_last_sample_timestamp_seconds";
        assert_eq!(value(&text, last, &cdn), Some(1_700_000_000.5));
        let version = [("version", env!("CARGO_PKG_VERSION")), ("region", "eu")];
        assert_eq!(value(&text, "cdnprobe_build_info", &version), Some(1.0));
    }

    #[test]
    fn a_failed_sample_counts_its_class_and_observes_no_phase() {
        let metrics = metrics();
        let failed = Sample {
            status: Some(500),
            ttfb_ms: Some(3.0),
            error: Some(ErrorClass::HttpStatus),
            ..Sample::default()
        };
        metrics.record(0, &failed, 1.0);
        let text = metrics.encode();
        let failed = [("result", "http_status"), ("target", "cdn")];
        assert_eq!(value(&text, "cdnprobe_samples_total", &failed), Some(1.0));
        let ttfb = [("phase", "ttfb"), ("target", "cdn")];
        let count = "cdnprobe_phase_duration_seconds_count";
        assert_eq!(value(&text, count, &ttfb), Some(0.0), "{text}");
        // A 500 is still a response with a cache state.
        let unknown = [("cache", "unknown"), ("target", "cdn")];
        assert_eq!(
            value(&text, "cdnprobe_cache_responses_total", &unknown),
            Some(1.0)
        );
    }

    #[test]
    fn series_are_fixed_by_the_config_before_any_probe() {
        let text = metrics().encode();
        let series = text.lines().filter(|l| !l.starts_with('#')).count();
        // 6 phases × (31 buckets + sum + count) + 10 results + 4 cache states + bytes + build info.
        assert_eq!(series, 6 * 33 + RESULTS.len() + 4 + 1 + 1, "{text}");
    }
}

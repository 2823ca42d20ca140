//! `/probe?target=LABEL`: one probe, answered with the blackbox exporter's metric names so
//! dashboards and alerts written for it keep working, plus `probe_cdn_cache_hit`.
//!
//! The blackbox exporter's `http` prober names its phases `resolve`, `connect`, `tls`,
//! `processing` (request sent → first response byte) and `transfer` (the body); they are
//! cdnprobe's `dns`, `connect`, `tls`, `ttfb` and `download`. Like the blackbox exporter, every
//! phase is present, at 0 when it was not performed; and like it, `probe_ssl_earliest_cert_expiry`
//! and `probe_tls_version_info` are there only when the probe completed a TLS handshake. The
//! expiry is the leaf certificate's (the blackbox exporter takes the earliest of every
//! certificate the server sent; a leaf issued within its CA's validity is that earliest).

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

use super::metrics::FloatGauge;
use super::tls;
use crate::sample::{CacheStatus, Sample};

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct PhaseLabel {
    phase: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct VersionLabel {
    version: &'static str,
}

/// The blackbox phase names, each with the sample's duration in ms.
fn phases(sample: &Sample) -> [(&'static str, Option<f64>); 5] {
    [
        ("resolve", sample.dns_ms),
        ("connect", sample.connect_ms),
        ("tls", sample.tls_ms),
        ("processing", sample.ttfb_ms),
        ("transfer", sample.download_ms),
    ]
}

/// The exposition for one probe that took `duration` (the blackbox exporter's own wall time).
pub fn render(sample: &Sample, duration: Duration) -> String {
    let mut registry = Registry::default();
    let gauge = |registry: &mut Registry, name: &str, help: &str, value: f64| {
        let gauge = FloatGauge::default();
        gauge.set(value);
        registry.register(name, help, gauge);
    };
    gauge(
        &mut registry,
        "probe_success",
        "Whether the probe succeeded",
        bool_value(sample.succeeded()),
    );
    gauge(
        &mut registry,
        "probe_duration_seconds",
        "How long the probe took to complete in seconds",
        duration.as_secs_f64(),
    );
    let phase_seconds = Family::<PhaseLabel, FloatGauge>::default();
    for (phase, ms) in phases(sample) {
        phase_seconds
            .get_or_create(&PhaseLabel { phase })
            .set(ms.unwrap_or(0.0) / 1e3);
    }
    registry.register(
        "probe_http_duration_seconds",
        "Duration of http request by phase, summed over all redirects",
        phase_seconds,
    );
    gauge(
        &mut registry,
        "probe_dns_lookup_time_seconds",
        "Returns the time taken for probe dns lookup in seconds",
        sample.dns_ms.unwrap_or(0.0) / 1e3,
    );
    gauge(
        &mut registry,
        "probe_http_status_code",
        "Response HTTP status code",
        f64::from(sample.status.unwrap_or(0)),
    );
    gauge(
        &mut registry,
        "probe_http_version",
        "Returns the version of HTTP of the probe response",
        sample.http_version.parse().unwrap_or(0.0),
    );
    gauge(
        &mut registry,
        "probe_http_ssl",
        "Indicates if SSL was used for the final redirect",
        bool_value(sample.tls_ms.is_some() && sample.status.is_some()),
    );
    if let Some(expiry) = tls::expiry_seconds(sample) {
        gauge(
            &mut registry,
            "probe_ssl_earliest_cert_expiry",
            "Returns earliest SSL cert expiry in unixtime",
            expiry,
        );
    }
    if let Some(version) = tls::version_name(sample) {
        let info = Family::<VersionLabel, FloatGauge>::default();
        info.get_or_create(&VersionLabel { version }).set(1.0);
        registry.register(
            "probe_tls_version_info",
            "Contains the TLS version used",
            info,
        );
    }
    gauge(
        &mut registry,
        "probe_http_uncompressed_body_length",
        "Length of uncompressed response body",
        sample.bytes as f64,
    );
    gauge(
        &mut registry,
        "probe_cdn_cache_hit",
        "Whether the CDN answered from its cache (1), or not or unknown (0)",
        bool_value(sample.cache == CacheStatus::Hit),
    );
    let mut text = String::with_capacity(2048);
    prometheus_client::encoding::text::encode(&mut text, &registry)
        .expect("writing to a String cannot fail");
    text
}

fn bool_value(value: bool) -> f64 {
    if value { 1.0 } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::ErrorClass;

    #[test]
    fn phases_take_the_blackbox_names_and_missing_ones_are_zero() {
        let sample = Sample {
            status: Some(200),
            http_version: "2".into(),
            connect_ms: Some(1.5),
            tls_ms: Some(20.0),
            ttfb_ms: Some(250.0),
            download_ms: Some(4.0),
            bytes: 65536,
            cache: CacheStatus::Hit,
            ..Sample::default()
        };
        let text = render(&sample, Duration::from_millis(300));
        for line in [
            "probe_success 1.0",
            "probe_duration_seconds 0.3",
            r#"probe_http_duration_seconds{phase="resolve"} 0.0"#,
            r#"probe_http_duration_seconds{phase="connect"} 0.0015"#,
            r#"probe_http_duration_seconds{phase="processing"} 0.25"#,
            "probe_http_status_code 200.0",
            "probe_http_version 2.0",
            "probe_http_ssl 1.0",
            "probe_cdn_cache_hit 1.0",
        ] {
            assert!(text.lines().any(|l| l == line), "{line}\n{text}");
        }
    }

    #[test]
    fn a_failed_probe_is_probe_success_zero_with_its_status() {
        let sample = Sample {
            status: Some(500),
            http_version: "1.1".into(),
            error: Some(ErrorClass::HttpStatus),
            ..Sample::default()
        };
        let text = render(&sample, Duration::from_millis(5));
        assert!(text.lines().any(|l| l == "probe_success 0.0"), "{text}");
        assert!(
            text.lines().any(|l| l == "probe_http_status_code 500.0"),
            "{text}"
        );
        assert!(text.lines().any(|l| l == "probe_http_ssl 0.0"), "{text}");
    }

    #[test]
    fn tls_facts_appear_only_for_a_probe_that_completed_a_handshake() {
        let https = Sample {
            status: Some(200),
            tls_ms: Some(2.0),
            tls_version: "1.3".into(),
            cert_expires_at: "2031-05-18T12:00:00Z".into(),
            ..Sample::default()
        };
        let text = render(&https, Duration::from_millis(5));
        for line in [
            "probe_ssl_earliest_cert_expiry 1936872000.0",
            r#"probe_tls_version_info{version="TLS 1.3"} 1.0"#,
        ] {
            assert!(text.lines().any(|l| l == line), "{line}\n{text}");
        }
        let plain = render(
            &Sample {
                status: Some(200),
                ..Sample::default()
            },
            Duration::from_millis(5),
        );
        assert!(
            !plain.contains("probe_ssl_") && !plain.contains("probe_tls_"),
            "{plain}"
        );
    }
}

//! The registry's series: what one sample adds, and what exists before any.

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

#[test]
fn the_certificate_expiry_appears_with_the_first_certificate_and_stays() {
    let metrics = metrics();
    let expiry = "cdnprobe_tls_cert_expiry_timestamp_seconds";
    let cdn = [("region", "eu"), ("target", "cdn"), ("role", "candidate")];
    metrics.record(0, &Sample::default(), 1.0);
    assert_eq!(value(&metrics.encode(), expiry, &cdn), None);
    let https = Sample {
        cert_expires_at: "2031-05-18T12:00:00Z".into(),
        ..Sample::default()
    };
    metrics.record(0, &https, 2.0);
    assert_eq!(
        value(&metrics.encode(), expiry, &cdn),
        Some(1_936_872_000.0)
    );
    // A later probe that failed before the handshake does not erase what is known.
    let refused = Sample {
        error: Some(ErrorClass::Connect),
        ..Sample::default()
    };
    metrics.record(0, &refused, 3.0);
    assert_eq!(
        value(&metrics.encode(), expiry, &cdn),
        Some(1_936_872_000.0)
    );
}

#[test]
fn a_playback_target_has_no_fetch_phase_series_to_divide_by() {
    let label = |name: &str| TargetLabels {
        target: Arc::new(name.into()),
        role: Role::Candidate,
    };
    let metrics = ExporterMetrics::new("eu", [label("cdn"), label("cdn-play")], &[1]);
    let text = metrics.encode();
    let total_count = "cdnprobe_phase_duration_seconds_count";
    assert_eq!(
        value(&text, total_count, &[("target", "cdn"), ("phase", "total")]),
        Some(0.0)
    );
    assert_eq!(value(&text, total_count, &[("target", "cdn-play")]), None);
    // Its own series are there from the start.
    assert!(text.contains("target=\"cdn-play\""), "{text}");
}

#[test]
fn the_protobuf_exposition_has_native_buckets_beside_the_classic_ones() {
    use prometheus_client::encoding::prometheus_protobuf::prometheus_data_model::MetricFamily;
    use prost::Message;

    let metrics = metrics();
    let sample = Sample {
        status: Some(200),
        total_ms: Some(40.0),
        ..Sample::default()
    };
    metrics.record(0, &sample, 1_700_000_000.0);
    let body = metrics.encode_protobuf();
    let mut rest = &body[..];
    let mut families = Vec::new();
    while !rest.is_empty() {
        families.push(MetricFamily::decode_length_delimited(&mut rest).expect("a MetricFamily"));
    }
    let phases = families
        .iter()
        .find(|f| f.name == "cdnprobe_phase_duration_seconds")
        .expect("the phase family");
    let total = phases
        .metric
        .iter()
        .find(|m| m.label.iter().any(|l| l.value == "total"))
        .and_then(|m| m.histogram.as_ref())
        .expect("the total phase's histogram");
    assert_eq!(total.sample_count, 1);
    assert!((total.sample_sum - 0.040).abs() < 1e-9);
    // Classic buckets for text scrapers, native ones (schema 3: factor 1.09) for Prometheus.
    assert_eq!(total.bucket.len(), BUCKETS_SECONDS.len() + 1); // and +Inf
    assert_eq!(total.schema, 3);
    assert_eq!(total.positive_delta.iter().sum::<i64>(), 1);
}

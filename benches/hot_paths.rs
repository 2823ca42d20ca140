//! Microbenchmarks of the work cdnprobe does once per sample or once per row, so a regression in
//! any of them shows before it shows in a 10,000-sample run or a 1,000,000-row report:
//! timing bookkeeping, cache-header parsing, CSV row writing and reading, histogram recording,
//! and the server's Range parsing.
//!
//! `cargo bench --bench hot_paths` (release profile). The side-by-side comparison with curl and
//! nginx is `benches/compare.sh`.

use std::hint::black_box;
use std::time::Instant;

use cdnprobe::probe::cache;
use cdnprobe::sample::{CacheStatus, Sample};
use cdnprobe::stats::{MsHistogram, Phase};
use cdnprobe_server::stream::parse_range;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use http::{HeaderMap, HeaderName, HeaderValue};

/// A successful sample as `cdnprobe run` writes it for a CloudFront hit over HTTPS.
fn typical_sample(sample: u64) -> Sample {
    Sample {
        started_at: "2026-11-24T22:00:00.123456Z".into(),
        region: "auckland".into(),
        target: "cloudfront".into(),
        url: "https://d1234abcd.cloudfront.net/videos/0f3c9a.mp4".into(),
        sample,
        http_version: "HTTP/2.0".into(),
        status: Some(200),
        remote_addr: "13.224.5.17:443".into(),
        bytes: 21_504,
        dns_ms: Some(12.345),
        connect_ms: Some(31.002),
        tls_ms: Some(64.118),
        ttfb_ms: Some(35.771),
        download_ms: Some(4.209),
        total_ms: Some(147.611),
        throughput_mbps: Some(40.871),
        cache: CacheStatus::Hit,
        pop: "AKL50-C1".into(),
        error: None,
        ..Sample::default()
    }
}

fn ms(from: Instant, to: Instant) -> f64 {
    to.duration_since(from).as_secs_f64() * 1e3
}

/// The clock work of one sample: a monotonic reading at each phase boundary, the disjoint
/// durations between them, and the wall-clock `started_at` in RFC 3339.
fn timing_bookkeeping(c: &mut Criterion) {
    let mut group = c.benchmark_group("sample");
    group.bench_function("timing_bookkeeping", |b| {
        b.iter(|| {
            let started_at =
                chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
            let marks: [Instant; 6] = std::array::from_fn(|_| Instant::now());
            let sample = Sample {
                started_at,
                dns_ms: Some(ms(marks[0], marks[1])),
                connect_ms: Some(ms(marks[1], marks[2])),
                tls_ms: Some(ms(marks[2], marks[3])),
                ttfb_ms: Some(ms(marks[3], marks[4])),
                download_ms: Some(ms(marks[4], marks[5])),
                total_ms: Some(ms(marks[0], marks[5])),
                ..Sample::default()
            };
            black_box(sample)
        })
    });
    group.finish();
}

/// A response head as CloudFront, Fastly and Cloudflare send it, with the headers around the
/// cache ones that the lookups have to skip.
fn response_headers(cache_headers: &[(&'static str, &'static str)]) -> HeaderMap {
    let common = [
        ("content-type", "video/mp4"),
        ("content-length", "21504"),
        ("accept-ranges", "bytes"),
        ("etag", "\"5d41402abc4b2a76b9719d911017c592\""),
        ("last-modified", "Tue, 24 Nov 2026 21:00:00 GMT"),
        ("cache-control", "public, max-age=31536000, immutable"),
        ("date", "Tue, 24 Nov 2026 22:00:00 GMT"),
        ("server", "AmazonS3"),
    ];
    common
        .iter()
        .chain(cache_headers)
        .map(|(name, value)| {
            (
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            )
        })
        .collect()
}

/// Cache status and POP, read from every response's headers.
fn cache_header_parsing(c: &mut Criterion) {
    let cases = [
        (
            "cloudfront",
            response_headers(&[
                ("x-cache", "Hit from cloudfront"),
                ("via", "1.1 3f2e1d.cloudfront.net (CloudFront)"),
                ("x-amz-cf-pop", "AKL50-C1"),
                ("x-amz-cf-id", "d2VsbCBoZWxsbyB0aGVyZQ=="),
                ("age", "5123"),
            ]),
        ),
        (
            "fastly",
            response_headers(&[
                ("x-cache", "MISS, HIT"),
                (
                    "x-served-by",
                    "cache-iad-kiad7000025-IAD, cache-syd10147-SYD",
                ),
                ("age", "12"),
            ]),
        ),
        (
            "cloudflare",
            response_headers(&[
                ("cf-cache-status", "HIT"),
                ("cf-ray", "8a1b2c3d4e5f6789-AKL"),
                ("age", "40"),
            ]),
        ),
        ("origin", response_headers(&[])),
    ];
    let mut group = c.benchmark_group("cache_headers");
    for (name, headers) in &cases {
        group.bench_function(*name, |b| {
            b.iter(|| {
                let headers = black_box(headers);
                black_box((cache::cache_status(headers), cache::pop(headers)))
            })
        });
    }
    group.finish();
}

/// The Range header of every video GET `cdnprobe-server` answers: what players send when they
/// seek, a suffix range, and the cases that fall back to the whole body.
fn range_parsing(c: &mut Criterion) {
    const LEN: u64 = 1 << 30;
    let mut group = c.benchmark_group("range");
    for (name, header) in [
        ("first_last", "bytes=1048576-2097151"),
        ("open_ended", "bytes=536870912-"),
        ("suffix", "bytes=-65536"),
        ("several_ranges", "bytes=0-99,200-299"),
        ("unsatisfiable", "bytes=2147483648-"),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| black_box(parse_range(black_box(header), LEN)))
        });
    }
    group.finish();
}

/// One CSV row per sample, serialised the way `cdnprobe run --out` writes it (flushed per row
/// there; here into a sink so only the formatting is measured).
fn csv_row_writing(c: &mut Criterion) {
    let sample = typical_sample(1);
    let mut writer = csv::Writer::from_writer(std::io::sink());
    let mut group = c.benchmark_group("csv");
    group.throughput(Throughput::Elements(1));
    group.bench_function("write_row", |b| {
        b.iter(|| {
            writer
                .serialize(black_box(&sample))
                .expect("sink accepts rows")
        })
    });
    group.finish();
}

/// Rows read back through `cdnprobe::input`, which `report` and `check` stream their inputs
/// through: 10,000 rows per iteration, reported per row.
fn csv_row_reading(c: &mut Criterion) {
    const ROWS: u64 = 10_000;
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("samples.csv");
    let mut writer = csv::Writer::from_path(&path).expect("create samples.csv");
    for n in 1..=ROWS {
        writer.serialize(typical_sample(n)).expect("write row");
    }
    writer.flush().expect("flush samples.csv");
    drop(writer);

    let inputs = [path];
    let mut group = c.benchmark_group("csv");
    group.throughput(Throughput::Elements(ROWS));
    group.bench_function("read_rows", |b| {
        b.iter(|| {
            let mut bytes = 0;
            let reading = cdnprobe::input::Reading::default();
            let rows = cdnprobe::input::for_each_sample(&inputs, &reading, |s| bytes += s.bytes)
                .expect("rows parse");
            black_box((rows, bytes))
        })
    });
    group.finish();
}

/// Recording into the HdrHistograms behind every summary: one value, and every measured phase
/// of one sample (what a run's summary and a report do per row).
fn histogram_recording(c: &mut Criterion) {
    let mut group = c.benchmark_group("histogram");
    let mut histogram = MsHistogram::default();
    let mut value = 0.0_f64;
    group.bench_function("record", |b| {
        b.iter(|| {
            // Walk through values from 0 to 10 s so the bucket lookups vary like real data.
            value = (value + 7.919) % 10_000.0;
            histogram.record(black_box(value));
        })
    });
    let sample = typical_sample(1);
    let mut per_phase: Vec<MsHistogram> = Phase::MEASURED
        .iter()
        .map(|_| MsHistogram::default())
        .collect();
    group.bench_function("record_sample_phases", |b| {
        b.iter(|| {
            for (phase, histogram) in Phase::MEASURED.iter().zip(&mut per_phase) {
                if let Some(ms) = phase.of(black_box(&sample)) {
                    histogram.record(ms);
                }
            }
        })
    });
    group.bench_function("quantiles_p50_p90_p99", |b| {
        b.iter(|| {
            let h = black_box(&histogram);
            black_box([h.quantile(0.5), h.quantile(0.9), h.quantile(0.99)])
        })
    });
    group.finish();
}

criterion_group!(
    hot_paths,
    timing_bookkeeping,
    cache_header_parsing,
    csv_row_writing,
    csv_row_reading,
    histogram_recording,
    range_parsing
);
criterion_main!(hot_paths);

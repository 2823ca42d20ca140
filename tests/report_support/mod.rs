//! Shared by the `report_*` integration tests: sample CSVs written with the real schema, and the
//! real `cdnprobe` binary run on them.

#![allow(dead_code)] // each test file uses its own subset

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cdnprobe::sample::{CacheStatus, ErrorClass, Sample};

/// The committed CSV of the original project's published figures.
pub fn seed_csv() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/seed-auckland-sydney/seed-figures.csv")
}

/// `cdnprobe report ARGS...`
pub fn report(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cdnprobe"))
        .arg("report")
        .args(args)
        .output()
        .expect("cdnprobe runs")
}

/// `cdnprobe report INPUT --out OUT EXTRA...`, which must succeed.
pub fn report_ok(input: &Path, out: &Path, extra: &[&str]) {
    let mut args = vec![input.to_str().unwrap(), "--out", out.to_str().unwrap()];
    args.extend(extra);
    let output = report(&args);
    assert!(
        output.status.success(),
        "report failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A successful sample whose phases are given in ms; total is their sum.
pub fn sample(
    region: &str,
    target: &str,
    dns: f64,
    connect: f64,
    ttfb: f64,
    download: f64,
) -> Sample {
    Sample {
        started_at: "2026-11-24T22:00:00.000000Z".into(),
        region: region.into(),
        target: target.into(),
        url: format!("http://{target}.test/video.mp4"),
        sample: 1,
        http_version: "HTTP/1.1".into(),
        status: Some(200),
        remote_addr: "127.0.0.1:8080".into(),
        bytes: 21_504,
        dns_ms: Some(dns),
        connect_ms: Some(connect),
        tls_ms: None,
        ttfb_ms: Some(ttfb),
        download_ms: Some(download),
        total_ms: Some(dns + connect + ttfb + download),
        throughput_mbps: Some(1.0),
        cache: CacheStatus::Unknown,
        pop: String::new(),
        error: None,
    }
}

/// A failed sample with absurd times, which no statistic may include.
pub fn failed(region: &str, target: &str) -> Sample {
    Sample {
        error: Some(ErrorClass::Timeout),
        status: None,
        ..sample(region, target, 1e6, 1e6, 1e6, 1e6)
    }
}

pub fn write_samples(path: &Path, samples: &[Sample]) {
    let mut csv = csv::Writer::from_path(path).unwrap();
    for s in samples {
        csv.serialize(s).unwrap();
    }
    csv.flush().unwrap();
}

/// Rows of a CSV as column → value maps.
pub fn read_csv(path: &Path) -> Vec<HashMap<String, String>> {
    let mut csv = csv::Reader::from_path(path).unwrap();
    let headers = csv.headers().unwrap().clone();
    csv.records()
        .map(|r| {
            let r = r.unwrap();
            headers
                .iter()
                .map(String::from)
                .zip(r.iter().map(String::from))
                .collect()
        })
        .collect()
}

/// The row of `rows` whose columns have the given values.
pub fn row<'a>(
    rows: &'a [HashMap<String, String>],
    key: &[(&str, &str)],
) -> &'a HashMap<String, String> {
    rows.iter()
        .find(|r| key.iter().all(|(k, v)| r[*k] == *v))
        .unwrap_or_else(|| panic!("no row with {key:?}"))
}

pub fn number(row: &HashMap<String, String>, column: &str) -> f64 {
    row[column]
        .parse()
        .unwrap_or_else(|_| panic!("{column} = {:?} is not a number", row[column]))
}

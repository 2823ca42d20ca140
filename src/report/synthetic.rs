//! Synthetic sample CSVs for benchmarks and tests: two regions, an origin (`s3`) about twice as
//! slow as a CDN (`cloudfront`), log-normal-ish times, 1 % failed rows, mixed cache statuses.
//! Reproducible from the seed. `cargo run --release --example report_synthetic_samples -- ROWS FILE`.

use std::io::Write;

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;

use crate::sample::{CacheStatus, ErrorClass, Sample};

/// Writes a header and `rows` samples, cycling over regions and targets.
pub fn write_samples(out: impl Write, rows: u64, seed: u64) -> csv::Result<()> {
    let mut rng = Pcg64::seed_from_u64(seed);
    let mut csv = csv::Writer::from_writer(out);
    let series = [
        ("auckland", "s3", 2.0),
        ("auckland", "cloudfront", 1.0),
        ("sydney", "s3", 2.2),
        ("sydney", "cloudfront", 1.0),
    ];
    for row in 0..rows {
        let (region, target, slowness) = series[(row % 4) as usize];
        let mut jitter = |median: f64| median * slowness * (rng.random::<f64>() - 0.5).exp();
        let (dns, connect, tls) = (jitter(15.0), jitter(60.0), jitter(70.0));
        let (ttfb, download) = (jitter(80.0), jitter(1100.0));
        let failed = rng.random_ratio(1, 100);
        let sample = Sample {
            started_at: "2026-11-24T22:00:00.000000Z".into(),
            region: region.into(),
            target: target.into(),
            url: format!("https://{target}.example.net/video/sample.mp4"),
            sample: row / 4 + 1,
            http_version: "HTTP/2".into(),
            status: Some(200),
            remote_addr: "192.0.2.10:443".into(),
            bytes: 21_504,
            dns_ms: Some(dns),
            connect_ms: Some(connect),
            tls_ms: Some(tls),
            ttfb_ms: (!failed).then_some(ttfb),
            download_ms: (!failed).then_some(download),
            total_ms: (!failed).then_some(dns + connect + tls + ttfb + download),
            throughput_mbps: (!failed).then_some(21_504.0 * 8.0 / 1000.0 / download),
            cache: match (target, rng.random_range(0..10)) {
                ("s3", _) => CacheStatus::Unknown,
                (_, 0) => CacheStatus::Miss,
                _ => CacheStatus::Hit,
            },
            pop: if target == "s3" { "" } else { "AKL50-C1" }.into(),
            error: failed.then_some(ErrorClass::Timeout),
        };
        csv.serialize(&sample)?;
    }
    csv.flush()?;
    Ok(())
}

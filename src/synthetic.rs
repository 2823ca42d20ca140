//! Synthetic sample rows for tests and benchmarks, in the probe's schema: one place that builds a
//! `Sample`, draws log-normal times and writes sample CSVs, so every test and the benchmark
//! input agree on what a row looks like. Reproducible from a seeded RNG.
//!
//! `cargo run --release --example report_synthetic_samples -- ROWS FILE` writes a benchmark input.

use std::borrow::Borrow;
use std::io::Write;
use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;

use crate::sample::{CacheStatus, ErrorClass, Sample};

/// A time whose logarithm is normal around ln(`median`) with standard deviation `sigma`
/// (Box–Muller; draws two uniforms, u1 first).
pub fn log_normal(rng: &mut impl Rng, median: f64, sigma: f64) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>(); // (0, 1]: ln is finite
    let u2: f64 = rng.random();
    let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
    median * (sigma * z).exp()
}

/// The phases of one fetch, ms; its total is their sum.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Phases {
    pub dns: f64,
    pub connect: f64,
    /// `None` over plain http.
    pub tls: Option<f64>,
    pub ttfb: f64,
    pub download: f64,
}

impl Phases {
    /// A plain-http fetch (no TLS phase).
    pub fn new(dns: f64, connect: f64, ttfb: f64, download: f64) -> Phases {
        Phases {
            dns,
            connect,
            tls: None,
            ttfb,
            download,
        }
    }

    /// An https fetch of `total` ms: 5 % dns, 15 % connect, 20 % tls, 30 % ttfb, 30 % download.
    pub fn https(total: f64) -> Phases {
        Phases {
            tls: Some(total * 0.2),
            ..Phases::new(total * 0.05, total * 0.15, total * 0.3, total * 0.3)
        }
    }

    pub fn total(&self) -> f64 {
        self.dns + self.connect + self.tls.unwrap_or(0.0) + self.ttfb + self.download
    }
}

/// A successful fetch of `target` from `region` with these phases: status 200, 21,504 bytes, no
/// cache status. Change fields for anything else (`sample`, `cache`, `pop`, …).
pub fn sample(region: &str, target: &str, phases: Phases) -> Sample {
    const BYTES: u64 = 21_504;
    Sample {
        started_at: "2026-11-24T22:00:00.000000Z".into(),
        region: region.into(),
        target: target.into(),
        url: format!("https://{target}.example.test/video.mp4"),
        sample: 1,
        http_version: "HTTP/2".into(),
        status: Some(200),
        remote_addr: "192.0.2.10:443".into(),
        bytes: BYTES,
        dns_ms: Some(phases.dns),
        connect_ms: Some(phases.connect),
        tls_ms: phases.tls,
        ttfb_ms: Some(phases.ttfb),
        download_ms: Some(phases.download),
        total_ms: Some(phases.total()),
        throughput_mbps: Some(BYTES as f64 * 8.0 / 1000.0 / phases.download),
        cache: CacheStatus::Unknown,
        pop: String::new(),
        error: None,
        ..Sample::default()
    }
}

/// `sample` as a failed fetch of class `class`: no status, no body. Its times are kept, so a
/// test can give it times that no statistic may include.
pub fn failed(sample: Sample, class: ErrorClass) -> Sample {
    Sample {
        status: None,
        bytes: 0,
        throughput_mbps: None,
        error: Some(class),
        ..sample
    }
}

/// Writes a header and `samples` as `cdnprobe run` writes them.
pub fn write_csv<S: Borrow<Sample>>(
    out: impl Write,
    samples: impl IntoIterator<Item = S>,
) -> csv::Result<()> {
    let mut csv = csv::Writer::from_writer(out);
    for sample in samples {
        csv.serialize(sample.borrow())?;
    }
    csv.flush()?;
    Ok(())
}

/// `write_csv` into a new file at `path`.
pub fn write_csv_file<S: Borrow<Sample>>(
    path: &Path,
    samples: impl IntoIterator<Item = S>,
) -> std::io::Result<()> {
    let file = std::io::BufWriter::new(std::fs::File::create(path)?);
    write_csv(file, samples).map_err(std::io::Error::other)
}

/// The benchmark's input: `rows` samples cycling over two regions and two targets, an origin
/// (`s3`) about twice as slow as a CDN (`cloudfront`), log-normal times (σ = 0.3), 1 % failed
/// rows, mixed cache statuses.
pub fn write_benchmark_samples(out: impl Write, rows: u64, seed: u64) -> csv::Result<()> {
    let mut rng = Pcg64::seed_from_u64(seed);
    let series = [
        ("auckland", "s3", 2.0),
        ("auckland", "cloudfront", 1.0),
        ("sydney", "s3", 2.2),
        ("sydney", "cloudfront", 1.0),
    ];
    let samples = (0..rows).map(move |row| {
        let (region, target, slowness) = series[(row % 4) as usize];
        let mut time = |median: f64| log_normal(&mut rng, median * slowness, 0.3);
        let phases = Phases {
            tls: Some(time(70.0)),
            ..Phases::new(time(15.0), time(60.0), time(80.0), time(1100.0))
        };
        let mut sample = sample(region, target, phases);
        sample.sample = row / 4 + 1;
        if target == "cloudfront" {
            sample.pop = "AKL50-C1".into();
            sample.cache = if rng.random_range(0..10) == 0 {
                CacheStatus::Miss
            } else {
                CacheStatus::Hit
            };
        }
        if rng.random_ratio(1, 100) {
            sample = failed(sample, ErrorClass::Timeout);
            (sample.ttfb_ms, sample.download_ms, sample.total_ms) = (None, None, None);
        }
        sample
    });
    write_csv(out, samples)
}

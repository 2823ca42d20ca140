//! The exporter's load benchmark: N targets, each probed every second over loopback, scraped
//! every second, for a while; it measures the exporter process's CPU (from /proc/PID/stat),
//! its resident memory (VmRSS) over time, and how long each scrape of /metrics takes.
//!
//! `cargo bench --bench exporter_load -- --targets 100 --seconds 600 --out reports/bench/exporter`
//! (release build of `cdnprobe` itself; `--exporter PATH` to measure another binary).
//!
//! The targets are one fixture server (plain HTTP, 16 KiB bodies, its own thread) under 100
//! labels, so every probe is a full fresh connection, request and body. Writes `OUT.md` (the
//! figures and the verdict against CPU ≤ 20 % of a core, RSS ≤ 64 MiB and flat, scrape p99 ≤
//! 10 ms) and `OUT.csv` (one row per 10 s: elapsed, cpu %, rss MiB). Each scrape sends the
//! headers Prometheus sends (OpenMetrics preferred, `Accept-Encoding: gzip`); its latency is
//! request to last byte, and the time to decompress is reported beside it.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use cdnprobe::lab::fixture::{Behaviour, FixtureConfig, FixtureServer};

struct Options {
    exporter: PathBuf,
    targets: usize,
    seconds: u64,
    out: PathBuf,
}

fn parse(mut args: impl Iterator<Item = String>) -> anyhow::Result<Options> {
    let mut options = Options {
        exporter: PathBuf::from(env!("CARGO_BIN_EXE_cdnprobe")),
        targets: 100,
        seconds: 600,
        out: PathBuf::from("reports/bench/exporter"),
    };
    while let Some(flag) = args.next() {
        if flag == "--bench" {
            // Added by `cargo bench`.
            continue;
        }
        let value = args
            .next()
            .with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--exporter" => options.exporter = value.into(),
            "--targets" => options.targets = value.parse()?,
            "--seconds" => options.seconds = value.parse()?,
            "--out" => options.out = value.into(),
            _ => bail!("unknown argument {flag}"),
        }
    }
    Ok(options)
}

/// CPU seconds (user + system) the process has used, from /proc/PID/stat.
fn cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').context("malformed stat")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>()? + fields[12].parse::<f64>()?;
    // SAFETY: sysconf with a valid name has no preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    Ok(ticks / per_second)
}

fn rss_mib(pid: u32) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .context("no VmRSS")?;
    let kib: f64 = line
        .split_whitespace()
        .nth(1)
        .context("no value")?
        .parse()?;
    Ok(kib / 1024.0)
}

/// Prometheus's own scrape request: OpenMetrics preferred, gzip accepted.
const PROMETHEUS_ACCEPT: &str = "application/openmetrics-text;version=1.0.0,\
    application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

async fn scrape(client: &reqwest::Client, url: &str) -> anyhow::Result<bytes::Bytes> {
    let response = client
        .get(url)
        .header("accept", PROMETHEUS_ACCEPT)
        .header("accept-encoding", "gzip")
        .send()
        .await?
        .error_for_status()?;
    Ok(response.bytes().await?)
}

fn gunzip(body: &[u8]) -> anyhow::Result<Vec<u8>> {
    use std::io::Read;
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(body)
        .read_to_end(&mut text)
        .context("a gzip body")?;
    Ok(text)
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let options = parse(std::env::args().skip(1))?;
    let server = FixtureServer::start_on_own_runtime(
        "127.0.0.1:0".parse()?,
        FixtureConfig {
            behaviour: Behaviour {
                body_len: 16 * 1024,
                headers: vec![("X-Cache".into(), "Hit from lab".into())],
                ..Behaviour::default()
            },
            ..FixtureConfig::default()
        },
    )
    .await?;
    let dir = tempfile::tempdir()?;
    let config = dir.path().join("probe.toml");
    let mut toml = String::from("interval = \"1s\"\njitter = \"200ms\"\ntimeout = \"5s\"\n");
    for index in 0..options.targets {
        let role = if index % 2 == 0 {
            "baseline"
        } else {
            "candidate"
        };
        let url = server.url(&format!("/v{index}.mp4"));
        writeln!(
            toml,
            "[[target]]\nlabel = \"t{index:03}\"\nrole = \"{role}\"\nurl = \"{url}\""
        )?;
    }
    std::fs::write(&config, toml)?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut child = Command::new(&options.exporter)
        .args(["exporter", "--region", "bench", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("--config")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", options.exporter.display()))?;
    let pid = child.id();
    let client = reqwest::Client::builder().no_proxy().build()?;
    let metrics_url = format!("http://127.0.0.1:{port}/metrics");
    tokio::time::sleep(Duration::from_secs(2)).await;

    let started = Instant::now();
    let cpu_start = cpu_seconds(pid)?;
    let mut scrapes = Vec::new();
    let mut unzipped = Vec::new();
    let mut rows = vec![(0.0, 0.0, rss_mib(pid)?)];
    let mut last = (started, cpu_start);
    let mut scrape_bytes = 0;
    let mut text_bytes = 0;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    while started.elapsed() < Duration::from_secs(options.seconds) {
        tick.tick().await;
        let asked = Instant::now();
        let body = scrape(&client, &metrics_url).await?;
        scrapes.push(asked.elapsed().as_secs_f64() * 1e3);
        let text = gunzip(&body)?;
        unzipped.push(asked.elapsed().as_secs_f64() * 1e3);
        scrape_bytes = body.len();
        text_bytes = text.len();
        if last.0.elapsed() >= Duration::from_secs(10) {
            let cpu = cpu_seconds(pid)?;
            let percent = (cpu - last.1) / last.0.elapsed().as_secs_f64() * 100.0;
            rows.push((started.elapsed().as_secs_f64(), percent, rss_mib(pid)?));
            last = (Instant::now(), cpu);
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu_percent = (cpu_seconds(pid)? - cpu_start) / elapsed * 100.0;
    let (_, samples) = {
        let text = String::from_utf8(gunzip(&scrape(&client, &metrics_url).await?)?)?;
        let ok: f64 = text
            .lines()
            .filter(|l| l.starts_with("cdnprobe_samples_total{") && l.contains("result=\"ok\""))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum();
        (text, ok)
    };
    // SAFETY: kill(2) on our own child.
    unsafe {
        libc::kill(pid as libc::pid_t, libc::SIGTERM);
    }
    let _ = child.wait();

    scrapes.sort_by(f64::total_cmp);
    unzipped.sort_by(f64::total_cmp);
    let rss: Vec<f64> = rows.iter().map(|r| r.2).collect();
    let rss_max = rss.iter().cloned().fold(0.0, f64::max);
    // "Flat": the last minute's RSS against the RSS one minute in (after warm-up).
    let warm = rows.iter().find(|r| r.0 >= 60.0).map_or(rss[0], |r| r.2);
    let end = *rss.last().unwrap_or(&0.0);
    let p50 = quantile(&scrapes, 0.5);
    let p99 = quantile(&scrapes, 0.99);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();

    let mut md = String::new();
    writeln!(md, "# Exporter load benchmark\n")?;
    writeln!(
        md,
        "{} targets, each probed every second (16 KiB bodies, fresh connection each) over \
         loopback, /metrics scraped every second, for {elapsed:.0} s. {samples:.0} successful \
         probes counted ({:.1} per second). Load average at the end: {}.\n",
        options.targets,
        samples / elapsed,
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    )?;
    writeln!(
        md,
        "| figure | measured | target | met |\n|---|---|---|---|"
    )?;
    let met = |ok: bool| if ok { "yes" } else { "NO" };
    writeln!(
        md,
        "| CPU, exporter process | {cpu_percent:.1} % of one core | ≤ 20 % | {} |",
        met(cpu_percent <= 20.0)
    )?;
    writeln!(
        md,
        "| RSS, peak | {rss_max:.1} MiB | ≤ 64 MiB | {} |",
        met(rss_max <= 64.0)
    )?;
    writeln!(
        md,
        "| RSS, after 1 min → end | {warm:.1} → {end:.1} MiB | flat | {} |",
        met(end <= warm * 1.1 + 1.0)
    )?;
    writeln!(
        md,
        "| scrape of /metrics as Prometheus asks ({} KiB gzip of {} KiB), request to last byte, \
         p50 / p99 | {p50:.2} / {p99:.2} ms | p99 ≤ 10 ms | {} |",
        scrape_bytes / 1024,
        text_bytes / 1024,
        met(p99 <= 10.0)
    )?;
    writeln!(
        md,
        "| the same and decompressed by the scraper, p50 / p99 | {:.2} / {:.2} ms | | |",
        quantile(&unzipped, 0.5),
        quantile(&unzipped, 0.99)
    )?;
    writeln!(md, "\nPer 10 s: `{}.csv`.", options.out.display())?;
    let mut csv = String::from("elapsed_s,cpu_percent,rss_mib\n");
    for (at, cpu, rss) in &rows {
        writeln!(csv, "{at:.1},{cpu:.2},{rss:.2}")?;
    }
    if let Some(parent) = options.out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(options.out.with_extension("md"), &md)?;
    std::fs::write(options.out.with_extension("csv"), csv)?;
    print!("{md}");
    drop(server);
    Ok(())
}

//! `cdnprobe demo`: the whole pipeline offline, on emulated far-origin and near-edge paths.
//!
//! upload a real video to the real server → for each region, probe it through the lab's far
//! origin path and near edge path (`run`) → `report` → `check`, all in this process. Every task,
//! port and temporary file is gone when the command returns, also after Ctrl-C.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use clap::Parser as _;

use crate::cli::{Cli, Command};
use crate::lab::origin::OriginServer;
use crate::lab::region_lab::{EDGE_HOST, ORIGIN_HOST, RegionLab, RegionPaths};
use crate::lab::regions::{REGIONS, Region, TIME_SCALE};
use crate::lab::tls::TestCa;
use crate::report::charts::Chart;

/// The video the demo uploads: 4 s of H.264, shipped in the repository and built into the binary
/// so the demo runs from any directory.
const SAMPLE_VIDEO: &[u8] = include_bytes!("../assets/sample.mp4");

/// What the lab is and what it cannot shape, for the terminal and for report.md.
fn emulation_note(time_scale: f64) -> String {
    format!(
        "These samples come from `cdnprobe demo`, offline on one machine: the network paths are \
         emulated, not real. User-space relays add one-way latency and a downlink rate to a far \
         path (to the origin, labelled s3) and a near path (to a caching edge, labelled \
         cloudfront, whose misses cross the far path); an in-process DNS server delays its answers \
         per name; both hosts serve real TLS with a throwaway CA. The delays are the original \
         project's published Auckland and Sydney figures scaled 1:{:.0} (resolve → DNS delay, \
         connection → round trip, download → round trip + body at the link rate). Not shaped: the \
         TCP handshake with a loopback relay completes in the kernel before the relay sees it, so \
         `connect` is loopback time, reported as measured; the `connection` phase gets its round \
         trip from the TLS handshake.",
        1.0 / time_scale
    )
}

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Directory for the report (sample CSVs under `samples/`; report files in it are replaced).
    #[arg(long, value_name = "DIR", default_value = "reports/demo")]
    pub out: PathBuf,
    /// Samples per target and region; the default finishes in well under a minute. The check
    /// needs at least 10 (its --min-samples) to pass.
    #[arg(long, value_name = "N", default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..))]
    pub samples: u64,
}

pub async fn execute(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    println!("cdnprobe demo: the whole pipeline offline, on emulated network paths\n");
    let scenario = Scenario {
        out: args.out,
        samples: args.samples,
        regions: REGIONS.to_vec(),
        time_scale: TIME_SCALE,
        min_speedup: 1.5,
    };
    // Dropping the scenario's future stops every lab task and removes its temporary directory.
    let verdict = tokio::select! {
        biased;
        _ = tokio::signal::ctrl_c() => return Ok(interrupted()),
        // `run` has a Ctrl-C handler of its own, which can see the signal first: the signal may
        // arrive in the same poll after this select checked its own handler. Its interrupted
        // exit then reaches here as `Interrupted`, and the demo stops just the same.
        verdict = scenario.play() => match verdict {
            Err(error) if error.is::<Interrupted>() => return Ok(interrupted()),
            verdict => verdict?,
        },
    };
    println!(
        "\ndemo finished in {:.1} s (hosts {ORIGIN_HOST} and {EDGE_HOST} existed only in this process)",
        started.elapsed().as_secs_f64()
    );
    Ok(verdict)
}

/// A probe run stopped by Ctrl-C.
#[derive(Debug, thiserror::Error)]
#[error("interrupted")]
struct Interrupted;

/// Says the demo stopped (its lab and temporary files are gone once the scenario is dropped).
fn interrupted() -> ExitCode {
    eprintln!("\ncdnprobe demo: interrupted; the lab is stopped and its temporary files removed");
    ExitCode::from(crate::run::EXIT_INTERRUPTED)
}

/// What the lab runs: one probe run per region over that region's paths, then one report and
/// one check over all of them. The demo plays the published regions; tests play their own.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The report directory; sample CSVs go to `samples/` in it.
    pub out: PathBuf,
    pub samples: u64,
    /// The regions to emulate, each probed in turn.
    pub regions: Vec<Region>,
    /// Lab time ÷ published time.
    pub time_scale: f64,
    /// The check's `--min-speedup` on total p50.
    pub min_speedup: f64,
}

impl Scenario {
    /// Runs the pipeline and returns the check's exit code (success: the CDN passed).
    pub async fn play(&self) -> anyhow::Result<ExitCode> {
        let note = emulation_note(self.time_scale);
        println!("{}\n", textwrap(&note, 100));
        let samples_dir = self.probe_every_region().await?;
        let report = cli([
            "report",
            path_arg(&samples_dir)?,
            "--out",
            path_arg(&self.out)?,
            "--title",
            "cdnprobe demo: S3 vs CloudFront (emulated offline)",
            "--note",
            &note,
        ])?;
        let Command::Report(report) = report else {
            unreachable!()
        };
        crate::report::execute(report)?;
        print_comparison(&self.out.join("comparison.csv"))?;

        println!(
            "\nverdict (cdnprobe check --min-speedup {} on total p50):",
            self.min_speedup
        );
        let check = cli([
            "check",
            path_arg(&samples_dir)?,
            "--baseline",
            "s3",
            "--candidate",
            "cloudfront",
            "--min-speedup",
            &self.min_speedup.to_string(),
        ])?;
        let Command::Check(check) = check else {
            unreachable!()
        };
        let verdict = crate::check::execute(check)?;

        println!("\ncharts:");
        for chart in Chart::ALL {
            for extension in ["png", "svg"] {
                let file = format!("{}.{extension}", chart.name());
                println!("  {}", self.out.join(file).display());
            }
        }
        println!("report: {}", self.out.join("report.md").display());
        Ok(verdict)
    }

    /// Starts the origin, uploads the video, and probes it in every region; returns the
    /// directory of sample CSVs. The origin and every lab piece are stopped on return.
    async fn probe_every_region(&self) -> anyhow::Result<PathBuf> {
        let scratch = tempfile::Builder::new()
            .prefix("cdnprobe-demo-")
            .tempdir()
            .context("creating the demo's temporary directory")?;
        let ca = TestCa::new()?;
        let ca_pem = scratch.path().join("lab-ca.pem");
        ca.write_ca_pem(&ca_pem).context("writing the lab CA")?;

        let origin = OriginServer::start(&scratch.path().join("origin-data")).await?;
        let video = origin.upload("sample.mp4", SAMPLE_VIDEO).await?;
        println!(
            "origin: cdnprobe-server on http://{} (storage in a temporary directory)\n\
             uploaded sample.mp4 ({} bytes) → {}\n",
            origin.addr(),
            video.size,
            video.path
        );

        let samples_dir = self.out.join("samples");
        std::fs::create_dir_all(&samples_dir)
            .with_context(|| format!("creating {}", samples_dir.display()))?;
        for region in &self.regions {
            let paths = RegionPaths::of(region, self.time_scale, video.size);
            let lab = RegionLab::start(&ca, origin.addr(), paths).await?;
            describe(region.name, &paths);
            let csv = samples_dir.join(format!("{}.csv", region.name));
            remove_previous(&csv)?; // `run` appends: a previous demo's rows must not mix in
            let run = cli([
                "run",
                "--target",
                &format!("s3={}", lab.origin_url(&video.path)),
                "--target",
                &format!("cloudfront={}", lab.edge_url(&video.path)),
                "--resolver",
                &lab.resolver().to_string(),
                "--cacert",
                path_arg(&ca_pem)?,
                "--region",
                region.name,
                "--samples",
                &self.samples.to_string(),
                "--out",
                path_arg(&csv)?,
            ])?;
            let Command::Run(run) = run else {
                unreachable!()
            };
            let code = crate::run::execute(run).await?;
            let counts = lab.edge_counts();
            println!(
                "edge {}: {} miss(es) fetched over the far path, {} hit(s)\n",
                paths.edge_pop, counts.misses, counts.hits
            );
            lab.shutdown().await;
            if code == ExitCode::from(crate::run::EXIT_INTERRUPTED) {
                return Err(Interrupted.into());
            }
            anyhow::ensure!(
                code == ExitCode::SUCCESS,
                "probing {} failed; see {}",
                region.name,
                csv.display()
            );
        }
        origin.stop().await;
        Ok(samples_dir)
    }
}

/// Parses a subcommand exactly as a user would type it after `cdnprobe`.
fn cli<const N: usize>(argv: [&str; N]) -> anyhow::Result<Command> {
    let argv = std::iter::once("cdnprobe").chain(argv);
    Ok(Cli::try_parse_from(argv)
        .context("the demo built an invalid command line")?
        .command)
}

fn path_arg(path: &Path) -> anyhow::Result<&str> {
    path.to_str()
        .with_context(|| format!("{} is not UTF-8", path.display()))
}

fn remove_previous(csv: &Path) -> anyhow::Result<()> {
    match std::fs::remove_file(csv) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            Err(error).with_context(|| format!("removing the previous {}", csv.display()))
        }
        _ => Ok(()),
    }
}

fn describe(region: &str, paths: &RegionPaths) {
    println!(
        "{region}: probing s3 (far path) and cloudfront (near path, POP {})",
        paths.edge_pop
    );
    for (label, path) in [("s3", paths.origin), ("cloudfront", paths.edge)] {
        let rate = path.link.downlink.bytes_per_second.unwrap_or(f64::INFINITY);
        println!(
            "  {label:<10} DNS +{:.1} ms, round trip {:.1} ms, downlink {:.1} kB/s",
            path.dns_delay.as_secs_f64() * 1e3,
            path.link.rtt().as_secs_f64() * 1e3,
            rate / 1e3,
        );
    }
}

/// The report's comparison table, aligned for the terminal.
fn print_comparison(path: &Path) -> anyhow::Result<()> {
    let mut reader =
        csv::Reader::from_path(path).with_context(|| format!("reading {}", path.display()))?;
    let headers = reader.headers()?.clone();
    let column = |name: &str| headers.iter().position(|h| h == name);
    let wanted = [
        "region",
        "phase",
        "baseline_p50",
        "candidate_p50",
        "speedup",
        "speedup_low",
        "speedup_high",
    ];
    let indexes: Vec<usize> = wanted.iter().filter_map(|name| column(name)).collect();
    println!(
        "\np50 per phase, ms (s3 = baseline, cloudfront = candidate; speedup with its confidence interval):"
    );
    let mut rows = vec![
        indexes
            .iter()
            .map(|&i| headers[i].to_owned())
            .collect::<Vec<_>>(),
    ];
    for record in reader.records() {
        let record = record?;
        rows.push(
            indexes
                .iter()
                .map(|&i| record.get(i).unwrap_or("").to_owned())
                .collect(),
        );
    }
    let widths: Vec<usize> = (0..indexes.len())
        .map(|c| rows.iter().map(|row| row[c].len()).max().unwrap_or(0))
        .collect();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:>width$}"))
            .collect();
        println!("  {}", cells.join("  "));
    }
    Ok(())
}

/// Wraps prose at `width` columns for the terminal.
fn textwrap(text: &str, width: usize) -> String {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let line = lines.last_mut().expect("never empty");
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(word.to_owned());
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines.join("\n")
}

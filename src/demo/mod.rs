//! `cdnprobe demo`: the whole pipeline offline, on emulated far-origin and near-edge paths.
//!
//! upload a real video to the real server → for each region, probe it through the lab's far
//! origin path and near edge path (`run`) → `report` → `check`, all in this process. Every task,
//! port and temporary file is gone when the command returns, also after Ctrl-C.

mod client;
mod output;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use crate::cli::Command;
use crate::lab::choice::{AnyRegionLab, LAB_ENV, LabChoice, LabKind};
use crate::lab::origin::OriginServer;
use crate::lab::region_lab::{EDGE_HOST, ORIGIN_HOST};
use crate::lab::regions::{DEMO_TIME_SCALE, REGIONS, Region, TimeScale};
use crate::lab::tls::TestCa;
use crate::report::charts::Chart;
use crate::report::playback::{self, Playback};
use crate::report::playback_chart;
use anyhow::Context as _;
use client::path_arg;
pub use client::{Target, play, probe};
use output::{append_lab_section, emulation_note, print_comparison, textwrap};
pub use output::{total_speedups, total_speedups_from_summary};

/// The video the demo uploads: 20 s of H.264 at 1.6 Mbit/s, 3.99 MB, made by
/// `scripts/make-demo-video.sh` and built into the binary so the demo runs from any directory.
pub const DEMO_VIDEO: &[u8] = include_bytes!("../../assets/demo.mp4");

/// The label of the edge probed over HTTP/3, beside `cloudfront` (the same edge over h2).
pub const H3_TARGET: &str = "cloudfront-h3";

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Directory for the report (sample CSVs under `samples/`; report files in it are replaced).
    #[arg(long, value_name = "DIR", default_value = "reports/demo")]
    pub out: PathBuf,
    /// Samples per target and region; the default finishes in well under a minute. The check
    /// needs at least 10 (its --min-samples) to pass.
    #[arg(long, value_name = "N", default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..))]
    pub samples: u64,
    /// Playback sessions (`cdnprobe play`) per target and region, after the samples; 0 plays
    /// none. Each lasts about 10 s of media ÷ the time scale. Two by default, so the demo's three
    /// targets stay within a minute.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub sessions: u64,
    /// Which lab: `netns` (network namespaces and a packet delay line: real kernel TCP; needs
    /// root or CAP_NET_ADMIN), `relay` (user-space relays on loopback, no privileges), or `auto`
    /// (namespaces when this process may make them, else relays, and it says so).
    #[arg(long, value_enum, env = LAB_ENV, default_value = "auto")]
    pub lab: LabChoice,
    /// Time scale k: every delay ÷ k, every rate × k, so the lab runs k times faster than the
    /// paths it emulates.
    #[arg(long, value_name = "K", default_value_t = DEMO_TIME_SCALE.k())]
    pub time_scale: f64,
}

pub async fn execute(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    if !(args.time_scale.is_finite() && args.time_scale >= 1.0) {
        return Err(crate::usage_error!(
            "--time-scale must be a number ≥ 1, got {}",
            args.time_scale
        ));
    }
    let lab = LabKind::resolve(args.lab).map_err(|error| crate::usage_error!("{error}"))?;
    println!("cdnprobe demo: the whole pipeline offline, on emulated network paths");
    println!("{}\n", lab.headline());
    let scenario = Scenario {
        out: args.out,
        samples: args.samples,
        sessions: args.sessions,
        regions: REGIONS.to_vec(),
        time_scale: TimeScale(args.time_scale),
        min_speedup: 1.5,
        lab,
        video: DEMO_VIDEO,
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
    /// Playback sessions per target and region (0: none).
    pub sessions: u64,
    /// The regions to emulate, each probed in turn.
    pub regions: Vec<Region>,
    pub time_scale: TimeScale,
    /// The check's `--min-speedup` on total p50.
    pub min_speedup: f64,
    /// The lab every region runs on.
    pub lab: LabKind,
    /// The video uploaded to the origin and probed.
    pub video: &'static [u8],
}

impl Scenario {
    /// Runs the pipeline and returns the check's exit code (success: the CDN passed).
    pub async fn play(&self) -> anyhow::Result<ExitCode> {
        let note = emulation_note(&self.lab, self.time_scale, self.sessions > 0);
        println!("{}\n", textwrap(&note, 100));
        println!(
            "inputs (physics only; time scale k = {}: delays ÷ k, rates × k):\n{}",
            self.time_scale.k(),
            output::inputs_table(&self.regions)
        );
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
        let comparison = self.out.join("comparison.csv");
        print_comparison(&comparison)?;
        let speedups = total_speedups(&comparison)?;
        let h3_speedups =
            total_speedups_from_summary(&self.out.join("summary.csv"), "s3", H3_TARGET)?;
        println!(
            "\ncloudfront's total-time speedup here against the original's (inputs not tuned), \
             and {H3_TARGET}'s:\n{}",
            output::outcome_table(&speedups, &h3_speedups)
        );
        if self.sessions > 0 {
            let playback = Playback::read(std::slice::from_ref(&samples_dir))?;
            println!(
                "\nplayback (cdnprobe play at {}×; times in lab time, like every duration here):\n\n{}",
                self.time_scale.k(),
                playback::section(&playback, Some(("s3", "cloudfront")))
            );
        }
        append_lab_section(
            &self.out.join("report.md"),
            &self.lab,
            self.time_scale,
            &self.regions,
            &speedups,
            &h3_speedups,
        )?;

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
        let mut charts: Vec<&str> = Chart::ALL.iter().map(|chart| chart.name()).collect();
        if self.sessions > 0 {
            charts.push(playback_chart::NAME);
        }
        for chart in charts {
            for extension in ["png", "svg"] {
                let file = format!("{chart}.{extension}");
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
        let video = origin.upload("demo.mp4", self.video).await?;
        println!(
            "origin: cdnprobe-server on http://{} (storage in a temporary directory)\n\
             uploaded demo.mp4 ({} bytes) → {}\n",
            origin.addr(),
            video.size,
            video.path
        );

        let samples_dir = self.out.join("samples");
        std::fs::create_dir_all(&samples_dir)
            .with_context(|| format!("creating {}", samples_dir.display()))?;
        for region in &self.regions {
            let lab =
                AnyRegionLab::start(&self.lab, &ca, origin.addr(), region, self.time_scale).await?;
            println!(
                "{}: probing s3 (origin, HTTP/1.1), cloudfront (edge, POP {}, h2) and {H3_TARGET} \
                 (the same edge over h3)\n  {}",
                region.name,
                region.edge_pop,
                lab.hosts()
            );
            let targets = [
                Target {
                    label: "s3",
                    url: lab.origin_url(&video.path),
                    http3: false,
                },
                Target {
                    label: "cloudfront",
                    url: lab.edge_url(&video.path),
                    http3: false,
                },
                Target {
                    label: H3_TARGET,
                    url: lab.edge_url(&video.path),
                    http3: true,
                },
            ];
            let code = self
                .measure(&lab, region, &targets, &ca_pem, &samples_dir)
                .await?;
            let counts = lab.edge_counts();
            println!(
                "edge {}: {} miss(es) fetched from the origin, {} hit(s)",
                region.edge_pop, counts.misses, counts.hits
            );
            if let Some(router) = lab.shutdown().await {
                let (lost, dropped) = router
                    .links
                    .iter()
                    .fold((0, 0), |(l, d), (_, c)| (l + c.lost, d + c.dropped));
                println!(
                    "delay line: {lost} packet(s) lost (seeded), {dropped} dropped by a full queue\n"
                );
            } else {
                println!();
            }
            if code == ExitCode::from(crate::run::EXIT_INTERRUPTED) {
                return Err(Interrupted.into());
            }
            anyhow::ensure!(
                code == ExitCode::SUCCESS,
                "measuring {} failed; see the CSVs in {}",
                region.name,
                samples_dir.display()
            );
        }
        origin.stop().await;
        Ok(samples_dir)
    }

    /// One region's measurements on its running lab: the download samples (`run`), then the
    /// playback sessions (`play`) unless the samples did not finish. Returns the first exit code
    /// that is not success.
    async fn measure(
        &self,
        lab: &AnyRegionLab,
        region: &Region,
        targets: &[Target],
        ca_pem: &Path,
        samples_dir: &Path,
    ) -> anyhow::Result<ExitCode> {
        let csv = samples_dir.join(format!("{}.csv", region.name));
        let playback_csv = samples_dir.join(format!("{}-playback.csv", region.name));
        // `run` and `play` append: a previous demo's rows must not mix in.
        remove_previous(&csv)?;
        remove_previous(&playback_csv)?;
        let code = probe(lab, region.name, targets, self.samples, ca_pem, &csv).await?;
        if code != ExitCode::SUCCESS || self.sessions == 0 {
            return Ok(code);
        }
        println!(
            "{}: playing the video over s3 (HTTP/1.1), cloudfront (h2) and {H3_TARGET} (h3), {} \
             session(s) each, at {}× (--playback-rate, the time scale)",
            region.name,
            self.sessions,
            self.time_scale.k()
        );
        let (sessions, scale) = (self.sessions, self.time_scale);
        play(
            lab,
            region.name,
            targets,
            sessions,
            scale,
            ca_pem,
            &playback_csv,
        )
        .await
    }
}

/// Parses a subcommand exactly as a user would type it after `cdnprobe`.
fn cli<const N: usize>(argv: [&str; N]) -> anyhow::Result<Command> {
    client::parse(
        std::iter::once("cdnprobe")
            .chain(argv)
            .map(str::to_owned)
            .collect(),
    )
}

fn remove_previous(csv: &Path) -> anyhow::Result<()> {
    match std::fs::remove_file(csv) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            Err(error).with_context(|| format!("removing the previous {}", csv.display()))
        }
        _ => Ok(()),
    }
}

//! The commands the demo runs on the lab's client, built as a user would type them: `cdnprobe
//! run` for the download samples and `cdnprobe play` for the playback sessions, so the demo
//! measures with exactly the code a user's own runs use.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser as _;

use crate::cli::{Cli, Command};
use crate::lab::choice::AnyRegionLab;
use crate::lab::regions::TimeScale;

/// One target the demo measures: its label, its URL and whether it is fetched over HTTP/3
/// (`--http3-target LABEL`; the others take what ALPN agrees).
#[derive(Debug, Clone)]
pub struct Target {
    pub label: &'static str,
    pub url: String,
    pub http3: bool,
}

/// Probes `targets` through `lab` with `cdnprobe run`, interleaved, `samples` each,
/// appending rows to `csv`; the probe runs where the lab's client is.
pub async fn probe(
    lab: &AnyRegionLab,
    region: &str,
    targets: &[Target],
    samples: u64,
    ca_pem: &Path,
    csv: &Path,
) -> anyhow::Result<ExitCode> {
    let argv = client_argv("run", lab, region, targets, samples, ca_pem, csv)?;
    let Command::Run(run) = parse(argv)? else {
        unreachable!("the first word is `run`")
    };
    lab.on_client(move || crate::run::execute(run)).await
}

/// Plays `targets` through `lab` with `cdnprobe play`, `sessions` each, appending one row per
/// session to `csv`. The media plays `k` times faster than real time (`--playback-rate k`), as
/// every delay of the lab is `k` times shorter, so a stall means what it would mean at 1×.
pub async fn play(
    lab: &AnyRegionLab,
    region: &str,
    targets: &[Target],
    sessions: u64,
    scale: TimeScale,
    ca_pem: &Path,
    csv: &Path,
) -> anyhow::Result<ExitCode> {
    let mut argv = client_argv("play", lab, region, targets, sessions, ca_pem, csv)?;
    argv.extend(["--playback-rate".into(), scale.k().to_string()]);
    let Command::Play(play) = parse(argv)? else {
        unreachable!("the first word is `play`")
    };
    lab.on_client(move || crate::play::command::execute(play))
        .await
}

/// `cdnprobe COMMAND` over the lab's targets with its resolver and CA, `count` rounds, rows
/// appended to `csv`.
fn client_argv(
    command: &str,
    lab: &AnyRegionLab,
    region: &str,
    targets: &[Target],
    count: u64,
    ca_pem: &Path,
    csv: &Path,
) -> anyhow::Result<Vec<String>> {
    let mut argv: Vec<String> = vec!["cdnprobe".into(), command.into()];
    for target in targets {
        argv.extend([
            "--target".into(),
            format!("{}={}", target.label, target.url),
        ]);
    }
    for target in targets.iter().filter(|target| target.http3) {
        argv.extend(["--http3-target".into(), target.label.to_owned()]);
    }
    let resolver = lab.resolver().to_string();
    let count = count.to_string();
    let options = [
        ("--resolver", resolver.as_str()),
        ("--cacert", path_arg(ca_pem)?),
        ("--region", region),
        ("--samples", count.as_str()),
        ("--out", path_arg(csv)?),
    ];
    for (name, value) in options {
        argv.extend([name.to_owned(), value.to_owned()]);
    }
    Ok(argv)
}

pub(super) fn parse(argv: Vec<String>) -> anyhow::Result<Command> {
    Ok(Cli::try_parse_from(argv)
        .context("the demo built an invalid command line")?
        .command)
}

pub fn path_arg(path: &Path) -> anyhow::Result<&str> {
    path.to_str()
        .with_context(|| format!("{} is not UTF-8", path.display()))
}

//! `cdnprobe play`: playback sessions of every target, round-robin (A B A B …) like `run`, on
//! the same targets, config file, schedule, output and Ctrl-C handling ([`crate::schedule`]):
//! one playback row per session, and with `--requests` one row per HTTP request.

use std::process::ExitCode;

use http::HeaderMap;

use super::options::{AFTER_HELP, PlayOptions};
use super::session;
use super::summary::{SessionTally, print_tallies};
use crate::error::UsageError;
use crate::schedule::output::progress_bar;
use crate::schedule::rounds::{each_slot, run_to_end};
use crate::schedule::summary::exit_status;
use crate::schedule::{ConfigFile, Plan, ProbeArgs};
use crate::sink::Sink;
use crate::store;

/// Arguments of `cdnprobe play`.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct PlayArgs {
    #[command(flatten)]
    pub probe: ProbeArgs,
    #[command(flatten)]
    pub play: PlayOptions,
}

impl PlayArgs {
    /// Checks every argument (and reads `--config` and `--cacert`) without touching any file.
    pub fn plan(&self) -> Result<(Plan, session::SessionSettings), UsageError> {
        let config = ConfigFile::load(self.probe.config.as_deref())?;
        let plan = Plan::new(&self.probe, &config, HeaderMap::new())?;
        // Every session is a first-time viewer reading whole responses as a player needs them.
        if plan.reuse {
            return Err(UsageError::new(
                "--reuse does not apply to play: every session is a first-time viewer",
            ));
        }
        if plan.prober.max_bytes.is_some() {
            return Err(UsageError::new(
                "--max-bytes does not apply to play: the player decides what to read",
            ));
        }
        let settings = self.play.session_settings()?;
        if let Some(path) = self.play.requests.as_deref().filter(|p| p.is_dir()) {
            return Err(UsageError::new(format!(
                "--requests {}: is a directory",
                path.display()
            )));
        }
        Ok((plan, settings))
    }
}

pub async fn execute(args: PlayArgs) -> anyhow::Result<ExitCode> {
    let (plan, settings) = args.plan()?;
    if let Some(warning) = &plan.dns_warning {
        eprintln!("{warning}");
    }
    let sink = &args.probe.sink;
    let mut output = Sink::open(plan.out.as_deref(), "playback", sink)?;
    let mut requests = match &args.play.requests {
        Some(path) => {
            // --format is for --out; a local --requests file's format is its own extension.
            let mut own = sink.clone();
            if !path.to_str().is_some_and(store::is_url) {
                own.format = None;
            }
            Some(Sink::open(Some(path), "requests", &own)?)
        }
        None => None,
    };
    let mut tallies: Vec<SessionTally> = plan
        .targets
        .iter()
        .map(|t| SessionTally::new(&t.label))
        .collect();
    let progress = progress_bar(plan.total_slots(), "sessions");

    let schedule = each_slot(&plan, async |slot| {
        let outcome = session::play(
            plan.prober_for(slot.index),
            &slot.target.headers,
            &settings,
            &slot.url,
        )
        .await;
        progress.inc(1);
        let Some(number) = slot.sample else {
            return Ok(());
        };
        let mut row = outcome.row;
        row.region = plan.region.clone();
        row.target = slot.target.label.clone();
        row.session = number;
        if let Some(requests) = requests.as_mut() {
            for (mut sample, object) in outcome.requests {
                sample.region = plan.region.clone();
                sample.target = slot.target.label.clone();
                sample.sample = number;
                requests.write(&(sample, number, object))?;
            }
        }
        output.write(&row)?;
        tallies[slot.index].record(&row);
        Ok(())
    });
    let finished = run_to_end(schedule).await?;
    progress.finish_and_clear();
    print_tallies(&tallies, &plan);
    // Both are closed (and stored) whatever the other's fate; either not stored → exit 3.
    let requests_stored = match requests {
        Some(requests) => requests.close().await?,
        None => None,
    };
    if let Some(not_stored) = output.close().await?.or(requests_stored) {
        return Ok(not_stored);
    }
    Ok(exit_status(
        finished,
        tallies
            .iter()
            .map(|t| (t.label.as_str(), t.sessions, t.succeeded)),
    ))
}

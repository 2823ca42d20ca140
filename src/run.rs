//! `cdnprobe run`: check the arguments, then probe every target round-robin (A B A B …),
//! writing each row the moment its sample ends, and finish with a table per target. The shared
//! pieces (targets, config file, rounds, output, table) live in [`crate::schedule`].

use std::process::ExitCode;

use anyhow::Context as _;
use http::HeaderMap;

use crate::error::UsageError;
use crate::probe::Connection;
use crate::schedule::output::progress_bar;
use crate::schedule::rounds::{each_slot, run_to_end};
use crate::schedule::summary::{TargetSummary, exit_status, print_summary};
use crate::schedule::targets::range_header;
use crate::schedule::{ConfigFile, Plan, ProbeArgs};
use crate::sink::Sink;

pub use crate::schedule::EXIT_INTERRUPTED;
pub use crate::schedule::rounds::CACHE_BUST_PARAM;

/// Arguments of `cdnprobe run`.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(after_help = "\
Each row: started_at, region, target, url (secrets redacted), sample, http_version, status,
remote_addr, bytes, dns_ms, connect_ms, tls_ms, ttfb_ms, download_ms, total_ms,
throughput_mbps (megabits/s over download_ms), cache, pop, error, then what the connection
was: tls_version, tls_cipher, alpn, cert_expires_at, alt_svc_h3, rtt_ms, retransmits.

Exit status: 0 the run finished; 1 every sample of some target failed; 2 bad arguments or
input files (nothing written); 3 the rows could not be written to the store (they are kept in
the spool; the command that writes them later is printed); 130 interrupted (every finished row
is kept, and written to the store).")]
pub struct RunArgs {
    #[command(flatten)]
    pub probe: ProbeArgs,
    /// Ask for bytes FIRST-LAST of the body (a Range header).
    #[arg(long, value_name = "FIRST-LAST")]
    pub range: Option<String>,
}

impl RunArgs {
    /// Checks every argument (and reads `--config` and `--cacert`) without touching `--out`.
    pub fn plan(&self) -> Result<Plan, UsageError> {
        let config = ConfigFile::load(self.probe.config.as_deref())?;
        let mut headers = HeaderMap::new();
        if let Some(range) = &self.range {
            headers.insert(http::header::RANGE, range_header(range)?);
        }
        Plan::new(&self.probe, &config, headers)
    }
}

pub async fn execute(args: RunArgs) -> anyhow::Result<ExitCode> {
    let plan = args.plan()?;
    if let Some(warning) = &plan.dns_warning {
        eprintln!("{warning}");
    }
    let mut output = Sink::open(plan.out.as_deref(), "samples", &args.probe.sink)?;
    let mut totals: Vec<TargetSummary> = plan
        .targets
        .iter()
        .map(|t| TargetSummary::new(&t.label))
        .collect();
    let mut kept: Vec<Option<Connection>> = plan.targets.iter().map(|_| None).collect();
    let progress = progress_bar(plan.total_slots(), "samples");

    let schedule = each_slot(&plan, async |slot| {
        let reuse_slot = &mut kept[slot.index];
        let mut sample = plan
            .prober_for(slot.index)
            .fetch(&slot.url, &slot.target.headers, reuse_slot)
            .await;
        if !plan.reuse {
            *reuse_slot = None;
        }
        progress.inc(1);
        let Some(number) = slot.sample else {
            return Ok(());
        };
        sample.region = plan.region.clone();
        sample.target = slot.target.label.clone();
        sample.sample = number;
        output.write(&sample).context("writing a row")?;
        totals[slot.index].record(&sample);
        Ok(())
    });
    let finished = run_to_end(schedule).await?;
    progress.finish_and_clear();
    print_summary(&totals, &plan);
    if let Some(not_stored) = output.close().await? {
        return Ok(not_stored);
    }
    Ok(exit_status(
        finished,
        totals
            .iter()
            .map(|t| (t.label.as_str(), t.attempts, t.successes)),
    ))
}

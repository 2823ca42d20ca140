//! `cdnprobe exporter`'s arguments and its validated plan: the shared probing [`Plan`] (targets,
//! prober, region, `--out`) plus what only the exporter has: each target's role, interval and
//! jitter, the concurrency bound and the listening address. Bad input stops here (exit 2).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderMap;
use tokio::time::Instant;

use super::cadence::Cadence;
use super::metrics::TargetLabels;
use super::scheduler::Scheduled;
use crate::error::UsageError;
use crate::play::hls::VariantChoice;
use crate::play::model::ModelSettings;
use crate::play::mp4::DEFAULT_MAX_MOOV_BYTES;
use crate::play::session::{SeekTo, SessionSettings};
use crate::probe::Prober;
use crate::schedule::config::{ConfigTarget, HumanDuration, Role};
use crate::schedule::{ConfigFile, Plan, ProbeArgs, Target};

const DEFAULT_INTERVAL: Duration = Duration::from_secs(15);
/// Shorter than `run`'s 30 s: a probe stuck that long would hold a slot for two intervals.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_CONCURRENCY: usize = 8;

/// Arguments of `cdnprobe exporter`.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = "\
Probes every target every --interval (per target in the config: `interval`, `jitter`, `role`),
and serves /metrics (OpenMetrics), /probe?target=LABEL (one probe, blackbox exporter names;
only labels from the config) and /healthz. --samples and --warmup do not apply.

Exit status: 0 stopped by SIGTERM or Ctrl-C; 2 bad arguments or config (nothing started); 3 the
rows of --out could not be written to the store (kept in the spool; the push command is printed).")]
pub struct ExporterArgs {
    #[command(flatten)]
    pub probe: ProbeArgs,
    /// Where /metrics, /probe and /healthz listen. Beyond loopback the endpoints have no TLS or
    /// authentication of their own (a warning says so): put a reverse proxy in front.
    #[arg(long, default_value = "127.0.0.1:9516", value_name = "ADDR:PORT")]
    pub listen: SocketAddr,
    /// Each scheduled probe starts up to this much after its slot, at random [default: a tenth
    /// of the interval].
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub jitter: Option<Duration>,
    /// Probes running at once, at most [default: 8].
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// With --out to an object store: one object per this much time, starting on the hour (UTC).
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration, default_value = "1h")]
    pub out_every: Duration,
}

/// When and as what one target is probed.
#[derive(Debug, Clone)]
pub struct TargetSchedule {
    pub role: Role,
    /// Zero: never scheduled, only `/probe`.
    pub interval: Duration,
    pub jitter: Duration,
    /// Scheduled probes of this target are playback sessions with these settings.
    pub playback: Option<SessionSettings>,
}

pub struct ExporterPlan {
    pub targets: Vec<Target>,
    pub schedules: Vec<TargetSchedule>,
    pub prober: Prober,
    pub region: String,
    pub out: Option<std::path::PathBuf>,
    /// One object per this much time (`--out` to a store).
    pub out_every: Duration,
    pub listen: SocketAddr,
    pub concurrency: usize,
    pub dns_warning: Option<String>,
    /// Indices of the targets with an interval.
    pub scheduled: Vec<usize>,
}

impl ExporterPlan {
    pub fn from_args(args: ExporterArgs) -> Result<Self, UsageError> {
        if args.probe.samples.is_some() || args.probe.warmup.is_some() {
            return Err(UsageError::new(
                "--samples and --warmup are for run: the exporter probes until stopped",
            ));
        }
        if args.probe.reuse || args.probe.cache_bust {
            return Err(UsageError::new(
                "--reuse and --cache-bust are not supported by the exporter",
            ));
        }
        let config = ConfigFile::load(args.probe.config.as_deref())?;
        let mut probe_args = args.probe.clone();
        if probe_args.timeout.is_none() && config.timeout.is_none() {
            probe_args.timeout = Some(DEFAULT_TIMEOUT);
        }
        let plan = Plan::new(&probe_args, &config, HeaderMap::new())?;
        let interval = args
            .probe
            .interval
            .or(config.interval.map(|i| i.0))
            .unwrap_or(DEFAULT_INTERVAL);
        let jitter = args.jitter.or(config.jitter.map(|j| j.0));
        let schedules = plan
            .targets
            .iter()
            .map(|target| {
                // A command-line target that replaced the config's of the same label keeps its
                // role and schedule.
                let entry = config
                    .target
                    .iter()
                    .find(|e| e.label.trim() == target.label);
                let mut schedule = schedule(
                    &target.label,
                    entry.map_or(Role::None, |e| e.role),
                    entry.and_then(|e| e.interval).map_or(interval, |i| i.0),
                    entry
                        .and_then(|e| e.jitter)
                        .map(|j: HumanDuration| j.0)
                        .or(jitter),
                )?;
                if let Some(entry) = entry.filter(|e| e.play) {
                    schedule.playback = Some(playback_settings(&target.label, entry)?);
                }
                Ok(schedule)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let concurrency = args
            .concurrency
            .or(config.concurrency)
            .unwrap_or(DEFAULT_CONCURRENCY);
        if concurrency == 0 {
            return Err(UsageError::new("concurrency must be at least 1"));
        }
        if args.out_every < Duration::from_secs(1) {
            return Err(UsageError::new("--out-every must be at least 1s"));
        }
        let scheduled = (0..schedules.len())
            .filter(|&i| !schedules[i].interval.is_zero())
            .collect();
        Ok(Self {
            targets: plan.targets,
            schedules,
            prober: plan.prober,
            region: plan.region,
            out: plan.out,
            out_every: args.out_every,
            listen: args.listen,
            concurrency,
            dns_warning: plan.dns_warning,
            scheduled,
        })
    }

    /// The labels of each target's series, in target order.
    pub fn metric_labels(&self) -> Vec<TargetLabels> {
        self.targets
            .iter()
            .zip(&self.schedules)
            .map(|(target, schedule)| TargetLabels {
                target: Arc::new(target.label.clone()),
                role: schedule.role,
            })
            .collect()
    }

    /// Indices of the targets that run playback sessions.
    pub fn playback_targets(&self) -> Vec<usize> {
        (0..self.schedules.len())
            .filter(|&i| self.schedules[i].playback.is_some())
            .collect()
    }

    /// Each scheduled target's cadence from `first`: targets that share an interval are spread
    /// evenly across it, in config order.
    pub fn cadences(&self, first: Instant) -> Vec<Scheduled> {
        let mut groups: BTreeMap<Duration, Vec<usize>> = BTreeMap::new();
        for &index in &self.scheduled {
            groups
                .entry(self.schedules[index].interval)
                .or_default()
                .push(index);
        }
        let mut cadences = Vec::new();
        for (interval, members) in groups {
            for (position, &index) in members.iter().enumerate() {
                let jitter = self.schedules[index].jitter;
                let cadence = Cadence::new(first, interval, jitter, position, members.len());
                let playback = self.schedules[index].playback.clone();
                cadences.push(Scheduled {
                    index,
                    cadence,
                    playback,
                });
            }
        }
        cadences
    }
}

fn schedule(
    label: &str,
    role: Role,
    interval: Duration,
    jitter: Option<Duration>,
) -> Result<TargetSchedule, UsageError> {
    // A tenth of the interval spreads many exporters' probes without blurring the schedule.
    let jitter = jitter.unwrap_or(interval / 10);
    if jitter > interval {
        return Err(UsageError::new(format!(
            "target {label}: jitter {} is longer than its interval {}",
            humantime::format_duration(jitter),
            humantime::format_duration(interval)
        )));
    }
    Ok(TargetSchedule {
        role,
        interval,
        jitter,
        playback: None,
    })
}

/// `cdnprobe play`'s default session, with the target's `seek`.
fn playback_settings(label: &str, entry: &ConfigTarget) -> Result<SessionSettings, UsageError> {
    let seek = match &entry.seek {
        Some(text) => Some(
            text.parse::<SeekTo>()
                .map_err(|e| UsageError::new(format!("target {label}: seek {e}")))?,
        ),
        None => None,
    };
    let mut model = ModelSettings::default();
    if let Some(watch) = entry.watch {
        if watch.0.is_zero() {
            return Err(UsageError::new(format!(
                "target {label}: watch must be more than zero"
            )));
        }
        model.watch_s = watch.0.as_secs_f64();
    }
    Ok(SessionSettings {
        model,
        variant: VariantChoice::default(),
        seek,
        max_moov_bytes: DEFAULT_MAX_MOOV_BYTES,
    })
}

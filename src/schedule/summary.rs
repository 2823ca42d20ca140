//! The end-of-run table per target (phase percentiles over successful samples) and the exit
//! status of a probing command.

use std::process::ExitCode;

use super::EXIT_INTERRUPTED;
use super::plan::Plan;
use super::targets::Target;
use crate::report::connection::ConnectionStats;
use crate::sample::{CacheStatus, Sample};
use crate::stats::{MsHistogram, Phase};

/// The exit status once the schedule ended: 130 when interrupted (`finished` false), 1 when
/// every attempt of some target failed (`(label, attempts, successes)` per target), else 0.
pub fn exit_status<'a>(
    finished: bool,
    targets: impl IntoIterator<Item = (&'a str, u64, u64)>,
) -> ExitCode {
    if !finished {
        eprintln!("cdnprobe: interrupted; every finished row is written");
        return ExitCode::from(EXIT_INTERRUPTED);
    }
    let all_failed: Vec<&str> = targets
        .into_iter()
        .filter(|&(_, attempts, successes)| attempts > 0 && successes == 0)
        .map(|(label, _, _)| label)
        .collect();
    if all_failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "cdnprobe: every sample failed for {}",
            all_failed.join(", ")
        );
        ExitCode::FAILURE
    }
}

/// What the end-of-run table shows for one target. Phase percentiles are over successful
/// samples only: a failed sample's phases describe a different event.
pub struct TargetSummary {
    pub label: String,
    pub attempts: u64,
    pub successes: u64,
    cache_hits: u64,
    phases: Vec<(Phase, MsHistogram)>,
    connection: ConnectionStats,
}

impl TargetSummary {
    pub fn new(label: &str) -> Self {
        Self {
            label: label.to_string(),
            attempts: 0,
            successes: 0,
            cache_hits: 0,
            phases: Phase::MEASURED
                .iter()
                .map(|&p| (p, MsHistogram::default()))
                .collect(),
            connection: ConnectionStats::default(),
        }
    }

    pub fn record(&mut self, sample: &Sample) {
        self.attempts += 1;
        self.connection.record(sample);
        if !sample.succeeded() {
            return;
        }
        self.successes += 1;
        if sample.cache == CacheStatus::Hit {
            self.cache_hits += 1;
        }
        for (phase, histogram) in &mut self.phases {
            if let Some(ms) = phase.of(sample) {
                histogram.record(ms);
            }
        }
    }
}

pub fn print_summary(totals: &[TargetSummary], plan: &Plan) {
    let mut text = String::new();
    for (summary, target) in totals.iter().zip(&plan.targets) {
        text.push_str(&summary_table(summary, target));
    }
    eprint!("{text}");
}

fn summary_table(summary: &TargetSummary, target: &Target) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n{} ({}): {}/{} succeeded, {} cache hits",
        summary.label,
        crate::probe::redact::redact_url(&target.url),
        summary.successes,
        summary.attempts,
        summary.cache_hits
    );
    let _ = writeln!(
        out,
        "  {:<10} {:>10} {:>10} {:>10}   (successful samples)",
        "phase", "p50 ms", "p90 ms", "p99 ms"
    );
    for (phase, histogram) in &summary.phases {
        let cell = |q: f64| {
            if histogram.is_empty() {
                "-".to_string()
            } else {
                format!("{:.3}", histogram.quantile(q))
            }
        };
        let _ = writeln!(
            out,
            "  {:<10} {:>10} {:>10} {:>10}",
            phase.name(),
            cell(0.50),
            cell(0.90),
            cell(0.99)
        );
    }
    let facts = &summary.connection;
    let _ = writeln!(
        out,
        "  connection: TLS {}; ALPN {}; rtt p50 {} ms; retransmits per sample {}",
        facts.tls_versions.describe(),
        facts.alpn.describe(),
        facts
            .rtt_p50()
            .map_or("-".into(), |rtt| format!("{rtt:.3}")),
        facts
            .retransmits_per_sample()
            .map_or("-".into(), |r| format!("{r:.2}")),
    );
    out
}

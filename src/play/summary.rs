//! The end-of-play table per target: sessions, startup percentiles, stalls and rebuffering.

use super::record::PlaybackRow;
use crate::probe::redact::redact_url;
use crate::schedule::Plan;
use crate::stats::MsHistogram;

/// What the table shows for one target (startup over successful sessions).
pub struct SessionTally {
    pub label: String,
    pub sessions: u64,
    pub succeeded: u64,
    startup: MsHistogram,
    stalls: u64,
    stall_ms: f64,
    watched_ms: f64,
}

impl SessionTally {
    pub fn new(label: &str) -> Self {
        Self {
            label: label.to_string(),
            sessions: 0,
            succeeded: 0,
            startup: MsHistogram::default(),
            stalls: 0,
            stall_ms: 0.0,
            watched_ms: 0.0,
        }
    }

    pub fn record(&mut self, row: &PlaybackRow) {
        self.sessions += 1;
        if !row.succeeded() {
            return;
        }
        self.succeeded += 1;
        if let Some(startup) = row.startup_ms {
            self.startup.record(startup);
        }
        self.stalls += u64::from(row.stalls);
        self.stall_ms += row.stall_ms.unwrap_or(0.0);
        self.watched_ms += row.watched_s.unwrap_or(0.0) * 1e3;
    }
}

pub fn print_tallies(tallies: &[SessionTally], plan: &Plan) {
    use std::fmt::Write as _;
    let mut out = String::new();
    for (tally, target) in tallies.iter().zip(&plan.targets) {
        let cell = |q: f64| {
            if tally.startup.is_empty() {
                "-".to_string()
            } else {
                format!("{:.0}", tally.startup.quantile(q))
            }
        };
        let per_session = if tally.succeeded > 0 {
            format!("{:.2}", tally.stalls as f64 / tally.succeeded as f64)
        } else {
            "-".to_string()
        };
        let total = tally.watched_ms + tally.stall_ms;
        let ratio = if total > 0.0 {
            format!("{:.1} %", tally.stall_ms / total * 100.0)
        } else {
            "-".to_string()
        };
        let _ = writeln!(
            out,
            "\n{} ({}): {}/{} sessions played\n  startup p50 {} ms, p90 {} ms; {per_session} stalls \
             per session; rebuffer ratio {ratio}",
            tally.label,
            redact_url(&target.url),
            tally.succeeded,
            tally.sessions,
            cell(0.5),
            cell(0.9),
        );
    }
    eprint!("{out}");
}

//! What the connections of each series were: the TLS versions and ALPN protocols agreed (as a
//! mix), the path's round trip (p50 of the per-sample smoothed RTT) and retransmissions per
//! sample; and the sentence saying whether a CDN's gain came with a shorter round trip.

use std::fmt::Write;

use crate::format::{markdown_escape as cell, rate};
use crate::sample::Sample;
use crate::stats::MsHistogram;

use super::summary::Summary;
use crate::format::short_ms;

/// A candidate's round trip counts as shorter below this fraction of the baseline's: RTTs of
/// the same path vary by some percent from sample to sample.
const SHORTER_RTT: f64 = 0.8;

/// Counts of each value of a text column, in order of first appearance (a handful of values).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Mix(Vec<(String, u64)>);

impl Mix {
    fn record(&mut self, value: &str) {
        if value.is_empty() {
            return;
        }
        match self.0.iter_mut().find(|(v, _)| v == value) {
            Some((_, count)) => *count += 1,
            None => self.0.push((value.to_string(), 1)),
        }
    }

    /// "1.3 90.0 %, 1.2 10.0 %", or "n/a" when no row had the column.
    pub fn describe(&self) -> String {
        let total: u64 = self.0.iter().map(|(_, n)| n).sum();
        if total == 0 {
            return "n/a".into();
        }
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|(value, n)| format!("{value} {}", rate(*n as f64 / total as f64)))
            .collect();
        parts.join(", ")
    }
}

/// The connection facts of one series' rows (failed ones included: a truncated transfer still
/// had a round trip and a TLS version).
#[derive(Debug, Default, Clone)]
pub struct ConnectionStats {
    pub tls_versions: Mix,
    pub alpn: Mix,
    rtt: MsHistogram,
    retransmits: u64,
    with_retransmits: u64,
}

impl ConnectionStats {
    pub fn record(&mut self, sample: &Sample) {
        self.tls_versions.record(&sample.tls_version);
        self.alpn.record(&sample.alpn);
        if let Some(rtt) = sample.rtt_ms {
            self.rtt.record(rtt);
        }
        if let Some(retransmits) = sample.retransmits {
            self.retransmits += retransmits;
            self.with_retransmits += 1;
        }
    }

    /// No row had any connection fact (a file from before these columns).
    pub fn is_empty(&self) -> bool {
        self.tls_versions.0.is_empty()
            && self.alpn.0.is_empty()
            && self.rtt.is_empty()
            && self.with_retransmits == 0
    }

    /// The median of the samples' smoothed round trips, ms.
    pub fn rtt_p50(&self) -> Option<f64> {
        (!self.rtt.is_empty()).then(|| self.rtt.quantile(0.5))
    }

    /// Retransmitted segments (TCP) or lost packets (QUIC) per sample.
    pub fn retransmits_per_sample(&self) -> Option<f64> {
        (self.with_retransmits > 0).then(|| self.retransmits as f64 / self.with_retransmits as f64)
    }
}

/// The connections table of `report.md`; nothing for input without connection facts.
pub fn table(md: &mut String, summary: &Summary, targets: &[&str]) {
    if summary
        .series
        .iter()
        .all(|s| s.measured.connection.is_empty())
    {
        return;
    }
    md.push_str(
        "## Connections\n\nWhat each target's connections were: TLS versions and ALPN protocols \
         agreed, the smoothed round trip the transport measured (TCP_INFO for TCP, quinn's path \
         RTT for QUIC), and retransmitted segments (TCP) or lost packets (QUIC) per sample.\n\n\
         | Region | Target | TLS | ALPN | RTT p50 (ms) | Retransmits per sample |\n\
         |---|---|---|---|---:|---:|\n",
    );
    for series in summary.ordered(targets) {
        let facts = &series.measured.connection;
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} |",
            cell(&series.region),
            cell(&series.target),
            cell(&facts.tls_versions.describe()),
            cell(&facts.alpn.describe()),
            facts.rtt_p50().map_or("n/a".into(), short_ms),
            facts
                .retransmits_per_sample()
                .map_or("n/a".into(), |r| format!("{r:.2}")),
        );
    }
    md.push('\n');
}

/// Whether `candidate`'s speedup over `baseline` in `region` came with a shorter round trip, in
/// words; `None` when either series has no RTT or the candidate was not faster.
pub fn round_trip_sentence(
    summary: &Summary,
    region: &str,
    baseline: &str,
    candidate: &str,
    candidate_faster: bool,
) -> Option<String> {
    let rtt = |target| {
        summary
            .series(region, target)?
            .measured
            .connection
            .rtt_p50()
    };
    let (b, c) = (rtt(baseline)?, rtt(candidate)?);
    if !candidate_faster {
        return None;
    }
    let (b_text, c_text) = (short_ms(b), short_ms(c));
    Some(if c < b * SHORTER_RTT {
        format!(
            "{candidate}'s gain comes with a shorter round trip: {c_text} ms against \
             {baseline}'s {b_text} ms (p50), so part of it is the server's distance, which \
             every round trip of the handshake and of the transfer pays."
        )
    } else {
        format!(
            "{candidate}'s round trip was about as long as {baseline}'s ({c_text} ms against \
             {b_text} ms, p50): its gain is not a shorter path."
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mix_reports_shares_in_order_of_first_appearance() {
        let mut mix = Mix::default();
        for value in ["1.3", "1.3", "", "1.2", "1.3"] {
            mix.record(value);
        }
        assert_eq!(mix.describe(), "1.3 75.0 %, 1.2 25.0 %");
        assert_eq!(Mix::default().describe(), "n/a");
    }

    #[test]
    fn retransmits_are_averaged_over_the_samples_that_report_them() {
        let mut stats = ConnectionStats::default();
        for retransmits in [Some(3), None, Some(1)] {
            stats.record(&Sample {
                retransmits,
                rtt_ms: Some(20.0),
                ..Sample::default()
            });
        }
        assert_eq!(stats.retransmits_per_sample(), Some(2.0));
        let rtt = stats.rtt_p50().unwrap();
        assert!((rtt - 20.0).abs() < 0.02, "{rtt}");
    }
}

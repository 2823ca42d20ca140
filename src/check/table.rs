//! What the human-readable formats share: the summary table, the headline stating the rule,
//! the conclusion line and the cells (`text`, `markdown` and `junit` lay them out).

use super::CheckReport;
use super::decision::{self, Comparison, Inconclusive, Outcome, RegionCheck, Settings};
use crate::format::{percent, times};

/// The summary table that `text` and `markdown` lay out: a header and one row per region and
/// metric.
pub(super) fn summary_table(report: &CheckReport) -> (Vec<String>, Vec<Vec<String>>) {
    let settings = &report.settings;
    let stat = settings.rule.stat;
    let with_previous = report.checks.iter().any(|check| check.previous.is_some());
    let mut header = vec![
        "region".to_owned(),
        "metric".to_owned(),
        format!("{} {stat}", settings.baseline),
        format!("{} {stat}", settings.candidate),
        "speedup".to_owned(),
        format!(
            "{} interval, need ≥ {}",
            percent(settings.rule.confidence),
            times(settings.min_speedup)
        ),
    ];
    if with_previous {
        header.push(format!("previous {} {stat}", settings.candidate));
        let limit = settings
            .max_regression
            .map_or(1.0, Settings::regression_limit);
        header.push(format!("previous ÷ now, need ≥ {}", times(limit)));
    }
    header.push("verdict".to_owned());

    let rows = report
        .checks
        .iter()
        .map(|check| {
            let mut row = vec![
                check.region.clone(),
                check.metric.name().to_owned(),
                side_cell(&check.baseline),
                side_cell(&check.candidate),
                check
                    .speedup
                    .map_or("–".to_owned(), |c| times(c.interval.estimate)),
                check.speedup.map_or("–".to_owned(), |c| interval_cell(&c)),
            ];
            if with_previous {
                row.push(check.previous.as_ref().map_or("–".to_owned(), side_cell));
                row.push(
                    check
                        .regression
                        .map_or("–".to_owned(), |c| interval_cell(&c)),
                );
            }
            row.push(verdict_cell(check));
            row
        })
        .collect();
    (header, rows)
}

/// Every reason a region and metric did not pass, with its check, in report order.
pub(super) fn reasons(report: &CheckReport) -> impl Iterator<Item = (&RegionCheck, &String)> {
    report
        .checks
        .iter()
        .flat_map(|check| check.reasons.iter().map(move |reason| (check, reason)))
}

/// One line stating what was compared and the rule, for the top of text and markdown output.
pub(super) fn headline(report: &CheckReport) -> String {
    let s = &report.settings;
    let (baseline, candidate, stat) = (&s.baseline, &s.candidate, s.rule.stat);
    let mut line = format!(
        "{candidate} vs {baseline}: {baseline} {stat} ÷ {candidate} {stat} must be ≥ {}× with {} confidence (BCa bootstrap, {} resamples); inconclusive counts as {}",
        s.min_speedup,
        percent(s.rule.confidence),
        s.rule.resamples,
        s.inconclusive_name(),
    );
    if let Some(max) = s.max_regression {
        line.push_str(&format!(
            "; {} may be at most {max} % slower than in the previous run",
            s.candidate
        ));
    }
    line
}

/// "PASS: all 3 checks passed" or "FAIL: 1 of 3 checks did not pass".
pub(super) fn conclusion(report: &CheckReport) -> String {
    let total = report.checks.len();
    if report.passed {
        format!("PASS: all {total} region/metric checks passed")
    } else {
        format!(
            "FAIL: {} of {total} region/metric checks did not pass",
            report.failed()
        )
    }
}

impl Settings {
    fn inconclusive_name(&self) -> &'static str {
        match self.inconclusive {
            Inconclusive::Pass => "pass",
            Inconclusive::Fail => "fail",
        }
    }
}

pub(super) fn side_cell(side: &decision::SideSummary) -> String {
    let value = side
        .statistic_ms
        .map_or("–".to_owned(), |ms| format!("{ms:.1} ms"));
    let errors = if side.errors > 0 {
        format!(", {} failed", side.errors)
    } else {
        String::new()
    };
    format!("{value} (n={}{errors})", side.samples)
}

pub(super) fn interval_cell(comparison: &Comparison) -> String {
    format!(
        "{}–{}",
        times(comparison.interval.low),
        times(comparison.interval.high)
    )
}

pub(super) fn verdict_cell(check: &RegionCheck) -> String {
    match (check.outcome, check.passed) {
        (Outcome::Pass, _) => "pass".to_owned(),
        (Outcome::Fail, _) => "FAIL".to_owned(),
        (Outcome::Inconclusive, true) => "inconclusive (counted as pass)".to_owned(),
        (Outcome::Inconclusive, false) => "INCONCLUSIVE (counted as fail)".to_owned(),
    }
}

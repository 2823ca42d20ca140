//! The decision rule: a speedup's confidence interval against the speedup the user demands.
//!
//! pass when the interval's lower bound ≥ X, fail when its upper bound < X, inconclusive
//! otherwise; too few successful samples or too many failed ones fail before any interval.

use serde::Serialize;

use crate::format::{rate, times};
use crate::stats::Phase;
use crate::stats::bootstrap::{self, Interval, Statistic};
use crate::stats::groups::RowCounts;

/// How a comparison came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Pass,
    Fail,
    /// The interval straddles the limit: too few samples or too much noise to tell.
    Inconclusive,
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::Inconclusive => "inconclusive",
        }
    }

    /// The worse of two outcomes: a fail outweighs an inconclusive, which outweighs a pass.
    fn worst(self, other: Outcome) -> Outcome {
        match (self, other) {
            (Outcome::Fail, _) | (_, Outcome::Fail) => Outcome::Fail,
            (Outcome::Inconclusive, _) | (_, Outcome::Inconclusive) => Outcome::Inconclusive,
            _ => Outcome::Pass,
        }
    }
}

/// What an inconclusive outcome counts as (`--inconclusive`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Inconclusive {
    Pass,
    #[default]
    Fail,
}

impl Inconclusive {
    pub fn passes(self, outcome: Outcome) -> bool {
        match outcome {
            Outcome::Pass => true,
            Outcome::Fail => false,
            Outcome::Inconclusive => self == Inconclusive::Pass,
        }
    }
}

/// pass when `interval.low ≥ limit`, fail when `interval.high < limit`, else inconclusive.
pub fn judge(interval: &Interval, limit: f64) -> Outcome {
    if interval.low >= limit {
        Outcome::Pass
    } else if interval.high < limit {
        Outcome::Fail
    } else {
        Outcome::Inconclusive
    }
}

pub const DEFAULT_CONFIDENCE: f64 = 0.95;

/// How a speedup and its interval are computed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rule {
    pub stat: Statistic,
    /// Two-sided confidence level of the interval, e.g. 0.95.
    pub confidence: f64,
    pub resamples: usize,
    pub seed: u64,
}

impl Default for Rule {
    fn default() -> Self {
        Self {
            stat: Statistic::P50,
            confidence: DEFAULT_CONFIDENCE,
            resamples: bootstrap::DEFAULT_RESAMPLES,
            seed: bootstrap::DEFAULT_SEED,
        }
    }
}

/// A speedup (`stat(slower) ÷ stat(faster)`), its interval, and how it fared against `limit`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Comparison {
    pub interval: Interval,
    pub limit: f64,
    pub outcome: Outcome,
}

impl Rule {
    /// Both slices must be non-empty (times in ms).
    pub fn compare(&self, baseline_ms: &[f64], candidate_ms: &[f64], limit: f64) -> Comparison {
        let interval = bootstrap::speedup_interval(
            baseline_ms,
            candidate_ms,
            self.stat,
            self.confidence,
            self.resamples,
            self.seed,
        );
        Comparison {
            interval,
            limit,
            outcome: judge(&interval, limit),
        }
    }
}

/// Everything the verdict depends on (from the command line).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Settings {
    pub baseline: String,
    pub candidate: String,
    #[serde(flatten)]
    pub rule: Rule,
    pub min_speedup: f64,
    pub min_samples: usize,
    pub max_error_rate: f64,
    /// Percent; set when comparing with a previous run.
    pub max_regression: Option<f64>,
    pub inconclusive: Inconclusive,
}

impl Settings {
    /// The least `previous ÷ now` speedup that is not a regression beyond `--max-regression`.
    pub fn regression_limit(max_regression_percent: f64) -> f64 {
        1.0 / (1.0 + max_regression_percent / 100.0)
    }
}

/// One side of a comparison in one region: its rows and its times for one metric.
#[derive(Debug, Clone, Copy)]
pub struct Side<'a> {
    pub label: &'a str,
    pub counts: RowCounts,
    /// Successful samples' times for the metric, ms.
    pub times_ms: &'a [f64],
}

/// The numbers a reader needs about one side.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SideSummary {
    pub label: String,
    pub rows: u64,
    pub errors: u64,
    pub error_rate: f64,
    /// Successful samples with a time for the metric.
    pub samples: usize,
    /// The statistic (`stat`) of those times, ms; absent with no samples.
    pub statistic_ms: Option<f64>,
}

impl SideSummary {
    fn of(side: &Side, stat: Statistic) -> Self {
        Self {
            label: side.label.to_owned(),
            rows: side.counts.rows,
            errors: side.counts.errors,
            error_rate: side.counts.error_rate(),
            samples: side.times_ms.len(),
            statistic_ms: (!side.times_ms.is_empty()).then(|| stat.of(&mut side.times_ms.to_vec())),
        }
    }
}

/// The verdict for one region and metric.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegionCheck {
    pub region: String,
    #[serde(serialize_with = "phase_name")]
    pub metric: Phase,
    pub baseline: SideSummary,
    pub candidate: SideSummary,
    /// The candidate in the previous run (`--previous`).
    pub previous: Option<SideSummary>,
    /// baseline ÷ candidate against `--min-speedup`.
    pub speedup: Option<Comparison>,
    /// previous candidate ÷ this candidate against `1 / (1 + max_regression / 100)`.
    pub regression: Option<Comparison>,
    pub outcome: Outcome,
    pub passed: bool,
    /// Why it did not pass, one sentence each (empty on a pass).
    pub reasons: Vec<String>,
}

fn phase_name<S: serde::Serializer>(phase: &Phase, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(phase.name())
}

/// Applies the rule to one region and metric.
pub fn check_region(
    region: &str,
    metric: Phase,
    baseline: Side,
    candidate: Side,
    previous: Option<Side>,
    settings: &Settings,
) -> RegionCheck {
    let mut reasons = Vec::new();
    reasons.extend(sample_problems(&baseline, baseline.label, metric, settings));
    reasons.extend(sample_problems(
        &candidate,
        candidate.label,
        metric,
        settings,
    ));
    if let Some(previous) = &previous {
        let who = format!("{} (previous run)", previous.label);
        reasons.extend(sample_problems(previous, &who, metric, settings));
    }
    let sample_problem = !reasons.is_empty();
    let compare = |slower: &Side, faster: &Side, limit: f64| {
        (!slower.times_ms.is_empty() && !faster.times_ms.is_empty()).then(|| {
            settings
                .rule
                .compare(slower.times_ms, faster.times_ms, limit)
        })
    };
    let speedup = compare(&baseline, &candidate, settings.min_speedup);
    let regression = previous
        .as_ref()
        .zip(settings.max_regression)
        .and_then(|(previous, max)| compare(previous, &candidate, Settings::regression_limit(max)));

    if let Some(speedup) = &speedup {
        reasons.extend(explain(
            speedup,
            &format!("speedup {} ÷ {}", baseline.label, candidate.label),
        ));
    }
    if let Some(regression) = &regression {
        reasons.extend(explain(
            regression,
            &format!("{} previous run ÷ this run", candidate.label),
        ));
    }
    let outcome = if sample_problem {
        Outcome::Fail
    } else {
        [&speedup, &regression]
            .into_iter()
            .flatten()
            .fold(Outcome::Pass, |worst, c| worst.worst(c.outcome))
    };
    RegionCheck {
        region: region.to_owned(),
        metric,
        baseline: SideSummary::of(&baseline, settings.rule.stat),
        candidate: SideSummary::of(&candidate, settings.rule.stat),
        previous: previous.map(|side| SideSummary::of(&side, settings.rule.stat)),
        speedup,
        regression,
        outcome,
        passed: settings.inconclusive.passes(outcome),
        reasons,
    }
}

/// Too many failed samples, or too few successful ones, to judge this side (named `who`).
fn sample_problems(side: &Side, who: &str, metric: Phase, settings: &Settings) -> Vec<String> {
    let mut problems = Vec::new();
    let error_rate = side.counts.error_rate();
    if error_rate > settings.max_error_rate {
        problems.push(format!(
            "{}: error rate {} is above --max-error-rate {} ({} of {} samples failed)",
            who,
            rate(error_rate),
            rate(settings.max_error_rate),
            side.counts.errors,
            side.counts.rows
        ));
    }
    if side.times_ms.len() < settings.min_samples {
        problems.push(format!(
            "{}: too few successful samples with {metric}_ms: {} (--min-samples {})",
            who,
            side.times_ms.len(),
            settings.min_samples
        ));
    }
    problems
}

/// Why a comparison did not pass, in one sentence; nothing when it passed.
fn explain(comparison: &Comparison, what: &str) -> Option<String> {
    let Interval { low, high, .. } = comparison.interval;
    let limit = comparison.limit;
    match comparison.outcome {
        Outcome::Pass => None,
        Outcome::Fail => Some(format!(
            "{what}: interval {}–{} lies below {}",
            times(low),
            times(high),
            times(limit)
        )),
        Outcome::Inconclusive => Some(format!(
            "{what}: interval {}–{} straddles {} (inconclusive: more samples or less noise needed)",
            times(low),
            times(high),
            times(limit)
        )),
    }
}

/// The verdict of a whole check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckReport {
    pub settings: Settings,
    pub checks: Vec<RegionCheck>,
    /// Every region and metric passed.
    pub passed: bool,
}

impl CheckReport {
    pub fn new(settings: Settings, checks: Vec<RegionCheck>) -> Self {
        let passed = checks.iter().all(|check| check.passed);
        Self {
            settings,
            checks,
            passed,
        }
    }

    pub fn failed(&self) -> usize {
        self.checks.iter().filter(|check| !check.passed).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interval(low: f64, high: f64) -> Interval {
        Interval {
            estimate: (low + high) / 2.0,
            low,
            high,
        }
    }

    #[test]
    fn lower_bound_at_the_limit_passes() {
        assert_eq!(judge(&interval(1.5, 2.0), 1.5), Outcome::Pass);
    }

    #[test]
    fn upper_bound_below_the_limit_fails() {
        assert_eq!(judge(&interval(1.0, 1.49), 1.5), Outcome::Fail);
    }

    #[test]
    fn interval_straddling_the_limit_is_inconclusive() {
        assert_eq!(judge(&interval(1.4, 1.5), 1.5), Outcome::Inconclusive);
    }

    #[test]
    fn inconclusive_fails_unless_told_to_pass() {
        assert!(!Inconclusive::default().passes(Outcome::Inconclusive));
        assert!(Inconclusive::Pass.passes(Outcome::Inconclusive));
        assert!(!Inconclusive::Pass.passes(Outcome::Fail));
    }

    #[test]
    fn ten_percent_regression_limit_is_one_over_one_point_one() {
        assert!((Settings::regression_limit(10.0) - 1.0 / 1.1).abs() < 1e-12);
    }
}

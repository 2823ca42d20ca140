//! `cdnprobe check`: the CI gate. Reads sample CSVs, computes per region the speedup of the
//! candidate (CDN) over the baseline (origin) with a bootstrap confidence interval, judges it
//! (`decision`), and writes the verdict in one of four formats (`text`, `markdown`, `json`,
//! `junit`: one file each, behind [`Render`]).
//!
//! read CSVs (`samples`) → `decision::check_region` per region and metric → `CheckReport` → render

pub mod decision;
mod json;
mod junit;
mod markdown;
mod samples;
mod table;
mod text;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::builder::RangedU64ValueParser;

pub use decision::{CheckReport, Comparison, Inconclusive, Outcome, RegionCheck, Rule, Settings};

use crate::error::UsageError;
use crate::format::percent;
use crate::stats::Phase;
use crate::stats::bootstrap::{DEFAULT_RESAMPLES, DEFAULT_SEED, Statistic};
use samples::Run;
use table::{conclusion, headline, interval_cell, reasons, side_cell, summary_table};

const ABOUT: &str =
    "CI gate: is the candidate (CDN) still at least N× faster than the baseline (origin)?";

const DECISION_RULE: &str = "\
Compares two targets measured in the same run, region by region, so the gate does not move when
the CI runner does.

Decision rule, per region and metric:
  speedup  = baseline statistic ÷ candidate statistic (e.g. p50 of s3 total_ms ÷ p50 of cloudfront
             total_ms), with a seeded BCa bootstrap confidence interval (--confidence, default 0.95;
             distribution-free, and the same samples always give the same interval).
  pass          when the interval's lower bound ≥ --min-speedup;
  fail          when its upper bound < --min-speedup;
  inconclusive  otherwise (too few samples or too much noise to tell), which fails unless
                --inconclusive pass.
  A side with fewer than --min-samples successful samples, or an error rate above
  --max-error-rate, fails with that reason. Error rows count toward the error rate only.
  --previous DIR --max-regression P also compares this run's candidate with the previous run's:
  speedup = previous statistic ÷ this statistic, judged by the same rule against 1 / (1 + P/100)
  (pass only when this run is, with confidence, at most P % slower).
  The check passes when every region and metric passes.

Exit status: 0 pass, 1 fail, 2 bad input (unknown label, no rows for a region, unreadable file).

With 30 samples a side and 30 % (σ = 0.3 log-normal) noise, a true 2.25× speedup passes a 1.5×
threshold in ≥ 95 % of runs, a speedup of exactly 1.5× passes in ≤ 5 %, and no speedup fails in
≥ 97 % (tests/check_statistics.rs).";

#[derive(Debug, clap::Args)]
#[command(about = ABOUT, after_help = DECISION_RULE)]
pub struct CheckArgs {
    /// Sample files written by `cdnprobe run` (CSV or Parquet), directories of them, or
    /// object-store URLs and prefixes (s3://bucket/prefix, gs://, az://, file:///); playback
    /// CSVs of `cdnprobe play` (local files or directories) for `--metric startup|seek`.
    #[arg(required = true, value_name = "FILE_DIR_OR_URL")]
    pub inputs: Vec<PathBuf>,
    #[command(flatten)]
    pub read: crate::input::ReadArgs,
    /// The target label to beat (the origin, e.g. s3).
    #[arg(long, value_name = "LABEL")]
    pub baseline: String,
    /// The target label that must be faster (the CDN, e.g. cloudfront).
    #[arg(long, value_name = "LABEL")]
    pub candidate: String,
    /// The least acceptable speedup (baseline ÷ candidate), e.g. 1.5.
    #[arg(long, value_name = "X", value_parser = positive)]
    pub min_speedup: f64,
    /// The phase to compare; repeat for several (one verdict per region and metric).
    /// `startup` and `seek` compare playback sessions (the CSVs of `cdnprobe play`).
    #[arg(long, value_enum, default_value = "total", value_name = "METRIC")]
    pub metric: Vec<Phase>,
    /// The statistic of each side's times that the speedup compares.
    #[arg(long, value_enum, default_value = "p50")]
    pub stat: Statistic,
    /// Check only this region (repeatable; other regions' objects are never fetched); default:
    /// every region in the input.
    #[arg(long = "region", value_name = "NAME")]
    pub regions: Vec<String>,
    /// Confidence level of the interval (0–1, exclusive).
    #[arg(long, default_value_t = decision::DEFAULT_CONFIDENCE, value_parser = open_fraction)]
    pub confidence: f64,
    /// Fewest successful samples a side may have in a region.
    #[arg(long, default_value_t = 10, value_parser = RangedU64ValueParser::<usize>::new().range(2..))]
    pub min_samples: usize,
    /// Largest acceptable share of failed samples per side and region (0–1).
    #[arg(long, default_value_t = 0.05, value_parser = fraction)]
    pub max_error_rate: f64,
    /// An earlier run's samples: also fail when this run's candidate regressed against it.
    #[arg(long, value_name = "FILE_OR_DIR", requires = "max_regression")]
    pub previous: Vec<PathBuf>,
    /// With --previous: the largest acceptable slowdown of the candidate, percent.
    #[arg(long, value_name = "PERCENT", requires = "previous", value_parser = non_negative)]
    pub max_regression: Option<f64>,
    /// With playback CSVs: also fail a region where the candidate's rebuffer ratio (stall time
    /// ÷ (watched + stall time), over its sessions) is above R (0–1).
    #[arg(long, value_name = "R", value_parser = fraction)]
    pub max_rebuffer_ratio: Option<f64>,
    /// What an inconclusive region counts as.
    #[arg(long, value_enum, default_value = "fail")]
    pub inconclusive: Inconclusive,
    /// Output format: text for people, markdown for $GITHUB_STEP_SUMMARY, json with every
    /// number, junit with one test case per region and metric.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Write the verdict here instead of standard output (complete or not at all).
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Bootstrap resamples per interval.
    #[arg(long, default_value_t = DEFAULT_RESAMPLES, value_parser = RangedU64ValueParser::<usize>::new().range(100..))]
    pub resamples: usize,
    /// Bootstrap seed: the same samples and seed always give the same verdict.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
}

/// Runs the check, writes the verdict, and exits 0 on pass, 1 on fail (2 for bad input, as an
/// error).
pub fn execute(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let report = evaluate(&args)?;
    let rendered = args.format.renderer().render(&report);
    match &args.output {
        Some(path) => {
            write_whole(path, &rendered)?;
            // The verdict went to a file: leave one line for the CI log.
            eprintln!("cdnprobe check: {}", conclusion(&report));
        }
        None => std::io::stdout()
            .write_all(rendered.as_bytes())
            .context("writing the verdict")?,
    }
    Ok(if report.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The verdict as a value, without printing anything. Bad input is a [`UsageError`] (exit 2).
pub fn evaluate(args: &CheckArgs) -> anyhow::Result<CheckReport> {
    let settings = Settings {
        baseline: args.baseline.clone(),
        candidate: args.candidate.clone(),
        rule: Rule {
            stat: args.stat,
            confidence: args.confidence,
            resamples: args.resamples,
            seed: args.seed,
        },
        min_speedup: args.min_speedup,
        min_samples: args.min_samples,
        max_error_rate: args.max_error_rate,
        max_regression: args.max_regression,
        inconclusive: args.inconclusive,
    };
    if args.baseline == args.candidate {
        return Err(UsageError::new("--baseline and --candidate name the same target").into());
    }
    let metrics = distinct(&args.metric);
    let (baseline, candidate) = (args.baseline.as_str(), args.candidate.as_str());

    let reading = args.read.reading(&args.regions)?;
    let current = Run::read(
        "input",
        &args.inputs,
        &reading,
        &[baseline, candidate],
        &metrics,
    )?;
    // With --region, rows of other regions are never read: when none of the requested regions
    // has rows, the per-region message below names the region instead.
    if args.regions.is_empty() || !current.regions().is_empty() {
        current.require_target("baseline", baseline)?;
        current.require_target("candidate", candidate)?;
    }
    let previous = if args.previous.is_empty() {
        None
    } else {
        // The time window selects this run's rows; the previous run is read whole.
        let earlier = crate::input::Reading {
            selection: reading.selection.regions_only(),
            ..reading.clone()
        };
        let previous = Run::read(
            "previous run",
            &args.previous,
            &earlier,
            &[candidate],
            &metrics,
        )?;
        previous.require_target("candidate", candidate)?;
        Some(previous)
    };

    let regions = if args.regions.is_empty() {
        current.regions()
    } else {
        distinct(&args.regions)
    };
    let mut checks = Vec::new();
    for region in &regions {
        for &metric in &metrics {
            let previous_side = previous
                .as_ref()
                .map(|run| run.side(region, candidate, metric))
                .transpose()?;
            checks.push(decision::check_region(
                region,
                metric,
                current.side(region, baseline, metric)?,
                current.side(region, candidate, metric)?,
                previous_side,
                &settings,
            ));
        }
    }
    if let Some(max) = args.max_rebuffer_ratio {
        let sessions = if metrics.iter().all(|m| m.is_playback()) {
            current
        } else {
            Run::read(
                "input",
                &args.inputs,
                &reading,
                &[candidate],
                &[Phase::Startup],
            )?
        };
        for check in &mut checks {
            let ratio = sessions.rebuffer_ratio(&check.region, candidate);
            if let Some(ratio) = ratio.filter(|r| *r > max) {
                check.passed = false;
                check.outcome = Outcome::Fail;
                check.reasons.push(format!(
                    "{candidate} rebuffer ratio {} is above --max-rebuffer-ratio {}",
                    percent(ratio),
                    percent(max)
                ));
            }
        }
    }
    Ok(CheckReport::new(settings, checks))
}

/// `items` without repeats, first occurrence first.
fn distinct<T: PartialEq + Clone>(items: &[T]) -> Vec<T> {
    let mut seen = Vec::new();
    for item in items {
        if !seen.contains(item) {
            seen.push(item.clone());
        }
    }
    seen
}

/// Writes `contents` to a temporary file beside `path`, then renames it into place, so a
/// reader never sees half a verdict.
fn write_whole(path: &std::path::Path, contents: &str) -> anyhow::Result<()> {
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => std::path::Path::new("."),
    };
    let mut file = tempfile::NamedTempFile::new_in(directory).map_err(|e| {
        UsageError(format!(
            "{}: cannot create the output file: {e}",
            path.display()
        ))
    })?;
    file.write_all(contents.as_bytes())
        .with_context(|| format!("{}: writing the verdict", path.display()))?;
    file.persist(path)
        .with_context(|| format!("{}: writing the verdict", path.display()))?;
    Ok(())
}

/// An output format (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Markdown,
    Json,
    Junit,
}

impl Format {
    pub fn renderer(self) -> &'static dyn Render {
        match self {
            Format::Text => &text::Text,
            Format::Markdown => &markdown::Markdown,
            Format::Json => &json::Json,
            Format::Junit => &junit::Junit,
        }
    }
}

/// Writes a finished report in one format; formats know nothing of how it was measured.
pub trait Render {
    fn render(&self, report: &CheckReport) -> String;
}

fn number(s: &str, ok: impl Fn(f64) -> bool, what: &str) -> Result<f64, String> {
    let x: f64 = s.parse().map_err(|_| format!("not a number: {s:?}"))?;
    if x.is_finite() && ok(x) {
        Ok(x)
    } else {
        Err(format!("must be {what}, got {s}"))
    }
}

fn positive(s: &str) -> Result<f64, String> {
    number(s, |x| x > 0.0, "above 0")
}

fn non_negative(s: &str) -> Result<f64, String> {
    number(s, |x| x >= 0.0, "0 or more")
}

fn fraction(s: &str) -> Result<f64, String> {
    number(s, |x| (0.0..=1.0).contains(&x), "between 0 and 1")
}

fn open_fraction(s: &str) -> Result<f64, String> {
    number(s, |x| x > 0.0 && x < 1.0, "between 0 and 1 (exclusive)")
}

//! `cdnprobe report`: sample CSVs → a summary per region × target × phase (bounded memory) →
//! tables (`summary.csv`, `comparison.csv`), `report.md` and charts (PNG + SVG).

pub mod charts;
pub mod comparison;
pub mod markdown;
pub mod summary;
pub mod synthetic;
pub mod tables;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;

use crate::usage_error;
use charts::{Chart, ChartData};
use comparison::Comparison;
use summary::Summary;

/// Target labels compared when `--baseline` / `--candidate` are not given.
pub const DEFAULT_BASELINE: &str = "s3";
pub const DEFAULT_CANDIDATE: &str = "cloudfront";

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Sample CSVs written by `cdnprobe run`, or directories of them (typically one per region).
    #[arg(required = true, value_name = "FILE_OR_DIR")]
    pub inputs: Vec<PathBuf>,
    /// Directory to write the report into (created if missing; report files in it are replaced).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Target label of the origin: speedup = baseline ÷ candidate [default: s3]
    #[arg(long, value_name = "LABEL")]
    pub baseline: Option<String>,
    /// Target label of the CDN, the side expected to be faster [default: cloudfront]
    #[arg(long, value_name = "LABEL")]
    pub candidate: Option<String>,
    /// Title of report.md and of every chart.
    #[arg(long, value_name = "TEXT", default_value = "CDN speed report")]
    pub title: String,
    /// A paragraph for report.md, e.g. how the samples were taken (repeatable).
    #[arg(long = "note", value_name = "TEXT")]
    pub notes: Vec<String>,
}

pub fn execute(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let summary = Summary::read(&args.inputs)?;
    let pair = baseline_and_candidate(&summary, &args)?;
    let comparison = pair.map(|(b, c)| Comparison::compute(&summary, &b, &c));
    let first: Vec<&str> = comparison
        .iter()
        .flat_map(|c| [c.baseline.as_str(), c.candidate.as_str()])
        .collect();
    let targets = summary.targets(&first);

    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    write(&args.out, "summary.csv", |out| {
        Ok(tables::write_summary(&summary, &targets, out)?)
    })?;
    write(&args.out, "comparison.csv", |out| match &comparison {
        Some(comparison) => Ok(tables::write_comparison(comparison, out)?),
        None => Ok(writeln!(out, "{}", tables::COMPARISON_COLUMNS.join(","))?),
    })?;
    let context = markdown::Context {
        title: &args.title,
        notes: &args.notes,
        targets: &targets,
    };
    let report = markdown::render(&summary, comparison.as_ref(), &context);
    write(&args.out, "report.md", |out| {
        Ok(out.write_all(report.as_bytes())?)
    })?;
    let data = ChartData {
        summary: &summary,
        comparison: comparison.as_ref(),
        targets: &targets,
        title: &args.title,
    };
    charts::write_all(&args.out, &data)?;

    let charts: Vec<&str> = Chart::ALL.iter().map(|c| c.name()).collect();
    println!(
        "{} samples → {}: report.md, summary.csv, comparison.csv, {} (.png, .svg)",
        summary.rows,
        args.out.display(),
        charts.join(", ")
    );
    Ok(ExitCode::SUCCESS)
}

/// The pair to compare. A label given on the command line must be in the input; when a default
/// label is missing the report is written without a comparison, with a warning.
fn baseline_and_candidate(
    summary: &Summary,
    args: &ReportArgs,
) -> anyhow::Result<Option<(String, String)>> {
    let mut pair = Vec::new();
    for (flag, given, default) in [
        ("--baseline", &args.baseline, DEFAULT_BASELINE),
        ("--candidate", &args.candidate, DEFAULT_CANDIDATE),
    ] {
        let label = given.as_deref().unwrap_or(default);
        if summary.has_target(label) {
            pair.push(label.to_owned());
        } else if given.is_some() {
            return Err(usage_error!(
                "{flag} {label}: no such target in the input (targets: {})",
                summary.targets(&[]).join(", ")
            ));
        } else {
            eprintln!(
                "cdnprobe: warning: no target labelled {label}; name one with {flag} to compare"
            );
        }
    }
    match <[String; 2]>::try_from(pair) {
        Ok([baseline, candidate]) if baseline == candidate => Err(usage_error!(
            "--baseline and --candidate are both {baseline}: compare two different targets"
        )),
        Ok([baseline, candidate]) => Ok(Some((baseline, candidate))),
        Err(_) => Ok(None),
    }
}

/// Creates `dir/name` and writes it through a buffer.
fn write(
    dir: &Path,
    name: &str,
    contents: impl FnOnce(&mut BufWriter<File>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let path = dir.join(name);
    let mut out = BufWriter::new(
        File::create(&path).with_context(|| format!("creating {}", path.display()))?,
    );
    contents(&mut out)
        .and_then(|()| Ok(out.flush()?))
        .with_context(|| format!("writing {}", path.display()))
}

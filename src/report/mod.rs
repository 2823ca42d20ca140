//! `cdnprobe report`: sample CSVs → a summary per region × target × phase (bounded memory) →
//! tables (`summary.csv`, `comparison.csv`), `report.md` and charts (PNG + SVG).

pub mod cdf_chart;
pub mod chart_frame;
pub mod charts;
pub mod comparison;
pub mod connection;
pub mod markdown;
pub mod playback;
pub mod playback_chart;
pub mod summary;
pub mod tables;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;

use crate::usage_error;
use charts::{Chart, ChartData};
use comparison::Comparison;
use playback::Playback;
use summary::Summary;

/// Target labels compared when `--baseline` / `--candidate` are not given.
pub const DEFAULT_BASELINE: &str = "s3";
pub const DEFAULT_CANDIDATE: &str = "cloudfront";

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Sample files written by `cdnprobe run` (CSV or Parquet), directories of them (read
    /// recursively), or object-store URLs and prefixes (s3://bucket/prefix, gs://, az://, file:///).
    #[arg(required = true, value_name = "FILE_DIR_OR_URL")]
    pub inputs: Vec<PathBuf>,
    /// Only rows from this region (repeatable); other regions' objects are never fetched.
    #[arg(long = "region", value_name = "NAME")]
    pub regions: Vec<String>,
    #[command(flatten)]
    pub read: crate::input::ReadArgs,
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
    if args.out.exists() && !args.out.is_dir() {
        return Err(usage_error!(
            "--out {}: not a directory (the report is a directory of files)",
            args.out.display()
        ));
    }
    let reading = args.read.reading(&args.regions)?;
    let summary = Summary::read(&args.inputs, &reading)?;
    let playback = Playback::read(&args.inputs)?;
    let pair = baseline_and_candidate(&summary, &playback, &args)?;
    let comparison = pair.map(|(b, c)| Comparison::compute(&summary, &b, &c));
    let first: Vec<&str> = comparison
        .iter()
        .flat_map(|c| [c.baseline.as_str(), c.candidate.as_str()])
        .collect();
    let targets = summary.targets(&first);

    write_all_or_nothing(&args.out, |dir| {
        write(dir, "summary.csv", |out| {
            Ok(tables::write_summary(&summary, &targets, out)?)
        })?;
        write(dir, "comparison.csv", |out| match &comparison {
            Some(comparison) => Ok(tables::write_comparison(comparison, out)?),
            None => Ok(writeln!(out, "{}", tables::COMPARISON_COLUMNS.join(","))?),
        })?;
        let context = markdown::Context {
            title: &args.title,
            notes: &args.notes,
            targets: &targets,
        };
        let mut report = markdown::render(&summary, comparison.as_ref(), &context);
        if !playback.is_empty() {
            let pair = comparison
                .as_ref()
                .map(|c| (c.baseline.as_str(), c.candidate.as_str()));
            report.push('\n');
            report.push_str(&playback::section(&playback, pair));
            report.push_str(&format!("\n![playback]({}.png)\n", playback_chart::NAME));
            playback_chart::write(dir, &playback, &targets, &args.title)?;
        }
        write(
            dir,
            "report.md",
            |out| Ok(out.write_all(report.as_bytes())?),
        )?;
        let data = ChartData {
            summary: &summary,
            comparison: comparison.as_ref(),
            targets: &targets,
            title: &args.title,
        };
        charts::write_all(dir, &data)
    })?;

    let mut charts: Vec<&str> = Chart::ALL.iter().map(|c| c.name()).collect();
    let sessions: u64 = playback.groups.iter().map(|g| g.sessions).sum();
    if !playback.is_empty() {
        charts.push(playback_chart::NAME);
    }
    println!(
        "{} samples, {sessions} playback sessions → {}: report.md, summary.csv, comparison.csv, \
         {} (.png, .svg)",
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
    playback: &Playback,
    args: &ReportArgs,
) -> anyhow::Result<Option<(String, String)>> {
    let mut pair = Vec::new();
    for (flag, given, default) in [
        ("--baseline", &args.baseline, DEFAULT_BASELINE),
        ("--candidate", &args.candidate, DEFAULT_CANDIDATE),
    ] {
        let label = given.as_deref().unwrap_or(default);
        if summary.has_target(label) || playback.has_target(label) {
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

/// Runs `write_files` on a staging directory beside `out` and moves the files it wrote into
/// `out` only when it succeeded, so a failure midway never leaves new tables beside old charts.
/// The staging directory is removed either way.
fn write_all_or_nothing(
    out: &Path,
    write_files: impl FnOnce(&Path) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let parent = match out.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    let staging = tempfile::Builder::new()
        .prefix(".cdnprobe-report-")
        .tempdir_in(parent)
        .with_context(|| format!("creating a staging directory in {}", parent.display()))?;
    write_files(staging.path())?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let staged = std::fs::read_dir(staging.path())
        .with_context(|| format!("listing {}", staging.path().display()))?;
    for file in staged {
        let file = file.with_context(|| format!("listing {}", staging.path().display()))?;
        let into = out.join(file.file_name());
        std::fs::rename(file.path(), &into)
            .with_context(|| format!("moving the new {} into place", into.display()))?;
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_midway_leaves_the_previous_report_untouched() {
        let parent = tempfile::tempdir().unwrap();
        let out = parent.path().join("report");
        std::fs::create_dir(&out).unwrap();
        std::fs::write(out.join("summary.csv"), "old tables").unwrap();
        std::fs::write(out.join("phases.svg"), "old chart").unwrap();

        let result = write_all_or_nothing(&out, |dir| {
            std::fs::write(dir.join("summary.csv"), "new tables")?;
            anyhow::bail!("the charts failed")
        });

        assert!(result.is_err());
        let read = |name| std::fs::read_to_string(out.join(name)).unwrap();
        assert_eq!(
            (read("summary.csv"), read("phases.svg")),
            ("old tables".into(), "old chart".into())
        );
        let left: Vec<_> = std::fs::read_dir(parent.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "the staging directory is removed");
    }

    #[test]
    fn a_complete_report_replaces_the_previous_files() {
        let parent = tempfile::tempdir().unwrap();
        let out = parent.path().join("nested/report");
        for contents in ["first", "second"] {
            write_all_or_nothing(&out, |dir| {
                Ok(std::fs::write(dir.join("report.md"), contents)?)
            })
            .unwrap();
        }
        assert_eq!(
            std::fs::read_to_string(out.join("report.md")).unwrap(),
            "second"
        );
        assert_eq!(std::fs::read_dir(out.parent().unwrap()).unwrap().count(), 1);
    }
}

//! `report.md`: the seed-style sentences, the tables and links to the charts, for pull requests
//! and CI summaries.

use std::fmt::Write;

use crate::format::{markdown_escape as cell, percent, rate, short_ms, times};
use crate::stats::Phase;

use super::charts::Chart;
use super::comparison::CONFIDENCE;
use super::comparison::Comparison;
use super::summary::{Series, Summary};

/// What the Markdown needs besides the numbers.
pub struct Context<'a> {
    pub title: &'a str,
    pub notes: &'a [String],
    pub targets: &'a [&'a str],
}

pub fn render(summary: &Summary, comparison: Option<&Comparison>, context: &Context) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# {}\n", context.title);
    for note in context.notes {
        let _ = writeln!(md, "> {}\n", note.replace('\n', "\n> "));
    }
    let _ = writeln!(
        md,
        "{} samples from {} file(s); regions: {}; targets: {}. Times are medians (p50) in \
         milliseconds unless a column says otherwise; failed samples are counted as errors and \
         left out of every time.\n",
        summary.rows,
        summary.files,
        summary.regions().join(", "),
        context.targets.join(", "),
    );

    match comparison {
        Some(comparison) => headline(&mut md, summary, comparison),
        None => md.push_str(
            "No comparison: the input has no `s3` and `cloudfront` targets; name the pair with \
             `--baseline` and `--candidate`.\n\n",
        ),
    }
    image(&mut md, Chart::Phases);

    if let Some(comparison) = comparison {
        speedup_table(&mut md, comparison);
    }
    errors_table(&mut md, summary, context.targets);
    super::connection::table(&mut md, summary, context.targets);

    md.push_str("## Distributions\n\n");
    image(&mut md, Chart::Cdf);
    image(&mut md, Chart::Timeline);
    summary_table(&mut md, summary, context.targets);

    md.push_str(
        "## Files\n\n- Tables: [summary.csv](summary.csv), [comparison.csv](comparison.csv)\n",
    );
    for chart in Chart::ALL {
        let _ = writeln!(
            md,
            "- {}: [{name}.png]({name}.png), [{name}.svg]({name}.svg)",
            chart.title(),
            name = chart.name()
        );
    }
    md
}

fn image(md: &mut String, chart: Chart) {
    let _ = writeln!(md, "![{}]({}.png)\n", chart.title(), chart.name());
}

fn headline(md: &mut String, summary: &Summary, comparison: &Comparison) {
    md.push_str("## Headline\n\n");
    for region in summary.regions() {
        let _ = writeln!(md, "{}\n", sentence(summary, comparison, region));
        let faster = comparison
            .get(region, Phase::Total)
            .and_then(|row| row.speedup)
            .is_some_and(|speedup| speedup > 1.0);
        let (baseline, candidate) = (&comparison.baseline, &comparison.candidate);
        if let Some(words) =
            super::connection::round_trip_sentence(summary, region, baseline, candidate, faster)
        {
            let _ = writeln!(md, "{words}\n");
        }
    }
}

/// The original project's sentence for one region, e.g. "In Auckland, cloudfront's total time
/// was 2437 ms (32 ms resolve, 127 ms connection, 2278 ms download) compared to s3's 4516 ms
/// (63 ms resolve, 280 ms connection, 4173 ms download)", then the speedup.
pub fn sentence(summary: &Summary, comparison: &Comparison, region: &str) -> String {
    let (baseline, candidate) = (&comparison.baseline, &comparison.candidate);
    let (Some(b), Some(c)) = (
        summary.series(region, baseline),
        summary.series(region, candidate),
    ) else {
        let measured: Vec<&str> = [baseline, candidate]
            .into_iter()
            .filter(|t| summary.series(region, t).is_some())
            .map(String::as_str)
            .collect();
        return format!(
            "In {region}, only {} was measured: no comparison.",
            measured.join(" and ")
        );
    };
    let mut text = format!(
        "In {region}, {candidate}'s total time was {} compared to {baseline}'s {}",
        phase_breakdown(c),
        phase_breakdown(b)
    );
    let total = comparison.get(region, Phase::Total);
    if let Some((row, speedup)) = total.and_then(|row| Some((row, row.speedup?))) {
        let (factor, word) = if speedup >= 1.0 {
            (speedup, "faster")
        } else {
            (1.0 / speedup, "slower")
        };
        let _ = write!(text, ": {candidate} was {} {word} in total", times(factor));
        if let Some((low, high)) = row.interval {
            let _ = write!(
                text,
                " ({} interval of the speedup {low:.2}–{high:.2})",
                percent(CONFIDENCE)
            );
        }
    }
    text.push('.');
    text
}

/// "2437 ms (32 ms resolve, 127 ms connection, 2278 ms download)": the seed's words, where
/// download is the whole transfer (first byte and body).
fn phase_breakdown(series: &Series) -> String {
    let p50 = |phase| {
        series
            .stats(phase)
            .map_or_else(|| "n/a".to_owned(), |s| format!("{} ms", short_ms(s.p50)))
    };
    format!(
        "{} ({} resolve, {} connection, {} download)",
        p50(Phase::Total),
        p50(Phase::Resolve),
        p50(Phase::Connection),
        p50(Phase::Transfer)
    )
}

fn speedup_table(md: &mut String, comparison: &Comparison) {
    let _ = writeln!(
        md,
        "## Speedup by phase\n\n| Region | Phase | {} p50 (ms) | {} p50 (ms) | Speedup | {} interval |\n|---|---|---:|---:|---:|---:|",
        cell(&comparison.baseline),
        cell(&comparison.candidate),
        percent(CONFIDENCE)
    );
    for row in &comparison.rows {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} |",
            cell(&row.region),
            row.phase,
            short_ms(row.baseline.p50),
            short_ms(row.candidate.p50),
            row.speedup.map_or("n/a".to_owned(), times),
            row.interval.map_or("n/a".to_owned(), |(low, high)| format!(
                "{}–{}",
                times(low),
                times(high)
            )),
        );
    }
    md.push('\n');
}

fn errors_table(md: &mut String, summary: &Summary, targets: &[&str]) {
    md.push_str(
        "## Errors and cache\n\n| Region | Target | Samples | Errors | Error rate | Cache hits | Cache-hit rate |\n|---|---|---:|---:|---:|---:|---:|\n",
    );
    for series in summary.ordered(targets) {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} |",
            cell(&series.region),
            cell(&series.target),
            series.counts.rows,
            series.counts.errors,
            rate(series.counts.error_rate()),
            series.measured.cache.hit,
            series
                .measured
                .cache
                .hit_rate()
                .map_or("n/a".to_owned(), rate),
        );
    }
    md.push('\n');
}

fn summary_table(md: &mut String, summary: &Summary, targets: &[&str]) {
    md.push_str(
        "## All phases (summary.csv)\n\n| Region | Target | Phase | Count | p50 | p90 | p99 | Max | Mean |\n|---|---|---|---:|---:|---:|---:|---:|---:|\n",
    );
    for series in summary.ordered(targets) {
        for phase in Phase::ALL {
            let Some(s) = series.stats(phase) else {
                continue;
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                cell(&series.region),
                cell(&series.target),
                phase,
                s.count,
                short_ms(s.p50),
                short_ms(s.p90),
                short_ms(s.p99),
                short_ms(s.max),
                short_ms(s.mean),
            );
        }
    }
    md.push('\n');
}

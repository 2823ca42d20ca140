//! The machine-readable tables: `summary.csv` (every region × target × phase) and
//! `comparison.csv` (baseline against candidate). Times in milliseconds, three decimals.

use std::io::Write;

use crate::format::ratio;
use crate::stats::Phase;

use super::comparison::Comparison;
use super::summary::Summary;

pub const SUMMARY_COLUMNS: [&str; 12] = [
    "region", "target", "phase", "count", "errors", "min", "p50", "p90", "p99", "max", "mean",
    "stddev",
];

pub const COMPARISON_COLUMNS: [&str; 11] = [
    "region",
    "phase",
    "baseline",
    "candidate",
    "baseline_count",
    "candidate_count",
    "baseline_p50",
    "candidate_p50",
    "speedup",
    "speedup_low",
    "speedup_high",
];

/// One row per region × target × phase; a phase no successful sample had gets empty times.
pub fn write_summary(summary: &Summary, targets: &[&str], out: impl Write) -> csv::Result<()> {
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record(SUMMARY_COLUMNS)?;
    for series in summary.ordered(targets) {
        for phase in Phase::ALL {
            let mut row = vec![
                series.region.clone(),
                series.target.clone(),
                phase.name().to_owned(),
            ];
            let stats = series.stats(phase);
            row.push(stats.map_or(0, |s| s.count).to_string());
            row.push(series.counts.errors.to_string());
            row.extend(
                stats
                    .map(|s| [s.min, s.p50, s.p90, s.p99, s.max, s.mean, s.stddev])
                    .into_iter()
                    .flatten()
                    .map(ms),
            );
            row.resize(SUMMARY_COLUMNS.len(), String::new());
            csv.write_record(&row)?;
        }
    }
    csv.flush()?;
    Ok(())
}

/// One row per region × phase where both targets have samples. The interval columns
/// (`CONFIDENCE`) are empty when a side has too few samples for a bootstrap.
pub fn write_comparison(comparison: &Comparison, out: impl Write) -> csv::Result<()> {
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record(COMPARISON_COLUMNS)?;
    for row in &comparison.rows {
        let (low, high) = row.interval.unzip();
        csv.write_record([
            row.region.clone(),
            row.phase.name().to_owned(),
            comparison.baseline.clone(),
            comparison.candidate.clone(),
            row.baseline.count.to_string(),
            row.candidate.count.to_string(),
            ms(row.baseline.p50),
            ms(row.candidate.p50),
            row.speedup.map(ratio).unwrap_or_default(),
            low.map(ratio).unwrap_or_default(),
            high.map(ratio).unwrap_or_default(),
        ])?;
    }
    csv.flush()?;
    Ok(())
}

/// Milliseconds with microsecond precision, like the sample CSVs.
pub fn ms(value: f64) -> String {
    format!("{value:.3}")
}

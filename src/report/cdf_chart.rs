//! The distribution chart: per region, the empirical CDF of total time on a log time axis.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::format::short_ms;
use crate::stats::Phase;

use super::chart_frame::{ChartData, Drawn, frame, mesh, panel_chart};
use super::summary::Series;

/// Per region, the share of samples whose total time is at most x, as steps on a log time axis.
pub(super) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &ChartData,
    chart_title: &str,
) -> Drawn<DB> {
    let panels = frame(root, chart_title, data)?;
    let totals = data
        .summary
        .series
        .iter()
        .filter_map(|s| s.stats(Phase::Total));
    let (low, high) = totals.fold((f64::INFINITY, 0.0f64), |(lo, hi), st| {
        (lo.min(st.min), hi.max(st.max))
    });
    let (low, high) = log_range(low, high);
    for (panel, region) in panels.iter().zip(data.summary.regions()) {
        let mut chart =
            panel_chart(panel, region).build_cartesian_2d((low..high).log_scale(), 0f64..100f64)?;
        mesh(&mut chart)
            .x_desc("total time (ms, log scale)")
            .y_desc("samples at or below (%)")
            .y_label_formatter(&|y| format!("{y:.0}"))
            .x_label_formatter(&|x| log_tick(*x))
            .draw()?;
        for series in data.series_of(region) {
            let steps = cdf_steps(series, low);
            if steps.is_empty() {
                continue;
            }
            chart.draw_series(LineSeries::new(
                steps,
                data.colour(&series.target).stroke_width(3),
            ))?;
        }
    }
    Ok(())
}

/// A log axis from decade to decade: plotters labels powers of ten and the steps between them,
/// so a range inside one decade would have no labels. Zero is clamped to 1 µs.
fn log_range(low: f64, high: f64) -> (f64, f64) {
    if !low.is_finite() || high <= 0.0 {
        return (0.1, 10.0);
    }
    let decade = |ms: f64, round: fn(f64) -> f64| 10f64.powf(round(ms.max(0.001).log10()));
    let (low, high) = (decade(low, f64::floor), decade(high, f64::ceil));
    (low, if high > low { high } else { low * 10.0 })
}

/// Tick labels on a log axis: 1, 2 and 5 times a power of ten, so they never crowd.
fn log_tick(ms: f64) -> String {
    let leading = ms / 10f64.powf(ms.log10().floor());
    if [1.0, 2.0, 5.0, 10.0]
        .iter()
        .any(|l| (leading - l).abs() < 1e-6)
    {
        short_ms(ms)
    } else {
        String::new()
    }
}

/// (time, % at or below) corners of the empirical CDF, from the histogram (0.1 % resolution).
fn cdf_steps(series: &Series, start: f64) -> Vec<(f64, f64)> {
    let histogram = series.phase(Phase::Total).histogram();
    let count = histogram.count() as f64;
    let mut steps = vec![];
    let mut below = 0.0;
    for bucket in histogram.micros().iter_recorded() {
        let ms = (bucket.value_iterated_to() as f64 / 1000.0).max(start);
        if steps.is_empty() {
            steps.push((start, 0.0));
        }
        steps.push((ms, below));
        below += bucket.count_since_last_iteration() as f64 * 100.0 / count;
        steps.push((ms, below));
    }
    steps
}

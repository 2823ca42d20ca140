//! The charts, each drawn once per backend: PNG (1200×800) for people and SVG for the web.
//! Text is drawn with the bundled DejaVu Sans, so a machine without fonts renders it too.

use std::path::Path;

use anyhow::anyhow;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::format::short_ms;
use crate::stats::Phase;

use super::cdf_chart;
use super::chart_frame::font;
pub use super::chart_frame::{ChartData, SIZE};
use super::chart_frame::{Drawn, frame, mesh, panel_chart, register_font};
use super::summary::Series;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chart {
    /// The seed's picture: per region, grouped bars of resolve / connection / download / total.
    Phases,
    /// Empirical CDF of total time per target, log time axis.
    Cdf,
    /// Total time of each sample in row order: drift and outliers.
    Timeline,
}

impl Chart {
    pub const ALL: [Chart; 3] = [Chart::Phases, Chart::Cdf, Chart::Timeline];

    /// File name without extension.
    pub fn name(self) -> &'static str {
        match self {
            Chart::Phases => "phases",
            Chart::Cdf => "cdf",
            Chart::Timeline => "timeline",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Chart::Phases => "Median time per phase",
            Chart::Cdf => "Distribution of total time",
            Chart::Timeline => "Total time of each sample, in order",
        }
    }

    fn draw<DB: DrawingBackend>(
        self,
        root: &DrawingArea<DB, Shift>,
        data: &ChartData,
    ) -> Drawn<DB> {
        match self {
            Chart::Phases => draw_phases(root, data),
            Chart::Cdf => cdf_chart::draw(root, data, self.title()),
            Chart::Timeline => draw_timeline(root, data),
        }
    }
}

/// The seed's four bars, in its order; "download" is the whole transfer (first byte + body).
const SEED_PHASES: [(Phase, &str); 4] = [
    (Phase::Resolve, "resolve"),
    (Phase::Connection, "connection"),
    (Phase::Transfer, "download"),
    (Phase::Total, "total"),
];

/// Draws every chart into `dir` as `NAME.png` and `NAME.svg`.
pub fn write_all(dir: &Path, data: &ChartData) -> anyhow::Result<()> {
    register_font();
    for chart in Chart::ALL {
        let png = dir.join(format!("{}.png", chart.name()));
        render(BitMapBackend::new(&png, SIZE), chart, data, &png)?;
        let svg = dir.join(format!("{}.svg", chart.name()));
        render(SVGBackend::new(&svg, SIZE), chart, data, &svg)?;
    }
    Ok(())
}

fn render<DB: DrawingBackend>(
    backend: DB,
    chart: Chart,
    data: &ChartData,
    path: &Path,
) -> anyhow::Result<()> {
    let root = backend.into_drawing_area();
    chart
        .draw(&root, data)
        .and_then(|()| root.present())
        .map_err(|e| anyhow!("{}: {e}", path.display()))
}

/// Per region, the median of resolve / connection / download / total, one bar per target,
/// every bar labelled with its value; one y scale for all regions so they compare at a glance.
fn draw_phases<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, data: &ChartData) -> Drawn<DB> {
    let panels = frame(root, Chart::Phases.title(), data)?;
    let highest = data
        .summary
        .series
        .iter()
        .flat_map(|s| SEED_PHASES.map(|(phase, _)| s.stats(phase).map_or(0.0, |st| st.p50)))
        .fold(0.0, f64::max);
    let y_max = if highest > 0.0 { highest * 1.1 } else { 1.0 };
    for (panel, region) in panels.iter().zip(data.summary.regions()) {
        let series: Vec<&Series> = data.series_of(region).collect();
        let mut chart = panel_chart(panel, phases_caption(data, region))
            .build_cartesian_2d(-0.5f64..3.5f64, 0f64..y_max)?;
        mesh(&mut chart)
            .disable_x_mesh()
            .x_labels(SEED_PHASES.len() + 1)
            .x_label_formatter(&|x| {
                let index = x.round();
                let label = SEED_PHASES.get(index as usize).map(|(_, label)| *label);
                match label {
                    Some(label) if (x - index).abs() < 1e-6 && index >= 0.0 => label.to_owned(),
                    _ => String::new(),
                }
            })
            .x_desc("phase (download = first byte + body)")
            .y_desc("median time (ms)")
            .y_label_formatter(&|y| format!("{y:.0}"))
            .draw()?;
        let group = 0.8;
        let width = group / series.len().max(1) as f64;
        let label_size = if series.len() <= 2 { 16 } else { 13 };
        for (i, (phase, _)) in SEED_PHASES.iter().enumerate() {
            for (j, s) in series.iter().enumerate() {
                let Some(stats) = s.stats(*phase) else {
                    continue;
                };
                let left = i as f64 - group / 2.0 + j as f64 * width;
                let colour = data.colour(&s.target);
                chart.draw_series([Rectangle::new(
                    [(left + width * 0.06, 0.0), (left + width * 0.94, stats.p50)],
                    colour.filled(),
                )])?;
                chart.draw_series([EmptyElement::at((left + width / 2.0, stats.p50))
                    + Text::new(
                        short_ms(stats.p50),
                        (0, -4),
                        font(label_size).pos(Pos::new(HPos::Center, VPos::Bottom)),
                    )])?;
            }
        }
    }
    Ok(())
}

/// "Auckland: cloudfront 1.85× faster in total" when the region has both targets.
fn phases_caption(data: &ChartData, region: &str) -> String {
    let speedup = data
        .comparison
        .and_then(|c| Some((c, c.get(region, Phase::Total)?.speedup?)));
    match speedup {
        Some((c, s)) if s >= 1.0 => format!("{region}: {} {s:.2}× faster in total", c.candidate),
        Some((c, s)) => format!("{region}: {} {:.2}× slower in total", c.candidate, 1.0 / s),
        None => region.to_owned(),
    }
}

/// Tick labels on a count axis: whole numbers only.
fn whole(x: f64) -> String {
    if (x - x.round()).abs() < 1e-9 {
        format!("{x:.0}")
    } else {
        String::new()
    }
}

/// Up to this many points per line, each sample is also marked with a dot.
const MARKED_POINTS: usize = 200;

/// Per region, total time of each sample in row order; a long run is drawn as the mean of each
/// bin with a min–max whisker, so drift and outliers still show.
fn draw_timeline<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, data: &ChartData) -> Drawn<DB> {
    let panels = frame(root, Chart::Timeline.title(), data)?;
    let longest = data
        .summary
        .series
        .iter()
        .map(|s| s.measured.timeline.len())
        .max();
    let x_max = longest.unwrap_or(1).max(1) as f64;
    let y_max = data
        .summary
        .series
        .iter()
        .filter_map(|s| s.stats(Phase::Total))
        .fold(0.0, |hi: f64, st| hi.max(st.max));
    let y_max = if y_max > 0.0 { y_max * 1.08 } else { 1.0 };
    for (panel, region) in panels.iter().zip(data.summary.regions()) {
        let series: Vec<&Series> = data.series_of(region).collect();
        let width = series
            .iter()
            .map(|s| s.measured.timeline.width)
            .max()
            .unwrap_or(1);
        let caption = if width > 1 {
            format!("{region} (mean of each {width} samples, whiskers min–max)")
        } else {
            region.to_owned()
        };
        let mut chart =
            panel_chart(panel, caption).build_cartesian_2d(0.5f64..x_max + 0.5, 0f64..y_max)?;
        mesh(&mut chart)
            .disable_x_mesh()
            .x_desc("sample (row order)")
            .y_desc("total time (ms)")
            .x_label_formatter(&|x| whole(*x))
            .y_label_formatter(&|y| format!("{y:.0}"))
            .draw()?;
        for s in series {
            let colour = data.colour(&s.target);
            let bins = &s.measured.timeline.bins;
            let width = s.measured.timeline.width as f64;
            let points: Vec<(f64, f64, &super::summary::TimelineBin)> = bins
                .iter()
                .enumerate()
                .filter(|(_, bin)| bin.count > 0)
                .map(|(i, bin)| (i as f64 * width + (width + 1.0) / 2.0, bin.mean(), bin))
                .collect();
            if width > 1.0 {
                chart.draw_series(points.iter().map(|(x, _, bin)| {
                    PathElement::new([(*x, bin.min), (*x, bin.max)], colour.mix(0.35))
                }))?;
            }
            let sparse = points.len() <= MARKED_POINTS;
            chart.draw_series(LineSeries::new(
                points.iter().map(|(x, mean, _)| (*x, *mean)),
                colour.stroke_width(if sparse { 2 } else { 1 }),
            ))?;
            if sparse {
                chart.draw_series(
                    points
                        .iter()
                        .map(|(x, mean, _)| Circle::new((*x, *mean), 4, colour.filled())),
                )?;
            }
        }
    }
    Ok(())
}

//! The charts, each drawn once per backend: PNG (1200×800) for people and SVG for the web.
//! Text is drawn with the bundled DejaVu Sans, so a machine without fonts renders it too.

use std::path::Path;
use std::sync::Once;

use anyhow::anyhow;
use plotters::chart::MeshStyle;
use plotters::coord::Shift;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::stats::Phase;

use super::comparison::Comparison;
use super::markdown::short_ms;
use super::summary::{Series, Summary};

pub const SIZE: (u32, u32) = (1200, 800);

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
            Chart::Cdf => draw_cdf(root, data),
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

/// One colour per target (Tableau 10): the baseline first, the candidate second.
pub(super) const PALETTE: [RGBColor; 8] = [
    RGBColor(78, 121, 167),
    RGBColor(242, 142, 43),
    RGBColor(89, 161, 79),
    RGBColor(225, 87, 89),
    RGBColor(118, 183, 178),
    RGBColor(176, 122, 161),
    RGBColor(237, 201, 72),
    RGBColor(156, 117, 95),
];

const FONT: &str = "sans-serif";
static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

type Drawn<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// What every chart reads.
pub struct ChartData<'a> {
    pub summary: &'a Summary,
    pub comparison: Option<&'a Comparison>,
    /// Legend order; a target's colour is its position here.
    pub targets: &'a [&'a str],
    pub title: &'a str,
}

impl ChartData<'_> {
    fn colour(&self, target: &str) -> RGBColor {
        let index = self.targets.iter().position(|t| *t == target).unwrap_or(0);
        PALETTE[index % PALETTE.len()]
    }

    /// The region's series in legend order.
    fn series_of<'s>(&'s self, region: &'s str) -> impl Iterator<Item = &'s Series> + 's {
        self.targets
            .iter()
            .filter_map(move |target| self.summary.series(region, target))
    }
}

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

/// The font registry is global in plotters; registering once is enough.
pub(super) fn register_font() {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        if plotters::style::register_font(FONT, FontStyle::Normal, DEJAVU_SANS).is_err() {
            panic!("the bundled DejaVu Sans is a valid TrueType font");
        }
    });
}

/// A panel's chart: caption on top, room for tick labels and axis descriptions.
fn panel_chart<'a, 'b, DB: DrawingBackend>(
    panel: &'a DrawingArea<DB, Shift>,
    caption: impl AsRef<str>,
) -> ChartBuilder<'a, 'b, DB> {
    let mut builder = ChartBuilder::on(panel);
    builder
        .caption(caption, font(22))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(72);
    builder
}

/// Axes in the report's fonts, with few, faint minor grid lines.
fn mesh<'a, 'b, DB, X, Y>(
    chart: &'b mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
) -> MeshStyle<'a, 'b, X, Y, DB>
where
    DB: DrawingBackend,
    X: Ranged + ValueFormatter<X::ValueType>,
    Y: Ranged + ValueFormatter<Y::ValueType>,
{
    let mut style = chart.configure_mesh();
    style
        .label_style(font(17))
        .axis_desc_style(font(19))
        .light_line_style(RGBColor(238, 238, 238))
        .max_light_lines(1);
    style
}

pub(super) fn font(size: u32) -> TextStyle<'static> {
    (FONT, size).into_font().color(&BLACK)
}

/// White background, the title, one legend entry per target, and one panel per region.
fn frame<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: Chart,
    data: &ChartData,
) -> Result<Vec<DrawingArea<DB, Shift>>, DrawingAreaErrorKind<DB::ErrorType>> {
    let title = format!("{} — {}", data.title, chart.title().to_lowercase());
    root.fill(&WHITE)?;
    let root = root.margin(12, 12, 16, 16);
    let (heading, body) = root.split_vertically(48);
    let (width, _) = heading.dim_in_pixel();
    heading.draw(&Text::new(
        title,
        (width as i32 / 2, 4),
        font(28).pos(Pos::new(HPos::Center, VPos::Top)),
    ))?;
    let (legend, body) = body.split_vertically(36);
    draw_legend(&legend, data)?;
    let regions = data.summary.regions();
    // Two panels side by side at most: wider ones keep captions and phase names apart.
    let columns = regions.len().clamp(1, 2);
    let rows = regions.len().div_ceil(columns).max(1);
    Ok(body.split_evenly((rows, columns)))
}

/// Coloured squares and target names, centred in one line.
fn draw_legend<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, data: &ChartData) -> Drawn<DB> {
    const SWATCH: i32 = 18;
    const GAP: i32 = 28;
    let style = font(20);
    let widths: Vec<i32> = data
        .targets
        .iter()
        .map(|t| {
            area.estimate_text_size(t, &style)
                .map(|(w, _)| w as i32 + SWATCH + 8)
        })
        .collect::<Result<_, _>>()?;
    let total: i32 = widths.iter().sum::<i32>() + GAP * (widths.len() as i32 - 1).max(0);
    let (width, _) = area.dim_in_pixel();
    let mut x = (width as i32 - total) / 2;
    for (target, w) in data.targets.iter().zip(&widths) {
        area.draw(&Rectangle::new(
            [(x, 6), (x + SWATCH, 6 + SWATCH)],
            data.colour(target).filled(),
        ))?;
        area.draw(&Text::new(
            target.to_string(),
            (x + SWATCH + 8, 6 + SWATCH / 2),
            style.pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
        x += w + GAP;
    }
    Ok(())
}

/// Per region, the median of resolve / connection / download / total, one bar per target,
/// every bar labelled with its value; one y scale for all regions so they compare at a glance.
fn draw_phases<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, data: &ChartData) -> Drawn<DB> {
    let panels = frame(root, Chart::Phases, data)?;
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

/// Per region, the share of samples whose total time is at most x, as steps on a log time axis.
fn draw_cdf<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, data: &ChartData) -> Drawn<DB> {
    let panels = frame(root, Chart::Cdf, data)?;
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

/// Tick labels on a count axis: whole numbers only.
fn whole(x: f64) -> String {
    if (x - x.round()).abs() < 1e-9 {
        format!("{x:.0}")
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

/// Up to this many points per line, each sample is also marked with a dot.
const MARKED_POINTS: usize = 200;

/// Per region, total time of each sample in row order; a long run is drawn as the mean of each
/// bin with a min–max whisker, so drift and outliers still show.
fn draw_timeline<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, data: &ChartData) -> Drawn<DB> {
    let panels = frame(root, Chart::Timeline, data)?;
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

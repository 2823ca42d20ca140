//! What every chart reads and the frame it is drawn in: the data, the palette, the bundled font,
//! the title, the legend and one panel per region (`charts`, `cdf_chart` and `playback_chart`).

use std::sync::Once;

use plotters::chart::MeshStyle;
use plotters::coord::Shift;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::comparison::Comparison;
use super::summary::{Series, Summary};

pub const SIZE: (u32, u32) = (1200, 800);

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

pub(super) type Drawn<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// What every chart reads.
pub struct ChartData<'a> {
    pub summary: &'a Summary,
    pub comparison: Option<&'a Comparison>,
    /// Legend order; a target's colour is its position here.
    pub targets: &'a [&'a str],
    pub title: &'a str,
}

impl ChartData<'_> {
    pub(super) fn colour(&self, target: &str) -> RGBColor {
        let index = self.targets.iter().position(|t| *t == target).unwrap_or(0);
        PALETTE[index % PALETTE.len()]
    }

    /// The region's series in legend order.
    pub(super) fn series_of<'s>(
        &'s self,
        region: &'s str,
    ) -> impl Iterator<Item = &'s Series> + 's {
        self.targets
            .iter()
            .filter_map(move |target| self.summary.series(region, target))
    }
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
pub(super) fn panel_chart<'a, 'b, DB: DrawingBackend>(
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
pub(super) fn mesh<'a, 'b, DB, X, Y>(
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
pub(super) fn frame<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart_title: &str,
    data: &ChartData,
) -> Result<Vec<DrawingArea<DB, Shift>>, DrawingAreaErrorKind<DB::ErrorType>> {
    let title = format!("{} — {}", data.title, chart_title.to_lowercase());
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

//! The `playback` chart (PNG + SVG): per region, the median startup of each target as a bar,
//! labelled with its stalls per session — what a viewer waits for and how often the picture
//! freezes, side by side.

use std::path::Path;

use anyhow::anyhow;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::chart_frame::{PALETTE, SIZE, font, register_font};
use super::playback::Playback;

pub const NAME: &str = "playback";

/// Writes `playback.png` and `playback.svg` into `dir`. `targets` sets colours and bar order.
pub fn write(dir: &Path, playback: &Playback, targets: &[&str], title: &str) -> anyhow::Result<()> {
    register_font();
    let png = dir.join(format!("{NAME}.png"));
    let drawn = draw(
        &BitMapBackend::new(&png, SIZE).into_drawing_area(),
        playback,
        targets,
        title,
    );
    drawn.map_err(|e| anyhow!("{}: {e}", png.display()))?;
    let svg = dir.join(format!("{NAME}.svg"));
    let drawn = draw(
        &SVGBackend::new(&svg, SIZE).into_drawing_area(),
        playback,
        targets,
        title,
    );
    drawn.map_err(|e| anyhow!("{}: {e}", svg.display()))
}

/// Targets in legend order: the given ones first, then any other of the playback rows.
fn order<'a>(playback: &'a Playback, targets: &[&'a str]) -> Vec<&'a str> {
    let mut all: Vec<&str> = targets.to_vec();
    for group in &playback.groups {
        if !all.contains(&group.target.as_str()) {
            all.push(&group.target);
        }
    }
    all.retain(|t| playback.has_target(t));
    all
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    playback: &Playback,
    targets: &[&str],
    title: &str,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let targets = order(playback, targets);
    let regions = playback.regions();
    root.fill(&WHITE)?;
    let per_region = targets.len().max(1) as f64 + 1.0;
    let x_max = regions.len() as f64 * per_region - 1.0;
    let highest = playback
        .groups
        .iter()
        .filter_map(|g| g.startup_quantile(0.5))
        .fold(0.0, f64::max)
        / 1e3;
    let y_max = if highest > 0.0 { highest * 1.25 } else { 1.0 };
    let mut chart = ChartBuilder::on(root)
        .caption(
            format!("{title} — startup (median) and stalls per session"),
            font(26),
        )
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d(-0.5f64..x_max - 0.5, 0f64..y_max)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .light_line_style(RGBColor(238, 238, 238))
        .max_light_lines(1)
        .label_style(font(17))
        .axis_desc_style(font(19))
        .y_desc("startup, seconds (median)")
        .draw()?;
    for (r, region) in regions.iter().enumerate() {
        for (t, target) in targets.iter().enumerate() {
            let Some(group) = playback.get(region, target) else {
                continue;
            };
            let Some(startup) = group.startup_quantile(0.5) else {
                continue;
            };
            let x = r as f64 * per_region + t as f64;
            if t == 0 {
                // The region's name under its group of bars.
                let middle = r as f64 * per_region + (targets.len() as f64 - 1.0) / 2.0;
                chart.draw_series(std::iter::once(Text::new(
                    region.to_string(),
                    (middle, 0.0),
                    font(19).pos(Pos::new(HPos::Center, VPos::Top)),
                )))?;
            }
            let colour = PALETTE[t % PALETTE.len()];
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x - 0.4, 0.0), (x + 0.4, startup / 1e3)],
                colour.filled(),
            )))?;
            let stalls = group
                .stalls_per_session()
                .map_or_else(|| "n/a".to_string(), |s| format!("{s:.1}"));
            let label = format!("{target}: {:.2} s, {stalls} stalls", startup / 1e3);
            chart.draw_series(std::iter::once(Text::new(
                label,
                (x, startup / 1e3 + y_max * 0.02),
                font(15).pos(Pos::new(HPos::Center, VPos::Bottom)),
            )))?;
        }
    }
    root.present()
}

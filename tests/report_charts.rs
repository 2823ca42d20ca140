//! The charts: PNGs of the promised size with something drawn on them, SVGs that parse, and the
//! phases chart labelling each of the seed's bars with its value.

mod support;

use std::collections::HashSet;
use std::path::Path;

use support::{report_ok, seed_csv};

const CHARTS: [&str; 3] = ["phases", "cdf", "timeline"];

fn seed_report() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    report_ok(&seed_csv(), dir.path(), &["--title", "Seed figures"]);
    dir
}

/// (width, height, RGBA pixels) of a PNG.
fn decode_png(path: &Path) -> (u32, u32, Vec<u8>) {
    let mut decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    decoder.set_transformations(
        png::Transformations::normalize_to_color8() | png::Transformations::ALPHA,
    );
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut pixels).unwrap();
    pixels.truncate(info.buffer_size());
    assert_eq!(info.color_type, png::ColorType::Rgba, "{}", path.display());
    (info.width, info.height, pixels)
}

#[test]
fn every_chart_is_a_1200_by_800_png_with_something_drawn_on_it() {
    let dir = seed_report();
    for chart in CHARTS {
        let (width, height, pixels) = decode_png(&dir.path().join(format!("{chart}.png")));
        assert_eq!((width, height), (1200, 800), "{chart}");
        let colours: HashSet<&[u8]> = pixels.chunks(4).collect();
        let ink = pixels
            .chunks(4)
            .filter(|p| p[..3] != [255, 255, 255])
            .count();
        let share = ink as f64 / (width * height) as f64;
        assert!(
            colours.len() > 20,
            "{chart}: only {} colours",
            colours.len()
        );
        assert!(
            share > 0.01,
            "{chart}: {:.2} % of pixels drawn",
            share * 100.0
        );
    }
}

/// The text of every `<text>` element of an SVG, which must parse.
fn svg_texts(path: &Path) -> Vec<String> {
    let svg = std::fs::read_to_string(path).unwrap();
    let document =
        roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let root = document.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(
        (root.attribute("width"), root.attribute("height")),
        (Some("1200"), Some("800"))
    );
    root.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or_default().trim().to_owned())
        .collect()
}

#[test]
fn every_chart_is_an_svg_with_title_legend_and_axis_labels() {
    let dir = seed_report();
    for (chart, axis) in [
        ("phases", "median time (ms)"),
        ("cdf", "total time (ms, log scale)"),
        ("timeline", "total time (ms)"),
    ] {
        let texts = svg_texts(&dir.path().join(format!("{chart}.svg")));
        for expected in ["s3", "cloudfront", axis] {
            assert!(
                texts.iter().any(|t| t == expected),
                "{chart}: no {expected:?} in {texts:?}"
            );
        }
        assert!(
            texts.iter().any(|t| t.starts_with("Seed figures — ")),
            "{chart}: no title"
        );
    }
}

#[test]
fn phases_chart_labels_every_seed_bar_with_its_value() {
    let dir = seed_report();
    let texts = svg_texts(&dir.path().join("phases.svg"));
    let values = [
        "63", "280", "4173", "4516", "32", "127", "2278", "2437", // Auckland: s3, cloudfront
        "23", "327", "4969", "5319", "9", "155", "2326", "2490", // Sydney
    ];
    for value in values {
        assert!(texts.iter().any(|t| t == value), "no bar labelled {value}");
    }
    for caption in [
        "Auckland: cloudfront 1.85× faster in total",
        "Sydney: cloudfront 2.14× faster in total",
    ] {
        assert!(texts.iter().any(|t| t == caption), "no caption {caption:?}");
    }
}

//! `report.md` and `comparison.csv`: the seed's sentence, rates, notes and speedups.

mod support;

use cdnprobe::sample::CacheStatus;
use support::{
    Phases, failed, names_in, number, read_csv, report_ok, row, sample, seed_csv, write_samples,
};

#[test]
fn seed_figures_give_the_original_sentence_for_each_region() {
    let dir = tempfile::tempdir().unwrap();
    report_ok(&seed_csv(), dir.path(), &[]);
    let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    for sentence in [
        "In Auckland, cloudfront's total time was 2437 ms (32 ms resolve, 127 ms connection, \
         2278 ms download) compared to s3's 4516 ms (63 ms resolve, 280 ms connection, 4173 ms \
         download): cloudfront was 1.85× faster in total.",
        "In Sydney, cloudfront's total time was 2490 ms (9 ms resolve, 155 ms connection, \
         2326 ms download) compared to s3's 5319 ms (23 ms resolve, 327 ms connection, 4969 ms \
         download): cloudfront was 2.14× faster in total.",
    ] {
        assert!(md.contains(sentence), "missing {sentence:?} in\n{md}");
    }
}

#[test]
fn title_and_notes_head_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "--title",
        "Lab run",
        "--note",
        "Origin path emulated.",
        "--note",
        "Second.",
    ];
    report_ok(&seed_csv(), dir.path(), &args);
    let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    assert!(
        md.starts_with("# Lab run\n\n> Origin path emulated.\n\n> Second.\n"),
        "{md}"
    );
}

#[test]
fn error_and_cache_hit_rates_are_reported_per_target() {
    let dir = tempfile::tempdir().unwrap();
    let mut samples: Vec<_> = [
        CacheStatus::Hit,
        CacheStatus::Hit,
        CacheStatus::Hit,
        CacheStatus::Miss,
    ]
    .into_iter()
    .map(|cache| {
        let mut s = sample("lab", "cloudfront", Phases::new(1.0, 2.0, 3.0, 50.0));
        s.cache = cache;
        s
    })
    .collect();
    samples.push(failed("lab", "cloudfront"));
    samples.push(sample("lab", "s3", Phases::new(1.0, 2.0, 3.0, 100.0)));
    write_samples(&dir.path().join("lab.csv"), &samples);
    report_ok(&dir.path().join("lab.csv"), dir.path(), &[]);
    let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    assert!(
        md.contains("| lab | cloudfront | 5 | 1 | 20.0 % | 3 | 75.0 % |"),
        "{md}"
    );
    assert!(
        md.contains("| lab | s3 | 1 | 0 | 0.0 % | 0 | n/a |"),
        "{md}"
    );
}

#[test]
fn comparison_gives_the_speedup_of_medians_with_an_interval_around_it() {
    let dir = tempfile::tempdir().unwrap();
    let samples: Vec<_> = (0..25)
        .flat_map(|i| {
            let jitter = (i % 5) as f64;
            [
                sample(
                    "lab",
                    "origin",
                    Phases::new(1.0, 2.0, 3.0, 194.0 + jitter * 2.0),
                ),
                sample("lab", "edge", Phases::new(1.0, 2.0, 3.0, 94.0 + jitter)),
            ]
        })
        .collect();
    write_samples(&dir.path().join("lab.csv"), &samples);
    let args = ["--baseline", "origin", "--candidate", "edge"];
    report_ok(&dir.path().join("lab.csv"), dir.path(), &args);

    let rows = read_csv(&dir.path().join("comparison.csv"));
    let total = row(&rows, &[("region", "lab"), ("phase", "total")]);
    assert_eq!(
        (total["baseline"].as_str(), total["candidate"].as_str()),
        ("origin", "edge")
    );
    assert_eq!(
        (
            number(total, "baseline_p50"),
            number(total, "candidate_p50")
        ),
        (204.0, 102.0)
    );
    assert_eq!(number(total, "speedup"), 2.0);
    let (low, high) = (number(total, "speedup_low"), number(total, "speedup_high"));
    assert!(
        low <= 2.0 && 2.0 <= high && high - low < 0.2,
        "interval {low}–{high}"
    );
}

#[test]
fn a_second_report_into_the_same_directory_replaces_every_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    report_ok(&seed_csv(), &out, &["--title", "First"]);
    report_ok(&seed_csv(), &out, &["--title", "Second"]);
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.starts_with("# Second\n"), "{md}");
    let svg = std::fs::read_to_string(out.join("phases.svg")).unwrap();
    assert!(svg.contains("Second") && !svg.contains("First"));
    assert_eq!(
        names_in(dir.path()),
        ["out"],
        "no staging directory left beside it"
    );
}

#[test]
fn labels_with_markdown_characters_are_escaped_in_the_tables() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lab.csv");
    write_samples(
        &file,
        [sample("eu_west|1", "s3", Phases::new(1.0, 2.0, 3.0, 4.0))],
    );
    report_ok(&file, dir.path(), &[]);
    let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    assert!(
        md.contains("| eu\\_west\\|1 | s3 | 1 | 0 | 0.0 % |"),
        "{md}"
    );
}

#[test]
fn without_s3_and_cloudfront_the_report_has_no_comparison_rows() {
    let dir = tempfile::tempdir().unwrap();
    write_samples(
        &dir.path().join("lab.csv"),
        &[sample("lab", "origin", Phases::new(1.0, 2.0, 3.0, 4.0))],
    );
    report_ok(&dir.path().join("lab.csv"), dir.path(), &[]);
    assert!(read_csv(&dir.path().join("comparison.csv")).is_empty());
    let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    assert!(md.contains("No comparison"), "{md}");
}

//! Results in the layout on local disk (`file:///`): `push` writes the run layout as CSV or
//! Parquet, `report` reads trees, prefixes and Parquet back to the very same report, and
//! `--since` / `--until` / `--region` prune partitions before reading.

mod support;

use std::path::{Path, PathBuf};

use cdnprobe::sample::Sample;
use support::{Phases, cdnprobe, names_in, sample, stderr, write_samples};

/// A spool as a run leaves it (`RUN_ID.samples.csv`) holding `samples`, in `dir`.
fn spool(dir: &Path, run_id: &str, samples: &[Sample]) -> PathBuf {
    let path = dir.join(format!("{run_id}.samples.csv"));
    write_samples(&path, samples);
    path
}

/// Two regions × two targets, 150 rows each, log-normal-ish times from the synthetic rows.
fn rows() -> Vec<Sample> {
    let mut rows = Vec::new();
    for i in 0..150 {
        let jitter = 1.0 + (i % 17) as f64 / 40.0;
        for (region, target, total) in [
            ("auckland", "s3", 4000.0),
            ("auckland", "cloudfront", 1500.0),
            ("sydney", "s3", 3000.0),
            ("sydney", "cloudfront", 900.0),
        ] {
            let mut row = sample(region, target, Phases::https(total * jitter));
            row.sample = i + 1;
            rows.push(row);
        }
    }
    rows
}

fn push(spool: &Path, url: &str, format: &str) {
    let output = cdnprobe(["push", spool.to_str().unwrap(), url, "--format", format]);
    assert!(output.status.success(), "push: {}", stderr(&output));
    assert!(!spool.exists(), "a pushed spool is removed");
}

/// `report INPUT --out DIR EXTRA`; the summary.csv and comparison.csv it wrote.
fn report_tables(input: &str, out: &Path, extra: &[&str]) -> (String, String) {
    let mut args = vec!["report", input, "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let output = cdnprobe(&args);
    assert!(
        output.status.success(),
        "report {input}: {}",
        stderr(&output)
    );
    let read = |name| std::fs::read_to_string(out.join(name)).unwrap();
    (read("summary.csv"), read("comparison.csv"))
}

#[test]
fn csv_and_parquet_pushed_to_the_layout_report_exactly_as_the_spool_does() {
    let dir = tempfile::tempdir().unwrap();
    let rows = rows();
    let reference = dir.path().join("reference.csv");
    write_samples(&reference, &rows);
    let run_id = "20261124T220000Z-akl-0000000000000001";
    let tree = dir.path().join("results");
    for format in ["csv", "parquet"] {
        let spool = spool(dir.path(), run_id, &rows);
        push(
            &spool,
            &format!("file://{}/{format}", tree.display()),
            format,
        );
    }
    let keys = |format: &str| names_in(&tree.join(format).join("kind=samples/date=2026-11-24"));
    assert_eq!(keys("csv"), ["region=auckland", "region=sydney"]);
    assert_eq!(
        names_in(&tree.join("parquet/kind=samples/date=2026-11-24/region=sydney")),
        [format!("{run_id}.parquet")]
    );

    let expected = report_tables(reference.to_str().unwrap(), &dir.path().join("r0"), &[]);
    let csv_tree = tree.join("csv");
    let parquet_url = format!("file://{}/parquet", tree.display());
    assert_eq!(
        report_tables(csv_tree.to_str().unwrap(), &dir.path().join("r1"), &[]),
        expected
    );
    assert_eq!(
        report_tables(&parquet_url, &dir.path().join("r2"), &[]),
        expected
    );

    // Parquet is typed and compressed: well under a quarter of the CSV's bytes.
    let size = |format: &str, ext: &str| {
        let file = tree.join(format!(
            "{format}/kind=samples/date=2026-11-24/region=sydney/{run_id}.{ext}"
        ));
        std::fs::metadata(file).unwrap().len()
    };
    assert!(size("parquet", "parquet") * 4 <= size("csv", "csv"));
}

#[test]
fn pushing_the_same_spool_twice_is_harmless_and_other_bytes_are_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}/results", dir.path().display());
    let run_id = "20261124T220000Z-akl-0000000000000002";
    let rows = rows();
    push(&spool(dir.path(), run_id, &rows), &url, "csv");
    push(&spool(dir.path(), run_id, &rows), &url, "csv");

    let other = spool(dir.path(), run_id, &rows[..10]);
    let output = cdnprobe(["push", other.to_str().unwrap(), &url]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("already exists with other contents; nothing was overwritten")
    );
    assert!(other.exists(), "the spool is kept");
}

/// A tree with one good object per (date, region) and garbage where pruning must not look.
fn dated_tree(dir: &Path) -> PathBuf {
    let tree = dir.join("results");
    let url = format!("file://{}", tree.display());
    for (day, region) in [("24", "auckland"), ("25", "auckland"), ("25", "sydney")] {
        let rows: Vec<Sample> = rows()
            .into_iter()
            .filter(|row| row.region == region)
            .map(|mut row| {
                row.started_at = format!("2026-11-{day}T22:00:00.000000Z");
                row
            })
            .collect();
        let run_id = format!("202611{day}T220000Z-{region}-00000000000000{day}");
        push(&spool(dir, &run_id, &rows), &url, "parquet");
    }
    let poison = tree.join("kind=samples/date=2026-11-20/region=auckland/corrupt.csv");
    std::fs::create_dir_all(poison.parent().unwrap()).unwrap();
    std::fs::write(&poison, "not,a,sample\n1,2,3\n").unwrap();
    tree
}

#[test]
fn since_and_region_prune_partitions_before_reading_and_filter_rows() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dated_tree(dir.path());
    let url = format!("file://{}", tree.display());

    // Without a window the corrupt object in date=2026-11-20 is read, named, and stops the report.
    let out = dir.path().join("all");
    let output = cdnprobe(["report", &url, "--out", out.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("corrupt.csv:1: missing column(s)"),
        "{}",
        stderr(&output)
    );
    assert!(!out.exists(), "nothing written");

    let (summary, _) = report_tables(&url, &dir.path().join("since"), &["--since", "2026-11-24"]);
    let regions =
        |summary: &str, region: &str| summary.lines().filter(|l| l.starts_with(region)).count();
    assert!(regions(&summary, "auckland,") > 0 && regions(&summary, "sydney,") > 0);

    let (only_sydney, _) = report_tables(
        tree.to_str().unwrap(),
        &dir.path().join("sydney"),
        &["--since", "2026-11-21", "--region", "sydney"],
    );
    assert_eq!(regions(&only_sydney, "auckland,"), 0);
    assert!(regions(&only_sydney, "sydney,") > 0);

    // --until includes its day: the 24th alone, only auckland had rows then.
    let (day_24, _) = report_tables(
        &url,
        &dir.path().join("d24"),
        &["--since", "2026-11-24", "--until", "2026-11-24"],
    );
    assert_eq!(regions(&day_24, "sydney,"), 0);
    let counts: Vec<&str> = day_24
        .lines()
        .filter(|l| l.contains(",total,"))
        .map(|l| l.split(',').nth(3).unwrap())
        .collect();
    assert_eq!(counts, ["150", "150"], "{day_24}");
}

#[test]
fn skip_bad_skips_the_corrupt_object_with_a_warning_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dated_tree(dir.path());
    let url = format!("file://{}", tree.display());
    let out = dir.path().join("report");
    let output = cdnprobe(["report", &url, "--out", out.to_str().unwrap(), "--skip-bad"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("warning: skipping"),
        "{}",
        stderr(&output)
    );
    assert!(
        stderr(&output).contains("corrupt.csv"),
        "{}",
        stderr(&output)
    );
}

//! `summary.csv`: the statistics of every region × target × phase, checked against values
//! computed here, independently, from the rows the test wrote.

mod support;

use support::{Phases, check, failed, number, read_csv, report_ok, row, sample, write_samples};

/// The percentile as `cdnprobe::stats::quantile` defines it for report and check alike:
/// linear interpolation between the closest ranks, at position q·(n − 1).
fn interpolated(sorted: &[f64], q: f64) -> f64 {
    let position = q * (sorted.len() - 1) as f64;
    let (low, high) = (position.floor() as usize, position.ceil() as usize);
    sorted[low] + (sorted[high] - sorted[low]) * (position - low as f64)
}

fn assert_close(what: &str, got: f64, want: f64, relative: f64) {
    assert!(
        (got - want).abs() <= want.abs() * relative + 0.0005,
        "{what}: got {got}, want {want} (±{:.2} %)",
        relative * 100.0
    );
}

#[test]
fn long_run_percentiles_match_independent_ones_within_a_tenth_of_a_percent() {
    let dir = tempfile::tempdir().unwrap();
    // More rows than the exact reservoir holds, so the HdrHistogram path is the one checked.
    let downloads: Vec<f64> = (0..3000u64)
        .map(|i| 50.0 + ((i * 7919) % 3001) as f64 * 1.37 + (i % 7) as f64 * 0.013)
        .collect();
    let samples: Vec<_> = downloads
        .iter()
        .map(|&d| sample("lab", "origin", Phases::new(2.0, 10.0, 20.0, d)))
        .collect();
    write_samples(&dir.path().join("lab.csv"), &samples);
    report_ok(&dir.path().join("lab.csv"), &dir.path().join("out"), &[]);

    let rows = read_csv(&dir.path().join("out/summary.csv"));
    let total = row(
        &rows,
        &[("region", "lab"), ("target", "origin"), ("phase", "total")],
    );
    let mut totals: Vec<f64> = downloads.iter().map(|d| d + 32.0).collect();
    totals.sort_by(f64::total_cmp);
    let mean = totals.iter().sum::<f64>() / totals.len() as f64;
    let variance = totals.iter().map(|t| (t - mean).powi(2)).sum::<f64>() / totals.len() as f64;
    assert_eq!(total["count"], "3000");
    assert_eq!(total["errors"], "0");
    for (column, want) in [
        ("min", totals[0]),
        ("p50", interpolated(&totals, 0.5)),
        ("p90", interpolated(&totals, 0.9)),
        ("p99", interpolated(&totals, 0.99)),
        ("max", totals[totals.len() - 1]),
        ("mean", mean),
        ("stddev", variance.sqrt()),
    ] {
        assert_close(column, number(total, column), want, 0.001);
    }
}

#[test]
fn short_run_percentiles_are_exact() {
    let dir = tempfile::tempdir().unwrap();
    let downloads = [900.125, 100.5, 300.25, 700.0, 500.75, 200.0, 800.5];
    let samples: Vec<_> = downloads
        .iter()
        .map(|&d| sample("lab", "origin", Phases::new(1.0, 2.0, 3.0, d)))
        .collect();
    write_samples(&dir.path().join("lab.csv"), &samples);
    report_ok(&dir.path().join("lab.csv"), &dir.path().join("out"), &[]);

    let rows = read_csv(&dir.path().join("out/summary.csv"));
    let download = row(&rows, &[("target", "origin"), ("phase", "download")]);
    let got: Vec<&str> = ["min", "p50", "p90", "p99", "max", "mean"]
        .iter()
        .map(|c| download[*c].as_str())
        .collect();
    // Sorted: 100.5 200 300.25 500.75 700 800.5 900.125; p50 is the 4th (position 3), p90
    // lies 0.4 and p99 0.94 of the way from the 6th to the 7th (positions 5.4 and 5.94).
    assert_eq!(
        got,
        [
            "100.500", "500.750", "840.350", "894.147", "900.125", "500.304"
        ]
    );
}

#[test]
fn failed_rows_are_counted_as_errors_and_left_out_of_every_time() {
    let dir = tempfile::tempdir().unwrap();
    let mut samples: Vec<_> = (1..=10)
        .map(|i| sample("lab", "origin", Phases::new(1.0, 2.0, 3.0, 10.0 * i as f64)))
        .collect();
    samples.insert(3, failed("lab", "origin"));
    samples.push(failed("lab", "origin"));
    write_samples(&dir.path().join("lab.csv"), &samples);
    report_ok(&dir.path().join("lab.csv"), &dir.path().join("out"), &[]);

    let rows = read_csv(&dir.path().join("out/summary.csv"));
    for phase in ["dns", "connect", "ttfb", "download", "total", "connection"] {
        let r = row(&rows, &[("target", "origin"), ("phase", phase)]);
        assert_eq!(
            (r["count"].as_str(), r["errors"].as_str()),
            ("10", "2"),
            "{phase}"
        );
        assert!(
            number(r, "max") < 1000.0,
            "{phase} max includes a failed row"
        );
    }
    let total = row(&rows, &[("target", "origin"), ("phase", "total")]);
    assert_eq!(total["mean"], "61.000");
}

#[test]
fn grouped_phases_are_sums_of_measured_ones() {
    let dir = tempfile::tempdir().unwrap();
    let mut with_tls = sample("lab", "origin", Phases::new(4.0, 10.0, 30.0, 200.0));
    with_tls.tls_ms = Some(15.0);
    write_samples(&dir.path().join("lab.csv"), &[with_tls]);
    report_ok(&dir.path().join("lab.csv"), &dir.path().join("out"), &[]);

    let rows = read_csv(&dir.path().join("out/summary.csv"));
    let p50 = |phase| row(&rows, &[("phase", phase)])["p50"].clone();
    assert_eq!(p50("resolve"), "4.000");
    assert_eq!(p50("connection"), "25.000");
    assert_eq!(p50("transfer"), "230.000");
}

#[test]
fn each_region_and_target_from_a_directory_of_files_gets_its_own_rows() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("runs");
    std::fs::create_dir(&inputs).unwrap();
    for (region, download) in [("auckland", 400.0), ("sydney", 300.0)] {
        let samples = [
            sample(region, "s3", Phases::new(1.0, 2.0, 3.0, download * 2.0)),
            sample(region, "cloudfront", Phases::new(1.0, 2.0, 3.0, download)),
        ];
        write_samples(&inputs.join(format!("{region}.csv")), &samples);
    }
    report_ok(&inputs, &dir.path().join("out"), &[]);

    let rows = read_csv(&dir.path().join("out/summary.csv"));
    assert_eq!(rows.len(), 2 * 2 * 9, "region × target × phase");
    let download = |region, target| {
        row(
            &rows,
            &[
                ("region", region),
                ("target", target),
                ("phase", "download"),
            ],
        )["p50"]
            .clone()
    };
    assert_eq!(download("auckland", "s3"), "800.000");
    assert_eq!(download("sydney", "cloudfront"), "300.000");
}

#[test]
fn report_and_check_give_the_same_p50_for_the_same_csv() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("auckland.csv");
    // Two rows a target: the median is the mean of the two totals (4516 and 9032 for s3).
    let samples = [
        sample("Auckland", "s3", Phases::new(63.0, 280.0, 0.0, 4173.0)),
        sample("Auckland", "s3", Phases::new(126.0, 560.0, 0.0, 8346.0)),
        sample(
            "Auckland",
            "cloudfront",
            Phases::new(32.0, 127.0, 0.0, 2278.0),
        ),
        sample(
            "Auckland",
            "cloudfront",
            Phases::new(64.0, 254.0, 0.0, 4556.0),
        ),
    ];
    write_samples(&file, samples);
    report_ok(&file, &dir.path().join("out"), &[]);
    let rows = read_csv(&dir.path().join("out/summary.csv"));
    let report_p50 = |target| number(row(&rows, &[("target", target), ("phase", "total")]), "p50");

    let extra = [
        "--min-speedup",
        "1",
        "--min-samples",
        "2",
        "--format",
        "json",
    ];
    let output = check(&file, &extra);
    let verdict: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let check_p50 = |side: &str| verdict["checks"][0][side]["statistic_ms"].as_f64().unwrap();

    assert_eq!(report_p50("s3"), 6774.0);
    assert_eq!(check_p50("baseline"), report_p50("s3"));
    assert_eq!(check_p50("candidate"), report_p50("cloudfront"));
}

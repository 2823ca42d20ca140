//! Bad input: one line `file:line: what is wrong`, exit status 2, and no report written.

mod support;

use std::path::Path;

use support::{Phases, names_in, report, sample, seed_csv, set_cell, write_samples};

/// Runs the report on `input`, expects exit 2 and a message starting with `expected`, and checks
/// that nothing was written.
fn assert_rejected(input: &Path, expected: &str) {
    let out = input.parent().unwrap().join("out");
    let output = report(&[input.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert!(
        stderr.starts_with(&format!("cdnprobe: {expected}")),
        "stderr: {stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(!out.exists(), "a report was written for bad input");
}

const HEADER: &str = "started_at,region,target,url,sample,http_version,status,remote_addr,bytes,\
dns_ms,connect_ms,tls_ms,ttfb_ms,download_ms,total_ms,throughput_mbps,cache,pop,error";

#[test]
fn missing_columns_are_named_with_the_header_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("runs.csv");
    std::fs::write(&file, "region,target,total_ms\nlab,s3,12.5\n").unwrap();
    assert_rejected(
        &file,
        &format!("{}:1: missing column(s): started_at, url", file.display()),
    );
}

#[test]
fn a_non_numeric_time_is_reported_with_its_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("runs.csv");
    write_samples(
        &file,
        vec![sample("lab", "s3", Phases::new(1.0, 2.0, 3.0, 4.0)); 2],
    );
    let text = std::fs::read_to_string(&file).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines[2] = lines[2].replace(",4.000,", ",fast,");
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    assert_rejected(
        &file,
        &format!(
            "{}:3: column download_ms: not a number: \"fast\"",
            file.display()
        ),
    );
}

#[test]
fn an_empty_file_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("runs.csv");
    std::fs::write(&file, "").unwrap();
    assert_rejected(&file, &format!("{}:1: empty file", file.display()));
}

#[test]
fn a_header_without_rows_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("runs.csv");
    std::fs::write(&file, format!("{HEADER}\n")).unwrap();
    assert_rejected(&file, &format!("{}:1: no sample rows", file.display()));
}

#[test]
fn a_directory_without_csv_files_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    std::fs::create_dir(&runs).unwrap();
    std::fs::write(runs.join("notes.txt"), "not samples").unwrap();
    assert_rejected(
        &runs,
        &format!(
            "{}: directory has no .csv or .parquet files",
            runs.display()
        ),
    );
}

#[test]
fn an_out_that_is_a_file_exits_2_and_leaves_the_file_alone() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    std::fs::write(&out, "not a directory").unwrap();
    let output = report(&[seed_csv().to_str().unwrap(), "--out", out.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert_eq!(
        stderr,
        format!(
            "cdnprobe: --out {}: not a directory (the report is a directory of files)\n",
            out.display()
        )
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "not a directory");
    assert_eq!(
        names_in(dir.path()),
        ["report"],
        "nothing written beside it"
    );
}

#[test]
fn an_unknown_baseline_label_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("runs.csv");
    write_samples(
        &file,
        &[sample("lab", "s3", Phases::new(1.0, 2.0, 3.0, 4.0))],
    );
    let out = dir.path().join("out");
    let output = report(&[
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--baseline",
        "origin",
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains("--baseline origin: no such target in the input (targets: s3)"));
    assert!(!out.exists());
}

#[test]
fn infinite_not_a_number_and_negative_times_are_rejected() {
    for value in ["inf", "-inf", "NaN", "-1.5", "infinity"] {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("runs.csv");
        write_samples(
            &file,
            vec![sample("lab", "s3", Phases::new(1.0, 2.0, 3.0, 4.0)); 2],
        );
        set_cell(&file, 3, "download_ms", value);
        assert_not_finite_rejected(&file, 3, "download_ms");
    }
}

#[test]
fn an_infinite_throughput_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("runs.csv");
    write_samples(
        &file,
        &[sample("lab", "s3", Phases::new(1.0, 2.0, 3.0, 4.0))],
    );
    set_cell(&file, 2, "throughput_mbps", "inf");
    assert_not_finite_rejected(&file, 2, "throughput_mbps");
}

#[test]
fn a_bad_row_after_blank_lines_is_reported_with_its_own_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("runs.csv");
    write_samples(
        &file,
        vec![sample("lab", "s3", Phases::new(1.0, 2.0, 3.0, 4.0)); 2],
    );
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // header, row, blank, blank, bad row: the bad row is line 5.
    let bad = lines[2].replace(",4.000,", ",fast,");
    std::fs::write(&file, format!("{}\n{}\n\n\n{bad}\n", lines[0], lines[1])).unwrap();
    assert_rejected(
        &file,
        &format!(
            "{}:5: column download_ms: not a number: \"fast\"",
            file.display()
        ),
    );
}

/// The report refuses `file` with `file:line: column COLUMN: not a finite non-negative number`.
fn assert_not_finite_rejected(file: &Path, line: usize, column: &str) {
    let what = "not a finite non-negative number";
    assert_rejected(
        file,
        &format!("{}:{line}: column {column}: {what}", file.display()),
    );
}

//! Shared by the integration tests that drive the binary (`run_cli`, `report_*`, `check_*`): the real `cdnprobe` binary, and
//! sample CSVs written with the library's synthetic rows (`cdnprobe::synthetic`) in the real
//! schema.

#![allow(dead_code)] // each test file uses its own subset

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cdnprobe::sample::{ErrorClass, Sample};
pub use cdnprobe::synthetic::{Phases, sample};

/// `cdnprobe ARGS...`: the built binary, its exit status and output.
pub fn cdnprobe<S: AsRef<std::ffi::OsStr>>(args: impl IntoIterator<Item = S>) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cdnprobe"))
        .args(args)
        .output()
        .expect("cdnprobe runs")
}

/// What a `cdnprobe` child process did, as `wait4` reports it: its peak resident set is its
/// own, not the test process's.
pub struct Finished {
    pub success: bool,
    pub peak_rss_kib: i64,
}

/// `cdnprobe ARGS...` run to its end, reaped by `wait4` (not `Child::wait`) for its peak RSS.
#[allow(clippy::zombie_processes)]
pub fn cdnprobe_measured<S: AsRef<std::ffi::OsStr>>(args: impl IntoIterator<Item = S>) -> Finished {
    let child = Command::new(env!("CARGO_BIN_EXE_cdnprobe"))
        .args(args)
        .spawn()
        .expect("cdnprobe starts");
    let (mut status, mut usage) = (0, unsafe { std::mem::zeroed::<libc::rusage>() });
    // SAFETY: waits for our own child; both out-pointers are valid for the call.
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as i32, "wait4 failed");
    Finished {
        success: libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        peak_rss_kib: usage.ru_maxrss,
    }
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// `cdnprobe check INPUT --baseline s3 --candidate cloudfront EXTRA...`
pub fn check(input: &Path, extra: &[&str]) -> Output {
    let input = input.to_str().unwrap();
    let args = [
        "check",
        input,
        "--baseline",
        "s3",
        "--candidate",
        "cloudfront",
    ];
    cdnprobe(args.iter().chain(extra))
}

/// The committed CSV of the original project's published figures.
pub fn seed_csv() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/seed-auckland-sydney/seed-figures.csv")
}

/// `cdnprobe report ARGS...`
pub fn report(args: &[&str]) -> Output {
    cdnprobe(["report"].iter().chain(args))
}

/// `cdnprobe report INPUT --out OUT EXTRA...`, which must succeed.
pub fn report_ok(input: &Path, out: &Path, extra: &[&str]) {
    let mut args = vec![input.to_str().unwrap(), "--out", out.to_str().unwrap()];
    args.extend(extra);
    let output = report(&args);
    assert!(
        output.status.success(),
        "report failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A failed sample with absurd times, which no statistic may include.
pub fn failed(region: &str, target: &str) -> Sample {
    let absurd = Phases::new(1e6, 1e6, 1e6, 1e6);
    cdnprobe::synthetic::failed(sample(region, target, absurd), ErrorClass::Timeout)
}

/// Writes `samples` as a sample CSV at `path`.
pub fn write_samples<S: std::borrow::Borrow<Sample>>(
    path: &Path,
    samples: impl IntoIterator<Item = S>,
) {
    cdnprobe::synthetic::write_csv_file(path, samples).unwrap();
}

/// The names in `dir`, sorted: what a command left there.
pub fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Rows of a CSV as column → value maps.
pub fn read_csv(path: &Path) -> Vec<HashMap<String, String>> {
    let mut csv = csv::Reader::from_path(path).unwrap();
    let headers = csv.headers().unwrap().clone();
    csv.records()
        .map(|r| {
            let r = r.unwrap();
            headers
                .iter()
                .map(String::from)
                .zip(r.iter().map(String::from))
                .collect()
        })
        .collect()
}

/// The row of `rows` whose columns have the given values.
pub fn row<'a>(
    rows: &'a [HashMap<String, String>],
    key: &[(&str, &str)],
) -> &'a HashMap<String, String> {
    rows.iter()
        .find(|r| key.iter().all(|(k, v)| r[*k] == *v))
        .unwrap_or_else(|| panic!("no row with {key:?}"))
}

pub fn number(row: &HashMap<String, String>, column: &str) -> f64 {
    row[column]
        .parse()
        .unwrap_or_else(|_| panic!("{column} = {:?} is not a number", row[column]))
}

/// Overwrites one cell of a sample CSV: `column` (by name) of the 1-based `line` of `file`.
/// The synthetic rows have no quoted fields, so splitting on commas is exact.
pub fn set_cell(file: &Path, line: usize, column: &str, value: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let index = lines[0]
        .split(',')
        .position(|name| name == column)
        .unwrap_or_else(|| panic!("no column {column}"));
    let mut cells: Vec<&str> = lines[line - 1].split(',').collect();
    cells[index] = value;
    lines[line - 1] = cells.join(",");
    std::fs::write(file, lines.join("\n") + "\n").unwrap();
}

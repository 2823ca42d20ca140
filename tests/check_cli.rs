//! `cdnprobe check` end to end: the real binary on sample CSVs written in the probe's schema
//! (`Sample` rows through the csv crate, as `cdnprobe run` writes them), in all four formats.

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

use cdnprobe::check::{self, Outcome};
use cdnprobe::cli::{Cli, Command as Subcommand};
use cdnprobe::sample::{CacheStatus, ErrorClass, Sample};
use cdnprobe::synthetic::{self, log_normal};
use clap::Parser;
use rand::SeedableRng;
use rand_pcg::Pcg64;
use support::{Phases, cdnprobe, check, sample, set_cell, stderr, stdout, write_samples};

/// Samples of one target in one region: `count` fetches whose total time is log-normal around
/// `median_ms` (σ = `sigma`), of which the first `errors` failed.
#[derive(Clone, Copy)]
struct Target {
    region: &'static str,
    label: &'static str,
    median_ms: f64,
    sigma: f64,
    count: u64,
    errors: u64,
}

impl Target {
    const fn new(region: &'static str, label: &'static str, median_ms: f64) -> Self {
        Self {
            region,
            label,
            median_ms,
            sigma: 0.3,
            count: 30,
            errors: 0,
        }
    }

    const fn count(self, count: u64) -> Self {
        Self { count, ..self }
    }

    const fn errors(self, errors: u64) -> Self {
        Self { errors, ..self }
    }

    const fn sigma(self, sigma: f64) -> Self {
        Self { sigma, ..self }
    }

    /// Rows as the probe writes them over https: phases adding up to the total. A failed
    /// fetch looks fast (1 ms in all): it must not count as a time.
    fn samples(&self, rng: &mut Pcg64) -> Vec<Sample> {
        (1..=self.count)
            .map(|n| {
                let total = log_normal(rng, self.median_ms, self.sigma);
                let failed = n <= self.errors;
                let phases = Phases::https(if failed { 1.0 } else { total });
                let mut sample = sample(self.region, self.label, phases);
                sample.sample = n;
                if self.label == "cloudfront" {
                    (sample.cache, sample.pop) = (CacheStatus::Hit, "FRA56-P1".into());
                }
                if failed {
                    sample = synthetic::failed(sample, ErrorClass::Timeout);
                }
                sample
            })
            .collect()
    }
}

/// A directory with one CSV per region, as `cdnprobe run` leaves them.
fn probe_dir(targets: &[Target]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Pcg64::seed_from_u64(11);
    let mut regions: Vec<&str> = targets.iter().map(|t| t.region).collect();
    regions.dedup();
    for region in regions {
        let samples = targets
            .iter()
            .filter(|t| t.region == region)
            .flat_map(|target| target.samples(&mut rng));
        write_samples(
            &dir.path().join(format!("{region}.csv")),
            samples.collect::<Vec<_>>(),
        );
    }
    dir
}

const EU_S3: Target = Target::new("eu-west-1", "s3", 420.0);
const EU_CDN: Target = Target::new("eu-west-1", "cloudfront", 120.0);
const US_S3: Target = Target::new("us-east-1", "s3", 300.0);
const US_CDN: Target = Target::new("us-east-1", "cloudfront", 100.0);

/// Two regions where the CDN is 3.0–3.5× faster.
fn fast_cdn() -> tempfile::TempDir {
    probe_dir(&[EU_S3, EU_CDN, US_S3, US_CDN])
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap()
}

// ---- verdicts and exit codes ----

#[test]
fn clear_gain_passes_with_exit_0() {
    let dir = fast_cdn();
    let output = check(dir.path(), &["--min-speedup", "1.5"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(stdout(&output).contains("PASS: all 2 region/metric checks passed"));
}

#[test]
fn gain_below_the_threshold_fails_with_exit_1() {
    let dir = fast_cdn();
    let output = check(dir.path(), &["--min-speedup", "6"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.contains("lies below 6.00×"), "{text}");
    assert!(text.contains("FAIL: 2 of 2"), "{text}");
}

/// 12 noisy samples a side (σ = 0.6), true speedup 1.5: the interval straddles 1.5.
fn noisy_1_5x() -> tempfile::TempDir {
    probe_dir(&[
        EU_S3.count(12).sigma(0.6),
        Target::new("eu-west-1", "cloudfront", 280.0)
            .count(12)
            .sigma(0.6),
    ])
}

#[test]
fn straddling_interval_is_inconclusive_and_fails_by_default() {
    let dir = noisy_1_5x();
    let output = check(dir.path(), &["--min-speedup", "1.5", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(json(&output)["checks"][0]["outcome"], "inconclusive");
}

#[test]
fn inconclusive_pass_lets_an_inconclusive_region_pass() {
    let dir = noisy_1_5x();
    let output = check(
        dir.path(),
        &["--min-speedup", "1.5", "--inconclusive", "pass"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(stdout(&output).contains("inconclusive (counted as pass)"));
}

#[test]
fn error_rate_above_the_limit_fails_with_that_reason() {
    let dir = probe_dir(&[EU_S3, EU_CDN.count(40).errors(4)]);
    let output = check(dir.path(), &["--min-speedup", "1.5"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(
        text.contains(
            "cloudfront: error rate 10.0 % is above --max-error-rate 5.0 % (4 of 40 samples failed)"
        ),
        "{text}"
    );
}

#[test]
fn too_few_successful_samples_fail_with_that_reason() {
    let dir = probe_dir(&[EU_S3, EU_CDN.count(8)]);
    let output = check(dir.path(), &["--min-speedup", "1.5"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output)
            .contains("cloudfront: too few successful samples with total_ms: 8 (--min-samples 10)"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn candidate_whose_every_sample_failed_fails_rather_than_erroring() {
    let dir = probe_dir(&[EU_S3, EU_CDN.errors(30)]);
    let output = check(dir.path(), &["--min-speedup", "1.5", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let check = &json(&output)["checks"][0];
    assert_eq!(check["outcome"], "fail");
    assert!(check["speedup"].is_null());
    assert_eq!(check["reasons"].as_array().unwrap().len(), 2, "{check}");
}

#[test]
fn stat_option_picks_the_compared_statistic() {
    let dir = fast_cdn();
    let p90 = json(&check(
        dir.path(),
        &["--min-speedup", "1.5", "--stat", "p90", "--format", "json"],
    ));
    let p50 = json(&check(
        dir.path(),
        &["--min-speedup", "1.5", "--format", "json"],
    ));
    assert_eq!(p90["settings"]["stat"], "p90");
    let baseline_ms = |report: &serde_json::Value| {
        report["checks"][0]["baseline"]["statistic_ms"]
            .as_f64()
            .unwrap()
    };
    assert!(baseline_ms(&p90) > baseline_ms(&p50));
}

#[test]
fn error_rows_count_toward_the_error_rate_but_not_as_times() {
    // Failed rows carry total_ms = 1 ms; were they times, the baseline median would collapse.
    let dir = probe_dir(&[EU_S3.count(40).errors(10), EU_CDN]);
    let output = check(
        dir.path(),
        &[
            "--min-speedup",
            "1.5",
            "--max-error-rate",
            "0.3",
            "--format",
            "json",
        ],
    );
    assert_eq!(output.status.code(), Some(0));
    let baseline = &json(&output)["checks"][0]["baseline"];
    assert_eq!(baseline["rows"], 40);
    assert_eq!(baseline["errors"], 10);
    assert_eq!(baseline["samples"], 30);
    assert_eq!(baseline["error_rate"], 0.25);
    assert!(baseline["statistic_ms"].as_f64().unwrap() > 300.0);
}

#[test]
fn region_option_checks_only_that_region() {
    let dir = fast_cdn();
    let output = check(
        dir.path(),
        &[
            "--min-speedup",
            "1.5",
            "--region",
            "us-east-1",
            "--format",
            "json",
        ],
    );
    let checks = json(&output)["checks"].as_array().unwrap().clone();
    assert_eq!(checks.len(), 1);
    assert_eq!(checks[0]["region"], "us-east-1");
}

#[test]
fn same_input_gives_the_same_verdict_byte_for_byte() {
    let dir = fast_cdn();
    let run = || {
        stdout(&check(
            dir.path(),
            &["--min-speedup", "1.5", "--format", "json"],
        ))
    };
    assert_eq!(run(), run());
}

// ---- --previous ----

/// Checks `now` against `previous` with `--max-regression 10`.
fn against_previous(now: &Path, previous: &Path, extra: &[&str]) -> Output {
    let previous = previous.to_str().unwrap();
    let mut args = vec![
        "--min-speedup",
        "1.5",
        "--previous",
        previous,
        "--max-regression",
        "10",
    ];
    args.extend(extra);
    check(now, &args)
}

#[test]
fn candidate_regression_beyond_max_regression_fails() {
    let previous = probe_dir(&[EU_S3, Target::new("eu-west-1", "cloudfront", 60.0)]);
    let now = probe_dir(&[EU_S3, EU_CDN]);
    let output = against_previous(now.path(), previous.path(), &[]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let text = stdout(&output);
    assert!(
        text.contains("cloudfront previous run ÷ this run: interval"),
        "{text}"
    );
    assert!(text.contains("lies below 0.91×"), "{text}");
}

#[test]
fn candidate_as_fast_as_before_passes_the_previous_comparison() {
    // The previous run was slower; this run is, with confidence, no more than 10 % slower.
    let previous = probe_dir(&[EU_S3, Target::new("eu-west-1", "cloudfront", 160.0)]);
    let now = probe_dir(&[EU_S3, EU_CDN]);
    let output = against_previous(now.path(), previous.path(), &["--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let check = &json(&output)["checks"][0];
    assert_eq!(check["regression"]["outcome"], "pass");
    assert_eq!(check["previous"]["label"], "cloudfront");
}

#[test]
fn previous_run_with_too_few_samples_fails_naming_the_previous_run() {
    let previous = probe_dir(&[EU_CDN.count(5)]);
    let now = probe_dir(&[EU_S3, EU_CDN]);
    let output = against_previous(now.path(), previous.path(), &[]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(
        text.contains("cloudfront (previous run): too few successful samples with total_ms: 5"),
        "{text}"
    );
}

#[test]
fn previous_without_max_regression_exits_2() {
    let dir = fast_cdn();
    let previous = dir.path().to_str().unwrap();
    let output = check(
        dir.path(),
        &["--min-speedup", "1.5", "--previous", previous],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("--max-regression"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn previous_run_without_the_region_exits_2_naming_it() {
    let previous = probe_dir(&[EU_S3, EU_CDN]);
    let now = fast_cdn();
    let output = against_previous(now.path(), previous.path(), &[]);
    assert_bad_input(
        &output,
        "region \"us-east-1\": no rows for \"cloudfront\" in the previous run",
    );
}

// ---- bad input: exit 2, one line that says which ----

fn assert_bad_input(output: &Output, says: &str) {
    assert_eq!(output.status.code(), Some(2), "{}", stderr(output));
    let message = stderr(output);
    assert!(
        message.contains(says),
        "{message:?} should contain {says:?}"
    );
    assert_eq!(message.trim_end().lines().count(), 1, "{message}");
    assert!(output.stdout.is_empty());
}

#[test]
fn unknown_baseline_label_exits_2_naming_it_and_the_known_targets() {
    let dir = fast_cdn();
    let output = cdnprobe([
        "check".as_ref(),
        dir.path().as_os_str(),
        "--baseline".as_ref(),
        "s4".as_ref(),
        "--candidate".as_ref(),
        "cloudfront".as_ref(),
        "--min-speedup".as_ref(),
        "1.5".as_ref(),
    ]);
    assert_bad_input(
        &output,
        "baseline label \"s4\" not found in the input; its targets are: \"cloudfront\", \"s3\"",
    );
}

#[test]
fn region_without_rows_exits_2_naming_it() {
    let dir = fast_cdn();
    let output = check(
        dir.path(),
        &["--min-speedup", "1.5", "--region", "ap-south-1"],
    );
    assert_bad_input(
        &output,
        "region \"ap-south-1\": no rows for \"s3\" in the input",
    );
}

#[test]
fn region_missing_one_target_exits_2_naming_both() {
    let dir = probe_dir(&[EU_S3, EU_CDN, US_S3]);
    let output = check(dir.path(), &["--min-speedup", "1.5"]);
    assert_bad_input(&output, "region \"us-east-1\": no rows for \"cloudfront\"");
}

#[test]
fn unparseable_file_exits_2_with_file_and_line() {
    let dir = fast_cdn();
    let path = dir.path().join("eu-west-1.csv");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text = text.replacen(",200,", ",two hundred,", 1);
    std::fs::write(&path, text).unwrap();
    let output = check(dir.path(), &["--min-speedup", "1.5"]);
    assert_bad_input(
        &output,
        "eu-west-1.csv:2: column status: not a number: \"two hundred\"",
    );
}

#[test]
fn metric_never_measured_exits_2_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Pcg64::seed_from_u64(3);
    let samples = [EU_S3, EU_CDN]
        .iter()
        .flat_map(|target| target.samples(&mut rng));
    // Plain http: no TLS phase.
    let plain = samples.map(|sample| Sample {
        tls_ms: None,
        ..sample
    });
    write_samples(&dir.path().join("plain.csv"), plain.collect::<Vec<_>>());
    let output = check(dir.path(), &["--min-speedup", "1.5", "--metric", "tls"]);
    assert_bad_input(&output, "none measured tls_ms");
}

#[test]
fn missing_input_exits_2() {
    let output = check(Path::new("/nonexistent/probes"), &["--min-speedup", "1.5"]);
    assert_bad_input(&output, "/nonexistent/probes: no such file or directory");
}

#[test]
fn out_of_range_confidence_exits_2() {
    let dir = fast_cdn();
    let output = check(dir.path(), &["--min-speedup", "1.5", "--confidence", "95"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("between 0 and 1"));
}

// ---- formats ----

#[test]
fn json_carries_every_number() {
    let dir = probe_dir(&[EU_S3.count(32).errors(1), EU_CDN]);
    let output = check(dir.path(), &["--min-speedup", "1.5", "--format", "json"]);
    let report = json(&output);
    let settings = &report["settings"];
    for (key, value) in [
        ("baseline", serde_json::json!("s3")),
        ("candidate", serde_json::json!("cloudfront")),
        ("stat", serde_json::json!("p50")),
        ("confidence", serde_json::json!(0.95)),
        ("resamples", serde_json::json!(2000)),
        ("min_speedup", serde_json::json!(1.5)),
        ("min_samples", serde_json::json!(10)),
        ("max_error_rate", serde_json::json!(0.05)),
        ("inconclusive", serde_json::json!("fail")),
    ] {
        assert_eq!(settings[key], value, "settings.{key}");
    }
    assert!(settings["seed"].is_u64());
    let check = &report["checks"][0];
    assert_eq!(check["region"], "eu-west-1");
    assert_eq!(check["metric"], "total");
    for side in ["baseline", "candidate"] {
        for key in ["rows", "errors", "error_rate", "samples", "statistic_ms"] {
            assert!(
                check[side][key].is_number(),
                "{side}.{key}: {}",
                check[side]
            );
        }
    }
    let speedup = &check["speedup"]["interval"];
    let (low, estimate, high) = (
        speedup["low"].as_f64().unwrap(),
        speedup["estimate"].as_f64().unwrap(),
        speedup["high"].as_f64().unwrap(),
    );
    assert!(
        low <= estimate && estimate <= high && low > 1.5,
        "{speedup}"
    );
    let ratio = check["baseline"]["statistic_ms"].as_f64().unwrap()
        / check["candidate"]["statistic_ms"].as_f64().unwrap();
    assert!((ratio - estimate).abs() < 1e-9);
    assert_eq!(check["speedup"]["limit"], 1.5);
    assert_eq!(check["outcome"], "pass");
    assert_eq!(check["passed"], true);
    assert_eq!(report["passed"], true);
}

#[test]
fn junit_has_one_test_case_per_region_and_metric() {
    // The CDN gains 3.5× in eu-west-1 and only 1.2× in us-east-1.
    let dir = probe_dir(&[
        EU_S3,
        EU_CDN,
        US_S3,
        Target::new("us-east-1", "cloudfront", 250.0),
    ]);
    let output = check(
        dir.path(),
        &[
            "--min-speedup",
            "2",
            "--metric",
            "total",
            "--metric",
            "ttfb",
            "--format",
            "junit",
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    let xml = stdout(&output);
    let document = roxmltree::Document::parse(&xml).unwrap();
    let cases: Vec<_> = document
        .descendants()
        .filter(|node| node.has_tag_name("testcase"))
        .collect();
    let names: Vec<&str> = cases
        .iter()
        .map(|case| case.attribute("name").unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "eu-west-1 total",
            "eu-west-1 ttfb",
            "us-east-1 total",
            "us-east-1 ttfb"
        ]
    );
    let failed = cases
        .iter()
        .filter(|case| case.children().any(|child| child.has_tag_name("failure")))
        .count();
    let suite = document
        .descendants()
        .find(|node| node.has_tag_name("testsuite"))
        .unwrap();
    assert_eq!(suite.attribute("tests"), Some("4"));
    assert_eq!(
        suite.attribute("failures"),
        Some(failed.to_string().as_str())
    );
    assert!(
        failed > 0 && failed < 4,
        "3.2× splits eu (3.5×) from us (3.0×): {xml}"
    );
}

#[test]
fn markdown_is_a_step_summary_table() {
    let dir = fast_cdn();
    let output = check(
        dir.path(),
        &["--min-speedup", "1.5", "--format", "markdown"],
    );
    let markdown = stdout(&output);
    assert!(
        markdown.starts_with("### ✅ cdnprobe check: PASS"),
        "{markdown}"
    );
    let table: Vec<&str> = markdown
        .lines()
        .filter(|line| line.starts_with('|'))
        .collect();
    assert_eq!(table.len(), 4, "header, separator, two regions: {markdown}");
    assert!(table[1].starts_with("| --- |"));
    let columns = |line: &str| line.matches(" | ").count();
    assert!(table.iter().all(|line| columns(line) == columns(table[0])));
    assert!(table[2].contains("eu-west-1") && table[2].ends_with("| pass |"));
}

#[test]
fn output_option_writes_the_file_and_nothing_to_stdout() {
    let dir = fast_cdn();
    let target: PathBuf = dir.path().join("verdict.xml");
    let output = check(
        dir.path(),
        &[
            "--min-speedup",
            "1.5",
            "--format",
            "junit",
            "--output",
            target.to_str().unwrap(),
        ],
    );
    assert_eq!(output.status.code(), Some(0));
    assert!(output.stdout.is_empty());
    assert_eq!(
        stderr(&output),
        "cdnprobe check: PASS: all 2 region/metric checks passed\n"
    );
    roxmltree::Document::parse(&std::fs::read_to_string(&target).unwrap()).unwrap();
}

#[test]
fn output_into_a_missing_directory_exits_2() {
    let dir = fast_cdn();
    let target = dir.path().join("no-such-dir").join("verdict.md");
    let output = check(
        dir.path(),
        &["--min-speedup", "1.5", "--output", target.to_str().unwrap()],
    );
    assert_bad_input(&output, "verdict.md: cannot create the output file");
    assert!(!target.exists());
}

#[test]
fn help_documents_the_decision_rule_and_exit_codes() {
    let output = cdnprobe(["check", "--help"]);
    let help = stdout(&output);
    assert!(help.contains("pass          when the interval's lower bound ≥ --min-speedup"));
    assert!(help.contains("fail          when its upper bound < --min-speedup"));
    assert!(help.contains("which fails unless\n                --inconclusive pass"));
    assert!(help.contains("Exit status: 0 pass, 1 fail, 2 bad input"));
}

// ---- the library API the demo calls ----

#[test]
fn evaluate_returns_the_verdict_for_the_demo_argv() {
    let dir = fast_cdn();
    let directory = dir.path().to_str().unwrap();
    let cli = Cli::try_parse_from([
        "cdnprobe",
        "check",
        directory,
        "--baseline",
        "s3",
        "--candidate",
        "cloudfront",
        "--min-speedup",
        "1.5",
    ])
    .unwrap();
    let Subcommand::Check(args) = cli.command else {
        panic!("parsed as another subcommand")
    };
    let report = check::evaluate(&args).unwrap();
    assert!(report.passed);
    assert_eq!(report.checks.len(), 2);
    assert!(report.checks.iter().all(|c| c.outcome == Outcome::Pass));
}

#[test]
fn infinite_total_time_exits_2_rather_than_printing_inf_ms() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Pcg64::seed_from_u64(5);
    let mut writer = csv::Writer::from_path(dir.path().join("eu-west-1.csv")).unwrap();
    for target in [EU_S3, EU_CDN] {
        for mut sample in target.samples(&mut rng) {
            if target.label == "s3" && sample.sample == 1 {
                sample.total_ms = Some(f64::INFINITY);
            }
            writer.serialize(sample).unwrap();
        }
    }
    writer.flush().unwrap();
    let output = check(dir.path(), &["--min-speedup", "1.5"]);
    assert_bad_input(
        &output,
        "eu-west-1.csv:2: column total_ms: not a finite non-negative number",
    );
}

#[test]
fn negative_and_not_a_number_times_exit_2() {
    for value in ["-3.5", "NaN"] {
        let dir = fast_cdn();
        let path = dir.path().join("us-east-1.csv");
        set_cell(&path, 4, "ttfb_ms", value);
        let output = check(dir.path(), &["--min-speedup", "1.5"]);
        assert_bad_input(
            &output,
            "us-east-1.csv:4: column ttfb_ms: not a finite non-negative number",
        );
    }
}

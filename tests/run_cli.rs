//! `cdnprobe run` as a user drives it: the output file, what reaches the CSV and what never
//! does, the schedule, bad input (exit 2, nothing written) and Ctrl-C.

mod common;
mod support;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use cdnprobe::lab::fixture::FixtureConfig;
use cdnprobe::sample::{COLUMNS, CacheStatus};
use common::*;
use support::cdnprobe;

/// Bad input: exit 2, one line on stderr naming `what`, and `out` left as it was.
fn assert_rejected(args: &[&str], what: &str, out: &Path) {
    let before = std::fs::read(out).ok();
    let output = cdnprobe(args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "stderr: {stderr}");
    assert!(stderr.contains(what), "{stderr:?} should name {what:?}");
    assert_eq!(std::fs::read(out).ok(), before, "--out was touched");
}

fn scratch() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.csv").display().to_string();
    (dir, out)
}

/// A well-formed target, as `--target=…`.
const A_TARGET: &str = "--target=a=http://127.0.0.1:9/x";

/// `cdnprobe run ARGS --out FILE` is bad input naming `what`; returns the `--out` path.
fn run_rejects(args: &[&str], what: &str) -> (tempfile::TempDir, String) {
    let (dir, out) = scratch();
    let mut full = vec!["run"];
    full.extend_from_slice(args);
    full.extend_from_slice(&["--out", &out]);
    assert_rejected(&full, what, Path::new(&out));
    (dir, out)
}

#[test]
fn unparseable_url_is_rejected_before_any_file_is_created() {
    let (_dir, out) = run_rejects(&["--target", "a=https://exa mple.com/"], "target a");
    assert!(!Path::new(&out).exists());
}

#[test]
fn unsupported_scheme_is_rejected() {
    run_rejects(
        &["--target", "a=ftp://example.com/v.mp4"],
        "unsupported scheme",
    );
}

#[test]
fn duplicate_label_is_rejected() {
    run_rejects(
        &[A_TARGET, "--target=a=http://127.0.0.1:9/y"],
        "duplicate target label",
    );
}

#[test]
fn bad_range_is_rejected() {
    run_rejects(&[A_TARGET, "--range", "9-1"], "--range");
}

#[test]
fn unreadable_cacert_is_rejected() {
    run_rejects(&[A_TARGET, "--cacert", "/nonexistent/ca.pem"], "--cacert");
}

#[test]
fn bad_header_is_rejected() {
    run_rejects(&[A_TARGET, "-H", "NoColon"], "-H");
}

#[test]
fn zero_samples_is_rejected() {
    run_rejects(
        &[A_TARGET, "--samples", "0"],
        "--samples must be at least 1",
    );
}

#[test]
fn no_target_is_rejected() {
    run_rejects(&[], "no targets");
}

#[test]
fn bad_config_is_rejected_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("probe.toml");
    std::fs::write(&config, "samples = 3\n[[target]]\nlabel = \"a\"\nurl = 5\n").unwrap();
    run_rejects(&["--config", &config.display().to_string()], "probe.toml:4");
}

#[test]
fn bad_input_leaves_an_existing_out_file_untouched() {
    let (_dir, out) = scratch();
    std::fs::write(&out, "started_at,region\nkeep,me\n").unwrap();
    let args = ["run", "--target", "a=gopher://h/", "--out", &out];
    assert_rejected(&args, "unsupported scheme", Path::new(&out));
}

#[tokio::test]
async fn rows_are_interleaved_round_robin() {
    let lab = Lab::start();
    let server = lab.http(FixtureConfig::default()).await;
    let a = format!("a={}", server.url("/a"));
    let b = format!("b={}", server.url("/b"));
    let (_, rows) = lab
        .run(&[
            "--samples",
            "2",
            "--warmup",
            "1",
            "--target",
            &a,
            "--target",
            &b,
        ])
        .await;
    let order: Vec<_> = rows.iter().map(|s| (s.target.as_str(), s.sample)).collect();
    assert_eq!(order, [("a", 1), ("b", 1), ("a", 2), ("b", 2)]);
    // The warm-up round was fetched but not recorded.
    assert_eq!(server.connections(), 6);
}

#[tokio::test]
async fn interval_pauses_between_rounds() {
    let lab = Lab::start();
    let server = lab.http(FixtureConfig::default()).await;
    let target = format!("t={}", server.url("/v"));
    let started = Instant::now();
    let (_, rows) = lab
        .run(&["--samples", "3", "--interval", "150ms", "--target", &target])
        .await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    // The pause must come from the interval, not from fetches that failed slowly.
    let fetched: Vec<_> = rows
        .iter()
        .map(|s| (s.sample, s.status, s.error.is_none()))
        .collect();
    assert_eq!(
        fetched,
        [
            (1, Some(200), true),
            (2, Some(200), true),
            (3, Some(200), true)
        ]
    );
}

#[tokio::test]
async fn appending_to_an_existing_file_adds_rows_without_a_second_header() {
    let lab = Lab::start();
    let server = lab.http(FixtureConfig::default()).await;
    let target = format!("t={}", server.url("/v"));
    lab.run(&["--samples", "1", "--target", &target]).await;
    let (_, rows) = lab.run(&["--samples", "2", "--target", &target]).await;
    assert_eq!(rows.len(), 3);
    let text = std::fs::read_to_string(lab.out()).unwrap();
    assert_eq!(text.lines().next().unwrap(), COLUMNS.join(","));
    assert_eq!(text.matches("started_at").count(), 1);
}

#[tokio::test]
async fn request_header_values_never_reach_the_csv() {
    let lab = Lab::start();
    let server = lab.http_recording_requests().await;
    let target = format!("t={}", server.url("/v"));
    lab.run(&[
        "--samples",
        "1",
        "-H",
        "Authorization: Bearer sekrit-token",
        "--target",
        &target,
    ])
    .await;
    let sent = &server.requests()[0].headers;
    assert_eq!(sent["authorization"], "Bearer sekrit-token");
    let csv = std::fs::read_to_string(lab.out()).unwrap();
    assert!(!csv.contains("sekrit"));
}

#[tokio::test]
async fn presigned_url_is_redacted_in_the_csv() {
    let lab = Lab::start();
    let server = lab.http(FixtureConfig::default()).await;
    let url = server.url("/v.mp4?X-Amz-Credential=AKIAEXAMPLE&X-Amz-Signature=deadbeef");
    let s = one_sample(&lab, &url, &[]).await;
    assert_eq!(s.error, None);
    assert!(
        s.url
            .ends_with("/v.mp4?X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED")
    );
    let csv = std::fs::read_to_string(lab.out()).unwrap();
    assert!(!csv.contains("AKIAEXAMPLE") && !csv.contains("deadbeef"));
}

#[tokio::test]
async fn cache_bust_gives_every_sample_its_own_url() {
    let lab = Lab::start();
    let server = lab.http_recording_requests().await;
    let target = format!("t={}", server.url("/v.mp4?q=1"));
    let (_, rows) = lab
        .run(&["--samples", "3", "--cache-bust", "--target", &target])
        .await;
    let mut urls: Vec<_> = rows.iter().map(|s| s.url.clone()).collect();
    assert!(
        urls.iter().all(|u| u.contains("?q=1&cdnprobe_bust=")),
        "{urls:?}"
    );
    urls.dedup();
    assert_eq!(urls.len(), 3);
    let seen: Vec<_> = server
        .requests()
        .iter()
        .map(|r| r.uri.to_string())
        .collect();
    assert_eq!(
        seen,
        rows.iter()
            .map(|s| s.url[s.url.find("/v.mp4").unwrap()..].to_string())
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn range_sends_a_range_header_and_counts_the_part() {
    let lab = Lab::start();
    let server = lab.http(FixtureConfig::default()).await;
    let url = server.url("/v.mp4?bytes=100000");
    let s = one_sample(&lab, &url, &["--range", "0-1023"]).await;
    assert_eq!((s.error, s.status, s.bytes), (None, Some(206), 1024));
}

#[tokio::test]
async fn max_bytes_stops_the_body_early() {
    let lab = Lab::start();
    let server = lab.http(FixtureConfig::default()).await;
    // 10 MB paced at 20 MB/s: the whole body would take 500 ms.
    let url = server.url("/v.mp4?bytes=10000000&chunk=65536&rate=20000000");
    let s = one_sample(&lab, &url, &["--max-bytes", "1000000"]).await;
    assert_eq!(s.error, None);
    // `bytes` counts what arrived, so the last frame read may carry it past the limit.
    assert!(
        (1_000_000..10_000_000).contains(&s.bytes),
        "{} bytes",
        s.bytes
    );
}

#[tokio::test]
async fn cache_and_pop_headers_reach_the_row() {
    let lab = Lab::start();
    let server = lab
        .https(FixtureConfig {
            behaviour: cdnprobe::lab::fixture::Behaviour {
                headers: vec![
                    ("X-Cache".into(), "Hit from cloudfront".into()),
                    ("X-Amz-Cf-Pop".into(), "AKL50-C1".into()),
                ],
                ..Default::default()
            },
            ..Default::default()
        })
        .await;
    let s = one_sample(&lab, &server.url("/v.mp4"), &[]).await;
    assert_eq!((s.cache, s.pop.as_str()), (CacheStatus::Hit, "AKL50-C1"));
}

#[tokio::test]
async fn config_file_targets_are_probed_and_flags_win() {
    let lab = Lab::start();
    let server = lab.http_recording_requests().await;
    let config = lab.dir.path().join("probe.toml");
    std::fs::write(
        &config,
        format!(
            "samples = 5\n[[target]]\nlabel = \"origin\"\nurl = \"{}\"\nheaders = [\"X-Origin: yes\"]\n",
            server.url("/origin")
        ),
    )
    .unwrap();
    let config = config.display().to_string();
    let (_, rows) = lab.run(&["--config", &config, "--samples", "2"]).await;
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].target, "origin");
    assert_eq!(server.requests()[0].headers["x-origin"], "yes");
}

#[tokio::test]
async fn without_out_the_csv_goes_to_stdout_and_the_summary_to_stderr() {
    let lab = Lab::start();
    let server = lab.http(FixtureConfig::default()).await;
    let target = format!("t={}", server.url("/v"));
    let dns = lab.dns.addr().to_string();
    let args = [
        "run",
        "--resolver",
        &dns,
        "--samples",
        "2",
        "--target",
        &target,
    ];
    // The fixture and DNS run on this test's runtime: wait for the child without blocking it.
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_cdnprobe"))
        .args(args)
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 3, "{stdout}");
    assert!(stdout.starts_with("started_at,region,target,url,sample,"));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("2/2 succeeded") && stderr.contains("p99 ms"),
        "{stderr}"
    );
}

#[tokio::test]
async fn ctrl_c_keeps_every_finished_row_whole() {
    let lab = Lab::start();
    let server = lab.http(FixtureConfig::default()).await;
    let target = format!("t={}", server.url("/v?bytes=100000"));
    let args = lab.args(&[
        "--samples",
        "1000",
        "--interval",
        "20ms",
        "--target",
        &target,
    ]);
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_cdnprobe"))
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = lab.out();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::fs::read_to_string(&out).map_or(0, |t| t.lines().count()) < 4 {
        assert!(Instant::now() < deadline, "no rows appeared");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let pid = child.id().expect("child still running") as libc::pid_t;
    // SAFETY: kill(2) on the pid of a child this test spawned and has not reaped.
    let sent = unsafe { libc::kill(pid, libc::SIGINT) };
    assert_eq!(sent, 0);
    let output = child.wait_with_output().await.unwrap();
    assert_eq!(output.status.code(), Some(130), "{output:?}");
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.ends_with('\n'), "last line is incomplete");
    let rows = read_rows(&out);
    assert!(rows.len() >= 3 && rows.len() < 1000, "{} rows", rows.len());
    assert!(rows.iter().all(|s| s.error.is_none()));
    assert!(String::from_utf8_lossy(&output.stderr).contains("interrupted"));
}

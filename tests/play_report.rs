//! `report` and `check` on playback CSVs: their numbers against a computation made here,
//! independently, from the rows.

mod support;

use std::path::Path;

use cdnprobe::play::record::{Format, PlaybackRow, SessionCache};
use cdnprobe::sample::ErrorClass;
use support::{check, report_ok, stderr, stdout};

/// A session with the given startup, stalls and stall time (10 s watched at `kbps`).
fn session(
    region: &str,
    target: &str,
    n: u64,
    startup_ms: f64,
    stalls: u32,
    stall_ms: f64,
) -> PlaybackRow {
    PlaybackRow {
        started_at: "2026-12-02T05:00:00Z".into(),
        region: region.into(),
        target: target.into(),
        url: format!("https://{target}.example/v.mp4"),
        session: n,
        format: Some(Format::Mp4),
        http_version: "2".into(),
        requests: 1,
        bytes: 500_000,
        media_duration_s: Some(30.0),
        startup_ms: Some(startup_ms),
        stalls,
        stall_ms: Some(stall_ms),
        rebuffer_ratio: Some(stall_ms / (10_000.0 + stall_ms)),
        watched_s: Some(10.0),
        mean_bitrate_kbps: Some(160.0),
        cache: if target == "cloudfront" {
            SessionCache::Hit
        } else {
            SessionCache::Unknown
        },
        ..PlaybackRow::default()
    }
}

/// 20 sessions a side in Auckland: the origin starts in 1100–1290 ms with 1 stall of 400 ms
/// every other session, the CDN in 400–495 ms with none; one CDN session failed.
fn rows() -> Vec<PlaybackRow> {
    let mut rows = Vec::new();
    for n in 0..20u64 {
        let stall = n % 2 == 0;
        rows.push(session(
            "Auckland",
            "s3",
            n + 1,
            1100.0 + 10.0 * n as f64,
            stall as u32,
            if stall { 400.0 } else { 0.0 },
        ));
        rows.push(session(
            "Auckland",
            "cloudfront",
            n + 1,
            400.0 + 5.0 * n as f64,
            0,
            0.0,
        ));
    }
    let mut failed = session("Auckland", "cloudfront", 21, 0.0, 0, 0.0);
    failed.error = Some(ErrorClass::Media);
    failed.startup_ms = None;
    rows.push(failed);
    rows
}

fn write(path: &Path, rows: &[PlaybackRow]) {
    let mut writer = csv::Writer::from_path(path).unwrap();
    for row in rows {
        writer.serialize(row).unwrap();
    }
    writer.flush().unwrap();
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

#[test]
fn report_md_has_the_playback_section_with_numbers_computed_from_the_rows() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("sessions.csv");
    write(&input, &rows());
    let out = dir.path().join("report");
    report_ok(&input, &out, &[]);

    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    // Independent figures: medians of the successful sessions' startup, stalls per session,
    // pooled rebuffer ratio.
    let s3 = median((0..20).map(|n| 1100.0 + 10.0 * n as f64).collect());
    let cf = median((0..20).map(|n| 400.0 + 5.0 * n as f64).collect());
    assert_eq!((s3, cf), (1195.0, 447.5));
    let s3_ratio = 10.0 * 400.0 / (20.0 * 10_000.0 + 10.0 * 400.0);
    assert!(md.contains("## Playback"), "{md}");
    assert!(md.contains("| Auckland | s3 | 20 | 0 | 1195 | "), "{md}");
    assert!(
        md.contains("| Auckland | cloudfront | 21 | 1 | 448 | "),
        "{md}"
    );
    assert!(
        md.contains(&format!("| 0.50 | {:.1} % |", s3_ratio * 100.0)),
        "{md}"
    );
    assert!(md.contains("| 20 hit |"), "{md}");
    let sentence = format!(
        "In Auckland, the video started in {:.2} s via cloudfront against {:.2} s from s3 ({:.1}× sooner), with 0 stalls per session against 0.5.",
        cf / 1e3,
        s3 / 1e3,
        s3 / cf
    );
    assert!(md.contains(&sentence), "{md}\nexpected: {sentence}");
    for ext in ["png", "svg"] {
        let chart = out.join(format!("playback.{ext}"));
        assert!(
            std::fs::metadata(&chart).unwrap().len() > 1000,
            "{}",
            chart.display()
        );
    }
}

#[test]
fn check_startup_passes_a_cdn_that_starts_sooner_and_the_rebuffer_cap_fails_the_origin() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("sessions.csv");
    write(&input, &rows());

    let pass = check(
        &input,
        &[
            "--metric",
            "startup",
            "--min-speedup",
            "2",
            "--max-error-rate",
            "0.1",
        ],
    );
    assert!(pass.status.success(), "{}{}", stdout(&pass), stderr(&pass));
    let fail = check(
        &input,
        &[
            "--metric",
            "startup",
            "--min-speedup",
            "3",
            "--max-error-rate",
            "0.1",
        ],
    );
    assert_eq!(fail.status.code(), Some(1), "{}", stdout(&fail));

    // Swap the roles: the origin as candidate has a 1.96 % rebuffer ratio, above 1 %.
    let args = [
        "check",
        input.to_str().unwrap(),
        "--baseline",
        "cloudfront",
        "--candidate",
        "s3",
        "--metric",
        "startup",
        "--min-speedup",
        "0.1",
        "--max-rebuffer-ratio",
        "0.01",
    ];
    let capped = support::cdnprobe(args);
    assert_eq!(capped.status.code(), Some(1), "{}", stdout(&capped));
    assert!(
        stdout(&capped).contains("rebuffer ratio"),
        "{}",
        stdout(&capped)
    );
}

#[test]
fn check_startup_without_playback_csvs_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("samples.csv");
    support::write_samples(
        &input,
        [support::sample(
            "Auckland",
            "s3",
            support::Phases::new(1.0, 1.0, 1.0, 1.0),
        )],
    );
    let output = check(&input, &["--metric", "startup", "--min-speedup", "2"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("no playback sessions"),
        "{}",
        stderr(&output)
    );
}

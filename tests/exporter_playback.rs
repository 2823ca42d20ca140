//! A `play = true` target of the exporter: playback sessions of the committed MP4 served by the
//! real cdnprobe-server, counted into the playback series of /metrics.

mod exporter_support;
mod play_support;

use std::time::{Duration, Instant};

use exporter_support::{Exporter, get};
use play_support::Mp4Origin;

/// The value of the first series of `name` in `text` carrying `label` (classic text format).
fn value(text: &str, name: &str, label: &str) -> Option<f64> {
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")) && l.contains(label))
        .find_map(|l| l.rsplit(' ').next()?.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn playback_targets_fill_the_startup_seek_and_session_series() {
    let origin = Mp4Origin::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("probe.toml");
    std::fs::write(
        &config,
        format!(
            "[[target]]\nlabel = \"video\"\nrole = \"candidate\"\nplay = true\nwatch = \"1s\"\n\
             seek = \"50%\"\ninterval = \"2s\"\njitter = \"0s\"\nurl = \"http://{}{}\"\n",
            origin.addr(),
            origin.faststart
        ),
    )
    .unwrap();
    let exporter = Exporter::start(&[
        "--config",
        config.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ]);
    let deadline = Instant::now() + Duration::from_secs(60);
    let text = loop {
        let (_, text) = get(&exporter.url("/metrics")).await;
        let ok = value(&text, "cdnprobe_playback_sessions_total", r#"result="ok""#);
        if ok.is_some_and(|n| n >= 1.0) || Instant::now() > deadline {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let ok = value(&text, "cdnprobe_playback_sessions_total", r#"result="ok""#);
    assert!(ok.is_some_and(|n| n >= 1.0), "{text}\n{}", exporter.log());
    let startups = value(&text, "cdnprobe_playback_startup_seconds_count", "video").unwrap();
    let startup_sum = value(&text, "cdnprobe_playback_startup_seconds_sum", "video").unwrap();
    assert!(startups >= 1.0, "{text}");
    // Loopback: the 2 s startup buffer of a 30 s clip arrives in well under 5 s.
    assert!(
        startup_sum / startups > 0.0 && startup_sum / startups < 5.0,
        "{startup_sum}/{startups}"
    );
    let seeks = value(&text, "cdnprobe_playback_seek_seconds_count", "video").unwrap();
    assert!(seeks >= 1.0, "{text}");
    let stalls = value(&text, "cdnprobe_playback_stalls_total", "video");
    assert!(stalls.is_some(), "{text}");
    // A playback target's sessions are not counted as single probes.
    let probes: f64 = text
        .lines()
        .filter(|l| l.starts_with("cdnprobe_samples_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert_eq!(probes, 0.0, "{text}");
}

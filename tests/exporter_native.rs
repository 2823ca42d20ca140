//! Native histograms: a real Prometheus with `--enable-feature=native-histograms` asks the
//! exporter for the protobuf format and stores the phase histograms as native ones, whose
//! quantiles it computes without any `le` bucket.

mod exporter_support;

use std::time::Duration;

use cdnprobe::lab::fixture::{FixtureConfig, FixtureServer};
use exporter_support::{Exporter, Prometheus};

/// What the fixture adds to every response head.
const HEAD_DELAY_MS: u64 = 250;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_with_native_histograms_gets_native_phase_histograms() {
    let server = FixtureServer::start(FixtureConfig::default())
        .await
        .expect("fixture starts");
    let dir = tempfile::tempdir().expect("scratch directory");
    let config = dir.path().join("probe.toml");
    let url = server.url(&format!("/v.mp4?head_delay_ms={HEAD_DELAY_MS}"));
    std::fs::write(
        &config,
        format!("interval = \"1s\"\n[[target]]\nlabel = \"origin\"\nurl = \"{url}\"\n"),
    )
    .expect("probe.toml written");
    let mut exporter = Exporter::start(&[
        "--config",
        config.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
        "--region",
        "lab",
    ]);
    let prometheus = Prometheus::start_with(exporter.addr, &[], &["native-histograms"]).await;

    // A native histogram is queried by its own name; a classic one has no such series.
    let ttfb = r#"histogram_quantile(0.5, sum(rate(cdnprobe_phase_duration_seconds{target="origin",phase="ttfb"}[30s])))"#;
    let found = prometheus
        .wait_for(&format!("{ttfb} > 0"), Duration::from_secs(60))
        .await;
    assert_eq!(
        found.len(),
        1,
        "no native ttfb quantile:\n{}",
        exporter.log()
    );
    let (_, ttfb) = found[0];
    // 250 ms of injected delay plus loopback; native buckets grow by 1.09×.
    assert!((0.2..0.4).contains(&ttfb), "native ttfb p50 {ttfb}");
    let count = prometheus
        .query(r#"histogram_count(rate(cdnprobe_phase_duration_seconds{phase="total"}[30s]))"#)
        .await;
    assert!(count.first().is_some_and(|(_, c)| *c > 0.0), "{count:?}");
    // The classic buckets are not what Prometheus stored from this scrape.
    let classic = prometheus
        .query(r#"cdnprobe_phase_duration_seconds_bucket{phase="ttfb"}"#)
        .await;
    assert!(
        classic.is_empty(),
        "classic buckets stored too: {classic:?}"
    );
    eprintln!("native ttfb p50 {ttfb:.3} s");
    let status = exporter.terminate(Duration::from_secs(15));
    assert!(status.is_some_and(|s| s.success()), "{}", exporter.log());
}

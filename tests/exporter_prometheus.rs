//! `cdnprobe exporter` scraped by a real Prometheus server (Debian's `prometheus`), probing
//! local fixture servers: an origin made 250 ms slower than its edge, and targets that fail in
//! three ways. The example recording rules compute the speedup; Prometheus's query API must
//! return it, and the failures must be counted under the right `result`.

mod exporter_support;

use std::path::Path;
use std::time::Duration;

use cdnprobe::lab::fixture::{FixtureConfig, FixtureServer};
use exporter_support::{Exporter, Prometheus, get};

/// What the origin adds to every response head; the edge adds nothing.
const ORIGIN_DELAY_MS: u64 = 250;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_the_exporter_and_the_rules_compute_the_speedup() {
    let server = FixtureServer::start(FixtureConfig::default())
        .await
        .expect("fixture starts");
    // A port nothing listens on: bound, then released.
    let down = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    let dir = tempfile::tempdir().expect("scratch directory");
    let config = dir.path().join("probe.toml");
    std::fs::write(
        &config,
        format!(
            r#"
interval = "1s"
jitter = "100ms"
timeout = "3s"

[[target]]
label = "origin"
role = "baseline"
url = "{origin}"

[[target]]
label = "edge"
role = "candidate"
url = "{edge}"

[[target]]
label = "broken"
url = "{broken}"

[[target]]
label = "down"
url = "http://{down}/"

[[target]]
label = "badtls"
url = "https://{plain}/"
"#,
            origin = server.url(&format!(
                "/v.mp4?head_delay_ms={ORIGIN_DELAY_MS}&header=X-Cache:Miss"
            )),
            edge = server.url("/v.mp4?header=X-Cache:Hit%20from%20cloudfront"),
            broken = server.url("/v.mp4?status=500"),
            plain = server.addr(),
        ),
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
    let rules =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/prometheus/cdnprobe.rules.yml");
    let prometheus = Prometheus::start(exporter.addr, &[&rules]).await;

    let speedup = prometheus
        .wait_for(
            r#"region_target:cdnprobe_speedup:p50_10m{region="lab",target="edge"}"#,
            Duration::from_secs(60),
        )
        .await;
    assert_eq!(speedup.len(), 1, "no speedup series:\n{}", exporter.log());
    let (_, speedup) = speedup[0];
    // The origin's median is ≥ 250 ms; the edge's a few ms at most on loopback, whatever the
    // load. Bucket interpolation keeps the ratio well above 10.
    assert!(speedup > 10.0, "speedup {speedup}");

    let origin_ttfb = prometheus
        .query(r#"region_target_phase:cdnprobe_phase_duration_seconds:p50_10m{target="origin",phase="ttfb"}"#)
        .await;
    let (_, origin_ttfb) = origin_ttfb[0];
    // Interpolated within the (0.2, 0.3] or (0.3, 0.5] bucket.
    assert!(
        (0.2..0.5).contains(&origin_ttfb),
        "origin ttfb p50 {origin_ttfb}"
    );
    eprintln!("speedup p50 {speedup:.1}×, origin ttfb p50 {origin_ttfb:.3} s");

    for (target, result) in [
        ("edge", "ok"),
        ("origin", "ok"),
        ("broken", "http_status"),
        ("down", "connect"),
        ("badtls", "tls"),
    ] {
        let query = format!(r#"cdnprobe_samples_total{{target="{target}",result="{result}"}}"#);
        let found = prometheus.wait_for(&query, Duration::from_secs(20)).await;
        assert!(
            found.first().is_some_and(|(_, count)| *count >= 1.0),
            "{query}: {found:?}"
        );
        // Nothing else was counted for it: one result per target here.
        let others =
            format!(r#"sum(cdnprobe_samples_total{{target="{target}",result!="{result}"}})"#);
        let (_, others) = prometheus.query(&others).await[0];
        assert_eq!(others, 0.0, "{target} counted under another result");
    }

    let hits = prometheus
        .query(r#"cdnprobe_cache_responses_total{target="edge",cache="hit"}"#)
        .await;
    assert!(hits[0].1 >= 1.0, "edge hits {hits:?}");
    let misses = prometheus
        .query(r#"cdnprobe_cache_responses_total{target="origin",cache="miss"}"#)
        .await;
    assert!(misses[0].1 >= 1.0, "origin misses {misses:?}");
    let bytes = prometheus
        .query(r#"cdnprobe_response_bytes_total{target="edge"}"#)
        .await;
    assert!(bytes[0].1 >= 65536.0, "edge bytes {bytes:?}");
    let age = prometheus
        .query(r#"time() - cdnprobe_last_sample_timestamp_seconds{target="edge"}"#)
        .await;
    assert!((-1.0..30.0).contains(&age[0].1), "last sample age {age:?}");
    let up = prometheus.query(r#"up{job="cdnprobe"}"#).await;
    assert_eq!(up[0].1, 1.0);

    // Still serving after every kind of failure, then a clean stop on SIGTERM.
    assert_eq!(exporter.exited(), None, "{}", exporter.log());
    assert_eq!(get(&exporter.url("/healthz")).await, (200, "ok\n".into()));
    let status = exporter.terminate(Duration::from_secs(15));
    assert!(
        status.is_some_and(|s| s.success()),
        "{status:?}\n{}",
        exporter.log()
    );
}

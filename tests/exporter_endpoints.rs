//! The exporter's endpoints over loopback: `/probe` probes only configured targets (never a
//! URL from the query), answers with blackbox exporter names, `/metrics` parses with
//! promtool, and a malformed config stops it with exit status 2 and the line.

mod exporter_support;

use std::time::Duration;

use cdnprobe::lab::fixture::{FixtureConfig, FixtureServer};
use exporter_support::{Exporter, check_metrics, config_file, get, run_exporter_to_end};

/// An exporter with one target that is never scheduled (`interval = "0s"`): every connection
/// the fixture sees comes from `/probe`.
async fn on_demand_only() -> (FixtureServer, Exporter, tempfile::TempDir) {
    let server = FixtureServer::start(FixtureConfig::default())
        .await
        .expect("fixture starts");
    let (dir, config) = config_file(&format!(
        "[[target]]\nlabel = \"edge\"\nrole = \"candidate\"\ninterval = \"0s\"\nurl = \"{}\"\n",
        server.url("/v.mp4?header=X-Cache:HIT")
    ));
    let exporter = Exporter::start(&[
        "--config",
        config.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ]);
    (server, exporter, dir)
}

#[tokio::test]
async fn probe_with_an_unknown_target_is_refused_without_any_connection() {
    let (server, exporter, _dir) = on_demand_only().await;
    let own_url = server.url("/v.mp4");
    for query in [
        "".to_string(),
        "?target=nope".into(),
        format!("?target={own_url}"),
        format!("?target={}", server.addr()),
        "?target=edge&target=nope".into(),
    ] {
        let (status, body) = get(&exporter.url(&format!("/probe{query}"))).await;
        assert_eq!(status, 400, "/probe{query}: {body}");
        assert!(!body.contains(&own_url), "echoed the URL: {body}");
    }
    // Give a probe, had one started, time to connect.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        server.connections(),
        0,
        "a refused /probe reached the server"
    );
}

#[tokio::test]
async fn probe_of_a_configured_target_answers_with_blackbox_names() {
    let (server, exporter, _dir) = on_demand_only().await;
    let (status, body) = get(&exporter.url("/probe?target=edge")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(server.connections(), 1);
    for line in [
        "probe_success 1.0",
        "probe_http_status_code 200.0",
        "probe_http_version 1.1",
        "probe_cdn_cache_hit 1.0",
        "probe_http_ssl 0.0",
    ] {
        assert!(body.lines().any(|l| l == line), "{line}\n{body}");
    }
    for phase in ["resolve", "connect", "tls", "processing", "transfer"] {
        let prefix = format!("probe_http_duration_seconds{{phase=\"{phase}\"}} ");
        assert!(
            body.lines().any(|l| l.starts_with(&prefix)),
            "{phase}\n{body}"
        );
    }
    // On-demand probes are not the scheduled series: /metrics counted nothing.
    let (_, metrics) = get(&exporter.url("/metrics")).await;
    let ok = metrics
        .lines()
        .find(|l| {
            l.starts_with("cdnprobe_samples_total{")
                && l.contains(r#"target="edge""#)
                && l.contains(r#"result="ok""#)
        })
        .unwrap_or_else(|| panic!("no ok series:\n{metrics}"));
    assert!(ok.ends_with(" 0"), "{ok}");
}

#[tokio::test]
async fn metrics_text_passes_promtool_check_metrics() {
    let (_server, exporter, _dir) = on_demand_only().await;
    let (status, text) = get(&exporter.url("/metrics")).await;
    assert_eq!(status, 200);
    assert!(
        text.contains("cdnprobe_phase_duration_seconds_bucket"),
        "{text}"
    );
    check_metrics(&text);
}

#[test]
fn a_malformed_config_exits_2_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("probe.toml");
    std::fs::write(
        &config,
        "interval = \"1s\"\n[[target]]\nlabel = \"a\"\nurl = \"http://127.0.0.1:1/\"\nrole = \"fastest\"\n",
    )
    .unwrap();
    let (status, stderr) = run_exporter_to_end(&["--config", config.to_str().unwrap()]);
    assert_eq!(status.code(), Some(2), "{stderr}");
    let expected = format!("{}:5:", config.display());
    assert!(stderr.contains(&expected), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

#[test]
fn a_jitter_longer_than_the_interval_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("probe.toml");
    std::fs::write(
        &config,
        "[[target]]\nlabel = \"a\"\nurl = \"http://127.0.0.1:1/\"\ninterval = \"1s\"\njitter = \"2s\"\n",
    )
    .unwrap();
    let (status, stderr) = run_exporter_to_end(&["--config", config.to_str().unwrap()]);
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("jitter"), "{stderr}");
}

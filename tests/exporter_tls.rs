//! TLS facts as metrics, against a real TLS server on loopback whose leaf certificate expires
//! at a known instant: `/metrics` carries `cdnprobe_tls_cert_expiry_timestamp_seconds` with that
//! exact instant, `/probe` the blackbox exporter's `probe_ssl_earliest_cert_expiry` and
//! `probe_tls_version_info`, and a plain-HTTP target has none of these series.

mod exporter_support;

use std::time::{Duration, Instant};

use cdnprobe::lab::fixture::{FixtureConfig, FixtureServer};
use cdnprobe::lab::tls::{ALPN_H2_AND_HTTP1, TestCa};
use exporter_support::{Exporter, check_metrics, get};

/// The leaf's not-after: midnight UTC starting 18 May 2031.
const NOT_AFTER: (i32, u8, u8) = (2031, 5, 18);
/// The same instant in Unix seconds (`date -u -d 2031-05-18 +%s`).
const NOT_AFTER_UNIX: f64 = 1_936_828_800.0;

struct Lab {
    _secure: FixtureServer,
    _plain: FixtureServer,
    exporter: Exporter,
    _dir: tempfile::TempDir,
}

/// An exporter probing `secure` (HTTPS, the known leaf) and `plain` (HTTP) every 200 ms.
async fn lab() -> Lab {
    let ca = TestCa::new().expect("lab CA");
    let tls = ca
        .server_config_expiring(&["127.0.0.1"], ALPN_H2_AND_HTTP1, NOT_AFTER)
        .expect("server config");
    let loopback = "127.0.0.1:0".parse().unwrap();
    let secure = FixtureServer::start_on_own_runtime(
        loopback,
        FixtureConfig {
            tls: Some(tls),
            ..FixtureConfig::default()
        },
    )
    .await
    .expect("TLS fixture starts");
    let plain = FixtureServer::start_on_own_runtime(loopback, FixtureConfig::default())
        .await
        .expect("fixture starts");
    let dir = tempfile::tempdir().expect("scratch directory");
    let ca_pem = dir.path().join("ca.pem");
    ca.write_ca_pem(&ca_pem).expect("ca.pem written");
    let config = dir.path().join("probe.toml");
    std::fs::write(
        &config,
        format!(
            "interval = \"200ms\"\n\
             [[target]]\nlabel = \"secure\"\nurl = \"{}\"\n\
             [[target]]\nlabel = \"plain\"\nurl = \"{}\"\n",
            secure.url("/v.mp4"),
            plain.url("/v.mp4"),
        ),
    )
    .expect("probe.toml written");
    assert!(secure.url("/").starts_with("https://"));
    let exporter = Exporter::start(&[
        "--config",
        config.to_str().unwrap(),
        "--cacert",
        ca_pem.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ]);
    Lab {
        _secure: secure,
        _plain: plain,
        exporter,
        _dir: dir,
    }
}

/// The value of the first line of `text` that starts with `name` and holds every one of `labels`.
fn value(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|l| l.starts_with(name) && labels.iter().all(|label| l.contains(label)))
        .find_map(|l| l.rsplit(' ').next()?.parse().ok())
}

/// `/metrics` once both targets have had a successful probe (at most 30 s).
async fn metrics_after_probes(exporter: &Exporter) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, text) = get(&exporter.url("/metrics")).await;
        assert_eq!(status, 200, "{text}");
        let probed = |target: &str| {
            let labels = [&format!("target=\"{target}\"")[..], "result=\"ok\""];
            value(&text, "cdnprobe_samples_total{", &labels).is_some_and(|n| n >= 1.0)
        };
        if probed("secure") && probed("plain") {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "no successful probe of both targets within 30 s:\n{text}\n{}",
            exporter.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_carry_the_leaf_s_exact_expiry_for_https_targets_only() {
    let lab = lab().await;
    let text = metrics_after_probes(&lab.exporter).await;
    let expiry = "cdnprobe_tls_cert_expiry_timestamp_seconds{";
    assert_eq!(
        value(&text, expiry, &["target=\"secure\""]),
        Some(NOT_AFTER_UNIX),
        "{text}"
    );
    assert_eq!(value(&text, expiry, &["target=\"plain\""]), None, "{text}");
    check_metrics(&text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_answers_the_blackbox_tls_series_for_https_targets_only() {
    let lab = lab().await;
    let (status, secure) = get(&lab.exporter.url("/probe?target=secure")).await;
    assert_eq!(status, 200, "{secure}");
    assert_eq!(value(&secure, "probe_success ", &[]), Some(1.0), "{secure}");
    assert_eq!(
        value(&secure, "probe_ssl_earliest_cert_expiry ", &[]),
        Some(NOT_AFTER_UNIX),
        "{secure}"
    );
    assert_eq!(
        value(&secure, "probe_tls_version_info{", &["version=\"TLS 1.3\""]),
        Some(1.0),
        "{secure}"
    );
    check_metrics(&secure);

    let (status, plain) = get(&lab.exporter.url("/probe?target=plain")).await;
    assert_eq!(status, 200, "{plain}");
    assert_eq!(value(&plain, "probe_success ", &[]), Some(1.0), "{plain}");
    assert!(
        !plain.contains("probe_ssl_") && !plain.contains("probe_tls_"),
        "{plain}"
    );
}

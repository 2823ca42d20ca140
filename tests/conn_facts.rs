//! The connection facts of each row: TLS version, cipher (over TCP and QUIC), ALPN and
//! certificate expiry as the server configured them, TCP_INFO's round trip and retransmissions,
//! Alt-Svc; and sample files from before these columns still report and check.

mod common;
mod support;

use std::sync::Arc;

use cdnprobe::lab::fixture::FixtureConfig;
use cdnprobe::lab::fixture::h3::H3FixtureServer;
use cdnprobe::lab::tls::ALPN_H2_AND_HTTP1;
use cdnprobe::sample::YesNo;
use common::*;

#[tokio::test]
async fn tls_1_2_forced_on_the_server_reads_1_2() {
    let lab = Lab::start();
    let tls = lab
        .ca
        .server_config_with_versions(&[HOST], ALPN_H2_AND_HTTP1, &[&rustls::version::TLS12])
        .unwrap();
    let server = lab
        .http(FixtureConfig {
            tls: Some(tls),
            ..Default::default()
        })
        .await;
    let s = one_sample(&lab, &server.url("/v.mp4"), &[]).await;
    assert_eq!(s.error, None, "{s:?}");
    assert_eq!(s.tls_version, "1.2");
    assert!(s.tls_cipher.starts_with("TLS_ECDHE_"), "{}", s.tls_cipher);
    assert_eq!(s.alpn, "h2");
}

#[tokio::test]
async fn a_default_https_row_has_tls_1_3_its_iana_cipher_and_the_leaf_expiry() {
    let lab = Lab::start();
    let server = lab.https(FixtureConfig::default()).await;
    let s = one_sample(&lab, &server.url("/v.mp4"), &["--http1.1"]).await;
    assert_eq!(s.tls_version, "1.3");
    assert!(s.tls_cipher.starts_with("TLS_AES_") || s.tls_cipher.starts_with("TLS_CHACHA20"));
    assert_eq!(s.alpn, "http/1.1");
    let expires = chrono::DateTime::parse_from_rfc3339(&s.cert_expires_at).expect("RFC 3339");
    assert!(expires > chrono::Utc::now(), "the lab's leaf is valid now");
}

#[tokio::test]
async fn an_h3_row_names_the_cipher_suite_the_server_chose() {
    let lab = Lab::start();
    // A server that prefers ChaCha20 over the client's first choice (AES); QUIC's Initial
    // packets need AES-128-GCM in its provider too.
    let leaf = lab.ca.issue(&[HOST]).unwrap();
    let mut provider = rustls::crypto::ring::default_provider();
    provider.cipher_suites = vec![
        rustls::crypto::ring::cipher_suite::TLS13_CHACHA20_POLY1305_SHA256,
        rustls::crypto::ring::cipher_suite::TLS13_AES_128_GCM_SHA256,
    ];
    let mut tls = rustls::ServerConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(leaf.chain, leaf.key)
        .unwrap();
    tls.ignore_client_order = true;
    let server = H3FixtureServer::start_on_own_runtime(
        "127.0.0.1:0".parse().unwrap(),
        FixtureConfig {
            tls: Some(Arc::new(tls)),
            host: Some(HOST.into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let s = one_sample(&lab, &server.url("/v.mp4"), &["--http3"]).await;
    assert_eq!(s.error, None, "{s:?}");
    assert_eq!(s.tls_cipher, "TLS_CHACHA20_POLY1305_SHA256");
}

#[tokio::test]
async fn tcp_rows_carry_the_kernel_s_round_trip_and_retransmissions() {
    let lab = Lab::start();
    let server = lab.http(FixtureConfig::default()).await;
    let s = one_sample(&lab, &server.url("/v.mp4?bytes=1000000"), &[]).await;
    assert_eq!(s.error, None);
    let rtt = s.rtt_ms.expect("TCP_INFO read");
    assert!(rtt > 0.0 && rtt < 50.0, "loopback rtt {rtt} ms");
    assert!(s.retransmits.is_some());
    // Plain HTTP: no TLS facts.
    assert!(s.tls_version.is_empty() && s.alpn.is_empty() && s.cert_expires_at.is_empty());
    assert_eq!(s.alt_svc_h3, Some(YesNo::No));
}

#[tokio::test]
async fn an_alt_svc_offering_h3_is_recorded() {
    let lab = Lab::start();
    let server = lab.https(FixtureConfig::default()).await;
    let url = server.url("/v.mp4?header=Alt-Svc:h3=%22:443%22;%20ma=86400");
    let s = one_sample(&lab, &url, &[]).await;
    assert_eq!(s.alt_svc_h3, Some(YesNo::Yes));
}

#[test]
fn a_csv_from_before_the_connection_columns_still_reports_and_checks() {
    let seed = support::seed_csv();
    let header = std::fs::read_to_string(&seed).unwrap();
    assert!(!header.lines().next().unwrap().contains("tls_version"));
    let out = tempfile::tempdir().unwrap();
    support::report_ok(&seed, out.path(), &[]);
    let markdown = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    // Nothing to say about connections that were not recorded.
    assert!(!markdown.contains("## Connections"));
    let check = support::check(&seed, &["--min-speedup", "1.0"]);
    assert!(
        matches!(check.status.code(), Some(0 | 1)),
        "{}",
        support::stderr(&check)
    );
}

//! HTTP/3 phases: a delay injected into one phase of a QUIC fetch lands in that phase, as curl
//! would attribute it; the row says what the connection was; one run compares h2 and h3.

mod common;

use cdnprobe::lab::fixture::FixtureConfig;
use cdnprobe::sample::YesNo;
use common::*;

#[tokio::test]
async fn an_unanswered_initial_lands_in_connect_ms() {
    let lab = Lab::start();
    let server = lab
        .h3(FixtureConfig {
            quic_answer_delay: INJECTED,
            ..Default::default()
        })
        .await;
    let s = one_sample(&lab, &server.url("/v.mp4"), &["--http3"]).await;
    assert_h3_delay_only_in(&s, "connect");
}

#[tokio::test]
async fn a_held_back_handshake_lands_in_tls_ms() {
    let lab = Lab::start();
    let server = lab
        .h3(FixtureConfig {
            tls_handshake_delay: INJECTED,
            ..Default::default()
        })
        .await;
    let s = one_sample(&lab, &server.url("/v.mp4"), &["--http3"]).await;
    assert_h3_delay_only_in(&s, "tls");
}

#[tokio::test]
async fn a_slow_response_head_lands_in_ttfb_ms() {
    let lab = Lab::start();
    let server = lab.h3(FixtureConfig::default()).await;
    let url = server.url(&format!("/v.mp4?head_delay_ms={}", INJECTED.as_millis()));
    let s = one_sample(&lab, &url, &["--http3"]).await;
    assert_h3_delay_only_in(&s, "ttfb");
}

#[tokio::test]
async fn a_throttled_body_lands_in_download_ms() {
    let lab = Lab::start();
    let server = lab.h3(FixtureConfig::default()).await;
    let pause = INJECTED.as_millis() / 4;
    let url = server.url(&format!(
        "/v.mp4?bytes=5000&chunk=1000&chunk_delay_ms={pause}"
    ));
    let s = one_sample(&lab, &url, &["--http3"]).await;
    assert_h3_delay_only_in(&s, "download");
    assert_eq!(s.bytes, 5000);
}

#[tokio::test]
async fn an_h3_row_says_what_the_connection_was() {
    let lab = Lab::start();
    let server = lab.h3(FixtureConfig::default()).await;
    let s = one_sample(&lab, &server.url("/v.mp4?bytes=300000"), &["--http3"]).await;
    assert_eq!(s.error, None, "{s:?}");
    assert_eq!((s.status, s.bytes), (Some(200), 300_000));
    assert_eq!(s.http_version, "3");
    assert_eq!((s.tls_version.as_str(), s.alpn.as_str()), ("1.3", "h3"));
    // The fixture follows the client's order, as most servers do: the probe's first choice.
    assert_eq!(s.tls_cipher, "TLS_AES_256_GCM_SHA384");
    assert!(s.cert_expires_at.ends_with('Z'), "{}", s.cert_expires_at);
    assert_eq!(s.alt_svc_h3, Some(YesNo::No));
    let rtt = s.rtt_ms.expect("quinn's path RTT");
    assert!(rtt > 0.0 && rtt < 100.0, "loopback rtt {rtt} ms");
    assert!(s.retransmits.is_some());
}

#[tokio::test]
async fn one_run_compares_h2_and_h3_on_the_same_url() {
    let lab = Lab::start();
    // The TCP fixture first, then the h3 fixture on the same port number over UDP.
    let tcp = lab.https(FixtureConfig::default()).await;
    let port = tcp.addr().port();
    let _udp = lab
        .h3_on(
            &format!("127.0.0.1:{port}"),
            &[HOST],
            FixtureConfig::default(),
        )
        .await;
    let url = tcp.url("/v.mp4?header=Alt-Svc:h3=%22:443%22");
    let (h2, h3) = (format!("cf={url}"), format!("cf-h3={url}"));
    let args = ["--samples", "2", "--target", &h2, "--target", &h3];
    let (_, rows) = lab
        .run(&[&args[..], &["--http3-target", "cf-h3"]].concat())
        .await;
    assert_eq!(rows.len(), 4);
    for row in &rows {
        assert_eq!(row.error, None, "{row:?}");
        let expected = if row.target == "cf-h3" { "3" } else { "2" };
        assert_eq!(row.http_version, expected);
        assert_eq!(row.alt_svc_h3, Some(YesNo::Yes));
        assert_eq!(row.bytes, 64 * 1024);
    }
}

#[tokio::test]
async fn reuse_keeps_the_quic_connection() {
    let lab = Lab::start();
    let server = lab.h3(FixtureConfig::default()).await;
    let target = format!("t={}", server.url("/v.mp4"));
    let args = ["--samples", "3", "--reuse", "--http3", "--target", &target];
    let (_, rows) = lab.run(&args).await;
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r.error.is_none()), "{rows:?}");
    assert!(rows[0].tls_ms.is_some());
    assert!(
        rows[1..]
            .iter()
            .all(|r| r.connect_ms.is_none() && r.tls_ms.is_none())
    );
    assert_eq!(server.connections(), 1);
}

/// The probe stamps a QUIC event when its task wakes to read the datagram, which a loaded
/// machine delays by milliseconds; a phase that starts at such a stamp (tls after the server's
/// first datagram, download after the head) may measure that much under the injected delay.
const WAKE_LATENESS_MS: f64 = 20.0;

fn assert_h3_delay_only_in(s: &cdnprobe::sample::Sample, slow: &str) {
    assert_delay_only_in_within(s, slow, WAKE_LATENESS_MS);
}

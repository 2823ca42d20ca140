//! Every failure class, produced for real over QUIC on loopback.

mod common;

use cdnprobe::lab::fixture::FixtureConfig;
use cdnprobe::lab::tls::TestCa;
use cdnprobe::sample::ErrorClass;
use common::*;

#[tokio::test]
#[ignore = "racy here: quinn's socket can read (and drop) the ICMP error before the probe's \
            peek sees it, and the sample ends as a timeout; run with --ignored"]
async fn no_udp_listener_is_a_connect_error() {
    let lab = Lab::start();
    // A UDP port that was free a moment ago: the kernel answers port unreachable.
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("https://{HOST}:{port}/v.mp4");
    let s = one_sample(&lab, &url, &["--http3", "--timeout", "5s"]).await;
    assert_eq!(s.error, Some(ErrorClass::Connect), "{s:?}");
    assert!(s.connect_ms.is_some() && s.tls_ms.is_none());
    assert!(
        s.connect_ms.unwrap() < 4000.0,
        "ended by ICMP, not the timeout"
    );
}

#[tokio::test]
async fn a_certificate_for_another_name_is_a_tls_error() {
    let lab = Lab::start();
    let server = lab
        .h3_on("127.0.0.1:0", &["other.lab.test"], FixtureConfig::default())
        .await;
    let s = one_sample(&lab, &server.url("/v.mp4"), &["--http3"]).await;
    assert_eq!(s.error, Some(ErrorClass::Tls), "{s:?}");
    assert!(s.connect_ms.is_some() && s.tls_ms.is_some() && s.ttfb_ms.is_none());
}

#[tokio::test]
async fn a_certificate_from_an_untrusted_ca_is_a_tls_error() {
    let lab = Lab::start();
    let stranger = TestCa::new().unwrap();
    let server = cdnprobe::lab::fixture::h3::H3FixtureServer::start_on_own_runtime(
        "127.0.0.1:0".parse().unwrap(),
        FixtureConfig {
            tls: Some(stranger.server_config(&[HOST], &["h3"]).unwrap()),
            host: Some(HOST.into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let s = one_sample(&lab, &server.url("/v.mp4"), &["--http3"]).await;
    assert_eq!(s.error, Some(ErrorClass::Tls), "{s:?}");
}

async fn h3_fault(fault: &str, extra: &[&str]) -> cdnprobe::sample::Sample {
    let lab = Lab::start();
    let server = lab.h3(FixtureConfig::default()).await;
    let url = server.url(&format!("/v.mp4?bytes=200000&fault={fault}"));
    let args = [&["--http3"][..], extra].concat();
    one_sample(&lab, &url, &args).await
}

#[tokio::test]
async fn a_reset_stream_is_a_reset() {
    let s = h3_fault("reset", &[]).await;
    assert_eq!(s.error, Some(ErrorClass::Reset), "{s:?}");
    assert_eq!(s.status, Some(200));
}

#[tokio::test]
async fn a_body_shorter_than_content_length_is_truncated() {
    let s = h3_fault("short", &[]).await;
    assert_eq!(s.error, Some(ErrorClass::Truncated), "{s:?}");
    assert_eq!(s.bytes, 100_000);
}

#[tokio::test]
async fn a_connection_closed_with_an_h3_error_is_a_protocol_error() {
    let s = h3_fault("protocol", &[]).await;
    assert_eq!(s.error, Some(ErrorClass::Protocol), "{s:?}");
}

#[tokio::test]
async fn a_stalled_body_is_a_timeout() {
    let s = h3_fault("stall", &["--timeout", "500ms"]).await;
    assert_eq!(s.error, Some(ErrorClass::Timeout), "{s:?}");
    assert!(s.download_ms.is_none());
}

#[tokio::test]
async fn an_http_url_cannot_be_probed_over_h3() {
    let lab = Lab::start();
    let target = format!("t=http://{HOST}:1/v.mp4");
    let args = lab.args(&["--http3", "--target", &target]);
    let argv = std::iter::once("cdnprobe".to_string()).chain(args);
    let cli = <cdnprobe::cli::Cli as clap::Parser>::try_parse_from(argv).unwrap();
    let cdnprobe::cli::Command::Run(run) = cli.command else {
        panic!("run")
    };
    let error = run.plan().err().expect("a usage error");
    assert_eq!(error.to_string(), "target t: HTTP/3 needs an https URL");
}

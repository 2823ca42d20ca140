//! Every failure class, produced for real over loopback, becomes one CSV row with that class;
//! the phases finished before the failure keep their times, and the run goes on.

mod common;

use std::time::Duration;

use cdnprobe::lab::fixture::FixtureConfig;
use cdnprobe::lab::tls::TestCa;
use cdnprobe::sample::ErrorClass;
use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn nxdomain_is_a_dns_error_with_the_lookup_timed() {
    let lab = Lab::start();
    let s = one_sample(&lab, "https://missing.lab.test/v.mp4", &[]).await;
    assert_eq!(s.error, Some(ErrorClass::Dns));
    assert!(s.dns_ms.is_some());
    assert!(s.connect_ms.is_none());
}

#[tokio::test]
async fn refused_port_is_a_connect_error() {
    let lab = Lab::start();
    // A port that was free a moment ago: nothing listens there now.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let s = one_sample(&lab, &format!("http://{HOST}:{port}/v.mp4"), &[]).await;
    assert_eq!(s.error, Some(ErrorClass::Connect));
    assert!(s.dns_ms.is_some() && s.connect_ms.is_some());
    assert!(s.tls_ms.is_none() && s.ttfb_ms.is_none());
}

#[tokio::test]
async fn refused_connect_records_the_address_it_tried() {
    let lab = Lab::start();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let s = one_sample(&lab, &format!("http://{HOST}:{port}/v.mp4"), &[]).await;
    assert_eq!(s.error, Some(ErrorClass::Connect));
    assert_eq!(s.remote_addr, format!("127.0.0.1:{port}"));
}

#[tokio::test]
async fn certificate_for_another_name_is_a_tls_error() {
    let lab = Lab::start();
    let server = lab
        .https_for(&["other.lab.test"], true, FixtureConfig::default())
        .await;
    let s = one_sample(&lab, &server.url("/v.mp4"), &[]).await;
    assert_eq!(s.error, Some(ErrorClass::Tls));
    assert!(s.connect_ms.is_some() && s.tls_ms.is_some());
    assert!(s.ttfb_ms.is_none());
}

#[tokio::test]
async fn certificate_from_an_untrusted_ca_is_a_tls_error() {
    let lab = Lab::start();
    let stranger = TestCa::new().unwrap();
    let tls = stranger
        .server_config(&[HOST], cdnprobe::lab::tls::ALPN_H2_AND_HTTP1)
        .unwrap();
    let server = lab
        .http(FixtureConfig {
            tls: Some(tls),
            ..Default::default()
        })
        .await;
    let s = one_sample(&lab, &server.url("/v.mp4"), &[]).await;
    assert_eq!(s.error, Some(ErrorClass::Tls));
}

#[tokio::test]
async fn insecure_accepts_a_certificate_from_an_untrusted_ca() {
    let lab = Lab::start();
    let stranger = TestCa::new().unwrap();
    let tls = stranger
        .server_config(&["somewhere.else"], cdnprobe::lab::tls::ALPN_H2_AND_HTTP1)
        .unwrap();
    let server = lab
        .http(FixtureConfig {
            tls: Some(tls),
            ..Default::default()
        })
        .await;
    let s = one_sample(&lab, &server.url("/v.mp4"), &["--insecure"]).await;
    assert_eq!(s.error, None);
}

#[tokio::test]
async fn reset_mid_body_is_a_reset_over_http1() {
    let lab = Lab::start();
    let server = lab.http(FixtureConfig::default()).await;
    let s = one_sample(&lab, &server.url("/v.mp4?bytes=4000000&fault=reset"), &[]).await;
    assert_eq!(s.error, Some(ErrorClass::Reset));
    assert!(s.ttfb_ms.is_some());
    assert!(s.bytes > 0 && s.bytes < 4_000_000, "{} bytes", s.bytes);
}

#[tokio::test]
async fn reset_mid_body_is_a_reset_over_http2() {
    let lab = Lab::start();
    let server = lab.https(FixtureConfig::default()).await;
    let s = one_sample(&lab, &server.url("/v.mp4?bytes=4000000&fault=reset"), &[]).await;
    assert_eq!(s.http_version, "2");
    assert_eq!(s.error, Some(ErrorClass::Reset));
}

#[tokio::test]
async fn body_shorter_than_content_length_is_truncated_over_http1() {
    let lab = Lab::start();
    let server = lab.http(FixtureConfig::default()).await;
    let s = one_sample(&lab, &server.url("/v.mp4?bytes=100000&fault=short"), &[]).await;
    assert_eq!(s.error, Some(ErrorClass::Truncated));
    assert_eq!(s.bytes, 50_000);
    assert!(s.ttfb_ms.is_some() && s.download_ms.is_some());
}

#[tokio::test]
async fn body_shorter_than_content_length_is_truncated_over_http2() {
    let lab = Lab::start();
    let server = lab.https(FixtureConfig::default()).await;
    let s = one_sample(&lab, &server.url("/v.mp4?bytes=100000&fault=short"), &[]).await;
    assert_eq!(s.http_version, "2");
    assert_eq!(s.error, Some(ErrorClass::Truncated));
}

#[tokio::test]
async fn body_stalled_past_the_timeout_is_a_timeout() {
    let lab = Lab::start();
    let server = lab.https(FixtureConfig::default()).await;
    let url = server.url("/v.mp4?bytes=100000&fault=stall");
    let s = one_sample(&lab, &url, &["--timeout", "500ms"]).await;
    assert_eq!(s.error, Some(ErrorClass::Timeout));
    assert!(s.tls_ms.is_some() && s.ttfb_ms.is_some());
    assert!(s.download_ms.is_none());
    assert_eq!(s.bytes, 50_000);
    let total = s.total_ms.unwrap();
    assert!((500.0..1500.0).contains(&total), "total {total} ms");
}

#[tokio::test]
async fn status_404_is_an_http_status_error_with_the_body_timed() {
    let lab = Lab::start();
    let server = lab.https(FixtureConfig::default()).await;
    let s = one_sample(&lab, &server.url("/v.mp4?status=404&bytes=100"), &[]).await;
    assert_eq!(s.error, Some(ErrorClass::HttpStatus));
    assert_eq!((s.status, s.bytes), (Some(404), 100));
    assert!(s.download_ms.is_some());
}

#[tokio::test]
async fn garbage_instead_of_a_response_is_a_protocol_error() {
    let lab = Lab::start();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        let mut request = [0u8; 1024];
        let _ = tcp.read(&mut request).await;
        let _ = tcp.write_all(b"HTTP/1.1 two hundred OK\r\n\r\n").await;
        tokio::time::sleep(Duration::from_secs(1)).await;
    });
    let s = one_sample(&lab, &format!("http://{HOST}:{port}/v.mp4"), &[]).await;
    assert_eq!(s.error, Some(ErrorClass::Protocol));
}

#[tokio::test]
async fn a_failed_sample_does_not_stop_the_run() {
    let lab = Lab::start();
    let server = lab.http(FixtureConfig::default()).await;
    let good = format!("good={}", server.url("/v.mp4"));
    let bad = "bad=http://missing.lab.test/v.mp4".to_string();
    let (code, rows) = lab
        .run(&["--samples", "2", "--target", &bad, "--target", &good])
        .await;
    let summary: Vec<_> = rows.iter().map(|s| (s.target.as_str(), s.error)).collect();
    assert_eq!(
        summary,
        [
            ("bad", Some(ErrorClass::Dns)),
            ("good", None),
            ("bad", Some(ErrorClass::Dns)),
            ("good", None)
        ]
    );
    // Every sample of one target failed: exit status 1.
    assert_eq!(code, std::process::ExitCode::FAILURE);
}

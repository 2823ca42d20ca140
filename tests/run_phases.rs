//! Phase attribution: a delay injected into one phase lands in that phase, and only there.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use cdnprobe::lab::fixture::FixtureConfig;
use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn slow_dns_answer_lands_in_dns_ms() {
    let lab = Lab::start();
    let server = lab.https(FixtureConfig::default()).await;
    let url = server.url("/v.mp4").replace(HOST, SLOW_DNS_HOST);
    let s = one_sample(&lab, &url, &[]).await;
    assert_delay_only_in(&s, "dns");
}

#[tokio::test]
async fn slow_tls_handshake_lands_in_tls_ms() {
    let lab = Lab::start();
    let server = lab
        .https(FixtureConfig {
            tls_handshake_delay: INJECTED,
            ..Default::default()
        })
        .await;
    let s = one_sample(&lab, &server.url("/v.mp4"), &[]).await;
    assert_delay_only_in(&s, "tls");
}

#[tokio::test]
async fn slow_response_head_lands_in_ttfb_ms() {
    let lab = Lab::start();
    let server = lab.https(FixtureConfig::default()).await;
    let url = server.url(&format!("/v.mp4?head_delay_ms={}", INJECTED.as_millis()));
    let s = one_sample(&lab, &url, &[]).await;
    assert_delay_only_in(&s, "ttfb");
}

#[tokio::test]
async fn throttled_body_lands_in_download_ms() {
    let lab = Lab::start();
    let server = lab.https(FixtureConfig::default()).await;
    // Five 1000-byte frames with a pause before each after the first: four pauses in all.
    let pause = INJECTED.as_millis() / 4;
    let url = server.url(&format!(
        "/v.mp4?bytes=5000&chunk=1000&chunk_delay_ms={pause}"
    ));
    let s = one_sample(&lab, &url, &[]).await;
    assert_delay_only_in(&s, "download");
    assert_eq!(s.bytes, 5000);
}

#[tokio::test]
async fn total_exceeds_the_sum_of_phases_by_under_a_millisecond() {
    let lab = Lab::start();
    let server = lab.https(FixtureConfig::default()).await;
    let target = format!("t={}", server.url("/v.mp4"));
    let (_, rows) = lab.run(&["--samples", "21", "--target", &target]).await;
    let mut gaps: Vec<f64> = rows
        .iter()
        .map(|s| {
            assert_eq!(s.error, None);
            let phases = [s.dns_ms, s.connect_ms, s.tls_ms, s.ttfb_ms, s.download_ms];
            s.total_ms.unwrap() - phases.iter().map(|p| p.unwrap()).sum::<f64>()
        })
        .collect();
    gaps.sort_by(f64::total_cmp);
    assert!(gaps[0] >= 0.0, "phases overlap: {gaps:?}");
    // The median: one sample preempted on a busy machine says nothing about the harness.
    let median = gaps[gaps.len() / 2];
    assert!(median < 1.0, "harness overhead {median} ms (all: {gaps:?})");
}

#[tokio::test]
async fn plain_http_has_no_tls_phase() {
    let lab = Lab::start();
    let server = lab.http(FixtureConfig::default()).await;
    let s = one_sample(&lab, &server.url("/v.mp4"), &[]).await;
    assert_eq!(s.error, None);
    assert!(s.tls_ms.is_none());
    assert!(s.dns_ms.is_some() && s.connect_ms.is_some() && s.ttfb_ms.is_some());
    assert_eq!(s.http_version, "1.1");
}

#[tokio::test]
async fn ip_literal_host_has_no_dns_phase() {
    let lab = Lab::start();
    let server = lab.http(FixtureConfig::default()).await;
    let url = server.url("/v.mp4").replace(HOST, "127.0.0.1");
    let s = one_sample(&lab, &url, &[]).await;
    assert_eq!(s.error, None);
    assert!(s.dns_ms.is_none());
    assert_eq!(s.remote_addr, server.addr().to_string());
}

#[tokio::test]
async fn row_records_status_version_bytes_and_throughput() {
    let lab = Lab::start();
    let server = lab.https(FixtureConfig::default()).await;
    let s = one_sample(&lab, &server.url("/v.mp4?bytes=300000"), &[]).await;
    assert_eq!(s.error, None);
    assert_eq!(s.status, Some(200));
    assert_eq!(s.http_version, "2");
    assert_eq!(s.bytes, 300_000);
    assert_eq!(s.region, "lab");
    assert_eq!((s.target.as_str(), s.sample), ("t", 1));
    let expected = 300_000.0 * 8.0 / 1e6 / (s.download_ms.unwrap() / 1e3);
    let throughput = s.throughput_mbps.unwrap();
    assert!(
        (throughput - expected).abs() / expected < 0.01,
        "{throughput} vs {expected}"
    );
}

#[tokio::test]
async fn http1_1_flag_is_honoured_against_an_h2_server() {
    let lab = Lab::start();
    let server = lab.https(FixtureConfig::default()).await;
    let s = one_sample(&lab, &server.url("/v.mp4"), &["--http1.1"]).await;
    assert_eq!((s.error, s.http_version.as_str()), (None, "1.1"));
}

#[tokio::test]
async fn every_sample_is_a_new_connection_by_default() {
    let lab = Lab::start();
    let server = lab.https(FixtureConfig::default()).await;
    let target = format!("t={}", server.url("/v.mp4"));
    let (_, rows) = lab.run(&["--samples", "3", "--target", &target]).await;
    assert_eq!(server.connections(), 3);
    assert!(
        rows.iter()
            .all(|s| s.dns_ms.is_some() && s.tls_ms.is_some())
    );
}

/// Three samples with `--reuse` (and `extra` flags) use one connection; the later samples
/// leave DNS, connect and TLS empty.
async fn assert_reuse_keeps_one_connection(extra: &[&str]) {
    let lab = Lab::start();
    let server = lab.https(FixtureConfig::default()).await;
    let target = format!("t={}", server.url("/v.mp4"));
    let mut args = vec!["--samples", "3", "--reuse", "--target", &target];
    args.extend_from_slice(extra);
    let (_, rows) = lab.run(&args).await;
    assert_eq!(server.connections(), 1);
    assert!(rows[0].dns_ms.is_some() && rows[0].tls_ms.is_some());
    for s in &rows[1..] {
        assert_eq!(s.error, None);
        assert!(s.dns_ms.is_none() && s.connect_ms.is_none() && s.tls_ms.is_none());
        assert!(s.ttfb_ms.is_some() && s.download_ms.is_some());
    }
}

#[tokio::test]
async fn reuse_keeps_one_http2_connection() {
    assert_reuse_keeps_one_connection(&[]).await;
}

#[tokio::test]
async fn reuse_keeps_one_http1_connection() {
    assert_reuse_keeps_one_connection(&["--http1.1"]).await;
}

/// An HTTP/1.1 server that answers one request per connection with a keep-alive response,
/// then closes the connection when the next request arrives: deterministically, what a server
/// closing an idle connection just as the client reuses it looks like to the client.
async fn one_response_per_connection_server() -> (std::net::SocketAddr, Arc<AtomicU64>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicU64::new(0));
    let accepted = connections.clone();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            accepted.fetch_add(1, Ordering::Relaxed);
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tcp.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let response = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
                let _ = tcp.write_all(response.as_bytes()).await;
                // The next request is read, then the connection is closed without an answer.
                let _ = tcp.read(&mut buf).await;
            });
        }
    });
    (addr, connections)
}

#[tokio::test]
async fn reuse_retries_on_a_fresh_connection_when_the_kept_one_was_closed() {
    let lab = Lab::start();
    let (addr, connections) = one_response_per_connection_server().await;
    let target = format!("t=http://{HOST}:{}/v.mp4", addr.port());
    let (_, rows) = lab
        .run(&["--samples", "3", "--reuse", "--target", &target])
        .await;
    // Each later sample found its kept connection closed and fetched on a fresh one, whose
    // phases are the ones recorded.
    assert_eq!(connections.load(Ordering::Relaxed), 3);
    for s in &rows {
        assert_eq!((s.error, s.status, s.bytes), (None, Some(200), 5), "{s:?}");
        assert!(s.dns_ms.is_some() && s.connect_ms.is_some(), "{s:?}");
    }
    assert_eq!(rows.len(), 3);
}

#[tokio::test]
async fn timeout_is_per_sample_not_per_run() {
    let lab = Lab::start();
    let server = lab.http(FixtureConfig::default()).await;
    // Three samples of 400 ms each: 1.2 s in all, more than the timeout.
    let target = format!("t={}", server.url("/v.mp4?head_delay_ms=400"));
    let (_, rows) = lab
        .run(&["--samples", "3", "--timeout", "1s", "--target", &target])
        .await;
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|s| s.error.is_none()), "{rows:?}");
}

#[tokio::test]
async fn ipv6_only_connects_over_ipv6() {
    let lab = Lab::start();
    let config = FixtureConfig {
        host: Some(DUAL_STACK_HOST.into()),
        ..Default::default()
    };
    let server = start_fixture_on("[::1]:0", config).await;
    // Without -6 the lookup stops at the A record (127.0.0.1), where nothing listens.
    let s = one_sample(&lab, &server.url("/v.mp4"), &["-6"]).await;
    assert_eq!(s.error, None);
    assert_eq!(s.remote_addr, server.addr().to_string());
}

#[tokio::test]
async fn http2_flag_over_plain_http_speaks_h2_with_prior_knowledge() {
    let lab = Lab::start();
    let server = lab.http(FixtureConfig::default()).await;
    let s = one_sample(&lab, &server.url("/v.mp4"), &["--http2"]).await;
    assert_eq!((s.error, s.http_version.as_str()), (None, "2"));
}

#[tokio::test]
async fn reuse_reconnects_when_the_server_closed_the_connection() {
    let lab = Lab::start();
    let server = lab.http(FixtureConfig::default()).await;
    let target = format!("t={}", server.url("/v.mp4?header=Connection:close"));
    let (_, rows) = lab
        .run(&["--samples", "3", "--reuse", "--target", &target])
        .await;
    assert_eq!(server.connections(), 3);
    assert!(
        rows.iter()
            .all(|s| s.error.is_none() && s.connect_ms.is_some())
    );
}

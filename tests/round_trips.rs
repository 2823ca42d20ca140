//! Over a path with a known round trip (the namespace lab's delay line, 25 ms each way), each
//! protocol's handshake costs the round trips it should: QUIC's connect + TLS take one, TCP's
//! connect + TLS 1.3 take two; and every row's `rtt_ms` (TCP_INFO, quinn's path RTT) is the
//! path's round trip. The same fixture serves both protocols on the same port.
//!
//! These tests need root and /dev/net/tun (CI has both); without them they print why and skip.

mod common;
mod netns_support;

use std::net::SocketAddr;
use std::time::Duration;

use cdnprobe::lab::fixture::h3::H3FixtureServer;
use cdnprobe::lab::fixture::{FixtureConfig, FixtureServer};
use cdnprobe::lab::netns::Network;
use cdnprobe::lab::netns::delay_line::LinkSpec;
use cdnprobe::lab::netns::namespace::{NamespaceError, unavailable_reason};
use cdnprobe::lab::tls::{ALPN_H2_AND_HTTP1, TestCa};
use cdnprobe::sample::Sample;
use netns_support::{B, assert_round_trips, handshake, on_host, two_hosts};

const ONE_WAY: Duration = Duration::from_millis(25);
const RTT_MS: f64 = 50.0;
const SAMPLES: u64 = 5;

/// The fixture over TCP (h2) and over QUIC (h3) on host B, served by a runtime of their own.
/// Field order is drop order: servers, their runtime, then the network they live in.
struct Lab {
    tcp: FixtureServer,
    _h3: H3FixtureServer,
    runtime: Option<tokio::runtime::Runtime>,
    net: Network,
    ca_pem: tempfile::TempPath,
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// The lab, or `None` (with the reason printed) where namespaces cannot be made.
fn lab() -> Option<Lab> {
    if let Some(reason) = unavailable_reason() {
        eprintln!("skipped: the namespace lab needs root and /dev/net/tun: {reason}");
        return None;
    }
    let net = two_hosts(LinkSpec::delay(ONE_WAY), None);
    let ca = TestCa::new().unwrap();
    let name = B.to_string();
    let tcp_tls = ca.server_config(&[&name], ALPN_H2_AND_HTTP1).unwrap();
    let h3_tls = ca.server_config(&[&name], &["h3"]).unwrap();
    let io = |source: std::io::Error| NamespaceError::Io {
        context: "starting the fixture".into(),
        source,
    };
    // Sockets are made on this thread, inside B; the runtime's worker serves them.
    let (runtime, tcp, h3) = net
        .host(1)
        .namespace
        .run(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .map_err(io)?;
            let (tcp, h3) = runtime.block_on(async {
                let config = |tls| FixtureConfig {
                    tls: Some(tls),
                    ..Default::default()
                };
                let tcp = FixtureServer::start_on(SocketAddr::from((B, 0)), config(tcp_tls))
                    .await
                    .map_err(io)?;
                let udp = SocketAddr::from((B, tcp.addr().port()));
                let h3 = H3FixtureServer::start_on(udp, config(h3_tls))
                    .await
                    .map_err(|e| io(std::io::Error::other(e)))?;
                Ok::<_, NamespaceError>((tcp, h3))
            })?;
            Ok((runtime, tcp, h3))
        })
        .unwrap();
    let ca_pem = tempfile::NamedTempFile::new().unwrap().into_temp_path();
    ca.write_ca_pem(&ca_pem).unwrap();
    Some(Lab {
        tcp,
        _h3: h3,
        runtime: Some(runtime),
        net,
        ca_pem,
    })
}

impl Lab {
    /// `cdnprobe run` on host A: the same URL as `h2` and as `h3`, interleaved, [`SAMPLES`]
    /// each; returns (h2 rows, h3 rows).
    fn probe_both(&self, query: &str) -> (Vec<Sample>, Vec<Sample>) {
        let url = self.tcp.url(&format!("/v.mp4{query}"));
        let out = tempfile::NamedTempFile::new().unwrap().into_temp_path();
        let args: Vec<String> = [
            "run",
            "--target",
            &format!("h2={url}"),
            "--target",
            &format!("h3={url}"),
            "--http3-target",
            "h3",
            "--samples",
            &SAMPLES.to_string(),
            "--cacert",
            self.ca_pem.to_str().unwrap(),
            "--region",
            "lab",
            "--out",
            out.to_str().unwrap(),
        ]
        .map(String::from)
        .into();
        on_host(&self.net.host(0).namespace, move || async move {
            common::run_in_process(&args).await
        });
        let rows = common::read_rows(&out);
        assert_eq!(rows.len() as u64, 2 * SAMPLES, "{rows:?}");
        for row in &rows {
            assert_eq!(row.error, None, "{row:?}");
        }
        rows.into_iter().partition(|row| row.target == "h2")
    }
}

#[test]
fn the_quic_handshake_takes_one_round_trip_and_tcp_with_tls_two() {
    let Some(lab) = lab() else { return };
    let (h2, h3) = lab.probe_both("?bytes=20000");
    assert!(h2.iter().all(|row| row.http_version == "2"), "{h2:?}");
    assert!(h3.iter().all(|row| row.http_version == "3"), "{h3:?}");
    // Attribution, not speed: the tolerances are far wider than scheduling noise and far
    // narrower than a round trip, so a handshake counted one round trip short or long fails.
    assert_round_trips("h3 connect + tls", &h3, handshake, RTT_MS, (0.8, 1.6));
    assert_round_trips("h2 connect + tls", &h2, handshake, RTT_MS, (1.8, 2.8));
    // And each part where it belongs: TCP's connect is the SYN's round trip, QUIC's connect is
    // the Initial's.
    assert_round_trips("h2 connect", &h2, |row| row.connect_ms, RTT_MS, (0.8, 1.6));
    assert_round_trips("h3 connect", &h3, |row| row.connect_ms, RTT_MS, (0.8, 1.6));
}

#[test]
fn rtt_ms_is_the_path_s_round_trip_over_tcp_and_quic() {
    let Some(lab) = lab() else { return };
    let (h2, h3) = lab.probe_both("?bytes=200000");
    assert_round_trips(
        "h2 rtt_ms (TCP_INFO)",
        &h2,
        |row| row.rtt_ms,
        RTT_MS,
        (0.9, 1.5),
    );
    assert_round_trips(
        "h3 rtt_ms (quinn)",
        &h3,
        |row| row.rtt_ms,
        RTT_MS,
        (0.9, 1.5),
    );
    // Nothing is lost on this path.
    assert!(h2.iter().all(|row| row.retransmits == Some(0)), "{h2:?}");
    assert!(h3.iter().all(|row| row.retransmits == Some(0)), "{h3:?}");
}

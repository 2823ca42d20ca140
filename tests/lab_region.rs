//! A region's lab around the real origin: TLS crosses the emulated paths, the edge caches.

mod lab_support;

use std::time::Duration;

use cdnprobe::lab::front::TlsFront;
use cdnprobe::lab::link::{Link, LinkProfile, Shape};
use cdnprobe::lab::region_lab::{EDGE_HOST, ORIGIN_HOST, RegionLab, RegionPaths};
use cdnprobe::lab::regions::{AUCKLAND, DEMO_TIME_SCALE};
use cdnprobe::lab::tls::{ALPN_HTTP1, TestCa};
use lab_support::{Origin, fetch_tls, object_bytes};

#[tokio::test]
async fn a_tls_handshake_across_a_link_takes_one_round_trip() {
    let one_way = Duration::from_millis(100);
    let origin = Origin::start().await;
    let ca = TestCa::new().unwrap();
    let front = TlsFront::start(
        ca.server_config(&["far.lab.test"], ALPN_HTTP1).unwrap(),
        origin.addr,
    )
    .await
    .unwrap();
    let link = Link::start(
        front.local_addr(),
        LinkProfile::symmetric(Shape::latency(one_way)),
    )
    .await
    .unwrap();

    let client = ca.client_config(ALPN_HTTP1).unwrap();
    let (handshake, fetched) =
        fetch_tls(link.local_addr(), "far.lab.test", client, "/object/5000").await;

    // TLS 1.3: ClientHello out, the server's flight back — one round trip, not two.
    assert!(handshake >= 2 * one_way, "handshake {handshake:?}");
    assert!(handshake < 3 * one_way, "handshake {handshake:?}");
    assert!(fetched.ttfb >= 2 * one_way, "ttfb {:?}", fetched.ttfb);
    assert_eq!(fetched.body, object_bytes(5000));
}

#[tokio::test]
async fn the_region_serves_the_origin_far_and_the_edge_near_over_tls() {
    let origin = Origin::start().await;
    let ca = TestCa::new().unwrap();
    let size = 21_000;
    let path = format!("/object/{size}");
    let lab = RegionLab::start(
        &ca,
        origin.addr,
        RegionPaths::of(&AUCKLAND, DEMO_TIME_SCALE),
    )
    .await
    .unwrap();
    let client = ca.client_config(ALPN_HTTP1).unwrap();
    let port = |url: String| url::Url::parse(&url).unwrap().port().unwrap();
    let at = |port: u16| std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let origin_port = port(lab.origin_url(&path));
    let edge_port = port(lab.edge_url(&path));

    let (_, from_origin) = fetch_tls(at(origin_port), ORIGIN_HOST, client.clone(), &path).await;
    let (_, miss) = fetch_tls(at(edge_port), EDGE_HOST, client.clone(), &path).await;
    let (_, hit) = fetch_tls(at(edge_port), EDGE_HOST, client, &path).await;

    for fetched in [&from_origin, &miss, &hit] {
        assert_eq!(fetched.body, object_bytes(size));
    }
    assert_eq!(miss.header("x-cache"), "Miss from cloudfront");
    assert_eq!(hit.header("x-cache"), "Hit from cloudfront");
    assert_eq!(hit.header("x-amz-cf-pop"), AUCKLAND.edge_pop);
    assert_eq!(
        origin.requests(),
        2,
        "one fetch from the probe, one miss from the edge"
    );
    assert_eq!(
        origin.connections(),
        2,
        "the edge's miss went over the connection it opened at start (warm)"
    );
    // The hit crosses only the near path, the origin fetch the far one.
    assert!(
        hit.elapsed < from_origin.elapsed,
        "{:?} vs {:?}",
        hit.elapsed,
        from_origin.elapsed
    );
    lab.shutdown().await;
}

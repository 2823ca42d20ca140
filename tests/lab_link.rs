//! The user-space link: latency and bandwidth land where they should, bytes arrive intact.

mod lab_support;

use std::time::{Duration, Instant};

use cdnprobe::lab::link::{Link, LinkProfile, Shape};
use lab_support::{Origin, get, object_bytes};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const ONE_WAY: Duration = Duration::from_millis(100);

#[tokio::test]
async fn one_way_latency_adds_a_round_trip_to_a_request_and_its_response() {
    let origin = Origin::start().await;
    let link = Link::start(origin.addr, LinkProfile::symmetric(Shape::latency(ONE_WAY)))
        .await
        .unwrap();

    let direct = get(origin.addr, "/object/1000").await;
    let across = get(link.local_addr(), "/object/1000").await;

    assert_eq!(across.body, direct.body);
    assert!(across.ttfb >= 2 * ONE_WAY, "ttfb {:?}", across.ttfb);
    // One round trip, not one per packet or per direction change; wide for a loaded machine.
    assert!(
        across.ttfb < 2 * ONE_WAY + Duration::from_millis(150),
        "ttfb {:?}",
        across.ttfb
    );
    assert!(direct.ttfb < ONE_WAY, "direct ttfb {:?}", direct.ttfb);
}

#[tokio::test]
async fn latency_delays_a_stream_without_serialising_it() {
    // The server writes 20 small chunks 10 ms apart. Held as a stream, the last one arrives one
    // latency after it was sent (~300 ms); stop-and-wait would need 20 latencies (2 s).
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server_addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        stream.set_nodelay(true).unwrap();
        for i in 0..20u8 {
            stream.write_all(&[i; 100]).await.unwrap();
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    let link = Link::start(server_addr, LinkProfile::symmetric(Shape::latency(ONE_WAY)))
        .await
        .unwrap();

    let started = Instant::now();
    let mut client = TcpStream::connect(link.local_addr()).await.unwrap();
    let mut received = Vec::new();
    client.read_to_end(&mut received).await.unwrap();
    let elapsed = started.elapsed();

    let expected: Vec<u8> = (0..20u8).flat_map(|i| [i; 100]).collect();
    assert_eq!(received, expected);
    assert!(
        elapsed >= Duration::from_millis(190) + ONE_WAY,
        "{elapsed:?}"
    );
    assert!(elapsed < Duration::from_millis(900), "{elapsed:?}");
    server.await.unwrap();
}

#[tokio::test]
async fn a_bandwidth_cap_makes_a_transfer_take_at_least_size_over_rate() {
    let origin = Origin::start().await;
    let rate = 1_000_000.0; // bytes per second
    let downlink = Shape::latency(Duration::ZERO).with_rate(rate);
    let profile = LinkProfile {
        uplink: Shape::latency(Duration::ZERO),
        downlink,
    };
    let link = Link::start(origin.addr, profile).await.unwrap();

    let size = 300_000;
    let fetched = get(link.local_addr(), &format!("/object/{size}")).await;

    assert_eq!(fetched.body, object_bytes(size));
    let paced = (size - downlink.burst_bytes) as f64 / rate;
    let floor = Duration::from_secs_f64(paced);
    assert!(
        fetched.elapsed >= floor,
        "{:?} < {floor:?}",
        fetched.elapsed
    );
    assert!(fetched.elapsed < floor * 3, "{:?}", fetched.elapsed);
}

#[tokio::test]
async fn each_direction_is_shaped_on_its_own() {
    // Only the uplink is slow: the request waits, the response does not.
    let origin = Origin::start().await;
    let profile = LinkProfile {
        uplink: Shape::latency(ONE_WAY),
        downlink: Shape::latency(Duration::ZERO),
    };
    let link = Link::start(origin.addr, profile).await.unwrap();

    let fetched = get(link.local_addr(), "/object/10").await;

    assert!(fetched.ttfb >= ONE_WAY, "{:?}", fetched.ttfb);
    assert!(fetched.ttfb < 2 * ONE_WAY, "{:?}", fetched.ttfb);
}

#[tokio::test]
async fn a_large_body_crosses_a_shaped_link_intact() {
    let origin = Origin::start().await;
    let shape = Shape::latency(Duration::from_millis(5)).with_rate(50_000_000.0);
    let link = Link::start(origin.addr, LinkProfile::symmetric(shape))
        .await
        .unwrap();

    let size = 4 * 1024 * 1024 + 17;
    let fetched = get(link.local_addr(), &format!("/object/{size}")).await;

    assert_eq!(fetched.body.len(), size);
    assert!(fetched.body == object_bytes(size));
}

#[tokio::test]
async fn dropping_a_link_closes_its_port() {
    let origin = Origin::start().await;
    let link = Link::start(
        origin.addr,
        LinkProfile::symmetric(Shape::latency(Duration::ZERO)),
    )
    .await
    .unwrap();
    let addr = link.local_addr();
    assert_eq!(get(addr, "/object/1").await.body.len(), 1);

    drop(link);
    tokio::task::yield_now().await;

    let refused = TcpStream::connect(addr).await;
    assert!(refused.is_err(), "the port still accepts connections");
}

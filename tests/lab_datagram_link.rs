//! The user-space datagram link (UDP, for QUIC on the relay lab): each direction's one-way delay
//! and rate land where they should, datagrams arrive intact and in order, a full queue drops.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use cdnprobe::lab::datagram_link::DatagramLink;
use cdnprobe::lab::link::{LinkProfile, Shape};
use tokio::net::UdpSocket;

const UP: Duration = Duration::from_millis(60);
const DOWN: Duration = Duration::from_millis(30);
/// Far above timer and scheduling noise on a loaded machine, far below the delays measured.
const SLACK: Duration = Duration::from_millis(25);
/// Deep enough never to drop in the tests that do not fill it.
const DEEP_QUEUE: usize = 1 << 20;

async fn udp() -> UdpSocket {
    UdpSocket::bind("127.0.0.1:0").await.unwrap()
}

async fn link_to(upstream: SocketAddr, profile: LinkProfile, queue: usize) -> DatagramLink {
    DatagramLink::start(upstream, profile, queue).await.unwrap()
}

#[tokio::test]
async fn each_direction_is_delayed_by_its_own_one_way_delay() {
    let server = udp().await;
    let link = link_to(
        server.local_addr().unwrap(),
        LinkProfile {
            uplink: Shape::latency(UP),
            downlink: Shape::latency(DOWN),
        },
        DEEP_QUEUE,
    )
    .await;
    let client = udp().await;
    let mut buffer = [0u8; 2048];

    for round in 0..3u8 {
        let sent = Instant::now();
        client
            .send_to(&[round; 1200], link.local_addr())
            .await
            .unwrap();
        let (len, session) = server.recv_from(&mut buffer).await.unwrap();
        let up = sent.elapsed();
        assert_eq!(&buffer[..len], &[round; 1200][..]);
        server.send_to(&[round; 500], session).await.unwrap();
        let answered = Instant::now();
        let (len, from) = client.recv_from(&mut buffer).await.unwrap();
        let down = answered.elapsed();

        assert_eq!(
            (&buffer[..len], from),
            (&[round; 500][..], link.local_addr())
        );
        assert!(up >= UP && up < UP + SLACK, "round {round}: uplink {up:?}");
        assert!(
            down >= DOWN && down < DOWN + SLACK,
            "round {round}: downlink {down:?}"
        );
    }
}

#[tokio::test]
async fn a_burst_leaves_at_the_link_s_rate_in_order() {
    const RATE: f64 = 200_000.0; // bytes per second
    const DATAGRAMS: usize = 50;
    const SIZE: usize = 1000;
    let server = udp().await;
    let shape = Shape::latency(Duration::from_millis(10)).with_rate(RATE);
    let link = link_to(
        server.local_addr().unwrap(),
        LinkProfile::symmetric(shape),
        DEEP_QUEUE,
    )
    .await;
    let client = udp().await;

    let sent = Instant::now();
    for i in 0..DATAGRAMS {
        client
            .send_to(&[i as u8; SIZE], link.local_addr())
            .await
            .unwrap();
    }
    let mut buffer = [0u8; 2048];
    for i in 0..DATAGRAMS {
        let len = server.recv(&mut buffer).await.unwrap();
        assert_eq!(&buffer[..len], &[i as u8; SIZE][..], "datagram {i}");
    }
    let elapsed = sent.elapsed();

    // The bucket's burst leaves at once; the rest at the rate, then the delay.
    let paced = (DATAGRAMS * SIZE - shape.burst_bytes) as f64 / RATE;
    let expected = Duration::from_secs_f64(paced) + shape.latency;
    assert!(
        elapsed >= expected.mul_f64(0.95) && elapsed < expected + SLACK,
        "{DATAGRAMS} datagrams in {elapsed:?}, expected {expected:?}"
    );
}

#[tokio::test]
async fn datagrams_beyond_a_full_queue_are_dropped() {
    const QUEUE: usize = 10_000;
    let server = udp().await;
    let shape = Shape::latency(Duration::from_millis(5)).with_rate(100_000.0);
    let link = link_to(
        server.local_addr().unwrap(),
        LinkProfile::symmetric(shape),
        QUEUE,
    )
    .await;
    let client = udp().await;

    // 100 kB at once into a 100 kB/s line: what the burst and the queue hold gets through.
    for _ in 0..100 {
        client
            .send_to(&[7u8; 1000], link.local_addr())
            .await
            .unwrap();
    }
    let mut received = 0;
    let mut buffer = [0u8; 2048];
    while tokio::time::timeout(Duration::from_millis(300), server.recv(&mut buffer))
        .await
        .is_ok()
    {
        received += 1;
    }

    let held = (shape.burst_bytes + QUEUE) / 1000;
    assert!(
        (held - 1..=held + 5).contains(&received),
        "{received} of 100 datagrams arrived; the burst and queue hold {held}"
    );
}

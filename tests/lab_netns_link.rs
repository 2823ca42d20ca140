//! The delay line between two namespaces: real kernel TCP and UDP cross it, and it adds exactly
//! the delay, rate, queue and loss it was given.

mod netns_support;

use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use cdnprobe::lab::netns::Network;
use cdnprobe::lab::netns::delay_line::LinkSpec;
use cdnprobe::lab::netns::namespace::{Namespace, NamespaceError};
use netns_support::{A, B, two_hosts};

const MS: Duration = Duration::from_millis(1);

/// A UDP socket bound to `addr` inside `namespace`.
fn udp_in(namespace: &Namespace, addr: SocketAddr) -> UdpSocket {
    namespace
        .run(move || UdpSocket::bind(addr).map_err(|e| io_error("binding UDP", e)))
        .unwrap()
}

fn io_error(context: &str, source: std::io::Error) -> NamespaceError {
    NamespaceError::Io {
        context: context.into(),
        source,
    }
}

/// Sends `count` datagrams of `size` bytes from A to B, each stamped with its sequence number
/// and send time, `gap` apart; returns (sequence number, one-way delay) of those that arrived.
fn send_datagrams(net: &Network, count: u32, size: usize, gap: Duration) -> Vec<(u32, Duration)> {
    let to = SocketAddr::from((B, 9000));
    let receiver = udp_in(&net.host(1).namespace, to);
    let sender = udp_in(&net.host(0).namespace, SocketAddr::from((A, 0)));
    receiver
        .set_read_timeout(Some(Duration::from_millis(800)))
        .unwrap();
    let epoch = Instant::now();
    let collector = std::thread::spawn(move || {
        let mut arrived = Vec::new();
        let mut buffer = vec![0u8; 65_536];
        while let Ok(length) = receiver.recv(&mut buffer) {
            let now = epoch.elapsed();
            let sequence = u32::from_be_bytes(buffer[0..4].try_into().unwrap());
            let sent = Duration::from_nanos(u64::from_be_bytes(buffer[4..12].try_into().unwrap()));
            assert_eq!(length, size);
            arrived.push((sequence, now - sent));
        }
        arrived
    });
    let mut datagram = vec![0u8; size];
    for sequence in 0..count {
        datagram[0..4].copy_from_slice(&sequence.to_be_bytes());
        let sent = epoch.elapsed().as_nanos() as u64;
        datagram[4..12].copy_from_slice(&sent.to_be_bytes());
        sender.send_to(&datagram, to).unwrap();
        if !gap.is_zero() {
            std::thread::sleep(gap);
        }
    }
    collector.join().unwrap()
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

#[test]
fn every_datagram_takes_the_one_way_delay() {
    let net = two_hosts(LinkSpec::delay(150 * MS), None);
    let arrived = send_datagrams(&net, 50, 200, 5 * MS);
    assert_eq!(arrived.len(), 50);
    let delays: Vec<Duration> = arrived.iter().map(|(_, d)| *d).collect();
    let fastest = *delays.iter().min().unwrap();
    assert!(
        fastest >= 150 * MS,
        "a datagram beat the delay: {fastest:?}"
    );
    let typical = median(delays);
    assert!(typical < 155 * MS, "median one-way {typical:?} for 150 ms");
    let report = net.stop();
    assert_eq!(report.links[0].1.delivered, 50);
}

#[test]
fn tcp_connect_takes_one_round_trip() {
    let net = two_hosts(LinkSpec::delay(100 * MS), None);
    let listener = net
        .host(1)
        .namespace
        .run(|| TcpListener::bind((B, 7000)).map_err(|e| io_error("listening", e)))
        .unwrap();
    let elapsed = net
        .host(0)
        .namespace
        .run(|| {
            let started = Instant::now();
            let stream = TcpStream::connect((B, 7000)).map_err(|e| io_error("connecting", e))?;
            Ok((started.elapsed(), stream))
        })
        .unwrap()
        .0;
    drop(listener);
    // SYN out, SYN-ACK back: the handshake itself crosses the delay line.
    assert!(elapsed >= 200 * MS, "connect {elapsed:?}");
    assert!(elapsed < 300 * MS, "connect {elapsed:?}");
}

#[test]
fn a_rate_limited_link_delivers_a_large_tcp_body_at_its_rate() {
    let rate = 4_000_000.0; // bytes per second
    let body = 2_000_000usize;
    let spec = LinkSpec {
        bytes_per_second: Some(rate),
        queue_bytes: 200_000,
        ..LinkSpec::delay(10 * MS)
    };
    let net = two_hosts(spec, Some(LinkSpec::delay(10 * MS)));
    let listener = net
        .host(1)
        .namespace
        .run(|| TcpListener::bind((B, 7001)).map_err(|e| io_error("listening", e)))
        .unwrap();
    // The rate-limited direction is A → B: A sends, B reads.
    let mut into_b = net
        .host(0)
        .namespace
        .run(|| TcpStream::connect((B, 7001)).map_err(|e| io_error("connecting", e)))
        .unwrap();
    let (mut at_b, _) = listener.accept().unwrap();
    let reader = std::thread::spawn(move || {
        let started = Instant::now();
        let read = std::io::copy(&mut at_b, &mut std::io::sink()).unwrap();
        (read, started.elapsed())
    });
    std::io::Write::write_all(&mut into_b, &vec![7u8; body]).unwrap();
    drop(into_b);
    let (read, elapsed) = reader.join().unwrap();
    assert_eq!(read as usize, body);
    let serialised = Duration::from_secs_f64(body as f64 / rate);
    assert!(elapsed >= serialised, "{elapsed:?} < {serialised:?}");
    assert!(
        elapsed < serialised.mul_f64(1.3) + 200 * MS,
        "{elapsed:?} for {serialised:?} of serialisation"
    );
}

#[test]
fn a_burst_beyond_the_queue_is_tail_dropped() {
    let spec = LinkSpec {
        bytes_per_second: Some(100_000.0),
        queue_bytes: 10_000,
        ..LinkSpec::delay(MS)
    };
    let net = two_hosts(spec, None);
    // 100 datagrams of 1000 bytes + 28 bytes of IP and UDP headers, sent at once: ten packets
    // of queue (the one being serialised included) at 10 ms each.
    let arrived = send_datagrams(&net, 100, 1000, Duration::ZERO);
    assert!((9..=10).contains(&arrived.len()), "{}", arrived.len());
    let sequences: Vec<u32> = arrived.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        sequences,
        (0..arrived.len() as u32).collect::<Vec<_>>(),
        "the tail is dropped"
    );
    let report = net.stop();
    assert_eq!(report.links[0].1.dropped as usize, 100 - arrived.len());
}

fn survivors(seed: u64) -> Vec<u32> {
    let spec = LinkSpec {
        loss: 0.05,
        seed,
        ..LinkSpec::delay(MS)
    };
    let net = two_hosts(spec, None);
    let mut arrived: Vec<u32> = send_datagrams(&net, 2000, 100, Duration::from_micros(200))
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    arrived.sort();
    assert_eq!(net.stop().links[0].1.lost as usize, 2000 - arrived.len());
    arrived
}

#[test]
fn seeded_loss_drops_the_same_packets_every_time() {
    let first = survivors(42);
    assert_eq!(first, survivors(42));
    assert_ne!(first, survivors(43));
    assert!(
        (1850..1950).contains(&first.len()),
        "{} of 2000 arrived",
        first.len()
    );
}

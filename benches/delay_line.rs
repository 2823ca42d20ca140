//! How fast the namespace lab's delay line forwards real TCP, and how precisely it keeps its
//! one-way delay under that load. Needs root (network namespaces, TUN).
//!
//!     cargo bench --bench delay_line -- [SECONDS] [RATE_MBIT]
//!
//! Two hosts in namespaces, a 5 ms one-way delay each way; one TCP connection sends as fast as
//! it can for SECONDS (default 5) while a UDP probe crosses the same link every millisecond.
//! RATE_MBIT (default: none) puts a serialiser of that rate, with a queue of 100 ms of it, on
//! the data direction. Prints a markdown table: TCP payload goodput, the router's own lateness
//! (write time − scheduled delivery) p50/p99/max over every packet, and the UDP probes' one-way
//! delay error p50/p99 (measured end to end, between the sockets in the two namespaces).

use std::io::{Read as _, Write as _};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use cdnprobe::lab::netns::delay_line::LinkSpec;
use cdnprobe::lab::netns::namespace::NamespaceError;
use cdnprobe::lab::netns::router::lateness_quantile;
use cdnprobe::lab::netns::{Link, Network};

const A: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 1);
const B: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 2);
const ONE_WAY: Duration = Duration::from_millis(5);

fn io(context: &'static str) -> impl FnOnce(std::io::Error) -> NamespaceError {
    move |source| NamespaceError::Io {
        context: context.into(),
        source,
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let seconds: f64 = args.first().map_or(5.0, |s| s.parse().expect("SECONDS"));
    let rate_mbit: Option<f64> = args.get(1).map(|s| s.parse().expect("RATE_MBIT"));
    let data = LinkSpec {
        bytes_per_second: rate_mbit.map(|m| m * 1e6 / 8.0),
        queue_bytes: rate_mbit.map_or(usize::MAX, |m| (m * 1e6 / 8.0 * 0.1) as usize),
        ..LinkSpec::delay(ONE_WAY)
    };
    let [there, mut back] = Link::both_ways(0, 1, data);
    back.spec = LinkSpec::delay(ONE_WAY);
    let net = Network::start(&[A, B], &[there, back], Duration::from_millis(200)).unwrap();
    let (a, b) = (&net.host(0).namespace, &net.host(1).namespace);

    let listener = b
        .run(|| TcpListener::bind((B, 5001)).map_err(io("listen")))
        .unwrap();
    let udp_in = b
        .run(|| UdpSocket::bind((B, 5002)).map_err(io("udp")))
        .unwrap();
    let udp_out = a
        .run(|| UdpSocket::bind((A, 0)).map_err(io("udp")))
        .unwrap();
    let mut sender = a
        .run(|| TcpStream::connect((B, 5001)).map_err(io("connect")))
        .unwrap();
    let (mut receiver, _) = listener.accept().unwrap();

    let epoch = Instant::now();
    let done = Arc::new(AtomicBool::new(false));
    let reading = std::thread::spawn(move || {
        let mut buffer = vec![0u8; 1 << 20];
        let mut total = 0u64;
        let mut first = None;
        while let Ok(n) = receiver.read(&mut buffer) {
            if n == 0 {
                break;
            }
            first.get_or_insert_with(Instant::now);
            total += n as u64;
        }
        (total, first.map(|f| f.elapsed()).unwrap_or_default())
    });
    // Ends 200 ms after the last probe.
    let probing = std::thread::spawn(move || {
        udp_in
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let mut errors = Vec::new();
        let mut buffer = [0u8; 64];
        while let Ok(n) = udp_in.recv(&mut buffer) {
            let sent = Duration::from_nanos(u64::from_be_bytes(buffer[..n].try_into().unwrap()));
            errors.push(epoch.elapsed().saturating_sub(sent + ONE_WAY));
        }
        errors
    });
    let pinging = {
        let done = done.clone();
        std::thread::spawn(move || {
            let to = SocketAddr::from((B, 5002));
            while !done.load(Ordering::Relaxed) {
                let sent = epoch.elapsed().as_nanos() as u64;
                let _ = udp_out.send_to(&sent.to_be_bytes(), to);
                std::thread::sleep(Duration::from_millis(1));
            }
        })
    };

    let chunk = vec![0x5a_u8; 1 << 20];
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    while Instant::now() < deadline {
        sender.write_all(&chunk).unwrap();
    }
    done.store(true, Ordering::Relaxed);
    drop(sender);
    let (bytes, elapsed) = reading.join().unwrap();
    pinging.join().unwrap();
    let mut errors = probing.join().unwrap();
    let report = net.stop();
    errors.sort();
    let pick = |q: f64| errors[((errors.len() - 1) as f64 * q) as usize];
    let ms = |d: Duration| format!("{:.3}", d.as_secs_f64() * 1e3);
    let gbit = bytes as f64 * 8.0 / elapsed.as_secs_f64() / 1e9;
    let packets: u64 = report.links.iter().map(|(_, c)| c.delivered).sum();
    let dropped: u64 = report.links.iter().map(|(_, c)| c.dropped).sum();
    println!(
        "| link | seconds | TCP payload | packets routed | queue drops | router lateness p50 / p99 / max (ms) | UDP one-way error p50 / p99 (ms), n |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {} ms one way, {} | {:.1} | {gbit:.2} Gbit/s | {packets} | {dropped} | {} / {} / {} | {} / {}, {} |",
        ONE_WAY.as_millis(),
        rate_mbit.map_or("no rate limit".to_owned(), |m| format!("{m} Mbit/s")),
        elapsed.as_secs_f64(),
        ms(lateness_quantile(&report, 0.5)),
        ms(lateness_quantile(&report, 0.99)),
        ms(lateness_quantile(&report, 1.0)),
        ms(pick(0.5)),
        ms(pick(0.99)),
        errors.len(),
    );
}

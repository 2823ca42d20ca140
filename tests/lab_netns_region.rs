//! A region on the namespace lab, probed by `cdnprobe run` from the client's namespace: each
//! round trip lands in the phase that pays it, and time scaling divides durations by k.

mod netns_support;

use std::time::Duration;

use cdnprobe::demo::DEMO_VIDEO;
use cdnprobe::lab::regions::{AUCKLAND, Region, TimeScale};
use cdnprobe::sample::Sample;
use netns_support::probe_netns_region;

/// A small, real MP4: the fetch is handshakes and one round trip of request, not transfer.
const SMALL_VIDEO: &[u8] = include_bytes!("../assets/sample.mp4");

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn phase(rows: &[Sample], target: &str, pick: fn(&Sample) -> Option<f64>) -> f64 {
    median(
        rows.iter()
            .filter(|row| row.target == target)
            .map(|row| pick(row).unwrap())
            .collect(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_and_tls_each_take_one_round_trip_of_their_path() {
    // Unscaled, round trips long enough to stand far above scheduler noise.
    let region = Region {
        client_origin_rtt: Duration::from_millis(300),
        client_edge_rtt: Duration::from_millis(150),
        edge_origin_rtt: Duration::from_millis(150),
        access_loss: 0.0,
        origin_dns: Duration::from_millis(200),
        edge_dns: Duration::from_millis(100),
        ..AUCKLAND
    };
    let rows = probe_netns_region(
        &region,
        TimeScale(1.0),
        SMALL_VIDEO,
        &["s3", "cloudfront"],
        3,
    )
    .await;
    assert!(rows.iter().all(Sample::succeeded), "{rows:?}");
    for (target, rtt, dns) in [("s3", 300.0, 200.0), ("cloudfront", 150.0, 100.0)] {
        let connect = phase(&rows, target, |r| r.connect_ms);
        let tls = phase(&rows, target, |r| r.tls_ms);
        let resolve = phase(&rows, target, |r| r.dns_ms);
        // SYN / SYN-ACK is one round trip; TLS 1.3 (ClientHello / server flight) is one more.
        assert!(
            (rtt..rtt + 60.0).contains(&connect),
            "{target} connect {connect} ms"
        );
        assert!((rtt..rtt + 60.0).contains(&tls), "{target} tls {tls} ms");
        assert!(
            (dns..dns + 60.0).contains(&resolve),
            "{target} dns {resolve} ms"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doubling_the_time_scale_halves_every_duration() {
    let totals = |k: f64| async move {
        let rows = probe_netns_region(&AUCKLAND, TimeScale(k), DEMO_VIDEO, &["s3"], 3).await;
        assert!(rows.iter().all(Sample::succeeded), "{rows:?}");
        phase(&rows, "s3", |r| r.total_ms)
    };
    let slow = totals(4.0).await;
    let fast = totals(8.0).await;
    let ratio = slow / fast;
    assert!(
        (1.6..2.4).contains(&ratio),
        "k=4: {slow:.0} ms, k=8: {fast:.0} ms, ratio {ratio:.2} (expected 2)"
    );
}

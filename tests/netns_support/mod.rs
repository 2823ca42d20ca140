//! Two lab hosts in namespaces with a delay line between them, and helpers to run code on them.
//! These tests need root (or CAP_NET_ADMIN), as CI has; without it they fail and say why.
#![allow(dead_code)] // each test file uses its own share of the helpers

use std::net::Ipv4Addr;
use std::time::Duration;

use cdnprobe::lab::netns::delay_line::LinkSpec;
use cdnprobe::lab::netns::namespace::{Namespace, unavailable_reason};
use cdnprobe::lab::netns::{Link, Network};

pub const A: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 1);
pub const B: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 2);

/// Hosts A and B with `spec` in each direction (`back` overrides the B → A direction).
pub fn two_hosts(spec: LinkSpec, back: Option<LinkSpec>) -> Network {
    if let Some(reason) = unavailable_reason() {
        panic!("the namespace lab needs root or CAP_NET_ADMIN: {reason}");
    }
    let [there, mut back_link] = Link::both_ways(0, 1, spec);
    if let Some(back) = back {
        back_link.spec = back;
    }
    Network::start(&[A, B], &[there, back_link], Duration::from_millis(200)).unwrap()
}

/// Runs `work` on a thread inside `namespace` with a current-thread tokio runtime.
pub fn on_host<T, F, Fut>(namespace: &Namespace, work: F) -> T
where
    T: Send + 'static,
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = T>,
{
    namespace
        .spawn("test-host", move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(work())
        })
        .unwrap()
        .join()
        .unwrap()
}

/// A region lab on namespaces around the real origin holding `video`, probed with `cdnprobe run`
/// on the given targets (`s3`, `cloudfront`); returns every sample row.
pub async fn probe_netns_region(
    region: &cdnprobe::lab::regions::Region,
    scale: cdnprobe::lab::regions::TimeScale,
    video: &'static [u8],
    targets: &[&'static str],
    samples: u64,
) -> Vec<cdnprobe::sample::Sample> {
    use cdnprobe::lab::choice::{AnyRegionLab, LabKind};
    use cdnprobe::lab::origin::OriginServer;
    use cdnprobe::lab::tls::TestCa;

    let scratch = tempfile::tempdir().unwrap();
    let ca = TestCa::new().unwrap();
    let ca_pem = scratch.path().join("ca.pem");
    ca.write_ca_pem(&ca_pem).unwrap();
    let origin = OriginServer::start(&scratch.path().join("data"))
        .await
        .unwrap();
    let uploaded = origin.upload("video.mp4", video).await.unwrap();
    let lab = AnyRegionLab::start(&LabKind::Namespaces, &ca, origin.addr(), region, scale)
        .await
        .unwrap();
    let targets: Vec<cdnprobe::demo::Target> = targets
        .iter()
        .map(|&label| cdnprobe::demo::Target {
            label,
            url: match label {
                "s3" => lab.origin_url(&uploaded.path),
                _ => lab.edge_url(&uploaded.path),
            },
            http3: false,
        })
        .collect();
    let csv = scratch.path().join("samples.csv");
    cdnprobe::demo::probe(&lab, region.name, &targets, samples, &ca_pem, &csv)
        .await
        .unwrap();
    lab.shutdown().await;
    origin.stop().await;
    csv::Reader::from_path(&csv)
        .unwrap()
        .deserialize()
        .map(|row| row.unwrap())
        .collect()
}

/// Connect + TLS of a row: the whole handshake.
pub fn handshake(row: &cdnprobe::sample::Sample) -> Option<f64> {
    Some(row.connect_ms? + row.tls_ms?)
}

/// Asserts the median of `value` over `rows`, in round trips of `rtt_ms`, is within
/// `low..=high` (the median, so one slow or retransmitted handshake does not decide).
pub fn assert_round_trips<'a>(
    what: &str,
    rows: impl IntoIterator<Item = &'a cdnprobe::sample::Sample>,
    value: fn(&cdnprobe::sample::Sample) -> Option<f64>,
    rtt_ms: f64,
    (low, high): (f64, f64),
) {
    let mut values: Vec<f64> = rows
        .into_iter()
        .map(|row| value(row).unwrap_or_else(|| panic!("{what} empty in {row:?}")))
        .collect();
    values.sort_by(f64::total_cmp);
    let round_trips = values[values.len() / 2] / rtt_ms;
    eprintln!("{what}: median {round_trips:.3} round trips of {rtt_ms:.2} ms");
    assert!(
        (low..=high).contains(&round_trips),
        "{what}: {round_trips:.2} round trips of {rtt_ms:.2} ms, expected {low}–{high}"
    );
}

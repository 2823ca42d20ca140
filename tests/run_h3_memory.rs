//! Many HTTP/3 samples in one run: the probe's memory does not grow with their number. Each
//! sample's QUIC endpoint has a 2.9 MiB receive buffer, and some thirty closed connections are
//! still draining at any moment of a run of short samples; their buffers must not stay resident
//! (`probe/quic_memory.rs`). The real binary, so that its peak RSS (`wait4`) is its own.

mod common;
mod support;

use cdnprobe::lab::fixture::FixtureConfig;
use common::Lab;
use support::cdnprobe_measured;

/// Enough samples for the draining endpoints to reach their steady number many times over.
const MANY: u32 = 300;
/// Less than three endpoints' buffers: what a run may add over a three-sample run.
const GROWTH_BOUND_KIB: i64 = 8 * 1024;

/// The peak RSS of `cdnprobe run` taking `samples` h3 samples of `url`. The child runs on a
/// blocking thread: the lab's DNS server answers from this test's runtime meanwhile.
async fn peak_rss_kib(lab: &Lab, url: &str, samples: u32) -> i64 {
    let target = format!("t={url}");
    let samples = samples.to_string();
    let args = lab.args(&["--http3", "--samples", &samples, "--target", &target]);
    let finished = tokio::task::spawn_blocking(move || cdnprobe_measured(args))
        .await
        .expect("the child was waited for");
    assert!(finished.success, "the run failed");
    let rows = common::read_rows(&lab.out());
    assert!(rows.iter().all(|s| s.error.is_none()), "a sample failed");
    std::fs::remove_file(lab.out()).expect("the rows are removed for the next run");
    finished.peak_rss_kib
}

#[tokio::test]
async fn h3_samples_do_not_pile_up_memory() {
    let lab = Lab::start();
    let server = lab.h3(FixtureConfig::default()).await;
    let url = server.url("/v.mp4?bytes=65536");
    let few = peak_rss_kib(&lab, &url, 3).await;
    let many = peak_rss_kib(&lab, &url, MANY).await;
    assert!(
        many - few < GROWTH_BOUND_KIB,
        "peak RSS {few} KiB over 3 h3 samples, {many} KiB over {MANY}"
    );
}

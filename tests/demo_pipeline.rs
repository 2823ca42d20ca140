//! The whole pipeline on the relay lab (the fallback without privileges): the real server, `run`
//! through emulated paths, `report`, `check`. Time is scaled further down than the demo's so
//! these stay quick on a 2-core CI machine.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use cdnprobe::demo::{H3_TARGET, Scenario, total_speedups, total_speedups_from_summary};
use cdnprobe::lab::choice::LabKind;
use cdnprobe::lab::link::DEFAULT_BURST_BYTES;
use cdnprobe::lab::region_lab::RegionPaths;
use cdnprobe::lab::regions::{AUCKLAND, REGIONS, Region, TimeScale};
use cdnprobe::play::record::{PlaybackRow, SessionCache};
use cdnprobe::sample::{CacheStatus, Sample, YesNo};

/// A 21 kB MP4: user-space relays of a debug build on a loaded 2-core machine cannot carry the
/// demo's 4 MB at 20× a 50 Mbit/s line without becoming the bottleneck themselves.
const SMALL_VIDEO: &[u8] = include_bytes!("../assets/sample.mp4");

/// k = 20: an S3 sample from Auckland takes a few tens of milliseconds.
const TEST_TIME_SCALE: TimeScale = TimeScale(20.0);
/// The check's default `--min-samples`.
const SAMPLES: u64 = 10;
/// Playback sessions per target and region.
const SESSIONS: u64 = 2;

fn scenario(out: &Path, regions: Vec<Region>) -> Scenario {
    Scenario {
        out: out.to_owned(),
        samples: SAMPLES,
        sessions: SESSIONS,
        regions,
        time_scale: TEST_TIME_SCALE,
        min_speedup: 1.5,
        lab: LabKind::Relays {
            why: "the test asks for it".into(),
        },
        video: SMALL_VIDEO,
    }
}

fn rows<T: serde::de::DeserializeOwned>(csv: &Path) -> Vec<T> {
    csv::Reader::from_path(csv)
        .unwrap()
        .deserialize()
        .map(|row| row.unwrap())
        .collect()
}

fn samples(csv: &Path) -> Vec<Sample> {
    rows(csv)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_lab_runs_the_pipeline_and_the_report_says_what_was_emulated() {
    let out = tempfile::tempdir().unwrap();

    scenario(out.path(), REGIONS.to_vec()).play().await.unwrap();

    // The nearer edge is faster, over h2 and over h3; by how much is the outcome, reported,
    // not asserted.
    let totals = total_speedups(&out.path().join("comparison.csv")).unwrap();
    assert_eq!(totals.len(), 2);
    assert!(totals.iter().all(|(_, s)| *s > 1.2), "{totals:?}");
    let h3_totals =
        total_speedups_from_summary(&out.path().join("summary.csv"), "s3", H3_TARGET).unwrap();
    assert_eq!(h3_totals.len(), 2);
    assert!(h3_totals.iter().all(|(_, s)| *s > 1.2), "{h3_totals:?}");
    let report = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    assert!(
        report.contains("| cloudfront-h3 speedup (this lab) |"),
        "the h3 figure stands beside cloudfront's: {report}"
    );
    let summary = std::fs::read_to_string(out.path().join("summary.csv")).unwrap();
    for region in ["auckland", "sydney"] {
        for target in ["s3", "cloudfront", H3_TARGET] {
            assert!(
                summary.contains(&format!("{region},{target},total,{SAMPLES},")),
                "{region} {target} in summary.csv: {summary}"
            );
        }
    }
    assert!(report.contains("emulated"), "{report}");
    assert!(
        report.contains(
            "lab: user-space relays on loopback, not the namespace lab (the test asks for it)"
        ),
        "the fallback is named with its reason: {report}"
    );
    assert!(report.contains("Time scale k = 20"), "{report}");
    assert!(
        report.contains("connect"),
        "the unshaped phase is named: {report}"
    );
    for file in [
        "summary.csv",
        "comparison.csv",
        "phases.png",
        "phases.svg",
        "cdf.png",
        "timeline.svg",
    ] {
        assert!(out.path().join(file).is_file(), "{file} missing");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_edge_misses_once_per_region_then_hits_from_its_pop() {
    let out = tempfile::tempdir().unwrap();

    scenario(out.path(), vec![AUCKLAND]).play().await.unwrap();

    let rows = samples(&out.path().join("samples/auckland.csv"));
    let of =
        |target: &str| -> Vec<&Sample> { rows.iter().filter(|s| s.target == target).collect() };
    let (origin, edge, edge_h3) = (of("s3"), of("cloudfront"), of(H3_TARGET));
    assert_eq!(
        (origin.len(), edge.len(), edge_h3.len()),
        (SAMPLES as usize, SAMPLES as usize, SAMPLES as usize)
    );
    assert!(rows.iter().all(|s| s.succeeded() && s.region == "auckland"));
    // One miss for the region: the first h2 fetch (rounds go s3, cloudfront, cloudfront-h3);
    // every later fetch, over either protocol, is a hit from the same cache.
    assert_eq!(edge[0].cache, CacheStatus::Miss);
    assert!(edge[1..].iter().all(|s| s.cache == CacheStatus::Hit));
    assert!(edge_h3.iter().all(|s| s.cache == CacheStatus::Hit));
    assert!(edge.iter().all(|s| s.http_version == "2"));
    assert!(edge_h3.iter().all(|s| s.http_version == "3"));
    // The edge's TCP answers offer h3 (Alt-Svc), as CloudFront's do; S3's do not.
    assert!(edge.iter().all(|s| s.alt_svc_h3 == Some(YesNo::Yes)));
    assert!(origin.iter().all(|s| s.alt_svc_h3 == Some(YesNo::No)));
    assert!(
        edge.iter()
            .chain(&edge_h3)
            .all(|s| s.pop == AUCKLAND.edge_pop)
    );
    assert!(
        origin
            .iter()
            .all(|s| s.cache == CacheStatus::Unknown && s.pop.is_empty())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edge_slower_than_the_origin_fails_the_check() {
    let out = tempfile::tempdir().unwrap();
    // A misrouted distribution: the edge is as far as the origin was, the origin as near as
    // the edge was.
    let misrouted = Region {
        client_origin_rtt: AUCKLAND.client_edge_rtt,
        client_edge_rtt: AUCKLAND.client_origin_rtt,
        origin_dns: AUCKLAND.edge_dns,
        edge_dns: AUCKLAND.origin_dns,
        ..AUCKLAND
    };

    let verdict = scenario(out.path(), vec![misrouted]).play().await.unwrap();

    assert_eq!(verdict, ExitCode::FAILURE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_emulated_delay_lands_in_its_phase() {
    let out = tempfile::tempdir().unwrap();

    scenario(out.path(), vec![AUCKLAND]).play().await.unwrap();

    let rows = samples(&out.path().join("samples/auckland.csv"));
    let bytes = rows[0].bytes;
    let paths = RegionPaths::of(&AUCKLAND, TEST_TIME_SCALE);
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    for row in &rows {
        // cloudfront and cloudfront-h3 cross the same near path, over TCP and over UDP.
        let path = if row.target == "s3" {
            paths.origin
        } else {
            paths.edge
        };
        let rtt = ms(path.link.rtt());
        let label = format!("{} sample {}", row.target, row.sample);
        assert!(row.dns_ms.unwrap() >= ms(path.dns_delay), "{label}: dns");
        // TLS 1.3 over TCP takes a round trip of its own; QUIC's whole handshake, connect
        // included, takes one.
        let handshake = match row.target.as_str() {
            H3_TARGET => row.connect_ms.unwrap() + row.tls_ms.unwrap(),
            _ => row.tls_ms.unwrap(),
        };
        assert!(handshake >= rtt, "{label}: handshake");
        assert!(row.ttfb_ms.unwrap() >= rtt, "{label}: ttfb");
        let paced = (bytes - DEFAULT_BURST_BYTES as u64) as f64;
        let body_ms = paced / path.link.downlink.bytes_per_second.unwrap() * 1e3;
        // A round trip, then the body at the rate. The head and the body are timed together:
        // at this scale the paced body takes a fraction of a millisecond, less than the relays'
        // 1 ms timer tick, so the head often arrives in the same tick as the body's start.
        let measured = row.ttfb_ms.unwrap() + row.download_ms.unwrap();
        let expected = rtt + body_ms;
        assert!(measured >= 0.8 * expected, "{label}: download");
    }
    // The TCP handshake with a loopback relay is not shaped: typically far below the shortest
    // round trip (the median, so one slow connect on a loaded machine does not decide). QUIC's
    // is: its first Initial and the server's answer cross the datagram link.
    let median_connect = |h3: bool| {
        let mut connects: Vec<f64> = rows
            .iter()
            .filter(|row| (row.target == H3_TARGET) == h3)
            .map(|row| row.connect_ms.unwrap())
            .collect();
        connects.sort_by(f64::total_cmp);
        connects[connects.len() / 2]
    };
    let edge_rtt = ms(paths.edge.link.rtt());
    assert!(median_connect(false) < edge_rtt, "tcp connect");
    assert!(median_connect(true) >= edge_rtt, "quic connect");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_video_is_played_over_every_target_and_the_report_has_a_playback_section() {
    let out = tempfile::tempdir().unwrap();

    scenario(out.path(), vec![AUCKLAND]).play().await.unwrap();

    let sessions: Vec<PlaybackRow> = rows(&out.path().join("samples/auckland-playback.csv"));
    let of = |target: &str| -> Vec<&PlaybackRow> {
        sessions.iter().filter(|r| r.target == target).collect()
    };
    let (origin, edge, edge_h3) = (of("s3"), of("cloudfront"), of(H3_TARGET));
    assert_eq!(
        (origin.len(), edge.len(), edge_h3.len()),
        (SESSIONS as usize, SESSIONS as usize, SESSIONS as usize)
    );
    for row in &sessions {
        let label = format!("{} session {}", row.target, row.session);
        assert!(row.succeeded(), "{label}: {:?}", row.error);
        assert_eq!(row.region, "auckland", "{label}");
        // The whole (short) video was played, after a startup that includes the session's
        // connection and TLS handshake.
        let media = row.media_duration_s.unwrap();
        assert!(
            (row.watched_s.unwrap() - media.min(10.0)).abs() < 0.1,
            "{label}: watched {:?} of {media} s",
            row.watched_s
        );
        let startup = row.startup_ms.unwrap();
        assert!(
            startup >= row.connect_ms.unwrap() + row.tls_ms.unwrap(),
            "{label}: startup {startup} ms"
        );
        assert!(
            row.bytes >= SMALL_VIDEO.len() as u64,
            "{label}: {} bytes",
            row.bytes
        );
    }
    // The origin speaks HTTP/1.1 and the edge h2 and h3; the edge, warmed by the samples, hits.
    assert!(
        origin
            .iter()
            .all(|r| r.http_version == "1.1" && r.cache == SessionCache::Unknown)
    );
    for (rows, version) in [(&edge, "2"), (&edge_h3, "3")] {
        assert!(rows.iter().all(|r| r.http_version == version
            && r.cache == SessionCache::Hit
            && r.pop == AUCKLAND.edge_pop));
    }
    let report = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    assert!(report.contains("## Playback"), "{report}");
    for target in ["cloudfront", H3_TARGET] {
        assert!(
            report.contains(&format!("| auckland | {target} | 2 | 0 |")),
            "{report}"
        );
    }
    assert!(report.contains("--playback-rate 20"), "{report}");
}

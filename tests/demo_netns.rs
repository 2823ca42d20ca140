//! The whole pipeline on the namespace lab: the real server, `run` from the client's namespace
//! over delay lines carrying only the regions' physics, `report`, `check`. Needs root.

use std::process::ExitCode;

mod netns_support;

use cdnprobe::demo::{DEMO_VIDEO, H3_TARGET, Scenario, total_speedups};
use cdnprobe::lab::choice::{LabChoice, LabKind};
use cdnprobe::lab::regions::{REGIONS, Region, TimeScale};
use cdnprobe::play::record::{PlaybackRow, SessionCache};
use cdnprobe::sample::{CacheStatus, Sample};
use netns_support::{assert_round_trips, handshake};

const SCALE: TimeScale = TimeScale(20.0);
const SAMPLES: usize = 10;

fn read_rows<T: serde::de::DeserializeOwned>(csv: &std::path::Path) -> Vec<T> {
    csv::Reader::from_path(csv)
        .unwrap()
        .deserialize()
        .map(|row| row.unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_namespace_lab_runs_the_pipeline_and_the_report_says_which_lab_and_scale() {
    let lab = LabKind::resolve(LabChoice::Netns).expect("the namespace lab needs root");
    let out = tempfile::tempdir().unwrap();
    let scenario = Scenario {
        out: out.path().to_owned(),
        samples: SAMPLES as u64,
        sessions: 2,
        regions: REGIONS.to_vec(),
        time_scale: SCALE,
        min_speedup: 1.5,
        lab,
        video: DEMO_VIDEO,
    };

    let verdict = scenario.play().await.unwrap();

    let report = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    assert!(
        report.contains("lab: network namespaces and a packet delay line"),
        "{report}"
    );
    assert!(report.contains("Time scale k = 20"), "{report}");
    assert!(report.contains("Outcome against the original"), "{report}");
    for region in ["auckland", "sydney"] {
        let rows: Vec<Sample> = read_rows(&out.path().join(format!("samples/{region}.csv")));
        assert_eq!(rows.len(), 3 * SAMPLES);
        assert!(
            rows.iter()
                .all(|row| row.succeeded() && row.bytes == DEMO_VIDEO.len() as u64)
        );
        // The handshake is shaped now: no connect is faster than its path's scaled round trip
        // (127 ms ÷ 20 for the nearest).
        assert!(
            rows.iter()
                .all(|row| row.connect_ms.unwrap() >= 127.0 / 20.0),
            "{region}: {:?}",
            rows.iter().map(|r| r.connect_ms).collect::<Vec<_>>()
        );
    }
    // The video was played over both targets in both regions: every session ended without
    // error, the whole watch played, and startup took at least the handshakes' round trips
    // (TCP and TLS, one each: 2 × 127 ms ÷ 20 for the nearest path).
    for region in ["auckland", "sydney"] {
        let sessions: Vec<PlaybackRow> =
            read_rows(&out.path().join(format!("samples/{region}-playback.csv")));
        assert_eq!(sessions.len(), 6, "{region}");
        for row in &sessions {
            let label = format!("{region} {} session {}", row.target, row.session);
            assert!(row.succeeded(), "{label}: {:?}", row.error);
            assert!((row.watched_s.unwrap() - 10.0).abs() < 0.1, "{label}");
            assert!(row.startup_ms.unwrap() >= 2.0 * 127.0 / 20.0, "{label}");
            let expected = match row.target.as_str() {
                "s3" => "1.1",
                H3_TARGET => "3",
                _ => "2",
            };
            assert_eq!(row.http_version, expected, "{label}");
        }
        assert!(
            sessions
                .iter()
                .filter(|r| r.target != "s3")
                .all(|r| r.cache == SessionCache::Hit)
        );
    }
    assert!(report.contains("## Playback"), "{report}");
    // Round trips alone make the edge faster in both regions (by how much is the experiment's
    // outcome, reported, not asserted); the verdict is the check's, either way.
    assert!(verdict == ExitCode::SUCCESS || verdict == ExitCode::FAILURE);
    let totals: Vec<f64> = total_speedups(&out.path().join("comparison.csv"))
        .unwrap()
        .into_iter()
        .map(|(_, speedup)| speedup)
        .collect();
    assert_eq!(totals.len(), 2);
    assert!(totals.iter().all(|s| *s > 1.2), "total speedups {totals:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_edge_answers_h3_from_its_cache_with_a_one_round_trip_handshake() {
    let lab = LabKind::resolve(LabChoice::Netns).expect("the namespace lab needs root");
    let out = tempfile::tempdir().unwrap();
    let region: Region = REGIONS[0];
    let scenario = Scenario {
        out: out.path().to_owned(),
        samples: SAMPLES as u64,
        sessions: 0,
        regions: vec![region],
        time_scale: SCALE,
        min_speedup: 1.5,
        lab,
        video: DEMO_VIDEO,
    };

    scenario.play().await.unwrap();

    let rows: Vec<Sample> = read_rows(&out.path().join(format!("samples/{}.csv", region.name)));
    let of =
        |target: &str| -> Vec<&Sample> { rows.iter().filter(|r| r.target == target).collect() };
    let (edge, edge_h3) = (of("cloudfront"), of(H3_TARGET));
    assert_eq!((edge.len(), edge_h3.len()), (SAMPLES, SAMPLES));
    assert!(edge_h3.iter().all(|r| r.succeeded()
        && r.http_version == "3"
        && r.cache == CacheStatus::Hit
        && r.pop == region.edge_pop
        && r.bytes == DEMO_VIDEO.len() as u64));
    assert!(edge.iter().all(|r| r.http_version == "2"));
    // Attribution, not speed: over the client↔edge delay line (127 ms ÷ 20), QUIC's connect +
    // TLS take one round trip and TCP's connect + TLS 1.3 two. The tolerances are far wider
    // than scheduling noise and narrower than a round trip, so a handshake counted a round
    // trip short or long fails (the medians, so a lost packet's retransmission does not decide).
    let rtt_ms = SCALE.delay(region.client_edge_rtt).as_secs_f64() * 1e3;
    assert_round_trips(
        "h3 connect + tls",
        edge_h3.iter().copied(),
        handshake,
        rtt_ms,
        (0.8, 1.6),
    );
    assert_round_trips(
        "h2 connect + tls",
        edge.iter().copied(),
        handshake,
        rtt_ms,
        (1.8, 2.8),
    );
    assert_round_trips(
        "h3 connect",
        edge_h3.iter().copied(),
        |r| r.connect_ms,
        rtt_ms,
        (0.8, 1.6),
    );
}

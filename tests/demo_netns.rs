//! The whole pipeline on the namespace lab: the real server, `run` from the client's namespace
//! over delay lines carrying only the regions' physics, `report`, `check`. Needs root.

use std::process::ExitCode;

use cdnprobe::demo::{DEMO_VIDEO, Scenario, total_speedups};
use cdnprobe::lab::choice::{LabChoice, LabKind};
use cdnprobe::lab::regions::{REGIONS, TimeScale};
use cdnprobe::play::record::{PlaybackRow, SessionCache};
use cdnprobe::sample::Sample;

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
        samples: 10,
        sessions: 2,
        regions: REGIONS.to_vec(),
        time_scale: TimeScale(20.0),
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
        assert_eq!(rows.len(), 20);
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
        assert_eq!(sessions.len(), 4, "{region}");
        for row in &sessions {
            let label = format!("{region} {} session {}", row.target, row.session);
            assert!(row.succeeded(), "{label}: {:?}", row.error);
            assert!((row.watched_s.unwrap() - 10.0).abs() < 0.1, "{label}");
            assert!(row.startup_ms.unwrap() >= 2.0 * 127.0 / 20.0, "{label}");
            let expected = if row.target == "s3" { "1.1" } else { "2" };
            assert_eq!(row.http_version, expected, "{label}");
        }
        assert!(
            sessions
                .iter()
                .filter(|r| r.target == "cloudfront")
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

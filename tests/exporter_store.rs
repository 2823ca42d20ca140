//! The exporter's `--out` to an object store (a real S3-compatible server, moto): one object
//! per `--out-every` period in the results layout, written while the exporter runs, each
//! named after its period's start, and together every scheduled row exactly once.

mod exporter_support;
mod store_support;

use std::time::{Duration, Instant};

use cdnprobe::lab::fixture::{FixtureConfig, FixtureServer};
use cdnprobe::sample::Sample;
use exporter_support::{Exporter, config_file};
use store_support::{Moto, cdnprobe_with_store, files_under};

/// The RUN_ID of a key (`…/RUN_ID.csv`) and the second its start time names.
fn run_id_and_second(key: &str) -> (String, u32) {
    let run_id = key
        .rsplit('/')
        .next()
        .and_then(|name| name.strip_suffix(".csv"))
        .unwrap_or_else(|| panic!("not a CSV object: {key}"))
        .to_string();
    // 20261202T050002Z-host-…: the seconds are characters 13..15.
    let second = run_id[13..15].parse().expect("a start time");
    (run_id, second)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_to_a_store_rolls_one_object_per_period_holding_every_row_once() {
    let moto = Moto::start(false);
    let bucket = moto.bucket();
    let server = FixtureServer::start(FixtureConfig::default())
        .await
        .expect("fixture starts");
    let (dir, config) = config_file(&format!(
        "interval = \"200ms\"\n[[target]]\nlabel = \"edge\"\nurl = \"{}\"\n",
        server.url("/v.mp4")
    ));
    let out = format!("s3://{bucket}/fleet");
    let spool = dir.path().join("spool");
    let command = cdnprobe_with_store(
        &moto,
        dir.path(),
        &[
            "exporter",
            "--config",
            config.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--region",
            "lab",
            "--out",
            &out,
            "--out-every",
            "2s",
            "--spool-dir",
            spool.to_str().unwrap(),
        ],
    );
    let mut exporter = Exporter::from_command(command);

    // Objects of finished periods appear while the exporter runs.
    let deadline = Instant::now() + Duration::from_secs(30);
    while moto.keys(&bucket).len() < 2 {
        assert!(
            Instant::now() < deadline,
            "fewer than two objects after 30 s: {:?}\n{}",
            moto.keys(&bucket),
            exporter.log()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let status = exporter.terminate(Duration::from_secs(30));
    assert!(
        status.is_some_and(|s| s.success()),
        "{status:?}\n{}",
        exporter.log()
    );

    let keys = moto.keys(&bucket);
    assert!(keys.len() >= 3, "{keys:?}");
    let mut run_ids = Vec::new();
    let mut numbers = Vec::new();
    for key in &keys {
        let partition = key
            .strip_prefix("fleet/kind=samples/date=")
            .unwrap_or_else(|| panic!("outside the layout: {key}"));
        assert!(partition[10..].starts_with("/region=lab/"), "{key}");
        run_ids.push(run_id_and_second(key));
        let bytes = moto.get(&bucket, key);
        let mut reader = csv::Reader::from_reader(&bytes[..]);
        for row in reader.deserialize::<Sample>() {
            let row = row.expect("a sample row");
            assert_eq!(row.target, "edge");
            numbers.push(row.sample);
        }
    }
    // Sorted by start; each period after the exporter's first starts on a 2 s boundary.
    run_ids.sort();
    for (run_id, second) in &run_ids[1..] {
        assert_eq!(second % 2, 0, "{run_id} does not start a 2 s period");
    }
    let distinct: std::collections::BTreeSet<_> = run_ids.iter().map(|(id, _)| id).collect();
    assert_eq!(distinct.len(), run_ids.len(), "one object per period");
    numbers.sort_unstable();
    let expected: Vec<u64> = (1..=numbers.len() as u64).collect();
    assert_eq!(numbers, expected, "every row once, none lost at a roll");
    assert!(files_under(&spool).is_empty(), "spool left behind");
}

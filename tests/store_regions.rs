//! Two emulated regions probe a loopback fixture and write straight into a real S3-compatible
//! server (moto_server): the objects land in the layout, `report s3://…` equals `report` over the
//! same files on disk byte for byte, `check` gives the same verdict, Parquet objects give the same
//! report, and pyarrow and DuckDB read what cdnprobe wrote.

mod store_support;

use std::path::Path;
use std::process::{Command, Output};

use cdnprobe::lab::fixture::{FixtureConfig, FixtureServer};
use store_support::{Moto, cdnprobe_with_store, files_under, stderr};

/// Runs a blocking command without stalling the fixture, which serves on this test's runtime.
async fn finish(command: Command) -> Output {
    tokio::task::spawn_blocking(move || store_support::output(command))
        .await
        .unwrap()
}

/// `cdnprobe run` from `region`: origin and CDN labels on the fixture, 6 samples, into `out`.
fn run_region(
    moto: &Moto,
    cwd: &Path,
    fixture: &FixtureServer,
    region: &str,
    out: &str,
    extra: &[&str],
) -> Command {
    let s3 = format!("s3={}", fixture.url("/v?bytes=30000"));
    let cdn = format!("cloudfront={}", fixture.url("/v?bytes=3000"));
    let mut args = vec![
        "run",
        "--region",
        region,
        "--samples",
        "6",
        "--target",
        &s3,
        "--target",
        &cdn,
        "--out",
        out,
    ];
    args.extend_from_slice(extra);
    cdnprobe_with_store(moto, cwd, &args)
}

fn same_files(a: &Path, b: &Path, names: &[&str]) {
    for name in names {
        let (left, right) = (
            std::fs::read(a.join(name)).unwrap(),
            std::fs::read(b.join(name)).unwrap(),
        );
        assert!(
            left == right,
            "{name} differs:\n{}\n---\n{}",
            String::from_utf8_lossy(&left),
            String::from_utf8_lossy(&right)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_regions_in_s3_report_and_check_exactly_as_the_same_files_on_disk() {
    let fixture = FixtureServer::start(FixtureConfig::default())
        .await
        .unwrap();
    let moto = Moto::start(false);
    let bucket = moto.bucket();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("s3://{bucket}/fleet");
    for region in ["auckland", "sydney"] {
        let output = finish(run_region(&moto, dir.path(), &fixture, region, &url, &[])).await;
        assert!(output.status.success(), "run {region}: {}", stderr(&output));
    }
    let keys = moto.keys(&bucket);
    assert_eq!(keys.len(), 2, "{keys:?}");
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    for (key, region) in keys.iter().zip(["auckland", "sydney"]) {
        let prefix = format!("fleet/kind=samples/date={today}/region={region}/");
        assert!(key.starts_with(&prefix) && key.ends_with(".csv"), "{key}");
    }
    assert!(
        files_under(&dir.path().join("cdnprobe-spool")).is_empty(),
        "spools removed once stored"
    );

    let local = dir.path().join("copy");
    moto.download(&bucket, &local);
    let (from_store, from_disk) = (dir.path().join("report-s3"), dir.path().join("report-disk"));
    for (input, out) in [
        (url.as_str(), &from_store),
        (local.to_str().unwrap(), &from_disk),
    ] {
        let command = cdnprobe_with_store(
            &moto,
            dir.path(),
            &["report", input, "--out", out.to_str().unwrap()],
        );
        let output = finish(command).await;
        assert!(
            output.status.success(),
            "report {input}: {}",
            stderr(&output)
        );
    }
    same_files(&from_store, &from_disk, &["summary.csv", "comparison.csv"]);
    let summary = std::fs::read_to_string(from_store.join("summary.csv")).unwrap();
    assert!(
        summary.contains("\nauckland,s3,total,6,0,")
            && summary.contains("\nsydney,cloudfront,total,6,0,"),
        "{summary}"
    );

    let check = |input: &str| {
        let args = [
            "check",
            input,
            "--baseline",
            "s3",
            "--candidate",
            "cloudfront",
            "--min-speedup",
            "1.0",
            "--min-samples",
            "5",
            "--format",
            "json",
        ];
        cdnprobe_with_store(&moto, dir.path(), &args)
    };
    let (in_store, on_disk) = (
        finish(check(&url)).await,
        finish(check(local.to_str().unwrap())).await,
    );
    assert_eq!(in_store.status.code(), on_disk.status.code());
    assert!(
        matches!(in_store.status.code(), Some(0 | 1)),
        "{}",
        stderr(&in_store)
    );
    assert_eq!(
        in_store.stdout, on_disk.stdout,
        "the same verdict, number for number"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parquet_runs_report_as_csv_runs_and_pyarrow_and_duckdb_read_them() {
    let fixture = FixtureServer::start(FixtureConfig::default())
        .await
        .unwrap();
    let moto = Moto::start(false);
    let bucket = moto.bucket();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("s3://{bucket}/pq");
    for region in ["auckland", "sydney"] {
        let output = finish(run_region(
            &moto,
            dir.path(),
            &fixture,
            region,
            &url,
            &["--format", "parquet"],
        ))
        .await;
        assert!(output.status.success(), "run {region}: {}", stderr(&output));
    }
    let keys = moto.keys(&bucket);
    assert!(
        keys.len() == 2 && keys.iter().all(|k| k.ends_with(".parquet")),
        "{keys:?}"
    );

    // The same rows as CSV: what pyarrow reads from the store, written back out as CSV.
    let tree = dir.path().join("tree");
    moto.download(&bucket, &tree);
    let as_csv = dir.path().join("as-csv");
    let read = python(&format!(
        r#"
import pyarrow.fs, pyarrow.dataset as ds, pyarrow.csv, pyarrow.compute as pc, os
s3 = pyarrow.fs.S3FileSystem(access_key="testing", secret_key="x", region="us-east-1",
                             endpoint_override="{endpoint}", scheme="http")
table = ds.dataset("{bucket}/pq/kind=samples", filesystem=s3, format="parquet", partitioning=None).to_table()
assert table.schema.field("started_at").type == pyarrow.timestamp("us", tz="UTC"), table.schema
assert table.schema.field("total_ms").type == pyarrow.float64()
assert table.schema.field("status").type == pyarrow.int32()
print(table.num_rows)
"#,
        endpoint = moto.endpoint,
        bucket = bucket
    ));
    assert_eq!(read.trim(), "24");
    std::fs::create_dir_all(&as_csv).unwrap();
    for key in &keys {
        // Named by the whole key, so the files sort as the objects do (region first).
        let spool = as_csv.join(key.replace('/', "_").replace(".parquet", ".csv"));
        python(&format!(
            r#"
import pyarrow.parquet as pq, csv
t = pq.read_table("{source}")
rows = t.to_pylist()
with open("{spool}", "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(t.column_names)
    for r in rows:
        w.writerow(["" if r[c] is None else (r[c].strftime("%Y-%m-%dT%H:%M:%S.%fZ") if c == "started_at" else ("%.3f" % r[c] if c.endswith("_ms") or c.endswith("_mbps") else r[c])) for c in t.column_names])
"#,
            source = tree.join(key).display(),
            spool = spool.display()
        ));
    }
    let (parquet_report, csv_report) = (dir.path().join("r-pq"), dir.path().join("r-csv"));
    for (input, out) in [
        (url.as_str(), &parquet_report),
        (as_csv.to_str().unwrap(), &csv_report),
    ] {
        let output = finish(cdnprobe_with_store(
            &moto,
            dir.path(),
            &["report", input, "--out", out.to_str().unwrap()],
        ))
        .await;
        assert!(
            output.status.success(),
            "report {input}: {}",
            stderr(&output)
        );
    }
    same_files(
        &parquet_report,
        &csv_report,
        &["summary.csv", "comparison.csv"],
    );

    // DuckDB over the Hive tree: the README's statement gives the report's p50 of total_ms.
    let duckdb = python(&format!(
        r#"
import duckdb
rows = duckdb.sql("""
SELECT region, target, count(*) AS samples,
       round(quantile_cont(total_ms, 0.5), 3) AS p50_total_ms
FROM read_parquet('{tree}/pq/kind=samples/*/*/*.parquet', hive_partitioning = false)
WHERE error IS NULL
GROUP BY region, target
ORDER BY region, target""").fetchall()
for region, target, n, p50 in rows:
    print(f"{{region}},{{target}},{{n}},{{p50:.3f}}")
"#,
        tree = tree.display()
    ));
    let summary = std::fs::read_to_string(parquet_report.join("summary.csv")).unwrap();
    let mut from_report: Vec<String> = summary
        .lines()
        .filter(|line| line.split(',').nth(2) == Some("total"))
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            format!("{},{},{},{}", cells[0], cells[1], cells[3], cells[6])
        })
        .collect();
    from_report.sort();
    let from_duckdb: Vec<String> = duckdb.lines().map(String::from).collect();
    // The same interpolated p50, each rounded to µs by its own rule: a value halfway between two
    // microseconds (the mean of two middle samples) may round either way, so the last digit may
    // differ by one.
    let split = |line: &String| {
        let (group, p50) = line.rsplit_once(',').unwrap();
        (group.to_owned(), p50.parse::<f64>().unwrap())
    };
    assert_eq!(from_duckdb.len(), from_report.len(), "{from_duckdb:?}");
    for (duckdb, report) in from_duckdb
        .iter()
        .map(split)
        .zip(from_report.iter().map(split))
    {
        assert_eq!(duckdb.0, report.0);
        assert!(
            (duckdb.1 - report.1).abs() < 0.0015,
            "{from_duckdb:?} {from_report:?}"
        );
    }
}

/// Runs a Python program; its stdout.
fn python(program: &str) -> String {
    let output = Command::new("python3")
        .arg("-c")
        .arg(program)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "python: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

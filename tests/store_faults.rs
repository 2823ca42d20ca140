//! When the store fails, nothing measured is lost and the user is told what to do, in one line:
//! a store that went down (exit 3, spool kept, `push` lands it as the run would have), wrong
//! credentials (the cause named, the secret never printed), Ctrl-C mid-run (the finished rows are
//! stored), a foreign object under the prefix (named, exit 2, nothing written).

mod store_support;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use cdnprobe::lab::fixture::{FixtureConfig, FixtureServer};
use store_support::{Moto, cdnprobe_with_store, files_under, stderr};

async fn finish(command: Command) -> Output {
    tokio::task::spawn_blocking(move || store_support::output(command))
        .await
        .unwrap()
}

fn probe(moto: &Moto, cwd: &Path, fixture: &FixtureServer, out: &str, extra: &[&str]) -> Command {
    let target = format!("origin={}", fixture.url("/v?bytes=5000"));
    let mut args = vec![
        "run",
        "--region",
        "auckland",
        "--target",
        &target,
        "--out",
        out,
        "--upload-retry-for",
        "1s",
    ];
    args.extend_from_slice(extra);
    cdnprobe_with_store(moto, cwd, &args)
}

/// The one spool file left in `cwd`.
fn kept_spool(cwd: &Path) -> std::path::PathBuf {
    let spools = files_under(&cwd.join("cdnprobe-spool"));
    assert_eq!(spools.len(), 1, "{spools:?}");
    cwd.join("cdnprobe-spool").join(&spools[0])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_down_at_upload_keeps_the_spool_and_push_lands_it_as_the_run_would_have() {
    let fixture = FixtureServer::start(FixtureConfig::default())
        .await
        .unwrap();
    let mut down = Moto::start(false);
    let bucket = down.bucket();
    down.stop();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("s3://{bucket}/fleet");
    let output = finish(probe(
        &down,
        dir.path(),
        &fixture,
        &url,
        &["--samples", "4"],
    ))
    .await;
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let spool = kept_spool(dir.path());
    let spooled = std::fs::read(&spool).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&spooled).lines().count(),
        5,
        "header + 4 rows"
    );
    let told = stderr(&output);
    let push_line = told
        .lines()
        .find(|line| line.trim_start().starts_with("cdnprobe push "))
        .unwrap_or_else(|| panic!("no push command in {told}"));
    assert!(
        told.contains(&format!("could not write to {url}")),
        "{told}"
    );

    // The store is back (a new server: moto keeps nothing): the printed command lands the run.
    let up = Moto::start(false);
    let new_bucket = up.bucket();
    let words: Vec<String> = push_line
        .split_whitespace()
        .skip(1)
        .map(|word| word.replace(&bucket, &new_bucket))
        .collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let output = finish(cdnprobe_with_store(&up, dir.path(), &words)).await;
    assert!(output.status.success(), "push: {}", stderr(&output));
    assert!(!spool.exists());
    let keys = up.keys(&new_bucket);
    let run_id = spool
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .trim_end_matches(".samples.csv");
    let today = chrono::Utc::now().format("%Y-%m-%d");
    assert_eq!(
        keys,
        [format!(
            "fleet/kind=samples/date={today}/region=auckland/{run_id}.csv"
        )]
    );
    assert_eq!(
        up.get(&new_bucket, &keys[0]),
        spooled,
        "the object is the spool, byte for byte"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_are_named_in_one_line_and_the_secret_is_never_printed() {
    let fixture = FixtureServer::start(FixtureConfig::default())
        .await
        .unwrap();
    let guarded = Moto::start(true);
    let dir = tempfile::tempdir().unwrap();
    let output = finish(probe(
        &guarded,
        dir.path(),
        &fixture,
        "s3://guarded/fleet",
        &["--samples", "2"],
    ))
    .await;
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let told = stderr(&output);
    let cause = told
        .lines()
        .find(|l| l.contains("could not write"))
        .unwrap();
    assert!(
        cause.contains("InvalidAccessKeyId") && cause.contains("check the credentials"),
        "{cause}"
    );
    assert!(!told.contains("testing-secret-never-printed"), "{told}");
    kept_spool(dir.path());

    let out = dir.path().join("report");
    let command = cdnprobe_with_store(
        &guarded,
        dir.path(),
        &[
            "report",
            "s3://guarded/fleet",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    let output = finish(command).await;
    assert_eq!(output.status.code(), Some(2));
    let told = stderr(&output);
    assert_eq!(told.lines().count(), 1, "{told}");
    assert!(
        told.starts_with("cdnprobe: s3://guarded/fleet: 403 InvalidAccessKeyId"),
        "{told}"
    );
    assert!(!out.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_mid_run_stores_every_finished_row() {
    let fixture = FixtureServer::start(FixtureConfig::default())
        .await
        .unwrap();
    let moto = Moto::start(false);
    let bucket = moto.bucket();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("s3://{bucket}/fleet");
    let mut command = probe(
        &moto,
        dir.path(),
        &fixture,
        &url,
        &["--samples", "1000", "--interval", "50ms"],
    );
    let child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let spool_dir = dir.path().join("cdnprobe-spool");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let rows = files_under(&spool_dir).first().map_or(0, |name| {
            std::fs::read_to_string(spool_dir.join(name))
                .unwrap()
                .lines()
                .count()
        });
        if rows >= 4 {
            break;
        }
        assert!(Instant::now() < deadline, "no rows appeared");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // SAFETY: kill(2) on the pid of a child this test spawned and has not reaped.
    assert_eq!(
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) },
        0
    );
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    let keys = moto.keys(&bucket);
    assert_eq!(keys.len(), 1, "{keys:?}");
    let stored = String::from_utf8(moto.get(&bucket, &keys[0])).unwrap();
    let rows = stored.lines().count() - 1;
    assert!((3..1000).contains(&rows), "{rows} rows stored");
    assert!(stored.ends_with('\n') && files_under(&spool_dir).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_or_corrupt_object_is_named_and_nothing_is_written_unless_skip_bad() {
    let fixture = FixtureServer::start(FixtureConfig::default())
        .await
        .unwrap();
    let moto = Moto::start(false);
    let bucket = moto.bucket();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("s3://{bucket}/fleet");
    let output = finish(probe(
        &moto,
        dir.path(),
        &fixture,
        &url,
        &["--samples", "3"],
    ))
    .await;
    assert!(output.status.success(), "{}", stderr(&output));
    let report = |extra: &[&str]| {
        let out = dir.path().join("report");
        let mut args = vec!["report", url.as_str(), "--out", out.to_str().unwrap()];
        args.extend_from_slice(extra);
        cdnprobe_with_store(&moto, dir.path(), &args)
    };
    for (key, bytes, named) in [
        (
            "fleet/kind=samples/date=2026-12-01/region=x/broken.parquet",
            &b"PAR1 not really"[..],
            "broken.parquet: not a Parquet file",
        ),
        (
            "fleet/kind=samples/notes.txt",
            &b"hello"[..],
            "notes.txt: not a sample file",
        ),
    ] {
        moto.put(&bucket, key, bytes);
        let output = finish(report(&[])).await;
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
        let told = stderr(&output);
        assert_eq!(told.lines().count(), 1, "{told}");
        assert!(
            told.contains(&format!("s3://{bucket}/{key}")) && told.contains(named),
            "{told}"
        );
        assert!(!dir.path().join("report").exists(), "nothing written");
    }
    let output = finish(report(&["--skip-bad"])).await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stderr(&output).matches("warning: skipping").count(),
        2,
        "{}",
        stderr(&output)
    );
    let summary = std::fs::read_to_string(dir.path().join("report/summary.csv")).unwrap();
    assert!(
        summary.contains("\nauckland,origin,total,3,0,"),
        "{summary}"
    );
}

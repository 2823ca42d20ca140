//! `cdnprobe play` end to end: the real binary against the real cdnprobe-server.

mod play_support;

use std::process::Output;

use play_support::{Mp4Origin, Nginx, WebRoot};

async fn cdnprobe(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_cdnprobe"))
            .args(&args)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn rows(path: &std::path::Path) -> Vec<csv::StringRecord> {
    csv::Reader::from_path(path)
        .unwrap()
        .records()
        .map(Result::unwrap)
        .collect()
}

fn header(path: &std::path::Path) -> Vec<String> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    reader.headers().unwrap().iter().map(String::from).collect()
}

#[tokio::test]
async fn play_writes_one_row_per_session_interleaved_and_every_request() {
    let origin = Mp4Origin::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (out, requests) = (dir.path().join("play.csv"), dir.path().join("requests.csv"));
    let args: Vec<String> = [
        "play",
        &format!("--target=s3=http://{}{}", origin.addr(), origin.tail),
        &format!(
            "--target=cloudfront=http://{}{}",
            origin.addr(),
            origin.faststart
        ),
        "--samples=2",
        "--watch=2s",
        "--playback-rate=10",
        "--region=lab",
        &format!("--out={}", out.display()),
        &format!("--requests={}", requests.display()),
    ]
    .map(String::from)
    .to_vec();
    let output = cdnprobe(args).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    assert_eq!(header(&out), cdnprobe::play::record::COLUMNS);
    let sessions = rows(&out);
    let order: Vec<(&str, &str)> = sessions.iter().map(|r| (&r[2], &r[4])).collect();
    assert_eq!(
        order,
        [
            ("s3", "1"),
            ("cloudfront", "1"),
            ("s3", "2"),
            ("cloudfront", "2")
        ]
    );
    for row in &sessions {
        assert_eq!(&row[1], "lab");
        assert_eq!(&row[5], "mp4");
        assert_eq!(&row[25], "", "error column of {row:?}");
    }
    let mut expected: Vec<&str> = cdnprobe::sample::COLUMNS.to_vec();
    expected.extend(["session", "object"]);
    assert_eq!(header(&requests), expected);
    let per_request = rows(&requests);
    // Non-faststart: 3 requests per session; faststart: 1.
    assert_eq!(per_request.len(), 2 * 3 + 2);
    let object = expected.iter().position(|c| *c == "object").unwrap();
    assert_eq!(&per_request[0][object], "range 0-");
    assert!(per_request[1][object].starts_with("moov "));
    let session = expected.iter().position(|c| *c == "session").unwrap();
    assert_eq!(&per_request[7][session], "2");
    // The session's bytes are its requests' bytes.
    let bytes_of = |rows: &[csv::StringRecord], col: usize| -> u64 {
        rows.iter().map(|r| r[col].parse::<u64>().unwrap()).sum()
    };
    let sample_bytes = expected.iter().position(|c| *c == "bytes").unwrap();
    assert_eq!(
        bytes_of(&per_request[..3], sample_bytes),
        sessions[0][8].parse::<u64>().unwrap()
    );
}

#[tokio::test]
async fn a_target_with_bad_media_gets_classified_rows_and_the_run_goes_on() {
    let origin = Mp4Origin::start().await;
    let root = WebRoot::new();
    root.write("error.html", "<html>Access denied</html>");
    let nginx = Nginx::start(root.path());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("play.csv");
    let args: Vec<String> = [
        "play",
        &format!("--target=broken=http://{}/error.html", nginx.addr),
        &format!("--target=good=http://{}{}", origin.addr(), origin.faststart),
        "--samples=2",
        "--watch=1s",
        "--playback-rate=10",
        &format!("--out={}", out.display()),
    ]
    .map(String::from)
    .to_vec();
    let output = cdnprobe(args).await;
    // Every session of one target failed: exit 1, as run does, after all four sessions.
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let errors: Vec<(String, String)> = rows(&out)
        .iter()
        .map(|r| (r[2].to_string(), r[25].to_string()))
        .collect();
    assert_eq!(errors.len(), 4);
    for (target, error) in errors {
        assert_eq!(error, if target == "broken" { "media" } else { "" });
    }
}

#[tokio::test]
async fn bad_arguments_exit_2_with_one_line_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("play.csv");
    for bad in [
        vec!["--reuse"],
        vec!["--seek=later"],
        vec!["--variant=best"],
        vec!["--max-buffer=1s"],
        vec!["--max-bytes=100"],
    ] {
        let mut args: Vec<String> = vec![
            "play".into(),
            "--target=a=http://127.0.0.1:9/v.mp4".into(),
            format!("--out={}", out.display()),
        ];
        args.extend(bad.iter().map(|s| s.to_string()));
        let output = cdnprobe(args).await;
        assert_eq!(output.status.code(), Some(2), "{bad:?}");
        assert!(!out.exists(), "{bad:?} wrote {}", out.display());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.trim().lines().count() <= 3, "{bad:?}: {stderr}");
    }
}

#[tokio::test]
async fn help_says_dash_may_come_later() {
    let output = cdnprobe(vec!["play".into(), "--help".into()]).await;
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(help.contains("DASH"), "{help}");
    assert!(help.contains("startup + watch + stalls"), "{help}");
}

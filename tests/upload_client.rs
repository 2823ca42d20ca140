//! `cdnprobe upload` against a real cdnprobe-server started in-process on loopback.

use std::path::Path;
use std::process::Output;

use cdnprobe_server::InProcessServer;
use clap::Parser;

const SAMPLE: &[u8] = include_bytes!("../assets/sample.mp4");

/// A cdnprobe-server on a free loopback port, storing in a temporary directory.
struct Server {
    base: String,
    _running: InProcessServer,
    _data: tempfile::TempDir,
}

async fn start_server(extra_args: &[&str]) -> Server {
    let data = tempfile::tempdir().unwrap();
    let mut argv = vec![
        "cdnprobe-server",
        "--data-dir",
        data.path().to_str().unwrap(),
    ];
    argv.extend_from_slice(extra_args);
    let args = cdnprobe_server::Args::parse_from(argv);
    let running = InProcessServer::start(args).await.unwrap();
    Server {
        base: running.base_url(),
        _running: running,
        _data: data,
    }
}

async fn cdnprobe_upload(args: &[&str], envs: &[(&str, &str)]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_cdnprobe"))
        .arg("upload")
        .args(args)
        .env_remove("CDNPROBE_UPLOAD_TOKEN")
        .envs(envs.iter().copied())
        .output()
        .await
        .expect("running cdnprobe")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The value printed after `label` at the start of a line of `stdout`.
fn printed<'a>(stdout: &'a str, label: &str) -> &'a str {
    stdout
        .lines()
        .find_map(|line| line.strip_prefix(label).map(str::trim))
        .unwrap_or_else(|| panic!("no {label} line in:\n{stdout}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn upload_prints_the_id_and_the_urls_to_probe() {
    let server = start_server(&[
        "--s3-public-base-url",
        "https://videos.s3.eu-west-1.amazonaws.com",
        "--cdn-base-url",
        "https://d111.cloudfront.net",
    ])
    .await;
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/sample.mp4");
    let output = cdnprobe_upload(
        &[
            sample.to_str().unwrap(),
            "--server",
            &server.base,
            "--title",
            "t",
        ],
        &[],
    )
    .await;
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", text(&output.stderr));
    let id = printed(&stdout, "uploaded sample.mp4 (21375 bytes) as");
    assert_eq!(
        printed(&stdout, "s3"),
        format!("https://videos.s3.eu-west-1.amazonaws.com/videos/{id}.mp4")
    );
    assert_eq!(
        printed(&stdout, "cdn"),
        format!("https://d111.cloudfront.net/videos/{id}.mp4")
    );
    let stream = printed(&stdout, "stream");
    assert_eq!(stream, format!("{}/api/v1/videos/{id}", server.base));
    assert!(reqwest::get(stream).await.unwrap().bytes().await.unwrap() == SAMPLE);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_large_file_is_streamed_to_the_server_intact() {
    let server = start_server(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.mp4");
    // A real MP4 header, then 24 MiB of a byte pattern that shows any reordering.
    let mut video = SAMPLE[..64].to_vec();
    video.extend((0..24u32 << 20).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
    std::fs::write(&path, &video).unwrap();
    let output = cdnprobe_upload(&[path.to_str().unwrap(), "--server", &server.base], &[]).await;
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", text(&output.stderr));
    let body = reqwest::get(printed(&stdout, "stream"))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(body == video, "the stored video differs from the file");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_token_can_come_from_the_environment() {
    let server = start_server(&["--upload-token", "s3cret"]).await;
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/sample.mp4");
    let output = cdnprobe_upload(
        &[sample.to_str().unwrap(), "--server", &server.base],
        &[("CDNPROBE_UPLOAD_TOKEN", "s3cret")],
    )
    .await;
    assert!(output.status.success(), "{}", text(&output.stderr));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_token_from_the_environment_is_a_usage_error() {
    // What a CI job passes when the secret it names does not exist.
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/sample.mp4");
    let output = cdnprobe_upload(
        &[sample.to_str().unwrap(), "--server", "http://127.0.0.1:9"],
        &[("CDNPROBE_UPLOAD_TOKEN", "")],
    )
    .await;
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("--token") && stderr.contains("CDNPROBE_UPLOAD_TOKEN"),
        "{stderr}"
    );
}

/// Uploads `path` with a wrong token and expects the server's 401 and its reason, exit 1.
async fn assert_refused_for_the_token(path: &Path) {
    let server = start_server(&["--upload-token", "s3cret"]).await;
    let output = cdnprobe_upload(
        &[
            path.to_str().unwrap(),
            "--server",
            &server.base,
            "--token",
            "wrong",
        ],
        &[],
    )
    .await;
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("401") && stderr.contains("Authorization: Bearer"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_upload_shows_the_servers_message_and_exits_1() {
    assert_refused_for_the_token(&Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/sample.mp4"))
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_large_upload_still_shows_the_servers_message() {
    // The server answers 401 before reading the body; it must read the rest (lingering close)
    // or its reset can reach the client before the answer ("broken pipe" instead of the reason).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.mp4");
    let mut video = SAMPLE[..64].to_vec();
    video.resize(32 << 20, 7);
    std::fs::write(&path, &video).unwrap();
    assert_refused_for_the_token(&path).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_non_video_is_refused_with_the_servers_reason() {
    let server = start_server(&[]).await;
    let toml = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let output = cdnprobe_upload(&[toml.to_str().unwrap(), "--server", &server.base], &[]).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("not a video"),
        "{}",
        text(&output.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_file_is_a_usage_error() {
    let output = cdnprobe_upload(
        &["/nonexistent/clip.mp4", "--server", "http://127.0.0.1:9"],
        &[],
    )
    .await;
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("/nonexistent/clip.mp4"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_is_not_an_http_url_is_a_usage_error() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/sample.mp4");
    let output = cdnprobe_upload(
        &[sample.to_str().unwrap(), "--server", "ftp://127.0.0.1"],
        &[],
    )
    .await;
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("expected an http:// or https:// URL"));
}

//! The service around the API: health, metrics, object attributes in S3, the in-process
//! server, what is checked and logged at start, header read timeout and graceful shutdown.

mod common;

use std::time::{Duration, Instant};

use cdnprobe_server::InProcessServer;
use clap::Parser;
use common::{Backend, SAMPLE, Server, ServerProcess, mp4_like};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test]
async fn healthz_answers_ok() {
    Server::start(Backend::Local).await.assert_healthy().await;
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status_and_bytes() {
    let server = Server::start(Backend::Local).await;
    let id = server.upload_id(SAMPLE).await;
    server
        .http
        .get(server.video_url(&id))
        .header("range", "bytes=0-99")
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    server
        .http
        .get(server.video_url("nope"))
        .send()
        .await
        .unwrap();
    let text = server.metrics().await;
    assert_metric_lines(
        &text,
        &[
            r#"cdnprobe_http_requests_total{route="upload",method="POST",status="201"} 1"#,
            r#"cdnprobe_http_requests_total{route="video",method="GET",status="206"} 1"#,
            r#"cdnprobe_http_requests_total{route="video",method="GET",status="400"} 1"#,
            "cdnprobe_video_bytes_served_total 100",
        ],
    );
    let uploaded = text
        .lines()
        .find_map(|l| l.strip_prefix("cdnprobe_video_bytes_uploaded_total "))
        .and_then(|n| n.parse::<u64>().ok())
        .expect("bytes uploaded");
    assert!(uploaded > SAMPLE.len() as u64, "{uploaded}");
    assert!(
        text.contains(r#"cdnprobe_http_request_duration_seconds_count{route="video"} 2"#),
        "{text}"
    );
}

#[tokio::test]
async fn metrics_label_invented_methods_and_unknown_paths_from_fixed_sets() {
    // Labels taken from the request would let any client create series without end.
    let server = Server::start(Backend::Local).await;
    for method in ["BREW", "WHEN"] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let response = server
            .http
            .request(method, server.url("/healthz"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 405);
    }
    for path in ["/nope", "/wp-admin/setup.php"] {
        let response = server.http.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 404);
    }
    let text = server.metrics().await;
    assert_metric_lines(
        &text,
        &[
            r#"cdnprobe_http_requests_total{route="healthz",method="other",status="405"} 2"#,
            r#"cdnprobe_http_requests_total{route="unknown",method="GET",status="404"} 2"#,
        ],
    );
    for raw in ["BREW", "WHEN", "nope", "wp-admin"] {
        assert!(!text.contains(raw), "{raw} is in a label:\n{text}");
    }
}

#[tokio::test]
async fn s3_objects_carry_their_content_type_and_cache_control() {
    // S3 and CloudFront serve the object without the server: it must carry its own headers.
    let server = Server::start_with(Backend::S3, &["--cache-control", "public, max-age=600"]).await;
    let json = server.upload_video(SAMPLE).await;
    let direct = server
        .http
        .get(json["urls"]["s3"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(direct.status(), 200);
    assert_eq!(direct.headers()["content-type"], "video/mp4");
    assert_eq!(direct.headers()["cache-control"], "public, max-age=600");
    assert!(direct.bytes().await.unwrap() == SAMPLE);
}

#[tokio::test]
async fn an_in_process_server_serves_until_stopped() {
    let data = tempfile::tempdir().unwrap();
    let args = cdnprobe_server::Args::parse_from([
        "cdnprobe-server",
        "--data-dir",
        data.path().to_str().unwrap(),
    ]);
    let server = InProcessServer::start(args).await.unwrap();
    let address = server.address();
    assert!(address.ip().is_loopback() && address.port() != 8080);
    let health = reqwest::get(format!("{}/healthz", server.base_url()))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let outcome = tokio::time::timeout(Duration::from_secs(10), server.stop()).await;
    outcome
        .expect("the server stops")
        .expect("serving ended without error");
    assert!(
        TcpStream::connect(address).await.is_err(),
        "still listening after shutdown"
    );
}

/// Runs the server binary with `configure`d arguments and environment and expects it to
/// refuse to start: exit 2 and a message saying the upload token is empty, within 10 s.
async fn assert_refused_at_start(configure: impl FnOnce(&mut std::process::Command)) {
    let mut command = common::server_command();
    configure(&mut command);
    let data = tempfile::tempdir().unwrap();
    command.arg("--data-dir").arg(data.path());
    let mut command = tokio::process::Command::from(command);
    command.kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(10), command.output())
        .await
        .expect("the server refuses to start instead of serving")
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--upload-token") && stderr.contains("CDNPROBE_UPLOAD_TOKEN"),
        "{stderr}"
    );
}

#[tokio::test]
async fn an_empty_upload_token_in_the_environment_is_refused_at_start() {
    // What a CI job passes when the secret it names does not exist.
    assert_refused_at_start(|command| {
        command.env("CDNPROBE_UPLOAD_TOKEN", "");
    })
    .await;
}

#[tokio::test]
async fn an_empty_upload_token_on_the_command_line_is_refused_at_start() {
    assert_refused_at_start(|command| {
        command.args(["--upload-token", ""]);
    })
    .await;
}

#[tokio::test]
async fn an_empty_upload_token_in_code_is_refused_at_start() {
    let data = tempfile::tempdir().unwrap();
    let mut args = cdnprobe_server::Args::parse_from([
        "cdnprobe-server",
        "--data-dir",
        data.path().to_str().unwrap(),
    ]);
    args.upload_token = Some(String::new());
    let refused = InProcessServer::start(args).await.err().expect("refused");
    assert!(refused.to_string().contains("token is empty"), "{refused}");
}

#[tokio::test]
async fn the_default_data_directory_is_logged_as_an_absolute_path() {
    let cwd = tempfile::tempdir().unwrap();
    let mut command = common::server_command();
    command.current_dir(cwd.path());
    let server = ServerProcess::launch(command);
    let data = cwd.path().canonicalize().unwrap().join("data");
    assert!(data.is_dir(), "no data directory in the working directory");
    let storing = format!("storing videos in {}", data.display());
    let log = server.log();
    assert!(log.iter().any(|line| line.ends_with(&storing)), "{log:#?}");
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let server = Server::start_with(Backend::Local, &["--header-read-timeout", "1"]).await;
    let mut socket = TcpStream::connect(server.base.trim_start_matches("http://"))
        .await
        .unwrap();
    socket
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), socket.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the connection was still open after 10 s");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "closed before the timeout"
    );
    assert!(!String::from_utf8_lossy(&answer).contains("200 OK"));
}

#[tokio::test]
async fn sigterm_lets_a_download_in_progress_finish() {
    let mut server = Server::start(Backend::Local).await;
    let video = mp4_like(24 << 20);
    let id = server.upload_video(&video).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut response = server.http.get(server.video_url(&id)).send().await.unwrap();
    let mut body = response
        .chunk()
        .await
        .unwrap()
        .expect("a first piece")
        .to_vec();
    let status = tokio::task::spawn_blocking(move || {
        let status = server.stop();
        (server, status)
    });
    while let Some(piece) = response
        .chunk()
        .await
        .expect("the download continues during shutdown")
    {
        body.extend_from_slice(&piece);
    }
    assert!(body == video, "the download was cut short or changed");
    let (_server, status) = status.await.unwrap();
    assert!(status.success(), "the server exited with {status}");
}

/// Every one of `lines` appears, whole, as a line of the `/metrics` text.
fn assert_metric_lines(text: &str, lines: &[&str]) {
    for line in lines {
        assert!(text.lines().any(|l| l == *line), "no {line:?} in:\n{text}");
    }
}

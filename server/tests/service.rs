//! The service around the API: health, metrics, object attributes in S3, the in-process
//! `serve` entry point, header read timeout and graceful shutdown.

mod common;

use std::time::{Duration, Instant};

use clap::Parser;
use common::{Backend, SAMPLE, Server, mp4_like};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[tokio::test]
async fn healthz_answers_ok() {
    let server = Server::start(Backend::Local).await;
    let response = server
        .http
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap()["status"],
        "ok"
    );
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status_and_bytes() {
    let server = Server::start(Backend::Local).await;
    let id = server.upload_video(SAMPLE).await["id"]
        .as_str()
        .unwrap()
        .to_string();
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
    let text = server
        .http
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let has = |line: &str| text.lines().any(|l| l == line);
    assert!(
        has(r#"cdnprobe_http_requests_total{route="upload",method="POST",status="201"} 1"#),
        "{text}"
    );
    assert!(
        has(r#"cdnprobe_http_requests_total{route="video",method="GET",status="206"} 1"#),
        "{text}"
    );
    assert!(
        has(r#"cdnprobe_http_requests_total{route="video",method="GET",status="400"} 1"#),
        "{text}"
    );
    assert!(has("cdnprobe_video_bytes_served_total 100"), "{text}");
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
async fn serve_runs_in_process_until_its_shutdown_future_completes() {
    let data = tempfile::tempdir().unwrap();
    let args = cdnprobe_server::Args::parse_from([
        "cdnprobe-server",
        "--data-dir",
        data.path().to_str().unwrap(),
    ]);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(cdnprobe_server::serve(args, listener, async {
        let _ = stopped.await;
    }));
    let health = reqwest::get(format!("http://{address}/healthz"))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    stop.send(()).unwrap();
    let outcome = tokio::time::timeout(Duration::from_secs(10), running).await;
    outcome
        .expect("serve returns after shutdown")
        .unwrap()
        .expect("serve ends without error");
    assert!(
        TcpStream::connect(address).await.is_err(),
        "still listening after shutdown"
    );
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

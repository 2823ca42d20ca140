//! Uploads and requests the server must refuse, each with its status, a JSON error, and
//! nothing left in storage; and a client that vanishes halfway through an upload.

mod common;

use std::time::Duration;

use common::{Backend, Form, SAMPLE, Server, StorageRelay, mp4_like};
use reqwest::{Method, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

on_both_backends!(
    upload_without_the_token_is_401_and_stores_nothing,
    upload_with_a_wrong_token_is_401_and_stores_nothing,
    upload_with_the_token_is_accepted,
    upload_declared_over_the_limit_is_413_and_stores_nothing,
    upload_streamed_over_the_limit_is_413_and_stores_nothing,
    upload_of_a_non_video_is_415_and_stores_nothing,
    upload_without_a_file_part_is_400_and_stores_nothing,
    upload_with_an_unknown_field_after_the_video_is_400_and_stores_nothing,
    upload_with_an_oversize_title_is_400_and_stores_nothing,
    upload_with_two_file_parts_is_400_and_stores_nothing,
    upload_of_an_empty_file_is_400_and_stores_nothing,
    upload_that_is_not_multipart_is_400_and_stores_nothing,
    client_disconnecting_mid_upload_leaves_nothing_behind,
    a_stalled_upload_is_cut_off_with_408_and_stores_nothing,
);

/// Asserts the status and the JSON error shape, then that storage stays empty.
async fn assert_refused(server: &Server, response: reqwest::Response, status: StatusCode) {
    assert_eq!(response.status(), status);
    let json: serde_json::Value = response.json().await.expect("errors are JSON");
    assert!(
        json["error"].is_string() && json["detail"].is_string(),
        "{json}"
    );
    server.assert_storage_becomes_empty().await;
}

async fn upload_without_the_token_is_401_and_stores_nothing(backend: Backend) {
    let server = Server::start_with(backend, &["--upload-token", "s3cret"]).await;
    let response = server
        .upload(Form::new().file("file", "a.mp4", SAMPLE))
        .await;
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    assert_refused(&server, response, StatusCode::UNAUTHORIZED).await;
}

async fn upload_with_a_wrong_token_is_401_and_stores_nothing(backend: Backend) {
    let server = Server::start_with(backend, &["--upload-token", "s3cret"]).await;
    let form = Form::new().file("file", "a.mp4", SAMPLE);
    let response = server
        .upload_with(form, |request| request.bearer_auth("s3cre"))
        .await;
    assert_refused(&server, response, StatusCode::UNAUTHORIZED).await;
}

async fn upload_with_the_token_is_accepted(backend: Backend) {
    let server = Server::start_with(backend, &["--upload-token", "s3cret"]).await;
    let form = Form::new().file("file", "a.mp4", SAMPLE);
    let response = server
        .upload_with(form, |request| request.bearer_auth("s3cret"))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
}

async fn upload_declared_over_the_limit_is_413_and_stores_nothing(backend: Backend) {
    let server = Server::start_with(backend, &["--max-upload-bytes", "100000"]).await;
    let response = server
        .upload(Form::new().file("file", "big.mp4", &mp4_like(200_000)))
        .await;
    assert_refused(&server, response, StatusCode::PAYLOAD_TOO_LARGE).await;
}

async fn upload_streamed_over_the_limit_is_413_and_stores_nothing(backend: Backend) {
    // Chunked, so no Content-Length warns the server: the form's own limit must stop it. The
    // video is a little over the limit but the whole request fits in the limit's form overhead.
    let server = Server::start_with(backend, &["--max-upload-bytes", "20000"]).await;
    let (content_type, body) = Form::new()
        .file("file", "big.mp4", &mp4_like(30_000))
        .finish();
    let chunks = futures::stream::iter(
        body.chunks(4096)
            .map(|chunk| Ok::<_, std::io::Error>(chunk.to_vec()))
            .collect::<Vec<_>>(),
    );
    let response = server
        .http
        .post(server.url("/api/v1/videos/upload"))
        .header("content-type", content_type)
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .expect("the server answers");
    assert_refused(&server, response, StatusCode::PAYLOAD_TOO_LARGE).await;
}

async fn upload_of_a_non_video_is_415_and_stores_nothing(backend: Backend) {
    let server = Server::start(backend).await;
    let text = "not a video, whatever the file name says\n".repeat(1000);
    let response = server
        .upload(Form::new().file("file", "clip.mp4", text.as_bytes()))
        .await;
    assert_refused(&server, response, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
}

async fn upload_without_a_file_part_is_400_and_stores_nothing(backend: Backend) {
    let server = Server::start(backend).await;
    let response = server.upload(Form::new().text("title", "no video")).await;
    assert_refused(&server, response, StatusCode::BAD_REQUEST).await;
}

async fn upload_with_an_unknown_field_after_the_video_is_400_and_stores_nothing(backend: Backend) {
    // The video is already being written when the bad field arrives: it must be aborted.
    let server = Server::start(backend).await;
    let form = Form::new()
        .file("file", "a.mp4", &mp4_like(9_000_000))
        .text("owner", "root");
    let response = server.upload(form).await;
    assert_refused(&server, response, StatusCode::BAD_REQUEST).await;
}

async fn upload_with_an_oversize_title_is_400_and_stores_nothing(backend: Backend) {
    let server = Server::start(backend).await;
    let form = Form::new()
        .file("file", "a.mp4", SAMPLE)
        .text("title", &"t".repeat(10_000));
    let response = server.upload(form).await;
    assert_refused(&server, response, StatusCode::BAD_REQUEST).await;
}

async fn upload_with_two_file_parts_is_400_and_stores_nothing(backend: Backend) {
    let server = Server::start(backend).await;
    let form = Form::new()
        .file("file", "a.mp4", SAMPLE)
        .file("file", "b.mp4", SAMPLE);
    let response = server.upload(form).await;
    assert_refused(&server, response, StatusCode::BAD_REQUEST).await;
}

async fn upload_of_an_empty_file_is_400_and_stores_nothing(backend: Backend) {
    let server = Server::start(backend).await;
    let response = server
        .upload(Form::new().file("file", "empty.mp4", b""))
        .await;
    assert_refused(&server, response, StatusCode::BAD_REQUEST).await;
}

async fn upload_that_is_not_multipart_is_400_and_stores_nothing(backend: Backend) {
    let server = Server::start(backend).await;
    let response = server
        .http
        .post(server.url("/api/v1/videos/upload"))
        .header("content-type", "video/mp4")
        .body(SAMPLE)
        .send()
        .await
        .unwrap();
    assert_refused(&server, response, StatusCode::BAD_REQUEST).await;
}

/// Sends an upload's headers (declaring 64 MiB) and the first `bytes` of its video, and leaves
/// the request unfinished.
async fn start_unfinished_upload(server: &Server, bytes: &[u8]) -> TcpStream {
    let form = Form::new();
    let address = server.base.trim_start_matches("http://");
    let mut socket = TcpStream::connect(address).await.unwrap();
    let request = format!(
        "POST /api/v1/videos/upload HTTP/1.1\r\nHost: {address}\r\nContent-Type: {}\r\nContent-Length: {}\r\n\r\n{}",
        form.content_type(),
        64 << 20,
        form.file_part_head("half.mp4"),
    );
    socket.write_all(request.as_bytes()).await.unwrap();
    socket.write_all(bytes).await.unwrap();
    socket
}

async fn client_disconnecting_mid_upload_leaves_nothing_behind(backend: Backend) {
    let server = Server::start(backend).await;
    // More than one upload part, so a multipart upload is under way in storage.
    let socket = start_unfinished_upload(&server, &mp4_like(12 << 20)).await;
    let mut waited = Duration::ZERO;
    while server.stored().await.is_empty() {
        assert!(
            waited < Duration::from_secs(10),
            "the upload never reached storage"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += Duration::from_millis(50);
    }
    drop(socket);
    server.assert_storage_becomes_empty().await;
}

/// Once the whole form is in, the video is completed and then its record written. A client
/// leaving between the two must not stop the record: a video without one is unreachable here
/// yet served by S3 and CloudFront under its key. The relay holds the record's write, so the
/// client surely leaves in between.
#[tokio::test]
async fn a_client_leaving_while_its_upload_commits_still_gets_video_and_record() {
    let relay = StorageRelay::start().await;
    relay.hold(Method::PUT, ".json", Duration::from_secs(2));
    let server = Server::start_through(&relay, &[]).await;
    let video = mp4_like(100_000);
    let (content_type, body) = Form::new().file("file", "clip.mp4", &video).finish();
    let address = server.base.trim_start_matches("http://");
    let mut socket = TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST /api/v1/videos/upload HTTP/1.1\r\nHost: {address}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    socket.write_all(&body).await.unwrap();
    let writing_record = || {
        relay
            .requests()
            .iter()
            .any(|request| request.starts_with("PUT ") && request.ends_with(".json"))
    };
    for _ in 0..200 {
        if writing_record() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(writing_record(), "the upload never reached its record");
    drop(socket);

    let mut stored = Vec::new();
    for _ in 0..100 {
        stored = server.stored().await;
        if stored.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let key = stored.iter().find(|key| key.ends_with(".mp4"));
    let id = key.and_then(|key| key.strip_prefix("videos/")?.strip_suffix(".mp4"));
    let record = id.map(|id| format!("videos/{id}.json"));
    assert!(
        stored.len() == 2 && record.is_some_and(|record| stored.contains(&record)),
        "storage holds {stored:?}, not a video and its record"
    );
    let response = server
        .http
        .get(server.video_url(id.unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.bytes().await.unwrap() == video,
        "the stored video differs"
    );
}

async fn a_stalled_upload_is_cut_off_with_408_and_stores_nothing(backend: Backend) {
    let server = Server::start_with(backend, &["--body-read-timeout", "1"]).await;
    let mut socket = start_unfinished_upload(&server, &mp4_like(100_000)).await;
    let mut answer = vec![0; 4096];
    let read = tokio::time::timeout(Duration::from_secs(10), socket.read(&mut answer)).await;
    let read = read
        .expect("no answer 10 s after the body stalled")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..read]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("stalled"), "{answer}");
    server.assert_storage_becomes_empty().await;
}

// Requests that name no video: the same on every backend, so checked on local disk.

#[tokio::test]
async fn malformed_ids_are_400() {
    let server = Server::start(Backend::Local).await;
    let bad = [
        "abc",
        "0123456789ABCDEF0123456789ABCDEF",
        "0123456789abcdef0123456789abcde",
        "0123456789abcdef0123456789abcdef0",
        "0123456789abcdef0123456789abcdeg",
        "..%2F..%2Fetc%2Fpasswd",
        "0123456789abcdef0123456789abcdef.json",
    ];
    for id in bad {
        for path in [
            format!("/api/v1/videos/{id}"),
            format!("/api/v1/videos/{id}/info"),
        ] {
            let response = server.http.get(server.url(&path)).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path}");
            let json: serde_json::Value = response.json().await.unwrap();
            assert!(
                json["detail"]
                    .as_str()
                    .unwrap()
                    .contains("invalid video id"),
                "{path}"
            );
        }
    }
}

#[tokio::test]
async fn dot_dot_segments_never_reach_the_file_system() {
    let server = Server::start(Backend::Local).await;
    // reqwest would normalise the path, so these go over a raw socket.
    for path in [
        "/api/v1/videos/../../../../etc/passwd",
        "/api/v1/videos/../../../Cargo.toml",
        "/api/v1/videos/%2e%2e/%2e%2e/etc/passwd",
    ] {
        let answer = server.raw_get(path, &[]).await;
        let status_line = answer.lines().next().unwrap_or_default();
        assert!(
            status_line.contains(" 404 ") || status_line.contains(" 400 "),
            "{path}: {status_line}"
        );
        assert!(!answer.contains("root:"), "{path} leaked a file");
    }
}

#[tokio::test]
async fn an_unknown_video_is_404() {
    let server = Server::start(Backend::Local).await;
    for path in [
        "/api/v1/videos/0123456789abcdef0123456789abcdef",
        "/api/v1/videos/0123456789abcdef0123456789abcdef/info",
    ] {
        let response = server.http.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        let json: serde_json::Value = response.json().await.unwrap();
        assert_eq!(json["error"], "not found");
    }
}

#[tokio::test]
async fn an_unknown_route_is_a_json_404() {
    let server = Server::start(Backend::Local).await;
    let response = server.http.get(server.url("/videos")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap()["error"],
        "not found"
    );
}

#[tokio::test]
async fn a_wrong_method_is_405_with_allow() {
    let server = Server::start(Backend::Local).await;
    let response = server
        .http
        .get(server.url("/api/v1/videos/upload"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()["allow"], "POST");
    let response = server
        .http
        .delete(server.video_url("0123456789abcdef0123456789abcdef"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()["allow"], "GET, HEAD");
}

//! The store failing under the server, with a real S3-compatible server (a moto_server of each
//! test's own, paused with SIGSTOP or killed): a GET in progress is cut short so the client
//! can tell, an upload is answered 503 and leaves nothing, and service resumes with the store.
//! Also the server itself killed in the middle of an upload.

mod common;

use std::time::{Duration, Instant};

use common::{Backend, Form, OwnMoto, Server, StorageRelay, mp4_like};
use futures::StreamExt;
use reqwest::{Method, StatusCode};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// Long enough for moto under the load of parallel tests, short enough to wait for.
const STORE_TIMEOUT: &[&str] = &["--store-timeout", "5"];

/// Starts a GET of `id`, reads its first MiB, then calls `fault` and reads on. Returns the
/// Content-Length, the bytes received, and whether the body ended in an error.
async fn get_through_a_fault(server: &Server, id: &str, fault: impl FnOnce()) -> (u64, u64, bool) {
    let response = server.http.get(server.video_url(id)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let length = response.content_length().expect("Content-Length");
    let mut body = response.bytes_stream();
    let mut received = 0u64;
    while received < 1 << 20 {
        received += body.next().await.expect("more body").unwrap().len() as u64;
    }
    fault();
    let rest = async {
        while let Some(piece) = body.next().await {
            match piece {
                Ok(piece) => received += piece.len() as u64,
                Err(_) => return true,
            }
        }
        false
    };
    let failed = tokio::time::timeout(Duration::from_secs(30), rest)
        .await
        .expect("the response ends within 30 s of the fault");
    (length, received, failed)
}

async fn assert_video_served_whole(server: &Server, id: &str, video: &[u8]) {
    let response = server.http.get(server.video_url(id)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.bytes().await.unwrap() == video,
        "the video differs"
    );
}

/// A server on a moto of its own, with a video stored that is larger than every socket buffer
/// between moto and the client, so that a fault of the store is felt mid-response.
async fn server_with_a_large_video() -> (OwnMoto, Server, Vec<u8>, String) {
    let moto = OwnMoto::start().await;
    let server = Server::start_on_moto(&moto, STORE_TIMEOUT).await;
    let video = mp4_like(48 << 20);
    let id = server.upload_id(&video).await;
    (moto, server, video, id)
}

#[tokio::test]
async fn a_store_paused_mid_get_cuts_the_response_short_and_serving_resumes() {
    let (moto, server, video, id) = server_with_a_large_video().await;
    let (length, received, failed) = get_through_a_fault(&server, &id, || moto.pause()).await;
    assert!(failed, "the body ended as if complete");
    assert!(received < length, "{received} of {length} bytes");
    // The server itself is fine, and serves again once the store is back.
    server.assert_healthy().await;
    moto.resume();
    assert_video_served_whole(&server, &id, &video).await;
}

#[tokio::test]
async fn a_store_killed_mid_get_cuts_the_response_short_and_serving_resumes() {
    let (mut moto, server, video, id) = server_with_a_large_video().await;
    let (length, received, failed) = get_through_a_fault(&server, &id, || moto.kill()).await;
    assert!(failed && received < length, "{received} of {length} bytes");
    // A killed moto has lost everything: a new one, the same bucket name, a new upload.
    moto.restart().await;
    let bucket = server.bucket_url().unwrap();
    moto.create_bucket(bucket.rsplit('/').next().unwrap()).await;
    let id = server.upload_id(&video[..1 << 20]).await;
    assert_video_served_whole(&server, &id, &video[..1 << 20]).await;
}

/// Sends the head of an upload declaring `video.len()` bytes and its first `sent` bytes.
async fn start_upload(server: &Server, video: &[u8], sent: usize) -> (TcpStream, Vec<u8>) {
    let (content_type, body) = Form::new().file("file", "clip.mp4", video).finish();
    let mut socket = TcpStream::connect(server.address()).await.unwrap();
    let head = format!(
        "POST /api/v1/videos/upload HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    socket.write_all(&body[..sent]).await.unwrap();
    (socket, body[sent..].to_vec())
}

async fn wait_until_stored_something(server: &Server) {
    let started = Instant::now();
    while server.stored().await.is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "nothing reached the store"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_store_paused_during_an_upload_is_503_after_the_timeout_and_leaves_nothing() {
    let moto = OwnMoto::start().await;
    let server = Server::start_on_moto(&moto, STORE_TIMEOUT).await;
    let video = mp4_like(40 << 20);
    let (mut socket, rest) = start_upload(&server, &video, 9 << 20).await;
    wait_until_stored_something(&server).await;
    moto.pause();
    let paused = Instant::now();
    // The rest of the body may or may not all be taken: the answer is what counts.
    let _ = tokio::time::timeout(Duration::from_secs(20), socket.write_all(&rest)).await;
    let mut answer = Vec::new();
    let read = tokio::io::AsyncReadExt::read_to_end(&mut socket, &mut answer);
    let _ = tokio::time::timeout(Duration::from_secs(20), read).await;
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let waited = paused.elapsed();
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(
        answer.contains("\"error\": \"service unavailable\""),
        "{answer}"
    );
    assert!(answer.to_lowercase().contains("retry-after: 5"), "{answer}");
    assert!(
        waited >= Duration::from_millis(4800),
        "answered after only {waited:?}"
    );
    moto.resume();
    // The upload's parts are aborted once the store answers again.
    server.assert_storage_becomes_empty().await;
    let response = server
        .upload(Form::new().file("file", "b.mp4", &video[..1 << 20]))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn a_store_that_is_down_makes_an_upload_503_and_the_next_one_after_it_returns_works() {
    let mut moto = OwnMoto::start().await;
    let server = Server::start_on_moto(&moto, STORE_TIMEOUT).await;
    moto.kill();
    let started = Instant::now();
    let response = server
        .upload(Form::new().file("file", "a.mp4", &mp4_like(1 << 20)))
        .await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    let json: serde_json::Value = response.json().await.unwrap();
    assert!(
        json["detail"].as_str().unwrap().contains("retry later"),
        "{json}"
    );
    moto.restart().await;
    let bucket = server.bucket_url().unwrap();
    moto.create_bucket(bucket.rsplit('/').next().unwrap()).await;
    server.upload_video(&mp4_like(1 << 20)).await;
}

on_both_backends!(a_server_killed_mid_upload_leaves_nothing_visible_after_restart);

async fn a_server_killed_mid_upload_leaves_nothing_visible_after_restart(backend: Backend) {
    let mut server = Server::start(backend).await;
    let video = mp4_like(24 << 20);
    let (_socket, _rest) = start_upload(&server, &video, 12 << 20).await;
    wait_until_stored_something(&server).await;
    server.kill_and_restart();
    // Never an object or record; on S3, at most the unfinished upload's parts, which are
    // invisible and left to the bucket's lifecycle rule.
    let started = Instant::now();
    loop {
        let stored = server.stored().await;
        if stored
            .iter()
            .all(|key| key.starts_with("unfinished upload of "))
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "left behind: {stored:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if backend == Backend::Local {
        assert!(server.stored().await.is_empty());
    }
    server.upload_video(&video[..1 << 20]).await;
}

#[tokio::test]
async fn a_video_left_without_its_record_by_a_crash_is_removed_at_start() {
    let relay = StorageRelay::start().await;
    // Held past the end of the test: the record never lands, as if the server had died
    // before sending it.
    relay.hold(Method::PUT, ".json", Duration::from_secs(120));
    let mut server = Server::start_through(&relay, &["--orphan-grace", "0"]).await;
    let form = Form::new().file("file", "clip.mp4", &mp4_like(100_000));
    let uploading = server.upload(form);
    let writing_record = async {
        while !relay
            .requests()
            .iter()
            .any(|r| r.starts_with("PUT ") && r.ends_with(".json"))
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::select! {
        _ = uploading => panic!("the upload finished before its record was held"),
        () = writing_record => {}
    }
    server.kill_and_restart();
    server.assert_storage_becomes_empty().await;
}

//! Connections: many held at once while requests keep being served, a limit beyond which new
//! ones are shed with 503 and a log line (never file-descriptor exhaustion), and the idle
//! timeout of keep-alive connections.

mod common;

use std::time::{Duration, Instant};

use common::{Backend, SAMPLE, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A connection that has made one keep-alive request and read its whole answer, so the server
/// is surely holding it.
async fn keep_alive_connection(server: &Server) -> TcpStream {
    let mut socket = TcpStream::connect(server.address()).await.unwrap();
    let request = format!(
        "GET /healthz HTTP/1.1\r\nHost: {}\r\n\r\n",
        server.address()
    );
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let mut buffer = [0u8; 1024];
    while !answer.ends_with(b"}\n") {
        let read = tokio::time::timeout(Duration::from_secs(30), socket.read(&mut buffer))
            .await
            .expect("the server answers a held connection")
            .unwrap();
        assert!(read > 0, "closed: {}", String::from_utf8_lossy(&answer));
        answer.extend_from_slice(&buffer[..read]);
    }
    assert!(answer.starts_with(b"HTTP/1.1 200"));
    socket
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count()
}

#[tokio::test]
async fn a_thousand_keep_alive_connections_are_held_while_gets_are_served() {
    let server = Server::start(Backend::Local).await;
    let id = server.upload_id(SAMPLE).await;
    let mut held = Vec::new();
    for _ in 0..1000 {
        held.push(keep_alive_connection(&server).await);
    }
    let metrics = server.metrics().await;
    // The 1,000 held, and the one reqwest keeps for itself.
    assert!(
        metrics.contains("cdnprobe_connections_open 1001"),
        "{metrics}"
    );
    let started = Instant::now();
    for _ in 0..20 {
        let response = server.http.get(server.video_url(&id)).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.bytes().await.unwrap().len(), SAMPLE.len());
    }
    assert!(started.elapsed() < Duration::from_secs(20));
    // Every held connection is still open and still served.
    for socket in held.iter_mut().step_by(100) {
        let request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        socket.write_all(request).await.unwrap();
        let mut answer = String::new();
        socket.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
}

#[tokio::test]
async fn beyond_max_connections_new_ones_get_503_and_a_log_line() {
    let server = Server::start_with(Backend::Local, &["--max-connections", "8"]).await;
    // reqwest's own pooled connection would take a place: the metrics are read at the end.
    let mut held = Vec::new();
    for _ in 0..8 {
        held.push(keep_alive_connection(&server).await);
    }
    let answer = server.raw_get("/healthz", &[]).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("retry-after: 1") || answer.contains("Retry-After: 1"));
    let json = answer.split("\r\n\r\n").nth(1).unwrap();
    let json: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(json["error"], "service unavailable");
    // The log is read on another thread: give it a moment.
    let mut logged = false;
    for _ in 0..50 {
        logged = server
            .log()
            .iter()
            .any(|line| line.contains("connection limit reached"));
        if logged {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(logged, "no log line about shedding");

    // A flood of connections beyond the limit does not grow the server's open files.
    let before = open_fds(server.pid());
    let mut flood = Vec::new();
    for _ in 0..300 {
        flood.push(TcpStream::connect(server.address()).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let during = open_fds(server.pid());
    assert!(
        during <= before + common_shedding_bound(),
        "open files grew from {before} to {during}"
    );
    drop(flood);

    // Places freed are taken again.
    held.truncate(4);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let answer = server.raw_get("/healthz", &[]).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let metrics = server.metrics().await;
    let shed: u64 = metrics
        .lines()
        .find_map(|line| line.strip_prefix("cdnprobe_connections_shed_total "))
        .and_then(|n| n.parse().ok())
        .expect("the shed counter");
    assert!(shed >= 301, "{shed}");
}

/// Sockets the server may hold while answering shed ones (its SHEDDING_AT_ONCE).
fn common_shedding_bound() -> usize {
    cdnprobe_server::connections::SHEDDING_AT_ONCE
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_header_read_timeout() {
    let server = Server::start_with(Backend::Local, &["--header-read-timeout", "1"]).await;
    let mut socket = keep_alive_connection(&server).await;
    let started = Instant::now();
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), socket.read_to_end(&mut rest)).await;
    read.expect("the idle connection is closed within 10 s")
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "closed after only {:?}",
        started.elapsed()
    );
}

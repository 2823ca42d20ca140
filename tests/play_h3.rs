//! `cdnprobe play --http3` end to end: the real binary plays the committed MP4 from the
//! in-process HTTP/3 fixture (quinn + h3) serving the file's bytes.

mod play_support;

use bytes::Bytes;
use cdnprobe::lab::fixture::h3::H3FixtureServer;
use cdnprobe::lab::fixture::{Behaviour, FixtureConfig};
use cdnprobe::lab::tls::TestCa;
use play_support::media;

/// Rows of a CSV as (column name → value) lookups.
fn rows(path: &std::path::Path) -> Vec<std::collections::HashMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    reader
        .records()
        .map(|record| {
            let record = record.unwrap();
            header
                .iter()
                .cloned()
                .zip(record.iter().map(String::from))
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn play_over_http3_receives_the_whole_file_and_says_h3() {
    let file = media("clip.mp4");
    let ca = TestCa::new().unwrap();
    let server = H3FixtureServer::start_on_own_runtime(
        "127.0.0.1:0".parse().unwrap(),
        FixtureConfig {
            tls: Some(ca.server_config(&["127.0.0.1"], &["h3"]).unwrap()),
            behaviour: Behaviour {
                content: Some(Bytes::from_static(file)),
                headers: vec![("Content-Type".into(), "video/mp4".into())],
                ..Behaviour::default()
            },
            ..FixtureConfig::default()
        },
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (ca_pem, out, requests) = (
        dir.path().join("ca.pem"),
        dir.path().join("play.csv"),
        dir.path().join("requests.csv"),
    );
    ca.write_ca_pem(&ca_pem).unwrap();
    let args = [
        "play".to_string(),
        "--http3".into(),
        format!("--target=cloudfront={}", server.url("/clip.mp4")),
        format!("--cacert={}", ca_pem.display()),
        "--samples=2".into(),
        // The whole clip, quickly.
        "--watch=60s".into(),
        "--max-buffer=60s".into(),
        "--playback-rate=100".into(),
        "--region=lab".into(),
        format!("--out={}", out.display()),
        format!("--requests={}", requests.display()),
    ];
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_cdnprobe"))
            .args(&args)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let sessions = rows(&out);
    assert_eq!(sessions.len(), 2);
    for session in &sessions {
        assert_eq!(session["error"], "", "{session:?}");
        assert_eq!(session["format"], "mp4");
        assert_eq!(session["http_version"], "3");
        assert_eq!(session["bytes"], file.len().to_string());
        assert_eq!(session["stalls"], "0", "{session:?}");
        assert!(
            !session["tls_ms"].is_empty(),
            "a fresh QUIC handshake per session"
        );
    }
    // Each session is a first-time viewer: its own QUIC connection.
    assert_eq!(server.connections(), 2);
    for request in &rows(&requests) {
        assert_eq!(request["http_version"], "3");
        assert_eq!(
            (request["tls_version"].as_str(), request["alpn"].as_str()),
            ("1.3", "h3")
        );
        assert_eq!(request["status"], "206", "{request:?}");
    }
}

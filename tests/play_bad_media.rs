//! Bad media at the URL: each session ends with its class, keeps what it measured, and never
//! hangs.

mod play_support;

use std::time::Duration;

use cdnprobe::play::model::ModelSettings;
use cdnprobe::play::session::SessionOutcome;
use cdnprobe::sample::ErrorClass;
use play_support::{Nginx, WebRoot, media, play, settings};

async fn session_of(root: &WebRoot, name: &str) -> SessionOutcome {
    let nginx = Nginx::start(root.path());
    let url = format!("http://{}/{name}", nginx.addr);
    let settings = settings(ModelSettings {
        playback_rate: 10.0,
        ..ModelSettings::default()
    });
    tokio::time::timeout(Duration::from_secs(20), play(&settings, &url))
        .await
        .expect("a bad file must not hang the session")
}

#[tokio::test]
async fn an_html_page_is_not_media() {
    let root = WebRoot::new();
    root.write(
        "page.html",
        "<!DOCTYPE html><html><body>Sign in</body></html>",
    );
    let outcome = session_of(&root, "page.html").await;
    assert_eq!(outcome.row.error, Some(ErrorClass::Media));
    assert_eq!(outcome.row.format, None);
    assert_eq!(outcome.row.requests, 1);
    assert!(outcome.row.dns_ms.is_none() && outcome.row.connect_ms.is_some());
}

#[tokio::test]
async fn an_html_page_named_like_a_video_is_not_media_either() {
    let root = WebRoot::new();
    root.write(
        "page.mp4",
        "<!DOCTYPE html><html><body>Sign in</body></html>",
    );
    let outcome = session_of(&root, "page.mp4").await;
    assert_eq!(outcome.row.error, Some(ErrorClass::Media));
    assert_eq!(outcome.row.startup_ms, None);
}

#[tokio::test]
async fn a_truncated_moov_is_a_media_failure() {
    let root = WebRoot::new();
    // The moov box of clip.mp4 spans bytes 32..26165: cut the file inside it.
    root.write("cut.mp4", &media("clip.mp4")[..20_000]);
    let outcome = session_of(&root, "cut.mp4").await;
    assert_eq!(outcome.row.error, Some(ErrorClass::Media));
    assert_eq!(outcome.row.bytes, 20_000);
    assert_eq!(outcome.row.startup_ms, None);
}

#[tokio::test]
async fn a_moov_over_the_bound_is_refused_without_reading_it() {
    let root = WebRoot::new();
    let nginx = Nginx::start(root.path());
    let mut settings = settings(ModelSettings::default());
    settings.max_moov_bytes = 10_000;
    let url = format!("http://{}/media/clip.mp4", nginx.addr);
    let outcome = play(&settings, &url).await;
    assert_eq!(outcome.row.error, Some(ErrorClass::Media));
    assert_eq!(outcome.row.requests, 1);
    assert_eq!(outcome.row.metadata_ms, None);
}

#[tokio::test]
async fn a_missing_file_is_an_http_status_failure() {
    let root = WebRoot::new();
    let outcome = session_of(&root, "nothing.mp4").await;
    assert_eq!(outcome.row.error, Some(ErrorClass::HttpStatus));
}

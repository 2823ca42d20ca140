//! Progressive MP4 sessions against the real cdnprobe-server, through lab links of known rate
//! and latency.

mod play_support;

use std::time::Duration;

use cdnprobe::play::model::ModelSettings;
use cdnprobe::play::record::Format;
use cdnprobe::play::session::SeekTo;
use play_support::{Mp4Origin, link, media, play, settings};

/// The clip's media bitrate is about 160 kbit/s (20 kB/s); at 5× playback it consumes ~100 kB/s.
const RATE: f64 = 5.0;

fn fast_forward(watch_s: f64) -> ModelSettings {
    ModelSettings {
        playback_rate: RATE,
        watch_s,
        ..ModelSettings::default()
    }
}

#[tokio::test]
async fn a_link_slower_than_the_media_stalls_and_a_faster_one_does_not() {
    let origin = Mp4Origin::start().await;
    let slow = link(origin.addr(), Duration::ZERO, Some(50_000.0)).await;
    let fast = link(origin.addr(), Duration::ZERO, Some(400_000.0)).await;
    let settings = settings(fast_forward(20.0));

    let stalled = play(
        &settings,
        &format!("http://{}{}", slow.local_addr(), origin.faststart),
    )
    .await;
    let smooth = play(
        &settings,
        &format!("http://{}{}", fast.local_addr(), origin.faststart),
    )
    .await;

    let (stalled, smooth) = (stalled.row, smooth.row);
    assert_eq!(stalled.error, None, "{stalled:?}");
    assert_eq!(smooth.error, None, "{smooth:?}");
    assert_eq!(stalled.format, Some(Format::Mp4));
    assert!(stalled.stalls >= 1, "{stalled:?}");
    assert!(stalled.stall_ms.unwrap() > 300.0, "{stalled:?}");
    assert_eq!(smooth.stalls, 0, "{smooth:?}");
    assert_eq!(smooth.stall_ms, Some(0.0));
    assert!(
        (smooth.watched_s.unwrap() - 20.0).abs() < 1e-6,
        "{smooth:?}"
    );
    assert!(stalled.rebuffer_ratio.unwrap() > 0.0);
}

#[tokio::test]
async fn startup_grows_by_the_injected_first_byte_delay() {
    let origin = Mp4Origin::start().await;
    let direct = link(origin.addr(), Duration::ZERO, None).await;
    let delayed = link(origin.addr(), Duration::from_millis(200), None).await;
    let settings = settings(fast_forward(2.0));

    let near = play(
        &settings,
        &format!("http://{}{}", direct.local_addr(), origin.faststart),
    )
    .await;
    let far = play(
        &settings,
        &format!("http://{}{}", delayed.local_addr(), origin.faststart),
    )
    .await;

    // One request crosses the link: 200 ms up, 200 ms down, once (the TCP handshake with the
    // relay completes in the kernel, undelayed).
    let grew = far.row.startup_ms.unwrap() - near.row.startup_ms.unwrap();
    assert!((350.0..700.0).contains(&grew), "startup grew by {grew} ms");
    assert_eq!(far.row.requests, 1, "{:?}", far.requests);
}

#[tokio::test]
async fn a_file_without_faststart_costs_two_more_requests_and_their_round_trips() {
    let origin = Mp4Origin::start().await;
    let path = link(origin.addr(), Duration::from_millis(75), None).await;
    let settings = settings(fast_forward(2.0));
    let at = |p: &str| format!("http://{}{p}", path.local_addr());

    let fast = play(&settings, &at(&origin.faststart)).await;
    let tail = play(&settings, &at(&origin.tail)).await;

    assert_eq!(fast.row.error, None);
    assert_eq!(tail.row.error, None, "{:?}", tail.requests);
    let objects: Vec<&str> = tail.requests.iter().map(|(_, o)| o.as_str()).collect();
    let file = media("clip-tail.mp4");
    let moov_at = 602_565; // from the file's box walk (see src/play/mp4/walk.rs tests)
    assert_eq!(
        objects,
        ["range 0-", &format!("moov {moov_at}-"), "range 48-"]
    );
    assert_eq!(tail.requests[1].0.bytes, file.len() as u64 - moov_at);
    // Two more round trips of 150 ms each (and a new connection, as the first was abandoned).
    let extra = tail.row.startup_ms.unwrap() - fast.row.startup_ms.unwrap();
    assert!(
        extra > 2.0 * 150.0 * 0.9,
        "non-faststart cost only {extra} ms more"
    );
    assert!(tail.row.metadata_ms.unwrap() > fast.row.metadata_ms.unwrap() + 200.0);
}

#[tokio::test]
async fn a_whole_session_receives_exactly_the_file() {
    let origin = Mp4Origin::start().await;
    let settings = settings(ModelSettings {
        playback_rate: 100.0,
        watch_s: 60.0,
        max_buffer_s: 60.0,
        ..ModelSettings::default()
    });
    let outcome = play(
        &settings,
        &format!("http://{}{}", origin.addr(), origin.faststart),
    )
    .await;
    let file = media("clip.mp4");
    assert_eq!(outcome.row.error, None);
    assert_eq!(outcome.row.bytes, file.len() as u64);
    assert_eq!(outcome.requests.len(), 1);
    assert!((outcome.row.watched_s.unwrap() - outcome.row.media_duration_s.unwrap()).abs() < 1e-6);
    // The file's bitrate: every sample's bits over the duration (about 160 kbit/s).
    let kbps = outcome.row.mean_bitrate_kbps.unwrap();
    assert!((140.0..175.0).contains(&kbps), "{kbps}");
}

#[tokio::test]
async fn a_seek_asks_for_the_bytes_from_the_key_frame_before_the_position() {
    let origin = Mp4Origin::start().await;
    let mut settings = settings(fast_forward(4.0));
    settings.seek = Some(SeekTo::Seconds(15.0));
    let outcome = play(
        &settings,
        &format!("http://{}{}", origin.addr(), origin.faststart),
    )
    .await;

    assert_eq!(outcome.row.error, None, "{:?}", outcome.requests);
    // The key frame at 14 s (every 2 s), where FFmpeg's demuxer finds it too: `ffprobe
    // -select_streams v -show_entries packet=pts_time,pos,flags -of csv clip.mp4` → 306502.
    let expected = 306_502;
    let (seek, object) = &outcome.requests[1];
    assert_eq!(object, &format!("seek {expected}-"));
    assert_eq!(seek.status, Some(206));
    assert!(outcome.row.seek_ms.unwrap() > 0.0);
    assert_eq!(outcome.row.stalls, 0);
}

//! HLS sessions against nginx serving the committed ladders, through lab links.

mod play_support;

use std::time::Duration;

use cdnprobe::play::hls::VariantChoice;
use cdnprobe::play::model::ModelSettings;
use cdnprobe::play::record::Format;
use cdnprobe::sample::ErrorClass;
use play_support::{Nginx, WebRoot, link, media_playlist, play, settings};

fn quick(watch_s: f64) -> ModelSettings {
    ModelSettings {
        playback_rate: 10.0,
        watch_s,
        max_buffer_s: 1000.0,
        ..ModelSettings::default()
    }
}

#[tokio::test]
async fn a_ts_ladder_plays_from_the_first_variant_with_every_segment_in_order() {
    let root = WebRoot::new();
    let nginx = Nginx::start(root.path());
    let mut settings = settings(quick(30.0));
    settings.variant = VariantChoice::Highest;
    let url = format!("http://{}/media/hls-ts/master.m3u8", nginx.addr);

    let outcome = play(&settings, &url).await;

    let row = &outcome.row;
    assert_eq!(row.error, None, "{:?}", outcome.requests);
    assert_eq!(row.format, Some(Format::Hls));
    assert!((row.media_duration_s.unwrap() - 24.0).abs() < 1e-6);
    let objects: Vec<&str> = outcome.requests.iter().map(|(_, o)| o.as_str()).collect();
    let mut expected = vec!["playlist".to_string(), "playlist".to_string()];
    expected.extend((0..12).map(|n| format!("segment {n}")));
    assert_eq!(objects, expected);
    assert!(outcome.requests[2].0.url.ends_with("/hls-ts/v0_000.ts"));
    let segment_bytes: u64 = (0..12)
        .map(|n| {
            std::fs::metadata(play_support::media_dir().join(format!("hls-ts/v0_{n:03}.ts")))
                .unwrap()
                .len()
        })
        .sum();
    let playlist_bytes: u64 = outcome.requests[..2].iter().map(|(s, _)| s.bytes).sum();
    assert_eq!(row.bytes, segment_bytes + playlist_bytes);
    assert_eq!(row.requests, 14);
    assert_eq!(row.switches, 0);
    assert!(
        (row.mean_bitrate_kbps.unwrap() - 176.0).abs() < 1e-6,
        "{row:?}"
    );
    assert!(row.metadata_ms.unwrap() <= row.first_media_byte_ms.unwrap());
    assert!(row.first_media_byte_ms.unwrap() <= row.startup_ms.unwrap());
}

#[tokio::test]
async fn an_fmp4_rendition_loads_its_init_section_once_before_the_segments() {
    let root = WebRoot::new();
    let nginx = Nginx::start(root.path());
    let mut settings = settings(quick(6.0));
    settings.variant = VariantChoice::Lowest;
    let url = format!("http://{}/media/hls-fmp4/master.m3u8", nginx.addr);

    let outcome = play(&settings, &url).await;

    assert_eq!(outcome.row.error, None, "{:?}", outcome.requests);
    let objects: Vec<&str> = outcome.requests.iter().map(|(_, o)| o.as_str()).collect();
    assert_eq!(&objects[..4], ["playlist", "playlist", "init", "segment 0"]);
    assert_eq!(objects.iter().filter(|o| **o == "init").count(), 1);
    assert!(outcome.requests[2].0.url.ends_with("/hls-fmp4/init_2.mp4"));
    // One connection for the whole session (keep-alive): only the first request connected.
    assert!(
        outcome.requests[1..]
            .iter()
            .all(|(s, _)| s.connect_ms.is_none())
    );
}

#[tokio::test]
async fn auto_switches_down_when_the_link_slows_and_up_when_it_recovers() {
    let root = WebRoot::new();
    let nginx = Nginx::start(root.path());
    let fast = link(nginx.addr, Duration::ZERO, Some(400_000.0)).await;
    let slow = link(nginx.addr, Duration::ZERO, Some(6_000.0)).await;
    // Segment 6 of every variant crosses the slow link (48 kbit/s, under every variant): the
    // path slows mid-session, then recovers.
    for variant in 0..3 {
        let uris: Vec<String> = (0..16)
            .map(|i| {
                let via = if i == 6 {
                    slow.local_addr()
                } else {
                    fast.local_addr()
                };
                format!("http://{via}/media/hls-ts/v{variant}_{:03}.ts", i % 12)
            })
            .collect();
        root.write(&format!("v{variant}.m3u8"), media_playlist(&uris));
    }
    root.write(
        "master.m3u8",
        std::fs::read(play_support::media_dir().join("hls-ts/master.m3u8")).unwrap(),
    );
    let settings = settings(quick(32.0));

    let outcome = play(
        &settings,
        &format!("http://{}/master.m3u8", fast.local_addr()),
    )
    .await;

    assert_eq!(outcome.row.error, None, "{:?}", outcome.requests);
    let variants: Vec<char> = outcome
        .requests
        .iter()
        .filter(|(_, o)| o.starts_with("segment"))
        .map(|(s, _)| s.url.rsplit('/').next().unwrap().chars().nth(1).unwrap())
        .collect();
    let path: String = variants.iter().collect();
    assert!(path.starts_with("0000000"), "{path}");
    let down = path[7..].find(|c| c != '0').map(|i| i + 7);
    let down = down.unwrap_or_else(|| panic!("no switch down: {path}"));
    assert!(down <= 8, "switched down late: {path}");
    assert!(path[down..].contains('0'), "never switched back up: {path}");
    assert!(outcome.row.switches >= 2, "{path}");
    let kbps = outcome.row.mean_bitrate_kbps.unwrap();
    assert!(kbps < 176.0 && kbps > 70.4, "{kbps}");
}

#[tokio::test]
async fn a_seek_fetches_the_segment_holding_the_position() {
    let root = WebRoot::new();
    let nginx = Nginx::start(root.path());
    let mut settings = settings(quick(4.0));
    settings.variant = VariantChoice::Lowest;
    settings.seek = Some("50%".parse().unwrap());
    let url = format!("http://{}/media/hls-ts/master.m3u8", nginx.addr);

    let outcome = play(&settings, &url).await;

    assert_eq!(outcome.row.error, None);
    let objects: Vec<&str> = outcome.requests.iter().map(|(_, o)| o.as_str()).collect();
    // Startup on segment 0, then 12 s of 24 s is in segment 6.
    assert_eq!(
        &objects[..4],
        ["playlist", "playlist", "segment 0", "segment 6"]
    );
    assert!(outcome.row.seek_ms.unwrap() > 0.0);
}

#[tokio::test]
async fn a_missing_segment_ends_the_session_with_its_class() {
    let root = WebRoot::new();
    let nginx = Nginx::start(root.path());
    let uris: Vec<String> = [
        "media/hls-ts/v2_000.ts",
        "gone.ts",
        "media/hls-ts/v2_002.ts",
    ]
    .map(String::from)
    .to_vec();
    root.write("holes.m3u8", media_playlist(&uris));
    let outcome = play(
        &settings(quick(6.0)),
        &format!("http://{}/holes.m3u8", nginx.addr),
    )
    .await;
    assert_eq!(outcome.row.error, Some(ErrorClass::HttpStatus));
    assert_eq!(outcome.requests.last().unwrap().0.status, Some(404));
    // What was measured before the failure is kept.
    assert!(outcome.row.startup_ms.is_some(), "{:?}", outcome.row);
}

#[tokio::test]
async fn a_playlist_loop_is_a_media_failure_not_a_hang() {
    let root = WebRoot::new();
    let nginx = Nginx::start(root.path());
    root.write(
        "loop.m3u8",
        "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=100000\nloop.m3u8\n",
    );
    let url = format!("http://{}/loop.m3u8", nginx.addr);
    let outcome = tokio::time::timeout(Duration::from_secs(20), play(&settings(quick(6.0)), &url))
        .await
        .expect("a playlist loop must not hang");
    assert_eq!(outcome.row.error, Some(ErrorClass::Media));
    assert_eq!(outcome.row.requests, 2);
}

#[tokio::test]
async fn a_live_playlist_starts_three_target_durations_from_its_end_and_is_reloaded() {
    let root = WebRoot::new();
    let nginx = Nginx::start(root.path());
    let live = |count: usize, ended: bool| {
        let mut text = String::from("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n");
        for n in 0..count {
            text.push_str(&format!("#EXTINF:2.0,\nmedia/hls-ts/v2_{n:03}.ts\n"));
        }
        if ended {
            text.push_str("#EXT-X-ENDLIST\n");
        }
        text
    };
    root.write("live.m3u8", live(5, false));
    let url = format!("http://{}/live.m3u8", nginx.addr);
    let session = tokio::spawn(async move { play(&settings(quick(8.0)), &url).await });
    // A new segment appears 1.5 s later, and the stream ends with it.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    root.write("live.m3u8", live(6, true));
    let outcome = tokio::time::timeout(Duration::from_secs(20), session)
        .await
        .expect("a live session ends once its watch time is played")
        .unwrap();

    assert_eq!(outcome.row.error, None, "{:?}", outcome.requests);
    let objects: Vec<&str> = outcome.requests.iter().map(|(_, o)| o.as_str()).collect();
    // 3 × 2 s from the end of a 5-segment playlist: segment 2 first.
    assert_eq!(
        &objects[..4],
        ["playlist", "segment 2", "segment 3", "segment 4"]
    );
    assert_eq!(objects.last(), Some(&"segment 5"), "{objects:?}");
    assert!(
        objects.iter().filter(|o| **o == "playlist").count() >= 2,
        "{objects:?}"
    );
    assert_eq!(outcome.row.media_duration_s, None);
    assert!(
        (outcome.row.watched_s.unwrap() - 8.0).abs() < 1e-6,
        "{:?}",
        outcome.row
    );
}

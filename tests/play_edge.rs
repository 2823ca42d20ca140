//! Through the lab's far link and caching edge: the second viewer of a video gets it from the
//! edge's cache and starts sooner.

mod play_support;

use std::time::Duration;

use cdnprobe::lab::edge::Edge;
use cdnprobe::play::model::ModelSettings;
use cdnprobe::play::record::SessionCache;
use play_support::{Mp4Origin, link, play, settings};

#[tokio::test]
async fn the_edges_second_session_is_a_hit_and_starts_sooner() {
    let origin = Mp4Origin::start().await;
    // The edge reaches the origin over a far path: 150 ms each way.
    let far = link(origin.addr(), Duration::from_millis(150), None).await;
    let edge = Edge::start(far.local_addr(), "AKL50-C1").await.unwrap();
    let settings = settings(ModelSettings {
        playback_rate: 10.0,
        watch_s: 2.0,
        ..ModelSettings::default()
    });
    let url = format!("http://{}{}", edge.local_addr(), origin.faststart);

    let first = play(&settings, &url).await.row;
    let second = play(&settings, &url).await.row;

    assert_eq!(first.error, None, "{first:?}");
    assert_eq!(second.error, None, "{second:?}");
    assert_eq!(first.cache, SessionCache::Miss);
    assert_eq!(second.cache, SessionCache::Hit);
    assert_eq!(second.pop, "AKL50-C1");
    // The miss crossed the far path at least once (300 ms round trip); the hit did not.
    let sooner = first.startup_ms.unwrap() - second.startup_ms.unwrap();
    assert!(sooner > 250.0, "the hit started only {sooner} ms sooner");
}

//! An HLS session, as hls.js plays it: multivariant playlist → a variant's media playlist →
//! its init section (fMP4) → segments in order, whole segments appended to the buffer. With
//! `--variant auto` each finished segment feeds the throughput estimate ([`super::abr`]), which
//! picks the variant of the next segment; a switch loads the new variant's playlist once.
//! A live playlist starts three target durations from its end and is reloaded as RFC 8216 says.

use bytes::Bytes;
use url::Url;

use super::MediaError;
use super::abr::{self, Estimator};
use super::fetcher::{Failed, Fetcher};
use super::hls::{self, MediaPlaylist, Playlist, Resource, Variant, VariantChoice};
use super::model::Player;
use super::session::{
    MAX_PLAYLIST_BYTES, Measured, Next, SessionSettings, next_or_end, sleep_until,
};
use crate::sample::ErrorClass;

/// Plays the HLS presentation whose first playlist, fetched from `url`, is `body`.
pub async fn play(
    fetcher: &mut Fetcher<'_>,
    settings: &SessionSettings,
    url: &Url,
    body: Bytes,
    measured: &mut Measured,
) -> Result<(), Failed> {
    let (variants, mut current, first) = match hls::parse(&body, url)? {
        Playlist::Multivariant(variants) => {
            let current = settings.variant.pick(&variants)?;
            let playlist = load_media_playlist(fetcher, &variants[current].url).await?;
            (variants, current, playlist)
        }
        // A media playlist given directly: one variant, its bitrate measured from its segments.
        Playlist::Media(playlist) => {
            let only = Variant {
                url: url.clone(),
                bandwidth: 0,
            };
            (vec![only], 0, playlist)
        }
    };
    measured.metadata_s = Some(fetcher.now());
    let duration_s = if first.live {
        f64::INFINITY
    } else {
        first.duration_s()
    };
    measured.duration_s = Some(duration_s);
    let mut player = Player::new(settings.model, duration_s, 0.0);
    let bandwidths: Vec<u64> = variants.iter().map(|v| v.bandwidth).collect();
    let adapt = settings.variant == VariantChoice::Auto && variants.len() > 1;
    let mut index = first.start_index();
    let mut playlists: Vec<Option<MediaPlaylist>> = vec![None; variants.len()];
    playlists[current] = Some(first);
    let mut estimator = Estimator::default();
    // Media time where the next segment starts, counted from the first segment played.
    let mut next_time = 0.0;
    let mut last_sequence: Option<u64> = None;
    let mut last_init: Option<Resource> = None;
    let mut seek = settings.seek.filter(|_| duration_s.is_finite());
    let mut live_changed = true;
    let mut last_new_segment = fetcher.now();
    let start = fetcher.start();
    // An async block, so that a failed request (`?`) still leaves the player to be recorded.
    let result: Result<(), Failed> = async {
        loop {
            let now = fetcher.now();
            player.advance(now);
            if player.is_ended() {
                return Ok(());
            }
            let playlist = playlists[current]
                .as_ref()
                .expect("the current playlist is loaded");
            if player.has_started()
                && let Some(to) = seek.take()
            {
                let position = to.position_s(duration_s);
                index = playlist.segment_at(position);
                next_time = playlist.segments[..index]
                    .iter()
                    .map(|s| s.duration_s)
                    .sum();
                player.seek(now, position, next_time);
                continue;
            }
            if !player.wants_data(now) {
                let wake = [player.resume_download_at(now), player.ends_at()]
                    .into_iter()
                    .flatten()
                    .fold(f64::INFINITY, f64::min);
                sleep_until(start, wake.min(now + 1.0)).await;
                continue;
            }
            if index >= playlist.segments.len() {
                if !playlist.live {
                    match player.ends_at() {
                        Some(end) => sleep_until(start, end).await,
                        None => return Ok(()),
                    }
                    continue;
                }
                // Live: wait as RFC 8216 §6.3.4 says, reload, continue after the last sequence.
                if now - last_new_segment > fetcher.timeout_s() {
                    return Err(Failed(ErrorClass::Timeout));
                }
                sleep_until(start, now + playlist.reload_after_s(live_changed)).await;
                let reloaded = load_media_playlist(fetcher, &variants[current].url).await?;
                index = after(&reloaded, last_sequence);
                live_changed = index < reloaded.segments.len();
                playlists[current] = Some(reloaded);
                continue;
            }
            let segment = playlist.segments[index].clone();
            if let Some(init) = segment.init.as_ref().filter(|_| segment.init != last_init) {
                fetcher
                    .fetch_whole(init, "init", MAX_PLAYLIST_BYTES)
                    .await?;
                last_init = segment.init.clone();
            }
            let requested = fetcher.now();
            let range = segment
                .resource
                .range
                .map(|(first, last)| (first, Some(last)));
            let object = format!("segment {}", segment.sequence);
            let mut open = fetcher
                .open(&segment.resource.url, range, &object, true)
                .await?;
            let mut bytes = 0u64;
            let mut abandoned = false;
            loop {
                match next_or_end(&mut open.body, &player, start).await {
                    Next::Chunk(chunk) => {
                        bytes += chunk.len() as u64;
                        if measured.first_media_byte_s.is_none() {
                            measured.first_media_byte_s = Some(fetcher.now());
                        }
                    }
                    Next::End => break,
                    Next::PlaybackEnded => {
                        abandoned = true;
                        break;
                    }
                }
            }
            let sample = fetcher.close(open);
            if abandoned {
                continue; // playback ended while the segment was downloading
            }
            if let Some(class) = sample.error {
                return Err(Failed(class));
            }
            let done = fetcher.now();
            last_new_segment = done;
            estimator.sample((done - requested) * 1e3, bytes);
            next_time += segment.duration_s;
            let bps = match bandwidths[current] {
                0 => bytes as f64 * 8.0 / segment.duration_s.max(1e-3),
                declared => declared as f64,
            };
            player.downloaded(done, next_time, Some(bps));
            last_sequence = Some(segment.sequence);
            index += 1;
            if adapt {
                let choice = abr::choose(&bandwidths, current, estimator.estimate());
                if choice != current {
                    measured.switches += 1;
                    current = choice;
                    if playlists[current].is_none() {
                        let loaded = load_media_playlist(fetcher, &variants[current].url).await?;
                        playlists[current] = Some(loaded);
                    }
                    let playlist = playlists[current].as_ref().expect("loaded above");
                    index = if playlist.live {
                        after(playlist, last_sequence)
                    } else {
                        // The segment that holds the next media time (ladders align segments).
                        playlist.segment_at(next_time + 1e-3)
                    };
                }
            }
        }
    }
    .await;
    measured.player = Some(player);
    result
}

/// Fetches and parses a variant's media playlist; a multivariant playlist where a media
/// playlist must be is a loop, and the session's `media` failure.
async fn load_media_playlist(
    fetcher: &mut Fetcher<'_>,
    url: &Url,
) -> Result<MediaPlaylist, Failed> {
    let resource = Resource {
        url: url.clone(),
        range: None,
    };
    let body = fetcher
        .fetch_whole(&resource, "playlist", MAX_PLAYLIST_BYTES)
        .await?;
    match hls::parse(&body, url)? {
        Playlist::Media(playlist) if playlist.segments.is_empty() && !playlist.live => Err(
            Failed::from(MediaError::Playlist(format!("{url}: no segments"))),
        ),
        Playlist::Media(playlist) => Ok(playlist),
        Playlist::Multivariant(_) => Err(Failed::from(MediaError::Playlist(format!(
            "{url}: a variant is a multivariant playlist (playlist loop)"
        )))),
    }
}

/// Index of the first segment after sequence number `last`.
fn after(playlist: &MediaPlaylist, last: Option<u64>) -> usize {
    match last {
        None => playlist.start_index(),
        Some(last) => playlist
            .segments
            .iter()
            .position(|s| s.sequence > last)
            .unwrap_or(playlist.segments.len()),
    }
}

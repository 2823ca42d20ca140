//! One playback session: open the URL as a player does, recognise the format from the response
//! (`Content-Type`, then the bytes), play it ([`super::progressive`] or [`super::adaptive`]),
//! and turn what was measured into one [`PlaybackRow`].

use std::time::Instant;

use bytes::Bytes;
use http::HeaderMap;
use url::Url;

use super::fetcher::{Failed, Fetcher};
use super::hls::{self, VariantChoice};
use super::model::{ModelSettings, Player};
use super::record::{Format, PlaybackRow, SessionCache};
use super::{adaptive, progressive};
use crate::probe::Prober;
use crate::probe::stream::BodyStream;
use crate::sample::{ErrorClass, Sample};

/// Everything a session needs besides the URL; built once per command.
#[derive(Debug, Clone)]
pub struct SessionSettings {
    pub model: ModelSettings,
    pub variant: VariantChoice,
    pub seek: Option<SeekTo>,
    pub max_moov_bytes: u64,
}

/// `--seek`: a share of the media (`50%`) or a time (`12s`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SeekTo {
    Fraction(f64),
    Seconds(f64),
}

impl SeekTo {
    pub fn position_s(self, duration_s: f64) -> f64 {
        match self {
            SeekTo::Fraction(f) => f * duration_s,
            SeekTo::Seconds(s) => s.min(duration_s),
        }
    }
}

impl std::str::FromStr for SeekTo {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let bad =
            || format!("{text:?}: expected a share of the media (50%) or a time (12s, 1m30s)");
        if let Some(percent) = text.strip_suffix('%') {
            let f: f64 = percent.trim().parse().map_err(|_| bad())?;
            if !(0.0..=100.0).contains(&f) {
                return Err(bad());
            }
            return Ok(SeekTo::Fraction(f / 100.0));
        }
        humantime::parse_duration(text)
            .map(|d| SeekTo::Seconds(d.as_secs_f64()))
            .map_err(|_| bad())
    }
}

/// What a session measured so far, whatever the format; times in seconds from its start.
#[derive(Debug, Default)]
pub struct Measured {
    pub format: Option<Format>,
    pub metadata_s: Option<f64>,
    pub first_media_byte_s: Option<f64>,
    pub duration_s: Option<f64>,
    pub mean_bitrate_bps: Option<f64>,
    pub switches: u32,
    pub player: Option<Player>,
    pub error: Option<ErrorClass>,
}

/// One session's row and its requests (sample, object).
pub struct SessionOutcome {
    pub row: PlaybackRow,
    pub requests: Vec<(Sample, String)>,
}

/// Playlists are fetched whole; a bigger "playlist" is not one.
pub const MAX_PLAYLIST_BYTES: usize = 16 << 20;

/// Plays `url` once as a first-time viewer.
pub async fn play(
    prober: &Prober,
    headers: &HeaderMap,
    settings: &SessionSettings,
    url: &Url,
) -> SessionOutcome {
    let started_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let mut fetcher = Fetcher::new(prober, headers);
    let mut measured = Measured::default();
    if let Err(Failed(class)) = dispatch(&mut fetcher, settings, url, &mut measured).await {
        measured.error = Some(class);
    }
    let now = fetcher.now();
    if let Some(player) = &mut measured.player {
        player.finish(now);
    }
    let row = row(&fetcher, &measured, started_at, url);
    SessionOutcome {
        row,
        requests: fetcher.log,
    }
}

/// Opens the URL and hands the session to the player of its format.
async fn dispatch(
    fetcher: &mut Fetcher<'_>,
    settings: &SessionSettings,
    url: &Url,
    measured: &mut Measured,
) -> Result<(), Failed> {
    // A URL that says it is a playlist is fetched as hls.js does, without a Range; anything
    // else as `<video src>` does, with `Range: bytes=0-`.
    let playlist_url = url.path().to_ascii_lowercase().ends_with(".m3u8");
    let range = (!playlist_url).then_some((0, None));
    let object = if playlist_url { "playlist" } else { "range" };
    let mut open = fetcher.open(url, range, object, !playlist_url).await?;
    let Some(first) = open.body.next_chunk().await else {
        let sample = fetcher.close(open);
        return Err(Failed(sample.error.unwrap_or(ErrorClass::Media)));
    };
    match recognise(&open.body, &first) {
        Some(Format::Mp4) => {
            measured.format = Some(Format::Mp4);
            progressive::play(fetcher, settings, open, first, measured).await
        }
        Some(Format::Hls) => {
            measured.format = Some(Format::Hls);
            let mut body = first.to_vec();
            while let Some(chunk) = open.body.next_chunk().await {
                body.extend_from_slice(&chunk);
                if body.len() > MAX_PLAYLIST_BYTES {
                    fetcher.close(open);
                    return Err(Failed(ErrorClass::Media));
                }
            }
            let sample = fetcher.close(open);
            if let Some(class) = sample.error {
                return Err(Failed(class));
            }
            adaptive::play(fetcher, settings, url, Bytes::from(body), measured).await
        }
        None => {
            fetcher.close(open);
            Err(Failed(ErrorClass::Media))
        }
    }
}

/// MP4 or HLS from the `Content-Type`, then from the first bytes (servers often send
/// `application/octet-stream`). An HTML page or anything else is not media.
fn recognise(body: &BodyStream, first: &[u8]) -> Option<Format> {
    let content_type = body.content_type().unwrap_or("").to_ascii_lowercase();
    if content_type.contains("mpegurl") {
        return Some(Format::Hls);
    }
    if content_type.starts_with("text/html") {
        return None;
    }
    if hls::looks_like_playlist(first) {
        return Some(Format::Hls);
    }
    let mp4_type = matches!(
        content_type.split(';').next().map(str::trim),
        Some("video/mp4" | "video/quicktime" | "audio/mp4" | "video/x-m4v")
    );
    let box_type = first.get(4..8).unwrap_or_default();
    let mp4_bytes = matches!(
        box_type,
        b"ftyp" | b"moov" | b"mdat" | b"free" | b"skip" | b"wide"
    );
    (mp4_type || mp4_bytes).then_some(Format::Mp4)
}

fn row(fetcher: &Fetcher<'_>, measured: &Measured, started_at: String, url: &Url) -> PlaybackRow {
    let first = fetcher.first();
    let ms = |s: Option<f64>| s.map(|s| s * 1e3);
    let player = measured.player.as_ref();
    let watched_s = player.map(Player::watched_s);
    let stall_s = player.map(|p| p.stall_s);
    let rebuffer_ratio = match (watched_s, stall_s) {
        (Some(w), Some(s)) if w + s > 0.0 => Some(s / (w + s)),
        _ => None,
    };
    let mean_bitrate_bps = match measured.format {
        Some(Format::Hls) => player.and_then(Player::mean_bitrate_bps),
        _ => measured
            .mean_bitrate_bps
            .filter(|_| watched_s.is_some_and(|w| w > 0.0)),
    };
    PlaybackRow {
        started_at,
        url: crate::probe::redact::redact_url(url),
        format: measured.format,
        http_version: first.map(|s| s.http_version.clone()).unwrap_or_default(),
        requests: fetcher.log.len() as u64,
        bytes: fetcher.log.iter().map(|(s, _)| s.bytes).sum(),
        media_duration_s: measured.duration_s.filter(|d| d.is_finite()),
        dns_ms: first.and_then(|s| s.dns_ms),
        connect_ms: first.and_then(|s| s.connect_ms),
        tls_ms: first.and_then(|s| s.tls_ms),
        metadata_ms: ms(measured.metadata_s),
        first_media_byte_ms: ms(measured.first_media_byte_s),
        startup_ms: ms(player.and_then(|p| p.startup_s)),
        stalls: player.map_or(0, |p| p.stalls),
        stall_ms: ms(stall_s),
        rebuffer_ratio,
        watched_s,
        seek_ms: ms(player.and_then(|p| p.seek_s)),
        mean_bitrate_kbps: mean_bitrate_bps.map(|bps| bps / 1e3),
        switches: measured.switches,
        cache: SessionCache::of(&fetcher.media_cache),
        pop: fetcher.media_pop.clone().unwrap_or_default(),
        error: measured.error,
        ..PlaybackRow::default()
    }
}

/// What the next wait brought.
pub enum Next {
    Chunk(Bytes),
    /// The body ended (or failed).
    End,
    /// Playback reached its end first.
    PlaybackEnded,
}

/// The next body chunk, unless playback ends before it arrives.
pub async fn next_or_end(body: &mut BodyStream, player: &Player, start: Instant) -> Next {
    let chunk = async {
        match body.next_chunk().await {
            Some(chunk) => Next::Chunk(chunk),
            None => Next::End,
        }
    };
    match player.ends_at() {
        Some(end) => tokio::select! {
            next = chunk => next,
            () = sleep_until(start, end) => Next::PlaybackEnded,
        },
        None => chunk.await,
    }
}

/// Sleeps until `at_s` seconds after `start`.
pub async fn sleep_until(start: Instant, at_s: f64) {
    let at = start + std::time::Duration::from_secs_f64(at_s.max(0.0));
    tokio::time::sleep_until(at.into()).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seek_positions_parse_as_share_or_time() {
        assert_eq!("50%".parse::<SeekTo>().unwrap().position_s(30.0), 15.0);
        assert_eq!("12s".parse::<SeekTo>().unwrap().position_s(30.0), 12.0);
        assert_eq!("1m".parse::<SeekTo>().unwrap().position_s(30.0), 30.0);
        assert!("150%".parse::<SeekTo>().is_err());
        assert!("soon".parse::<SeekTo>().is_err());
    }
}

//! A progressive MP4 session, as a browser's `<video>` plays it: `GET` with `Range: bytes=0-`,
//! the top-level boxes walked as they arrive. With `moov` first (faststart) the same response
//! goes on into the media data. With `mdat` first, the download is abandoned, `moov` is read by a
//! Range request from the end of `mdat`, and the media data by a Range request from its start.
//! Only `moov` is kept in memory; media bytes only move the offset.

use bytes::Bytes;

use super::MediaError;
use super::fetcher::{Failed, Fetcher, Open};
use super::model::Player;
use super::mp4::{BoxWalker, Found, MediaIndex};
use super::session::{Measured, Next, SessionSettings, next_or_end, sleep_until};
use crate::sample::ErrorClass;

/// Plays the MP4 whose first response is `open` and whose first bytes are `first`.
pub async fn play(
    fetcher: &mut Fetcher<'_>,
    settings: &SessionSettings,
    open: Open,
    first: Bytes,
    measured: &mut Measured,
) -> Result<(), Failed> {
    let url = open.body.head().url.clone();
    let url = url::Url::parse(&url).map_err(|_| Failed(ErrorClass::Media))?;
    let mut walker = BoxWalker::new(0, settings.max_moov_bytes);
    let (moov, mdat, open) = walk_to_moov(fetcher, &mut walker, open, Some(first)).await?;
    let (moov, open, offset, data_start) = match (moov, mdat) {
        // Faststart: the media data follows in the same response.
        (Some(moov), mdat) => {
            let data_start = mdat.map_or(walker.offset(), |(_, data, _)| data);
            (moov, open, walker.offset(), data_start)
        }
        (None, Some((_, data, end))) => {
            // Not faststart: moov is after mdat.
            if let Some(open) = open {
                fetcher.close(open);
            }
            let end = end.ok_or(MediaError::NoMoov)?;
            let tail = match fetcher.open(&url, Some((end, None)), "moov", false).await {
                Err(Failed(ErrorClass::HttpStatus)) => {
                    return Err(Failed::from(MediaError::NoMoov));
                }
                other => other?,
            };
            let mut tail_walker = BoxWalker::new(end, settings.max_moov_bytes);
            let (moov, _, tail) = walk_to_moov(fetcher, &mut tail_walker, tail, None).await?;
            if let Some(tail) = tail {
                fetcher.close(tail);
            }
            let moov = moov.ok_or(MediaError::NoMoov)?;
            let open = fetcher
                .open(&url, Some((data, None)), "range", true)
                .await?;
            (moov, Some(open), data, data)
        }
        (None, None) => return Err(Failed::from(MediaError::NoMoov)),
    };
    let index = MediaIndex::from_moov(&moov)?;
    drop(moov);
    measured.metadata_s = Some(fetcher.now());
    measured.duration_s = Some(index.duration_s());
    let mut player = Player::new(settings.model, index.duration_s(), 0.0);
    stream_media(
        fetcher,
        settings,
        &url,
        &index,
        &mut player,
        open,
        offset,
        data_start,
        measured,
    )
    .await;
    measured.mean_bitrate_bps = Some(index.bitrate_bps());
    measured.player = Some(player);
    match measured.error {
        Some(class) => Err(Failed(class)),
        None => Ok(()),
    }
}

/// Feeds the walker until `moov` is whole or an `mdat` comes first. Returns what was found and
/// the response, still open unless its body ended.
async fn walk_to_moov(
    fetcher: &mut Fetcher<'_>,
    walker: &mut BoxWalker,
    mut open: Open,
    mut pending: Option<Bytes>,
) -> Result<
    (
        Option<Vec<u8>>,
        Option<(u64, u64, Option<u64>)>,
        Option<Open>,
    ),
    Failed,
> {
    let mut moov = None;
    let mut mdat = None;
    loop {
        let chunk = match pending.take() {
            Some(chunk) => chunk,
            None => match open.body.next_chunk().await {
                Some(chunk) => chunk,
                None => {
                    let sample = fetcher.close(open);
                    if let Some(class) = sample.error {
                        return Err(Failed(class));
                    }
                    return Ok((moov, mdat, None));
                }
            },
        };
        let found = match walker.feed(&chunk) {
            Ok(found) => found,
            Err(error) => {
                fetcher.close(open);
                return Err(error.into());
            }
        };
        for item in found {
            match item {
                Found::Moov { bytes, .. } => moov = Some(bytes),
                Found::Mdat { offset, data, end } if mdat.is_none() => {
                    mdat = Some((offset, data, end))
                }
                Found::Mdat { .. } => {}
            }
        }
        if moov.is_some() || mdat.is_some() {
            return Ok((moov, mdat, Some(open)));
        }
    }
}

/// Reads media data from `offset` while the player wants it, until playback ends; seeks once
/// when asked. Errors land in `measured.error`.
#[allow(clippy::too_many_arguments)]
async fn stream_media(
    fetcher: &mut Fetcher<'_>,
    settings: &SessionSettings,
    url: &url::Url,
    index: &MediaIndex,
    player: &mut Player,
    mut open: Option<Open>,
    mut offset: u64,
    data_start: u64,
    measured: &mut Measured,
) {
    let bps = index.bitrate_bps();
    let start = fetcher.start();
    let mut seek = settings
        .seek
        .map(|seek| seek.position_s(index.duration_s()));
    player.downloaded(fetcher.now(), index.playable_until(offset), Some(bps));
    loop {
        let now = fetcher.now();
        player.advance(now);
        if player.is_ended() {
            break;
        }
        if player.has_started()
            && let Some(position) = seek.take()
        {
            let point = index.seek_point(position);
            if let Some(open) = open.take() {
                fetcher.close(open);
            }
            player.seek(now, position, point.time_s);
            match fetcher
                .open(url, Some((point.offset, None)), "seek", true)
                .await
            {
                Ok(seeking) => open = Some(seeking),
                Err(Failed(class)) => {
                    measured.error = Some(class);
                    break;
                }
            }
            offset = point.offset;
            continue;
        }
        if !player.wants_data(now) || open.is_none() {
            let wake = [player.resume_download_at(now), player.ends_at()]
                .into_iter()
                .flatten()
                .fold(f64::INFINITY, f64::min);
            if !wake.is_finite() {
                break; // nothing more will arrive and nothing will end: cannot happen
            }
            sleep_until(start, wake).await;
            continue;
        }
        let Some(body) = open.as_mut() else { continue };
        match next_or_end(&mut body.body, player, start).await {
            Next::Chunk(chunk) => {
                offset += chunk.len() as u64;
                if measured.first_media_byte_s.is_none() && offset > data_start {
                    measured.first_media_byte_s = Some(fetcher.now());
                }
                player.downloaded(fetcher.now(), index.playable_until(offset), Some(bps));
            }
            Next::End => {
                let sample = open.take().map(|open| fetcher.close(open));
                if let Some(class) = sample.and_then(|s| s.error) {
                    measured.error = Some(class);
                    break;
                }
            }
            Next::PlaybackEnded => {}
        }
    }
    if let Some(open) = open.take() {
        fetcher.close(open);
    }
}

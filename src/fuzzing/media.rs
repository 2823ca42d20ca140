//! The logic of the fuzz targets for what `play` does with bytes from an untrusted server: the
//! MP4 box walk with its `moov` bound and the offset table built from `moov`, and the HLS
//! playlist with its variant choice, URI resolution and byte ranges.

use url::Url;

use crate::play::MediaError;
use crate::play::hls::{self, Playlist, VariantChoice};
use crate::play::mp4::{BoxWalker, Found, MediaIndex};

/// `--max-moov-bytes` in the fuzz target: above the `moov` of the committed clips (26 KiB),
/// below the longest fuzz input (64 KiB), so inputs both within and over the bound are tried.
const MAX_MOOV_BYTES: u64 = 48 << 10;

/// Bytes as a progressive MP4 from a server: the top-level boxes are walked as they arrive (the
/// same whatever the chunking), `moov` is kept only within its bound, a `moov` after `mdat` is
/// found by walking from where `mdat` ends (as `play` does with a second request), and the
/// offset table answers every question `play` asks. Bad input is a media error of one line.
pub fn mp4_boxes(data: &[u8]) {
    let whole = walk(data, 0, data.len().max(1));
    let chunked = walk(data, 0, 7);
    assert_eq!(whole, chunked, "the chunking changed the walk");
    let moov = match whole {
        Ok(found) => find_moov(data, &found),
        Err(error) => Err(error),
    };
    let index = moov.and_then(|moov| {
        assert!(moov.len() as u64 <= MAX_MOOV_BYTES, "moov over its bound");
        MediaIndex::from_moov(&moov)
    });
    match index {
        Ok(index) => check_index(&index, data.len() as u64),
        Err(error) => {
            let message = error.to_string();
            assert!(!message.contains('\n'), "a multi-line error: {message:?}");
            assert!(
                !matches!(error, MediaError::Playlist(_) | MediaError::UnknownFormat),
                "not an MP4 error: {error}"
            );
        }
    }
}

/// Everything a walker starting at `offset` finds in `data[offset..]` fed `step` bytes at a time.
fn walk(data: &[u8], offset: u64, step: usize) -> Result<Vec<Found>, MediaError> {
    let mut walker = BoxWalker::new(offset, MAX_MOOV_BYTES);
    let mut found = Vec::new();
    let mut fed = offset;
    for chunk in data[offset as usize..].chunks(step) {
        found.extend(walker.feed(chunk)?);
        fed += chunk.len() as u64;
        assert_eq!(
            walker.offset(),
            fed,
            "the walker did not take the whole chunk"
        );
    }
    Ok(found)
}

/// The `moov` `play` would use: the first one found, else the one after the first `mdat`.
fn find_moov(data: &[u8], found: &[Found]) -> Result<Vec<u8>, MediaError> {
    let mut mdat_end = None;
    for item in found {
        match item {
            Found::Moov { offset, bytes } => {
                let declared = u32::from_be_bytes(bytes[..4].try_into().unwrap_or_default());
                let start = *offset as usize;
                assert_eq!(
                    &data[start..start + bytes.len()],
                    bytes,
                    "moov is not the file's"
                );
                assert!(
                    declared == 1 || declared as usize == bytes.len(),
                    "moov cut"
                );
                return Ok(bytes.clone());
            }
            Found::Mdat {
                offset,
                data: media,
                end,
            } => {
                assert!(offset < media && end.is_none_or(|end| end >= *media));
                mdat_end = mdat_end.or(Some(*end));
            }
        }
    }
    match mdat_end.flatten() {
        Some(end) if end < data.len() as u64 => walk(data, end, 4096)?
            .into_iter()
            .find_map(|item| match item {
                Found::Moov { bytes, .. } => Some(bytes),
                Found::Mdat { .. } => None,
            })
            .ok_or(MediaError::NoMoov),
        _ => Err(MediaError::NoMoov),
    }
}

/// The answers `play` takes from the offset table stay inside the media and the file.
fn check_index(index: &MediaIndex, file_len: u64) {
    let duration = index.duration_s();
    assert!(
        duration.is_finite() && duration >= 0.0,
        "duration {duration}"
    );
    let bitrate = index.bitrate_bps();
    assert!(bitrate.is_finite() && bitrate >= 0.0, "bitrate {bitrate}");
    let mut last = 0.0;
    for offset in [0, 1, file_len / 2, file_len, u64::MAX] {
        let playable = index.playable_until(offset);
        assert!(
            (last..=duration).contains(&playable),
            "playable {playable} at {offset}, {last} before, of {duration}"
        );
        last = playable;
    }
    // A seek resumes at the key frame at or before the position; before a file's first key
    // frame (not always its first sample) there is none, and playback resumes at that one.
    let earliest = index.seek_point(0.0).time_s;
    for time_s in [0.0, duration / 2.0, duration, duration + 1.0, f64::INFINITY] {
        let _ = index.offset_needed(time_s);
        let seek = index.seek_point(time_s);
        assert!(seek.offset <= seek.sync_offset, "{seek:?} for {time_s}");
        assert!(
            seek.time_s <= time_s.max(earliest) || seek.sync_offset == u64::MAX,
            "seek to {time_s} lands after it: {seek:?}"
        );
    }
}

/// Bytes as an HLS playlist fetched from a server: a multivariant playlist gives variants every
/// `--variant` choice can pick from; a media playlist gives segments whose URLs are resolved,
/// whose byte ranges are non-empty and in order, whose durations are real, and whose start and
/// seek positions are inside the list. Bad input is a playlist error of one line.
pub fn hls_playlist(data: &[u8]) {
    let base = Url::parse("http://127.0.0.1:8080/media/hls/v0.m3u8").expect("a URL");
    match hls::parse(data, &base) {
        Err(MediaError::Playlist(message)) => {
            assert!(!message.contains('\n'), "a multi-line error: {message:?}");
        }
        Err(error) => panic!("not a playlist error: {error}"),
        Ok(Playlist::Multivariant(variants)) => {
            assert!(!variants.is_empty(), "no variants but no error");
            let first = variants[0].bandwidth;
            for choice in [
                VariantChoice::Auto,
                VariantChoice::Lowest,
                VariantChoice::Highest,
                VariantChoice::Bandwidth(first),
            ] {
                let picked = choice.pick(&variants).expect("a variant that is listed");
                assert!(picked < variants.len(), "{choice:?} picked {picked}");
            }
        }
        Ok(Playlist::Media(playlist)) => {
            let count = playlist.segments.len();
            let target = playlist.target_duration_s;
            assert!(
                target.is_finite() && target >= 0.0,
                "target duration {target}"
            );
            let mut sequence = None;
            for segment in &playlist.segments {
                let resource = Some(&segment.resource).into_iter();
                for resource in resource.chain(&segment.init) {
                    if let Some((first, last)) = resource.range {
                        assert!(first <= last, "{resource:?} is empty");
                    }
                }
                let duration = segment.duration_s;
                assert!(
                    duration.is_finite() && duration >= 0.0,
                    "duration {duration}"
                );
                assert!(
                    sequence.is_none_or(|s| s < segment.sequence),
                    "sequence numbers out of order"
                );
                sequence = Some(segment.sequence);
            }
            let duration = playlist.duration_s();
            assert!(count == 0 || playlist.start_index() < count);
            for time_s in [0.0, duration / 2.0, duration, f64::INFINITY] {
                assert!(count == 0 || playlist.segment_at(time_s) < count);
            }
            assert!(playlist.reload_after_s(false).is_finite());
        }
    }
}

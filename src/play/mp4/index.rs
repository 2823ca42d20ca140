//! `moov` → for every media time, the byte offset that must have arrived for every track to
//! play it; and for a seek, the offset of the sync sample at or before the position.
//!
//! The sample tables are read with Mozilla's `mp4parse` (Firefox's parser). From time-to-sample
//! (`stts`), sample-to-chunk (`stsc`), sizes (`stsz`) and chunk offsets (`stco`/`co64`) each
//! sample gets its byte span and the decode time at which it ends. Decode time stands for
//! presentation time (composition offsets move a frame by a few frame durations, edit lists are
//! not applied): the table answers "when is this much media playable", not frame-exact timing.

use std::io::Cursor;

use mp4parse::TrackType;

use crate::play::MediaError;

/// One sample of one track, as the download needs it.
#[derive(Debug, Clone, Copy)]
struct Span {
    /// First byte of the sample in the file.
    start: u64,
    /// Largest end offset of this sample and every earlier sample of the track: bytes up to here
    /// make the track playable through this sample, whatever the interleaving.
    needed: u64,
    /// Decode time at which the sample ends, in seconds.
    end_s: f64,
}

struct TrackIndex {
    is_video: bool,
    /// Sum of the sample sizes.
    bytes: u64,
    spans: Vec<Span>,
    /// 0-based indexes of sync samples (key frames); every sample when the track has no `stss`.
    sync: Option<Vec<u32>>,
}

/// The offset table of one file.
pub struct MediaIndex {
    tracks: Vec<TrackIndex>,
    duration_s: f64,
    media_bytes: u64,
}

impl MediaIndex {
    /// Parses a whole `moov` box (header included).
    pub fn from_moov(moov: &[u8]) -> Result<Self, MediaError> {
        let context = mp4parse::read_mp4(&mut Cursor::new(moov))
            .map_err(|e| MediaError::BadMoov(e.to_string()))?;
        let mut tracks = Vec::new();
        // At most one sample per byte of moov: a real file's sample costs a 4-byte size entry
        // (or a share of a constant size), so this only refuses tables that claim samples they
        // do not describe, before the index allocates for them.
        let mut budget = moov.len();
        for track in context.tracks.iter() {
            let is_video = match track.track_type {
                TrackType::Video => true,
                TrackType::Audio => false,
                _ => continue,
            };
            tracks.push(track_index(track, is_video, &mut budget)?);
        }
        if tracks.iter().all(|t| t.spans.is_empty()) {
            return Err(MediaError::BadMoov("no audio or video samples".into()));
        }
        let duration_s = tracks
            .iter()
            .filter_map(|t| t.spans.last())
            .map(|s| s.end_s)
            .fold(0.0, f64::max);
        let media_bytes = tracks.iter().map(|t| t.bytes).sum();
        Ok(Self {
            tracks,
            duration_s,
            media_bytes,
        })
    }

    pub fn duration_s(&self) -> f64 {
        self.duration_s
    }

    /// The file's bitrate: bits of every sample ÷ duration.
    pub fn bitrate_bps(&self) -> f64 {
        if self.duration_s > 0.0 {
            self.media_bytes as f64 * 8.0 / self.duration_s
        } else {
            0.0
        }
    }

    /// Media time playable once every byte before `offset` has arrived (from the start, or from
    /// a seek offset for times after the seek): the earliest, over tracks, of the end of the last
    /// sample whose bytes (and its predecessors') are all in.
    pub fn playable_until(&self, offset: u64) -> f64 {
        self.tracks
            .iter()
            .filter(|t| !t.spans.is_empty())
            .map(|t| {
                let whole = t.spans.partition_point(|s| s.needed <= offset);
                if whole == t.spans.len() {
                    f64::INFINITY // this track is complete: it never holds the others back
                } else if whole == 0 {
                    0.0
                } else {
                    t.spans[whole - 1].end_s
                }
            })
            .fold(f64::INFINITY, f64::min)
            .min(self.duration_s)
    }

    /// Bytes from the start of the file needed to play through media time `time_s`.
    pub fn offset_needed(&self, time_s: f64) -> u64 {
        self.tracks
            .iter()
            .filter_map(|t| {
                let index = t.spans.partition_point(|s| s.end_s < time_s);
                t.spans.get(index.min(t.spans.len().saturating_sub(1)))
            })
            .map(|s| s.needed)
            .max()
            .unwrap_or(0)
    }

    /// Where playback resumes after a seek to `time_s`: the time of the video sync sample at or
    /// before it, and the first byte needed from there on (the sync sample's offset, or an
    /// earlier audio sample of the same moment when the file interleaves audio first).
    pub fn seek_point(&self, time_s: f64) -> SeekPoint {
        let video = self
            .tracks
            .iter()
            .find(|t| t.is_video && !t.spans.is_empty());
        let (time_s, sync_offset) = match video {
            Some(track) => {
                let containing = track.spans.partition_point(|s| s.end_s <= time_s);
                let containing = containing.min(track.spans.len() - 1);
                let sync = match &track.sync {
                    None => containing,
                    Some(sync) => {
                        let at_or_before = sync.partition_point(|&i| i as usize <= containing);
                        sync.get(at_or_before.saturating_sub(1))
                            .map_or(0, |&i| i as usize)
                    }
                };
                let start_s = if sync == 0 {
                    0.0
                } else {
                    track.spans[sync - 1].end_s
                };
                (start_s, track.spans[sync].start)
            }
            None => (time_s, u64::MAX),
        };
        let offset = self
            .tracks
            .iter()
            .filter_map(|t| t.spans.get(t.spans.partition_point(|s| s.end_s <= time_s)))
            .map(|s| s.start)
            .fold(sync_offset, u64::min);
        SeekPoint {
            time_s,
            offset,
            sync_offset,
        }
    }
}

/// Where a seek lands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeekPoint {
    /// Media time playback resumes from (the sync sample's).
    pub time_s: f64,
    /// First byte to request.
    pub offset: u64,
    /// The video sync sample's own offset (`u64::MAX` without video).
    pub sync_offset: u64,
}

fn track_index(
    track: &mp4parse::Track,
    is_video: bool,
    budget: &mut usize,
) -> Result<TrackIndex, MediaError> {
    let bad = |what: &str| MediaError::BadMoov(format!("track {}: {what}", track.id));
    let (Some(stts), Some(stsc), Some(stsz), Some(stco)) =
        (&track.stts, &track.stsc, &track.stsz, &track.stco)
    else {
        return Err(bad("missing sample tables"));
    };
    let timescale = track
        .timescale
        .as_ref()
        .map(|t| t.0)
        .filter(|&t| t > 0)
        .ok_or_else(|| bad("no timescale"))? as f64;
    let count: usize = stts.samples.iter().map(|e| e.sample_count as usize).sum();
    let mut spans = Vec::with_capacity(count.min(*budget));
    let mut durations = stts
        .samples
        .iter()
        .flat_map(|e| std::iter::repeat_n(u64::from(e.sample_delta), e.sample_count as usize));
    let mut sizes = stsz.sample_sizes.iter().copied();
    let mut decode_end: u64 = 0;
    let mut needed: u64 = 0;
    let mut bytes: u64 = 0;
    let entries = &stsc.samples;
    for (entry_index, entry) in entries.iter().enumerate() {
        // Chunks are numbered from 1; an entry runs until the next entry's first chunk.
        let first = entry.first_chunk.max(1) as usize - 1;
        let last = entries
            .get(entry_index + 1)
            .map_or(stco.offsets.len(), |next| {
                (next.first_chunk as usize).saturating_sub(1)
            })
            .min(stco.offsets.len());
        for chunk in first..last {
            let mut position = stco.offsets[chunk];
            for _ in 0..entry.samples_per_chunk {
                let size = if stsz.sample_size > 0 {
                    stsz.sample_size
                } else {
                    sizes
                        .next()
                        .ok_or_else(|| bad("fewer sizes than samples"))?
                };
                let Some(duration) = durations.next() else {
                    return Err(bad("fewer durations than samples"));
                };
                if spans.len() == *budget {
                    return Err(bad("more samples than bytes in moov"));
                }
                decode_end += duration;
                bytes += u64::from(size);
                let end = position
                    .checked_add(u64::from(size))
                    .ok_or_else(|| bad("a sample past 2^64 bytes"))?;
                needed = needed.max(end);
                spans.push(Span {
                    start: position,
                    needed,
                    end_s: decode_end as f64 / timescale,
                });
                position = end;
            }
        }
    }
    *budget -= spans.len();
    // Sync sample numbers in order and within the track, whatever the file lists.
    let sync = track.stss.as_ref().map(|stss| {
        let mut sync: Vec<u32> = stss
            .samples
            .iter()
            .filter_map(|&n| n.checked_sub(1))
            .filter(|&i| (i as usize) < spans.len())
            .collect();
        sync.sort_unstable();
        sync.dedup();
        sync
    });
    Ok(TrackIndex {
        is_video,
        bytes,
        spans,
        sync,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::play::mp4::walk::{BoxWalker, Found};

    fn index_of(name: &str) -> (Vec<u8>, MediaIndex) {
        let file = std::fs::read(format!(
            "{}/assets/media/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let mut walker = BoxWalker::new(0, 64 << 20);
        let moov = walker
            .feed(&file)
            .unwrap()
            .into_iter()
            .find_map(|f| match f {
                Found::Moov { bytes, .. } => Some(bytes),
                Found::Mdat { .. } => None,
            })
            .unwrap();
        let index = MediaIndex::from_moov(&moov).unwrap();
        (file, index)
    }

    #[test]
    fn the_clip_is_thirty_seconds_of_audio_and_video() {
        let (_, index) = index_of("clip.mp4");
        assert!(
            (index.duration_s() - 30.0).abs() < 0.1,
            "{}",
            index.duration_s()
        );
        assert_eq!(index.tracks.len(), 2);
        // 25 fps for 30 s.
        let video = index.tracks.iter().find(|t| t.is_video).unwrap();
        assert_eq!(video.spans.len(), 750);
    }

    #[test]
    fn playable_time_grows_with_the_bytes_and_reaches_the_end_at_the_end() {
        let (file, index) = index_of("clip.mp4");
        let moov_end = 32 + 26133;
        assert_eq!(index.playable_until(moov_end), 0.0);
        let mut last = 0.0;
        for offset in (moov_end..file.len() as u64).step_by(10_000) {
            let t = index.playable_until(offset);
            assert!(t >= last, "{t} < {last} at {offset}");
            last = t;
        }
        assert_eq!(index.playable_until(file.len() as u64), index.duration_s());
        // Constant bitrate: half the media data plays about half the media.
        let half = index.playable_until(moov_end + (file.len() as u64 - moov_end) / 2);
        assert!((half - 15.0).abs() < 1.5, "{half}");
    }

    #[test]
    fn offset_needed_and_playable_until_agree() {
        let (_, index) = index_of("clip.mp4");
        for t in [0.5, 2.0, 10.0, 29.0] {
            let offset = index.offset_needed(t);
            assert!(index.playable_until(offset) >= t - 0.05, "t={t}");
            assert!(index.playable_until(offset - 1) < t + 0.05, "t={t}");
        }
    }

    #[test]
    fn seek_lands_on_the_key_frame_at_or_before_the_position() {
        let (file, index) = index_of("clip.mp4");
        // Key frames every 2 s (-g 50 at 25 fps).
        let point = index.seek_point(15.0);
        assert!((point.time_s - 14.0).abs() < 1e-6, "{point:?}");
        let video = index.tracks.iter().find(|t| t.is_video).unwrap();
        assert_eq!(point.sync_offset, video.spans[350].start);
        // FFmpeg's demuxer, independently: `ffprobe -select_streams v -show_entries
        // packet=pts_time,pos,flags -of csv assets/media/clip.mp4` lists the key frame of 14 s
        // at byte 306502. No audio of 14 s or later is stored before it.
        assert_eq!(point.sync_offset, 306_502);
        assert_eq!(point.offset, point.sync_offset);
        assert!(point.offset > 32 + 26133 && point.offset < file.len() as u64);
        assert_eq!(index.seek_point(0.0).time_s, 0.0);
    }
}

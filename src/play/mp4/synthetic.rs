//! Long synthetic MP4 files: real box structure and sample tables (an H.264 video track with key
//! frames every 2 s and composition offsets, an AAC audio track, interleaved one chunk per
//! second each), with filler bytes as media data. For benchmarks and 2-hour files, where a real
//! encode would be too large to commit; a player's byte-level behaviour only depends on the
//! tables, and no decoder ever sees these bytes.

use std::io::{self, Write};

const VIDEO_FPS: u32 = 25;
const VIDEO_TIMESCALE: u32 = 12_800;
const KEY_FRAME_EVERY: u32 = 50;
const AUDIO_RATE: u32 = 44_100;
const AUDIO_FRAME: u32 = 1024;
/// Audio samples per one-second chunk (44100 / 1024 rounded down).
const AUDIO_PER_CHUNK: u32 = 43;
const AUDIO_KBPS: u32 = 32;

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct SyntheticMp4 {
    pub duration_s: u32,
    pub video_kbps: u32,
    /// `moov` before `mdat` (as `-movflags +faststart` leaves it) or after.
    pub faststart: bool,
}

impl SyntheticMp4 {
    fn video_sizes(&self) -> Vec<u32> {
        let frames = self.duration_s * VIDEO_FPS;
        let mean = (self.video_kbps * 1000 / 8 / VIDEO_FPS).max(16);
        let mut state = 0x2545_f491_u32;
        (0..frames)
            .map(|i| {
                // A fixed pseudo-random ±25 %, key frames four times the size.
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                let jitter = mean / 4 * (state % 200) / 100;
                let size = mean - mean / 4 + jitter;
                if i % KEY_FRAME_EVERY == 0 {
                    size * 4
                } else {
                    size
                }
            })
            .collect()
    }

    fn audio_sizes(&self) -> Vec<u32> {
        let mean = AUDIO_KBPS * 1000 / 8 * AUDIO_FRAME / AUDIO_RATE;
        (0..self.duration_s * AUDIO_PER_CHUNK)
            .map(|i| mean - 8 + i % 17)
            .collect()
    }

    /// The `moov` box for media data starting at file offset `data_start`.
    fn moov(&self, video: &[u32], audio: &[u32], data_start: u64) -> Vec<u8> {
        let per_chunk = VIDEO_FPS as usize;
        let mut video_offsets = Vec::with_capacity(self.duration_s as usize);
        let mut audio_offsets = Vec::with_capacity(self.duration_s as usize);
        let mut position = data_start;
        for second in 0..self.duration_s as usize {
            video_offsets.push(position);
            position += video[second * per_chunk..][..per_chunk]
                .iter()
                .map(|&s| u64::from(s))
                .sum::<u64>();
            audio_offsets.push(position);
            let a = AUDIO_PER_CHUNK as usize;
            position += audio[second * a..][..a]
                .iter()
                .map(|&s| u64::from(s))
                .sum::<u64>();
        }
        let video_trak = trak(Track {
            id: 1,
            handler: b"vide",
            timescale: VIDEO_TIMESCALE,
            delta: VIDEO_TIMESCALE / VIDEO_FPS,
            sizes: video,
            per_chunk: VIDEO_FPS,
            offsets: &video_offsets,
            sample_entry: avc1(),
            key_frames: Some(KEY_FRAME_EVERY),
        });
        let audio_trak = trak(Track {
            id: 2,
            handler: b"soun",
            timescale: AUDIO_RATE,
            delta: AUDIO_FRAME,
            sizes: audio,
            per_chunk: AUDIO_PER_CHUNK,
            offsets: &audio_offsets,
            sample_entry: mp4a(),
            key_frames: None,
        });
        let mut mvhd = vec![0u8; 4];
        mvhd.extend(0u32.to_be_bytes()); // creation
        mvhd.extend(0u32.to_be_bytes()); // modification
        mvhd.extend(1000u32.to_be_bytes());
        mvhd.extend((self.duration_s * 1000).to_be_bytes());
        mvhd.extend(0x0001_0000u32.to_be_bytes()); // rate 1.0
        mvhd.extend(0x0100u16.to_be_bytes()); // volume 1.0
        mvhd.extend([0u8; 10]);
        mvhd.extend(unity_matrix());
        mvhd.extend([0u8; 24]);
        mvhd.extend(3u32.to_be_bytes()); // next track id
        mp4_box(
            b"moov",
            &[mp4_box(b"mvhd", &[mvhd]), video_trak, audio_trak],
        )
    }

    /// Writes the file; returns its size. Memory stays at the size of the tables.
    pub fn write_to(&self, out: &mut impl Write) -> io::Result<u64> {
        let video = self.video_sizes();
        let audio = self.audio_sizes();
        let ftyp = mp4_box(b"ftyp", &[b"isom\0\0\x02\0isomiso2avc1mp41".to_vec()]);
        let data_len: u64 = video.iter().chain(&audio).map(|&s| u64::from(s)).sum();
        // A 64-bit mdat header (16 bytes): files over 4 GiB stay valid.
        let mut mdat_header = 1u32.to_be_bytes().to_vec();
        mdat_header.extend(b"mdat");
        mdat_header.extend((data_len + 16).to_be_bytes());
        let moov_len = self.moov(&video, &audio, 0).len() as u64;
        let ftyp_len = ftyp.len() as u64;
        let data_start = if self.faststart {
            ftyp_len + moov_len + 16
        } else {
            ftyp_len + 16
        };
        let moov = self.moov(&video, &audio, data_start);
        out.write_all(&ftyp)?;
        if self.faststart {
            out.write_all(&moov)?;
        }
        out.write_all(&mdat_header)?;
        let filler = [0x5au8; 64 * 1024];
        let mut left = data_len;
        while left > 0 {
            let n = left.min(filler.len() as u64) as usize;
            out.write_all(&filler[..n])?;
            left -= n as u64;
        }
        if !self.faststart {
            out.write_all(&moov)?;
        }
        Ok(ftyp_len + moov_len + 16 + data_len)
    }

    /// Only the `moov` box (as found in a faststart file): for parsing benchmarks.
    pub fn moov_box(&self) -> Vec<u8> {
        let video = self.video_sizes();
        let audio = self.audio_sizes();
        self.moov(&video, &audio, 0)
    }
}

struct Track<'a> {
    id: u32,
    handler: &'static [u8; 4],
    timescale: u32,
    delta: u32,
    sizes: &'a [u32],
    per_chunk: u32,
    offsets: &'a [u64],
    sample_entry: Vec<u8>,
    key_frames: Option<u32>,
}

fn trak(track: Track) -> Vec<u8> {
    let count = track.sizes.len() as u32;
    let duration = u64::from(count) * u64::from(track.delta);
    let mut tkhd = vec![0, 0, 0, 3]; // enabled, in movie
    tkhd.extend([0u8; 8]);
    tkhd.extend(track.id.to_be_bytes());
    tkhd.extend([0u8; 4]);
    tkhd.extend(((duration * 1000 / u64::from(track.timescale)) as u32).to_be_bytes());
    tkhd.extend([0u8; 16]);
    tkhd.extend(unity_matrix());
    let (width, height) = if track.handler == b"vide" {
        (320u32, 240u32)
    } else {
        (0, 0)
    };
    tkhd.extend((width << 16).to_be_bytes());
    tkhd.extend((height << 16).to_be_bytes());
    let mut mdhd = vec![0u8; 12];
    mdhd.extend(track.timescale.to_be_bytes());
    mdhd.extend((duration as u32).to_be_bytes());
    mdhd.extend([0x55, 0xc4, 0, 0]); // language "und"
    let mut hdlr = vec![0u8; 8];
    hdlr.extend(track.handler);
    hdlr.extend([0u8; 12]);
    hdlr.extend(b"synthetic\0");
    let media_header = if track.handler == b"vide" {
        mp4_box(b"vmhd", &[vec![0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]])
    } else {
        mp4_box(b"smhd", &[vec![0u8; 8]])
    };
    let dref = mp4_box(
        b"dref",
        &[
            vec![0, 0, 0, 0, 0, 0, 0, 1],
            mp4_box(b"url ", &[vec![0, 0, 0, 1]]),
        ],
    );
    let mut stbl = vec![
        full_box(b"stsd", &[&1u32.to_be_bytes()[..], &track.sample_entry]),
        full_box(
            b"stts",
            &[
                &1u32.to_be_bytes()[..],
                &count.to_be_bytes(),
                &track.delta.to_be_bytes(),
            ],
        ),
    ];
    if let Some(every) = track.key_frames {
        let keys: Vec<u32> = (0..count).step_by(every as usize).map(|i| i + 1).collect();
        stbl.push(full_box(
            b"stss",
            &[&(keys.len() as u32).to_be_bytes()[..], &be32s(&keys)],
        ));
        // B-frame-like composition offsets: one entry per sample, alternating 2 and 0 frames.
        let mut ctts = (count).to_be_bytes().to_vec();
        for i in 0..count {
            ctts.extend(1u32.to_be_bytes());
            ctts.extend((if i % 2 == 0 { 2 * track.delta } else { 0 }).to_be_bytes());
        }
        stbl.push(full_box(b"ctts", &[&ctts]));
    }
    let stsc = [1u32, track.per_chunk, 1];
    stbl.push(full_box(b"stsc", &[&1u32.to_be_bytes()[..], &be32s(&stsc)]));
    stbl.push(full_box(
        b"stsz",
        &[
            &0u32.to_be_bytes()[..],
            &count.to_be_bytes(),
            &be32s(track.sizes),
        ],
    ));
    let offsets: Vec<u8> = track.offsets.iter().flat_map(|o| o.to_be_bytes()).collect();
    stbl.push(full_box(
        b"co64",
        &[&(track.offsets.len() as u32).to_be_bytes()[..], &offsets],
    ));
    let minf = mp4_box(
        b"minf",
        &[
            media_header,
            mp4_box(b"dinf", &[dref]),
            mp4_box(b"stbl", &stbl),
        ],
    );
    let mdia = mp4_box(
        b"mdia",
        &[mp4_box(b"mdhd", &[mdhd]), mp4_box(b"hdlr", &[hdlr]), minf],
    );
    mp4_box(b"trak", &[mp4_box(b"tkhd", &[tkhd]), mdia])
}

/// An `avc1` entry with a minimal `avcC` (Baseline, level 3, one SPS and one PPS).
fn avc1() -> Vec<u8> {
    let mut entry = vec![0u8; 6];
    entry.extend(1u16.to_be_bytes()); // data reference index
    entry.extend([0u8; 16]);
    entry.extend(320u16.to_be_bytes());
    entry.extend(240u16.to_be_bytes());
    entry.extend(0x0048_0000u32.to_be_bytes()); // 72 dpi
    entry.extend(0x0048_0000u32.to_be_bytes());
    entry.extend([0u8; 4]);
    entry.extend(1u16.to_be_bytes()); // frame count
    entry.extend([0u8; 32]); // compressor name
    entry.extend(0x0018u16.to_be_bytes()); // depth
    entry.extend((-1i16).to_be_bytes());
    let sps = [0x67, 0x42, 0xc0, 0x1e, 0xd9, 0x01, 0x40, 0x7b, 0x20];
    let pps = [0x68, 0xcb, 0x83, 0xcb, 0x20];
    let mut avcc = vec![1, 0x42, 0xc0, 0x1e, 0xff, 0xe1];
    avcc.extend((sps.len() as u16).to_be_bytes());
    avcc.extend(sps);
    avcc.push(1);
    avcc.extend((pps.len() as u16).to_be_bytes());
    avcc.extend(pps);
    mp4_box(b"avc1", &[entry, mp4_box(b"avcC", &[avcc])])
}

/// An `mp4a` entry with an `esds` for AAC-LC, 44.1 kHz, mono.
fn mp4a() -> Vec<u8> {
    let mut entry = vec![0u8; 6];
    entry.extend(1u16.to_be_bytes());
    entry.extend([0u8; 8]);
    entry.extend(1u16.to_be_bytes()); // channels
    entry.extend(16u16.to_be_bytes()); // sample size
    entry.extend([0u8; 4]);
    entry.extend((AUDIO_RATE << 16).to_be_bytes());
    let specific = [0x05, 2, 0x12, 0x08];
    let mut config = vec![0x04, 13 + specific.len() as u8, 0x40, 0x15, 0, 0, 0];
    config.extend((AUDIO_KBPS * 1000).to_be_bytes());
    config.extend((AUDIO_KBPS * 1000).to_be_bytes());
    config.extend(specific);
    let mut es = vec![0x03, (3 + config.len() + 3) as u8, 0, 1, 0];
    es.extend(config);
    es.extend([0x06, 1, 2]);
    mp4_box(b"mp4a", &[entry, full_box(b"esds", &[&es])])
}

fn unity_matrix() -> Vec<u8> {
    be32s(&[0x0001_0000, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000])
}

fn be32s(values: &[u32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_be_bytes()).collect()
}

fn mp4_box(kind: &[u8; 4], parts: &[Vec<u8>]) -> Vec<u8> {
    let len: usize = 8 + parts.iter().map(Vec::len).sum::<usize>();
    let mut out = Vec::with_capacity(len);
    out.extend((len as u32).to_be_bytes());
    out.extend(kind);
    for part in parts {
        out.extend(part);
    }
    out
}

/// A full box (version 0, flags 0) from slices.
fn full_box(kind: &[u8; 4], parts: &[&[u8]]) -> Vec<u8> {
    let mut body = vec![0u8; 4];
    for part in parts {
        body.extend_from_slice(part);
    }
    mp4_box(kind, &[body])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::play::mp4::{BoxWalker, Found, MediaIndex};

    #[test]
    fn a_synthetic_file_walks_and_indexes_like_a_real_one() {
        for faststart in [true, false] {
            let spec = SyntheticMp4 {
                duration_s: 20,
                video_kbps: 200,
                faststart,
            };
            let mut file = Vec::new();
            let size = spec.write_to(&mut file).unwrap();
            assert_eq!(size, file.len() as u64);
            let mut walker = BoxWalker::new(0, 64 << 20);
            let found = walker.feed(&file).unwrap();
            let moov = found
                .iter()
                .find_map(|f| match f {
                    Found::Moov { bytes, .. } => Some(bytes.clone()),
                    Found::Mdat { .. } => None,
                })
                .unwrap();
            let index = MediaIndex::from_moov(&moov).unwrap();
            assert!(
                (index.duration_s() - 20.0).abs() < 0.1,
                "{}",
                index.duration_s()
            );
            assert_eq!(index.playable_until(size), index.duration_s());
            let seek = index.seek_point(9.0);
            assert!((seek.time_s - 8.0).abs() < 1e-9, "{seek:?}");
        }
    }
}

//! HLS playlists as a player reads them (RFC 8216), parsed with `m3u8-rs`: the multivariant
//! playlist's variants, a media playlist's segments with their URLs resolved against the
//! playlist's own URL, byte ranges and init sections (`EXT-X-MAP`) carried to every segment they
//! apply to, and for a live playlist the start position and the reload interval.

use url::Url;

use super::MediaError;

/// A byte range of a resource: first and last byte, inclusive (as a `Range` header says).
pub type ByteSpan = (u64, u64);

/// A resource to fetch: a URL and maybe a byte range of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub url: Url,
    pub range: Option<ByteSpan>,
}

/// A variant of a multivariant playlist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    pub url: Url,
    /// `BANDWIDTH`, bits per second.
    pub bandwidth: u64,
}

/// A media segment.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub resource: Resource,
    /// The init section (fMP4) that must precede it.
    pub init: Option<Resource>,
    pub duration_s: f64,
    /// Media sequence number.
    pub sequence: u64,
}

/// A media playlist.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaPlaylist {
    pub segments: Vec<Segment>,
    pub target_duration_s: f64,
    /// No `EXT-X-ENDLIST`: more segments will be added.
    pub live: bool,
}

/// What a playlist URL held.
#[derive(Debug, Clone, PartialEq)]
pub enum Playlist {
    Multivariant(Vec<Variant>),
    Media(MediaPlaylist),
}

/// Whether a body is an HLS playlist (the first line is `#EXTM3U`, after an optional BOM).
pub fn looks_like_playlist(body: &[u8]) -> bool {
    let body = body.strip_prefix(b"\xef\xbb\xbf").unwrap_or(body);
    body.starts_with(b"#EXTM3U")
}

/// Parses a playlist fetched from `base`.
pub fn parse(body: &[u8], base: &Url) -> Result<Playlist, MediaError> {
    if !looks_like_playlist(body) {
        return Err(MediaError::Playlist("no #EXTM3U header".into()));
    }
    let parsed = m3u8_rs::parse_playlist_res(body)
        .map_err(|_| MediaError::Playlist(format!("{base}: unparseable")))?;
    let resolve = |uri: &str| {
        base.join(uri.trim())
            .map_err(|e| MediaError::Playlist(format!("{uri:?}: {e}")))
    };
    match parsed {
        m3u8_rs::Playlist::MasterPlaylist(master) => {
            let variants = master
                .variants
                .iter()
                .filter(|v| !v.is_i_frame)
                .map(|v| {
                    Ok(Variant {
                        url: resolve(&v.uri)?,
                        bandwidth: v.bandwidth,
                    })
                })
                .collect::<Result<Vec<_>, MediaError>>()?;
            if variants.is_empty() {
                return Err(MediaError::Playlist("no variants".into()));
            }
            Ok(Playlist::Multivariant(variants))
        }
        m3u8_rs::Playlist::MediaPlaylist(media) => {
            let mut segments = Vec::with_capacity(media.segments.len());
            let mut init: Option<Resource> = None;
            // A BYTERANGE without an offset continues where the previous range of the same
            // resource ended (RFC 8216 §4.3.2.2).
            let mut next_offset: Option<(Url, u64)> = None;
            for (index, segment) in media.segments.iter().enumerate() {
                let n = media
                    .media_sequence
                    .checked_add(index as u64)
                    .ok_or_else(|| MediaError::Playlist("media sequence past 2^64".into()))?;
                if let Some(map) = &segment.map {
                    init = Some(Resource {
                        url: resolve(&map.uri)?,
                        range: map.byte_range.as_ref().map(|r| span(r, 0)).transpose()?,
                    });
                }
                let url = resolve(&segment.uri)?;
                let range = match &segment.byte_range {
                    None => None,
                    Some(r) => {
                        let follows = next_offset
                            .as_ref()
                            .filter(|(u, _)| *u == url)
                            .map_or(0, |(_, o)| *o);
                        Some(span(r, follows)?)
                    }
                };
                let duration_s = f64::from(segment.duration);
                if !(duration_s.is_finite() && duration_s >= 0.0) {
                    return Err(MediaError::Playlist(format!(
                        "{:?}: EXTINF duration {duration_s}",
                        segment.uri
                    )));
                }
                // `span` keeps last + 1 within u64.
                next_offset = range.map(|(_, last)| (url.clone(), last + 1));
                segments.push(Segment {
                    resource: Resource { url, range },
                    init: init.clone(),
                    duration_s,
                    sequence: n,
                });
            }
            Ok(Playlist::Media(MediaPlaylist {
                segments,
                target_duration_s: media.target_duration as f64,
                live: !media.end_list,
            }))
        }
    }
}

/// A BYTERANGE as first and last byte: refused when empty or when its end does not fit in u64.
fn span(range: &m3u8_rs::ByteRange, follows: u64) -> Result<ByteSpan, MediaError> {
    let first = range.offset.unwrap_or(follows);
    match first.checked_add(range.length) {
        Some(end) if range.length > 0 => Ok((first, end - 1)),
        _ => Err(MediaError::Playlist(format!(
            "BYTERANGE {}@{first}: empty or past 2^64",
            range.length
        ))),
    }
}

impl MediaPlaylist {
    pub fn duration_s(&self) -> f64 {
        self.segments.iter().map(|s| s.duration_s).sum()
    }

    /// Index of the first segment to play: 0 for VOD; for live, the last segment that starts
    /// at least three target durations before the end of the playlist (RFC 8216 §6.3.3).
    pub fn start_index(&self) -> usize {
        if !self.live {
            return 0;
        }
        let hold_back = 3.0 * self.target_duration_s;
        let mut from_end = 0.0;
        for (index, segment) in self.segments.iter().enumerate().rev() {
            from_end += segment.duration_s;
            if from_end >= hold_back - 1e-9 {
                return index;
            }
        }
        0
    }

    /// Index of the segment holding media time `time_s` (from the first segment).
    pub fn segment_at(&self, time_s: f64) -> usize {
        let mut end = 0.0;
        for (index, segment) in self.segments.iter().enumerate() {
            end += segment.duration_s;
            if time_s < end {
                return index;
            }
        }
        self.segments.len().saturating_sub(1)
    }

    /// Wait before reloading a live playlist (RFC 8216 §6.3.4): the target duration after a
    /// reload that brought new segments, half of it after one that did not.
    pub fn reload_after_s(&self, changed: bool) -> f64 {
        if changed {
            self.target_duration_s
        } else {
            self.target_duration_s / 2.0
        }
    }
}

/// `--variant`: which variant to start on and whether to adapt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VariantChoice {
    /// Start on the first listed variant, then adapt ([`super::abr`]).
    #[default]
    Auto,
    Lowest,
    Highest,
    /// The variant with exactly this `BANDWIDTH`.
    Bandwidth(u64),
}

impl std::str::FromStr for VariantChoice {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "auto" => Ok(Self::Auto),
            "lowest" => Ok(Self::Lowest),
            "highest" => Ok(Self::Highest),
            _ => text.parse().map(Self::Bandwidth).map_err(|_| {
                format!("{text:?}: expected auto, lowest, highest or a BANDWIDTH in bit/s")
            }),
        }
    }
}

impl VariantChoice {
    /// Index of the starting variant.
    pub fn pick(self, variants: &[Variant]) -> Result<usize, MediaError> {
        let by_bandwidth = || variants.iter().enumerate().map(|(i, v)| (v.bandwidth, i));
        match self {
            Self::Auto => Ok(0),
            Self::Lowest => Ok(by_bandwidth().min().map_or(0, |(_, i)| i)),
            Self::Highest => Ok(by_bandwidth().max().map_or(0, |(_, i)| i)),
            Self::Bandwidth(bandwidth) => variants
                .iter()
                .position(|v| v.bandwidth == bandwidth)
                .ok_or_else(|| {
                    MediaError::Playlist(format!("no variant with BANDWIDTH={bandwidth}"))
                }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asset(path: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/assets/media/{path}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    fn base(path: &str) -> Url {
        Url::parse(&format!("http://127.0.0.1:8080/media/{path}")).unwrap()
    }

    #[test]
    fn the_ladder_lists_three_variants_resolved_against_the_playlist() {
        let Playlist::Multivariant(variants) =
            parse(&asset("hls-ts/master.m3u8"), &base("hls-ts/master.m3u8")).unwrap()
        else {
            panic!()
        };
        let bandwidths: Vec<u64> = variants.iter().map(|v| v.bandwidth).collect();
        assert_eq!(bandwidths, [176_000, 105_600, 70_400]);
        assert_eq!(
            variants[1].url.as_str(),
            "http://127.0.0.1:8080/media/hls-ts/v1.m3u8"
        );
        assert_eq!(VariantChoice::Lowest.pick(&variants).unwrap(), 2);
        assert_eq!(VariantChoice::Highest.pick(&variants).unwrap(), 0);
        assert_eq!(
            "105600"
                .parse::<VariantChoice>()
                .unwrap()
                .pick(&variants)
                .unwrap(),
            1
        );
        assert!(VariantChoice::Bandwidth(1).pick(&variants).is_err());
    }

    #[test]
    fn fmp4_segments_carry_their_init_section() {
        let Playlist::Media(media) =
            parse(&asset("hls-fmp4/v0.m3u8"), &base("hls-fmp4/v0.m3u8")).unwrap()
        else {
            panic!()
        };
        assert_eq!(media.segments.len(), 12);
        assert!(!media.live);
        assert!((media.duration_s() - 24.0).abs() < 1e-6);
        for segment in &media.segments {
            let init = segment.init.as_ref().unwrap();
            assert!(
                init.url.as_str().ends_with("/hls-fmp4/init_0.mp4"),
                "{init:?}"
            );
        }
        assert_eq!(media.segment_at(5.0), 2);
    }

    #[test]
    fn byte_ranges_continue_from_the_previous_range_and_absolute_uris_stay() {
        let text = b"#EXTM3U\n#EXT-X-VERSION:4\n#EXT-X-TARGETDURATION:2\n\
            #EXTINF:2,\n#EXT-X-BYTERANGE:1000@0\nall.ts\n\
            #EXTINF:2,\n#EXT-X-BYTERANGE:500\nall.ts\n\
            #EXTINF:2,\nhttp://127.0.0.2:9/x.ts\n#EXT-X-ENDLIST\n";
        let Playlist::Media(media) = parse(text, &base("a/p.m3u8")).unwrap() else {
            panic!()
        };
        assert_eq!(media.segments[0].resource.range, Some((0, 999)));
        assert_eq!(media.segments[1].resource.range, Some((1000, 1499)));
        assert_eq!(
            media.segments[2].resource.url.as_str(),
            "http://127.0.0.2:9/x.ts"
        );
    }

    #[test]
    fn live_playback_starts_three_target_durations_from_the_end() {
        let mut text = String::from("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:40\n");
        for n in 0..10 {
            text.push_str(&format!("#EXTINF:2,\ns{n}.ts\n"));
        }
        let Playlist::Media(media) = parse(text.as_bytes(), &base("live.m3u8")).unwrap() else {
            panic!()
        };
        assert!(media.live);
        assert_eq!(media.start_index(), 7);
        assert_eq!(media.segments[7].sequence, 47);
        assert_eq!(media.reload_after_s(false), 1.0);
    }

    #[test]
    fn html_is_not_a_playlist() {
        assert!(parse(b"<html>", &base("x.m3u8")).is_err());
    }
}

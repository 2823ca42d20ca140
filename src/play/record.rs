//! The playback CSV: one row per session. Like the sample CSV, the column order here is the file
//! format and readers find columns by name.

use serde::{Deserialize, Serialize};

use crate::sample::{CacheStatus, ErrorClass};

/// Column names in file order.
pub const COLUMNS: [&str; 26] = [
    "started_at",
    "region",
    "target",
    "url",
    "session",
    "format",
    "http_version",
    "requests",
    "bytes",
    "media_duration_s",
    "dns_ms",
    "connect_ms",
    "tls_ms",
    "metadata_ms",
    "first_media_byte_ms",
    "startup_ms",
    "stalls",
    "stall_ms",
    "rebuffer_ratio",
    "watched_s",
    "seek_ms",
    "mean_bitrate_kbps",
    "switches",
    "cache",
    "pop",
    "error",
];

/// `--requests` adds these two columns after the sample columns.
pub const REQUEST_COLUMNS: [&str; 2] = ["session", "object"];

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    Mp4,
    Hls,
}

/// Cache state of a session's media requests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionCache {
    /// Every media response was a hit.
    Hit,
    Miss,
    /// Some hits, some misses.
    Mixed,
    #[default]
    Unknown,
}

impl SessionCache {
    /// From the cache statuses of the media responses (a refresh hit counts as a hit).
    pub fn of(statuses: &[CacheStatus]) -> Self {
        let hits = statuses
            .iter()
            .filter(|s| matches!(s, CacheStatus::Hit | CacheStatus::Refresh))
            .count();
        let misses = statuses.iter().filter(|s| **s == CacheStatus::Miss).count();
        match (hits, misses) {
            (0, 0) => Self::Unknown,
            (_, 0) => Self::Hit,
            (0, _) => Self::Miss,
            _ => Self::Mixed,
        }
    }
}

/// One playback session. Times are milliseconds from the session's start (`*_ms` of phases:
/// their duration); `None` is an empty cell (not reached, or not applicable).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PlaybackRow {
    pub started_at: String,
    pub region: String,
    pub target: String,
    pub url: String,
    /// 1-based per target.
    pub session: u64,
    pub format: Option<Format>,
    pub http_version: String,
    pub requests: u64,
    /// Body bytes received over all requests.
    pub bytes: u64,
    #[serde(serialize_with = "crate::sample::millis")]
    pub media_duration_s: Option<f64>,
    #[serde(serialize_with = "crate::sample::millis")]
    pub dns_ms: Option<f64>,
    #[serde(serialize_with = "crate::sample::millis")]
    pub connect_ms: Option<f64>,
    #[serde(serialize_with = "crate::sample::millis")]
    pub tls_ms: Option<f64>,
    /// Session start → `moov` parsed (MP4) or the media playlist parsed (HLS).
    #[serde(serialize_with = "crate::sample::millis")]
    pub metadata_ms: Option<f64>,
    #[serde(serialize_with = "crate::sample::millis")]
    pub first_media_byte_ms: Option<f64>,
    /// Session start → the startup buffer is complete: what the viewer waits.
    #[serde(serialize_with = "crate::sample::millis")]
    pub startup_ms: Option<f64>,
    pub stalls: u32,
    #[serde(serialize_with = "crate::sample::millis")]
    pub stall_ms: Option<f64>,
    /// stall_ms ÷ (watched media ms + stall_ms).
    #[serde(serialize_with = "crate::sample::millis")]
    pub rebuffer_ratio: Option<f64>,
    #[serde(serialize_with = "crate::sample::millis")]
    pub watched_s: Option<f64>,
    #[serde(serialize_with = "crate::sample::millis")]
    pub seek_ms: Option<f64>,
    #[serde(serialize_with = "crate::sample::millis")]
    pub mean_bitrate_kbps: Option<f64>,
    pub switches: u32,
    pub cache: SessionCache,
    pub pop: String,
    pub error: Option<ErrorClass>,
}

impl PlaybackRow {
    pub fn succeeded(&self) -> bool {
        self.error.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_the_serialized_field_order() {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.serialize(PlaybackRow::default()).unwrap();
        let text = String::from_utf8(writer.into_inner().unwrap()).unwrap();
        assert_eq!(text.lines().next().unwrap(), COLUMNS.join(","));
    }

    #[test]
    fn session_cache_summarises_the_media_responses() {
        use CacheStatus::*;
        assert_eq!(SessionCache::of(&[Hit, Refresh]), SessionCache::Hit);
        assert_eq!(SessionCache::of(&[Miss, Unknown]), SessionCache::Miss);
        assert_eq!(SessionCache::of(&[Hit, Miss]), SessionCache::Mixed);
        assert_eq!(SessionCache::of(&[]), SessionCache::Unknown);
    }
}

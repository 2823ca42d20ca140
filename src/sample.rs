//! The Sample record: one timed fetch, one CSV row. The column order here is the file format;
//! `report` and `check` read the columns by name.

use serde::{Deserialize, Serialize, Serializer};

/// Column names in file order.
pub const COLUMNS: [&str; 19] = [
    "started_at",
    "region",
    "target",
    "url",
    "sample",
    "http_version",
    "status",
    "remote_addr",
    "bytes",
    "dns_ms",
    "connect_ms",
    "tls_ms",
    "ttfb_ms",
    "download_ms",
    "total_ms",
    "throughput_mbps",
    "cache",
    "pop",
    "error",
];

/// One sample. Durations are milliseconds with microsecond precision; `None` is an empty cell
/// (a phase that was not performed, or not reached before an error).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// RFC 3339, UTC.
    pub started_at: String,
    pub region: String,
    pub target: String,
    /// As requested, with signatures and credentials redacted.
    pub url: String,
    /// 1-based per target.
    pub sample: u64,
    pub http_version: String,
    pub status: Option<u16>,
    pub remote_addr: String,
    /// Body bytes received.
    pub bytes: u64,
    #[serde(serialize_with = "millis")]
    pub dns_ms: Option<f64>,
    #[serde(serialize_with = "millis")]
    pub connect_ms: Option<f64>,
    #[serde(serialize_with = "millis")]
    pub tls_ms: Option<f64>,
    #[serde(serialize_with = "millis")]
    pub ttfb_ms: Option<f64>,
    #[serde(serialize_with = "millis")]
    pub download_ms: Option<f64>,
    #[serde(serialize_with = "millis")]
    pub total_ms: Option<f64>,
    #[serde(serialize_with = "millis")]
    pub throughput_mbps: Option<f64>,
    pub cache: CacheStatus,
    pub pop: String,
    pub error: Option<ErrorClass>,
}

impl Sample {
    pub fn succeeded(&self) -> bool {
        self.error.is_none()
    }
}

/// What the CDN said about its cache for this response.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CacheStatus {
    Hit,
    Miss,
    Refresh,
    #[default]
    Unknown,
}

/// Why a sample failed: one class per row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    Dns,
    Connect,
    Tls,
    Timeout,
    Reset,
    /// Body shorter than Content-Length.
    Truncated,
    Protocol,
    /// Status ≥ 400.
    HttpStatus,
    /// `play`: not playable media (not an MP4 or HLS playlist, no `moov` within the bound, an
    /// unparseable playlist, a missing variant, a playlist loop).
    Media,
}

/// Three decimals: microsecond precision for milliseconds.
fn millis<S: Serializer>(value: &Option<f64>, serializer: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => serializer.serialize_str(&format!("{v:.3}")),
        None => serializer.serialize_none(),
    }
}

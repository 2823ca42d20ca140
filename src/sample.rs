//! The Sample record: one timed fetch, one CSV row. The column order here is the file format;
//! `report` and `check` read the columns by name.

use serde::{Deserialize, Serialize, Serializer};

/// Column names in file order.
pub const COLUMNS: [&str; 26] = [
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
    "tls_version",
    "tls_cipher",
    "alpn",
    "cert_expires_at",
    "alt_svc_h3",
    "rtt_ms",
    "retransmits",
];

/// The columns every sample file has had since the first release; the connection facts after
/// `error` came later, and a file without them still reads (its cells are empty).
pub const REQUIRED_COLUMNS: &[&str] = COLUMNS.split_at(19).0;

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
    /// `1.2` or `1.3`; empty over plain HTTP.
    #[serde(default)]
    pub tls_version: String,
    /// The IANA name of the cipher suite (`TLS_AES_128_GCM_SHA256`).
    #[serde(default)]
    pub tls_cipher: String,
    /// The protocol agreed by ALPN (`h2`, `http/1.1`, `h3`); empty without ALPN.
    #[serde(default)]
    pub alpn: String,
    /// The leaf certificate's not-after, RFC 3339.
    #[serde(default)]
    pub cert_expires_at: String,
    /// Whether the response's `Alt-Svc` offered h3; empty when there was no response.
    #[serde(default)]
    pub alt_svc_h3: Option<YesNo>,
    /// The connection's smoothed round trip after the body: TCP's from `TCP_INFO`, QUIC's path
    /// RTT from quinn.
    #[serde(default, serialize_with = "millis")]
    pub rtt_ms: Option<f64>,
    /// TCP: segments retransmitted on the connection so far; QUIC: packets lost.
    #[serde(default)]
    pub retransmits: Option<u64>,
}

/// A yes/no cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum YesNo {
    Yes,
    No,
}

impl From<bool> for YesNo {
    fn from(yes: bool) -> Self {
        if yes { YesNo::Yes } else { YesNo::No }
    }
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
pub(crate) fn millis<S: Serializer>(value: &Option<f64>, serializer: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => serializer.serialize_str(&format!("{v:.3}")),
        None => serializer.serialize_none(),
    }
}

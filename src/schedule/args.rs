//! The options every probing command takes, flattened into its own arguments
//! (`#[command(flatten)]`). Options also settable in `--config` are `Option`s so that a flag
//! given on the command line can win over the file.

use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Default, clap::Args)]
pub struct ProbeArgs {
    /// A target to probe, as LABEL=URL (repeatable), e.g. `--target cloudfront=https://d1234.cloudfront.net/v.mp4`.
    #[arg(long = "target", value_name = "LABEL=URL")]
    pub targets: Vec<String>,
    /// A TOML file with `[[target]]` tables (label, url, optional headers) and defaults for the
    /// options below; command-line flags win.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Samples per target [default: 10].
    #[arg(long, value_name = "N")]
    pub samples: Option<u64>,
    /// Rounds fetched first and not recorded [default: 0].
    #[arg(long, value_name = "N")]
    pub warmup: Option<u64>,
    /// Pause between rounds, e.g. `500ms`, `2s`, or `2` (seconds) [default: none].
    #[arg(long, value_name = "DURATION", value_parser = super::config::parse_duration)]
    pub interval: Option<Duration>,
    /// Written into every row [default: this machine's host name].
    #[arg(long, value_name = "NAME")]
    pub region: Option<String>,
    /// Where rows go [default: stdout]: a CSV file (appended to, each row flushed as its sample
    /// ends), a .parquet file (written whole when the run ends), or an object-store prefix
    /// (s3://bucket/prefix, gs://, az://, file:///abs/dir): one object per run in the layout
    /// PREFIX/kind=…/date=…/region=…/RUN_ID.csv|parquet, rows spooled locally until then.
    #[arg(long, value_name = "FILE_OR_URL")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub sink: crate::sink::SinkArgs,
    /// Keep one connection per target: later samples skip DNS, connect and TLS (empty cells).
    #[arg(long)]
    pub reuse: bool,
    /// Add a unique query parameter to every sample's URL, forcing CDN cache misses.
    #[arg(long)]
    pub cache_bust: bool,
    /// DNS server to use instead of the system's, as IP or IP:PORT (repeatable).
    #[arg(long = "resolver", value_name = "IP[:PORT]")]
    pub resolvers: Vec<String>,
    /// IPv4 only.
    #[arg(short = '4', conflicts_with = "ipv6")]
    pub ipv4: bool,
    /// IPv6 only.
    #[arg(short = '6')]
    pub ipv6: bool,
    /// Speak HTTP/1.1 only.
    #[arg(long = "http1.1", conflicts_with_all = ["http2", "http3"])]
    pub http1_1: bool,
    /// Speak HTTP/2 only (h2 by ALPN; prior knowledge over plain http).
    #[arg(long, conflicts_with = "http3")]
    pub http2: bool,
    /// Speak HTTP/3 (QUIC) to every target; https URLs only.
    #[arg(long)]
    pub http3: bool,
    /// Probe the target with this label over HTTP/3 (repeatable), the others as the run says:
    /// `--target cf=URL --target cf-h3=URL --http3-target cf-h3` compares h2 and h3 on one URL.
    #[arg(long = "http3-target", value_name = "LABEL")]
    pub http3_targets: Vec<String>,
    /// Also trust the CA certificates in this PEM file.
    #[arg(long, value_name = "PEM")]
    pub cacert: Option<PathBuf>,
    /// Do not verify server certificates (never the default).
    #[arg(long)]
    pub insecure: bool,
    /// Per sample, from DNS lookup to last body byte, e.g. `5` (seconds), `1500ms` [default: 30s].
    #[arg(long, value_name = "DURATION", value_parser = super::config::parse_duration)]
    pub timeout: Option<Duration>,
    /// Extra request header, 'Name: value' (repeatable). Values never reach the CSV.
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// Stop reading the body after N bytes.
    #[arg(long, value_name = "N")]
    pub max_bytes: Option<u64>,
}

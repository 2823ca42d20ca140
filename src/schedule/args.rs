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
    /// Pause between rounds, e.g. `500ms`, `2s` [default: none].
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub interval: Option<Duration>,
    /// Written into every row [default: this machine's host name].
    #[arg(long, value_name = "NAME")]
    pub region: Option<String>,
    /// Append rows to this CSV file, each flushed as its sample ends [default: stdout].
    #[arg(long, value_name = "FILE.csv")]
    pub out: Option<PathBuf>,
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
    #[arg(long = "http1.1", conflicts_with = "http2")]
    pub http1_1: bool,
    /// Speak HTTP/2 only (h2 by ALPN; prior knowledge over plain http).
    #[arg(long)]
    pub http2: bool,
    /// Also trust the CA certificates in this PEM file.
    #[arg(long, value_name = "PEM")]
    pub cacert: Option<PathBuf>,
    /// Do not verify server certificates (never the default).
    #[arg(long)]
    pub insecure: bool,
    /// Per sample, from DNS lookup to last body byte [default: 30s].
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub timeout: Option<Duration>,
    /// Extra request header, 'Name: value' (repeatable). Values never reach the CSV.
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// Stop reading the body after N bytes.
    #[arg(long, value_name = "N")]
    pub max_bytes: Option<u64>,
}

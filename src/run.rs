//! `cdnprobe run`: check the arguments, then probe every target round-robin (A B A B …) so
//! drift on the path hits every target alike, writing each row the moment its sample ends,
//! and finish with a table per target.
//!
//! The pipeline: `RunArgs` (+ `--config`) → [`Plan`] (everything validated; bad input stops
//! here, before any file is touched) → samples ([`crate::probe`]) → CSV rows + histograms →
//! summary and exit code.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use http::{HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;
use url::Url;

use crate::error::UsageError;
use crate::probe::{Connection, DnsSettings, HttpChoice, IpFamily, Prober, TlsSettings, dns};
use crate::sample::{COLUMNS, CacheStatus, Sample};
use crate::stats::{MsHistogram, Phase};
use crate::usage_error;

const DEFAULT_SAMPLES: u64 = 10;
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Exit status after Ctrl-C, as shells report a process ended by SIGINT.
pub const EXIT_INTERRUPTED: u8 = 130;
/// Name of the query parameter `--cache-bust` adds.
pub const CACHE_BUST_PARAM: &str = "cdnprobe_bust";

/// Arguments of `cdnprobe run`. Options also settable in `--config` are `Option`s here so that
/// a flag given on the command line can win over the file.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(after_help = "\
Each row: started_at, region, target, url (secrets redacted), sample, http_version, status,
remote_addr, bytes, dns_ms, connect_ms, tls_ms, ttfb_ms, download_ms, total_ms,
throughput_mbps (megabits/s over download_ms), cache, pop, error.

Exit status: 0 the run finished; 1 every sample of some target failed; 2 bad arguments or
input files (nothing written); 130 interrupted (every finished row is kept).")]
pub struct RunArgs {
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
    /// Ask for bytes FIRST-LAST of the body (a Range header).
    #[arg(long, value_name = "FIRST-LAST")]
    pub range: Option<String>,
    /// Stop reading the body after N bytes.
    #[arg(long, value_name = "N")]
    pub max_bytes: Option<u64>,
}

/// One target of a run.
#[derive(Debug, Clone)]
pub struct Target {
    pub label: String,
    pub url: Url,
    /// Request headers for this target (`-H`, the config's, and Range).
    pub headers: HeaderMap,
}

/// A validated run: nothing here can be bad input any more.
pub struct Plan {
    pub targets: Vec<Target>,
    pub samples: u64,
    pub warmup: u64,
    pub interval: Duration,
    pub region: String,
    pub out: Option<PathBuf>,
    pub reuse: bool,
    pub cache_bust: bool,
    pub prober: Prober,
    /// Said once before the first sample: the lookups will be timed against a local cache.
    pub dns_warning: Option<String>,
}

pub async fn execute(args: RunArgs) -> anyhow::Result<ExitCode> {
    let plan = Plan::from_args(args)?;
    if let Some(warning) = &plan.dns_warning {
        eprintln!("{warning}");
    }
    let mut output = open_output(plan.out.as_deref())?;
    let mut totals: Vec<TargetSummary> = plan
        .targets
        .iter()
        .map(|t| TargetSummary::new(&t.label))
        .collect();
    let progress = progress_bar((plan.warmup + plan.samples) * plan.targets.len() as u64);

    let finished = tokio::select! {
        result = schedule(&plan, &mut output, &mut totals, &progress) => { result?; true }
        // If the handler cannot be installed, this branch is disabled and Ctrl-C kills as usual.
        Ok(()) = tokio::signal::ctrl_c() => false,
    };
    progress.finish_and_clear();
    print_summary(&totals, &plan);
    if !finished {
        eprintln!("cdnprobe: interrupted; every finished row is written");
        return Ok(ExitCode::from(EXIT_INTERRUPTED));
    }
    let all_failed: Vec<&str> = totals
        .iter()
        .filter(|t| t.attempts > 0 && t.successes == 0)
        .map(|t| t.label.as_str())
        .collect();
    if all_failed.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "cdnprobe: every sample failed for {}",
            all_failed.join(", ")
        );
        Ok(ExitCode::FAILURE)
    }
}

/// Warm-up rounds, then recorded rounds; targets interleaved within each round. Cancelling
/// this future (Ctrl-C) can only happen at an await, never in the middle of writing a row.
async fn schedule(
    plan: &Plan,
    output: &mut csv::Writer<Box<dyn Write + Send>>,
    totals: &mut [TargetSummary],
    progress: &indicatif::ProgressBar,
) -> anyhow::Result<()> {
    let mut kept: Vec<Option<Connection>> = plan.targets.iter().map(|_| None).collect();
    let mut bust_counter = 0u64;
    for round in 0..plan.warmup + plan.samples {
        if round > 0 && !plan.interval.is_zero() {
            tokio::time::sleep(plan.interval).await;
        }
        for (index, target) in plan.targets.iter().enumerate() {
            let mut url = target.url.clone();
            if plan.cache_bust {
                bust_counter += 1;
                url.query_pairs_mut()
                    .append_pair(CACHE_BUST_PARAM, &cache_bust_value(bust_counter));
            }
            let reuse_slot = &mut kept[index];
            let mut sample = plan.prober.fetch(&url, &target.headers, reuse_slot).await;
            if !plan.reuse {
                *reuse_slot = None;
            }
            progress.inc(1);
            if round < plan.warmup {
                continue;
            }
            sample.region = plan.region.clone();
            sample.target = target.label.clone();
            sample.sample = round - plan.warmup + 1;
            output.serialize(&sample).context("writing a CSV row")?;
            output.flush().context("writing a CSV row")?;
            totals[index].record(&sample);
        }
    }
    Ok(())
}

/// Unique across runs and samples: the clock in nanoseconds, then a counter.
fn cache_bust_value(counter: u64) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{nanos:x}-{counter}")
}

impl Plan {
    /// Checks every argument (and reads `--config` and `--cacert`) without touching `--out`.
    pub fn from_args(args: RunArgs) -> Result<Plan, UsageError> {
        let config = match &args.config {
            Some(path) => ConfigFile::read(path)?,
            None => ConfigFile::default(),
        };
        let mut common_headers = parse_headers(&config.headers)?;
        common_headers.extend(parse_headers(&args.headers)?);
        if let Some(range) = &args.range {
            let value = range_header(range)?;
            common_headers.insert(http::header::RANGE, value);
        }
        let targets = merge_targets(&config.target, &args.targets, &common_headers)?;
        if targets.is_empty() {
            return Err(UsageError::new(
                "no targets: give --target LABEL=URL (repeatable) or --config FILE",
            ));
        }
        let family = match (args.ipv4, args.ipv6) {
            (true, _) => IpFamily::V4,
            (_, true) => IpFamily::V6,
            _ => IpFamily::Any,
        };
        let http = match (args.http1_1, args.http2) {
            (true, _) => HttpChoice::Http1,
            (_, true) => HttpChoice::Http2,
            _ => HttpChoice::Auto,
        };
        let tls = TlsSettings::new(args.cacert.as_deref(), args.insecure, http.alpn())
            .map_err(|e| UsageError::new(e.to_string()))?;
        let needs_dns = targets.iter().any(|t| t.url.domain().is_some());
        let (dns, dns_warning) =
            dns_settings(&args.resolvers, &config.resolvers, family, needs_dns)?;
        let timeout = args
            .timeout
            .or(config.timeout.map(|t| t.0))
            .unwrap_or(DEFAULT_TIMEOUT);
        if timeout.is_zero() {
            return Err(UsageError::new("--timeout must be more than zero"));
        }
        let samples = args.samples.or(config.samples).unwrap_or(DEFAULT_SAMPLES);
        if samples == 0 {
            // Zero samples would "succeed" with empty tables and an empty CSV.
            return Err(UsageError::new("--samples must be at least 1"));
        }
        if let Some(out) = args.out.as_deref().filter(|out| out.is_dir()) {
            return Err(UsageError::new(format!(
                "--out {}: is a directory",
                out.display()
            )));
        }
        let region = args
            .region
            .or(config.region)
            .unwrap_or_else(|| gethostname::gethostname().to_string_lossy().into_owned());
        Ok(Plan {
            targets,
            samples,
            warmup: args.warmup.or(config.warmup).unwrap_or(0),
            interval: args
                .interval
                .or(config.interval.map(|i| i.0))
                .unwrap_or(Duration::ZERO),
            region,
            dns_warning,
            out: args.out,
            reuse: args.reuse || config.reuse.unwrap_or(false),
            cache_bust: args.cache_bust || config.cache_bust.unwrap_or(false),
            prober: Prober {
                dns,
                family,
                tls,
                http,
                timeout,
                max_bytes: args.max_bytes.or(config.max_bytes),
            },
        })
    }
}

/// The `--config` file. Every key is optional; flags given on the command line win.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default, alias = "targets")]
    target: Vec<ConfigTarget>,
    samples: Option<u64>,
    warmup: Option<u64>,
    interval: Option<HumanDuration>,
    timeout: Option<HumanDuration>,
    region: Option<String>,
    reuse: Option<bool>,
    cache_bust: Option<bool>,
    max_bytes: Option<u64>,
    /// Sent to every target, as `-H`.
    #[serde(default)]
    headers: Vec<String>,
    #[serde(default)]
    resolvers: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigTarget {
    label: String,
    url: String,
    #[serde(default)]
    headers: Vec<String>,
}

/// A duration written as humantime text in TOML (`"500ms"`).
#[derive(Debug, Clone, Copy)]
struct HumanDuration(Duration);

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        humantime::parse_duration(&text)
            .map(HumanDuration)
            .map_err(serde::de::Error::custom)
    }
}

impl ConfigFile {
    fn read(path: &Path) -> Result<Self, UsageError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| UsageError::new(format!("--config {}: {e}", path.display())))?;
        toml::from_str::<ConfigFile>(&text).map_err(|e| {
            // toml's own Display spans several lines; one line with file:line is enough.
            let line = e
                .span()
                .map_or(1, |span| text[..span.start].lines().count().max(1));
            let message = e.message().replace('\n', " ");
            UsageError::new(format!("{}:{line}: {}", path.display(), message.trim()))
        })
    }
}

/// Config targets, then command-line targets; a command-line target replaces a config target
/// with the same label. A label twice from the same source is an error.
fn merge_targets(
    from_config: &[ConfigTarget],
    from_flags: &[String],
    common_headers: &HeaderMap,
) -> Result<Vec<Target>, UsageError> {
    let mut targets: Vec<Target> = Vec::new();
    let mut config_labels = HashMap::new();
    for (index, entry) in from_config.iter().enumerate() {
        let mut headers = common_headers.clone();
        headers.extend(parse_headers(&entry.headers)?);
        let target = target(&entry.label, &entry.url, headers)?;
        if config_labels.insert(target.label.clone(), index).is_some() {
            return Err(UsageError::new(format!(
                "duplicate target label {:?} in --config",
                target.label
            )));
        }
        targets.push(target);
    }
    let mut flag_labels = HashMap::new();
    for spec in from_flags {
        let (label, url) = spec
            .split_once('=')
            .ok_or_else(|| UsageError::new(format!("--target {spec:?}: expected LABEL=URL")))?;
        let target = target(label, url, common_headers.clone())?;
        if flag_labels.insert(target.label.clone(), ()).is_some() {
            return Err(UsageError::new(format!(
                "duplicate target label {:?}",
                target.label
            )));
        }
        match config_labels.get(&target.label) {
            Some(&index) => targets[index] = target,
            None => targets.push(target),
        }
    }
    Ok(targets)
}

fn target(label: &str, url: &str, headers: HeaderMap) -> Result<Target, UsageError> {
    let label = label.trim();
    if label.is_empty() {
        return Err(UsageError::new(format!("target {url:?}: empty label")));
    }
    let parsed =
        Url::parse(url).map_err(|e| UsageError::new(format!("target {label}: {url:?}: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(UsageError::new(format!(
            "target {label}: unsupported scheme {:?} (use http or https)",
            parsed.scheme()
        )));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(UsageError::new(format!(
            "target {label}: {url:?} has no host"
        )));
    }
    Ok(Target {
        label: label.to_string(),
        url: parsed,
        headers,
    })
}

/// `Name: value` lines into a header map; a later header of the same name replaces an earlier.
fn parse_headers(lines: &[String]) -> Result<HeaderMap, UsageError> {
    let mut headers = HeaderMap::new();
    for (position, line) in (1..).zip(lines) {
        let bad = |why: &str| {
            // The value may be a secret, and a line without a colon may be nothing but the value:
            // show only the text before the first colon or space, and only when one follows it.
            let name = line
                .split([':', ' ', '\t'])
                .next()
                .filter(|name| !name.is_empty() && name.len() < line.len());
            match name {
                Some(name) => UsageError::new(format!("-H #{position} ({name}): {why}")),
                None => UsageError::new(format!("-H #{position}: {why}")),
            }
        };
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| bad("expected 'Name: value'"))?;
        let name = HeaderName::try_from(name.trim()).map_err(|_| bad("invalid header name"))?;
        let value = HeaderValue::try_from(value.trim()).map_err(|_| bad("invalid header value"))?;
        headers.insert(name, value);
    }
    Ok(headers)
}

/// `FIRST-LAST` (or `FIRST-` for the rest of the body) into a Range header value.
fn range_header(range: &str) -> Result<HeaderValue, UsageError> {
    let bad = || {
        UsageError::new(format!(
            "--range {range:?}: expected FIRST-LAST in bytes, FIRST ≤ LAST (e.g. 0-1048575)"
        ))
    };
    let (first, last) = range.split_once('-').ok_or_else(bad)?;
    let first: u64 = first.trim().parse().map_err(|_| bad())?;
    if !last.trim().is_empty() {
        let last: u64 = last.trim().parse().map_err(|_| bad())?;
        if last < first {
            return Err(bad());
        }
    }
    HeaderValue::try_from(format!("bytes={}", range.trim())).map_err(|_| bad())
}

fn dns_settings(
    from_flags: &[String],
    from_config: &[String],
    family: IpFamily,
    needs_dns: bool,
) -> Result<(DnsSettings, Option<String>), UsageError> {
    let given = if from_flags.is_empty() {
        from_config
    } else {
        from_flags
    };
    if given.is_empty() && needs_dns {
        let system = DnsSettings::system(family).map_err(|e| {
            UsageError::new(format!(
                "reading the system DNS configuration: {e} (give --resolver IP)"
            ))
        })?;
        let warning = local_cache_warning(&system);
        return Ok((system, warning));
    }
    let servers = given
        .iter()
        .map(|text| {
            dns::parse_server(text).ok_or_else(|| {
                UsageError::new(format!("--resolver {text:?}: expected IP or IP:PORT"))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((DnsSettings::servers(&servers, family), None))
}

/// The system resolver on this machine answers every lookup after the first from its own
/// cache, however fresh the probe's resolver is: `dns_ms` would not be a first-time viewer's.
fn local_cache_warning(system: &DnsSettings) -> Option<String> {
    let server = system.local_name_server()?;
    Some(format!(
        "cdnprobe: warning: the system resolver {server} is a cache on this machine, so dns_ms \
         after the first sample times its cache, not a first-time viewer's lookup; \
         give --resolver <upstream IP> to time real lookups"
    ))
}

/// The CSV sink: the `--out` file (appended; header only when new or empty) or stdout.
fn open_output(out: Option<&Path>) -> anyhow::Result<csv::Writer<Box<dyn Write + Send>>> {
    let (sink, needs_header): (Box<dyn Write + Send>, bool) = match out {
        Some(path) => {
            let file: File = OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| usage_error!("--out {}: {e}", path.display()))?;
            let empty = file.metadata().map(|m| m.len() == 0).unwrap_or(true);
            (Box::new(file), empty)
        }
        None => (Box::new(std::io::stdout()), true),
    };
    let mut writer = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(sink);
    if needs_header {
        writer.write_record(COLUMNS)?;
        writer.flush()?;
    }
    Ok(writer)
}

fn progress_bar(total: u64) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(total);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} samples (eta {eta})",
    ) {
        bar.set_style(style);
    }
    bar
}

/// What the end-of-run table shows for one target. Phase percentiles are over successful
/// samples only: a failed sample's phases describe a different event.
struct TargetSummary {
    label: String,
    attempts: u64,
    successes: u64,
    cache_hits: u64,
    phases: Vec<(Phase, MsHistogram)>,
}

impl TargetSummary {
    fn new(label: &str) -> Self {
        Self {
            label: label.to_string(),
            attempts: 0,
            successes: 0,
            cache_hits: 0,
            phases: Phase::MEASURED
                .iter()
                .map(|&p| (p, MsHistogram::default()))
                .collect(),
        }
    }

    fn record(&mut self, sample: &Sample) {
        self.attempts += 1;
        if !sample.succeeded() {
            return;
        }
        self.successes += 1;
        if sample.cache == CacheStatus::Hit {
            self.cache_hits += 1;
        }
        for (phase, histogram) in &mut self.phases {
            if let Some(ms) = phase.of(sample) {
                histogram.record(ms);
            }
        }
    }
}

fn print_summary(totals: &[TargetSummary], plan: &Plan) {
    let mut text = String::new();
    for (summary, target) in totals.iter().zip(&plan.targets) {
        text.push_str(&summary_table(summary, target));
    }
    eprint!("{text}");
}

fn summary_table(summary: &TargetSummary, target: &Target) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n{} ({}): {}/{} succeeded, {} cache hits",
        summary.label,
        crate::probe::redact::redact_url(&target.url),
        summary.successes,
        summary.attempts,
        summary.cache_hits
    );
    let _ = writeln!(
        out,
        "  {:<10} {:>10} {:>10} {:>10}   (successful samples)",
        "phase", "p50 ms", "p90 ms", "p99 ms"
    );
    for (phase, histogram) in &summary.phases {
        let cell = |q: f64| {
            if histogram.is_empty() {
                "-".to_string()
            } else {
                format!("{:.3}", histogram.quantile(q))
            }
        };
        let _ = writeln!(
            out,
            "  {:<10} {:>10} {:>10} {:>10}",
            phase.name(),
            cell(0.50),
            cell(0.90),
            cell(0.99)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_first_last_becomes_a_bytes_range() {
        assert_eq!(range_header("0-1023").unwrap(), "bytes=0-1023");
        assert_eq!(range_header("100-").unwrap(), "bytes=100-");
    }

    #[test]
    fn range_with_last_before_first_is_rejected() {
        assert!(range_header("10-5").is_err());
        assert!(range_header("abc").is_err());
        assert!(range_header("-5").is_err());
    }

    #[test]
    fn header_error_does_not_echo_the_value() {
        let error = parse_headers(&["Authorization: Bearer s3cr\x01t".into()]).unwrap_err();
        assert!(!error.to_string().contains("s3cr"), "{error}");
        // Without the colon the whole line is not a name: it must not be echoed either.
        let lines = ["X-Ok: 1".into(), "Authorization Bearer s3cretvalue".into()];
        let error = parse_headers(&lines).unwrap_err().to_string();
        assert!(!error.contains("s3cret"), "{error}");
        assert!(!error.contains("Bearer"), "{error}");
        assert_eq!(error, "-H #2 (Authorization): expected 'Name: value'");
        // A lone token may be the secret itself: only its position is named.
        let error = parse_headers(&["s3cretvalue".into()])
            .unwrap_err()
            .to_string();
        assert_eq!(error, "-H #1: expected 'Name: value'");
    }

    #[test]
    fn a_local_system_resolver_is_warned_about_naming_it_and_the_way_out() {
        let systemd = DnsSettings::from_resolv_conf("nameserver 127.0.0.53\n");
        let warning = local_cache_warning(&systemd).unwrap();
        assert!(warning.contains("127.0.0.53"), "{warning}");
        assert!(warning.contains("--resolver <upstream IP>"), "{warning}");
        assert_eq!(warning.lines().count(), 1, "{warning}");
        let remote = DnsSettings::from_resolv_conf("nameserver 10.255.255.53\n");
        assert_eq!(local_cache_warning(&remote), None);
    }

    #[test]
    fn a_resolver_the_user_gave_is_never_warned_about_even_on_loopback() {
        let given = ["127.0.0.1:5353".to_string()];
        let (_, warning) = dns_settings(&given, &[], IpFamily::Any, true).unwrap();
        assert_eq!(warning, None);
        let (_, warning) = dns_settings(&[], &given, IpFamily::Any, true).unwrap();
        assert_eq!(warning, None);
    }

    #[test]
    fn targets_by_ip_address_are_never_warned_about() {
        let (_, warning) = dns_settings(&[], &[], IpFamily::Any, false).unwrap();
        assert_eq!(warning, None);
    }

    #[test]
    fn command_line_target_replaces_the_config_target_with_its_label() {
        let config = vec![
            ConfigTarget {
                label: "s3".into(),
                url: "https://origin.example/v.mp4".into(),
                headers: vec!["X-From: config".into()],
            },
            ConfigTarget {
                label: "cloudfront".into(),
                url: "https://cdn.example/v.mp4".into(),
                headers: vec![],
            },
        ];
        let flags = vec!["s3=https://other.example/v.mp4".to_string()];
        let targets = merge_targets(&config, &flags, &HeaderMap::new()).unwrap();
        let labels: Vec<_> = targets.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, ["s3", "cloudfront"]);
        assert_eq!(targets[0].url.as_str(), "https://other.example/v.mp4");
        assert!(targets[0].headers.get("x-from").is_none());
    }

    #[test]
    fn config_file_reads_targets_headers_and_durations() {
        let file: ConfigFile = toml::from_str(
            r#"
            samples = 5
            interval = "500ms"
            [[target]]
            label = "s3"
            url = "https://origin.example/v.mp4"
            headers = ["X-Token: abc"]
            "#,
        )
        .unwrap();
        assert_eq!(file.samples, Some(5));
        assert_eq!(file.interval.unwrap().0, Duration::from_millis(500));
        assert_eq!(file.target[0].headers, ["X-Token: abc"]);
    }
}

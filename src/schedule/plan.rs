//! A validated probing plan: every argument and the config file checked, `--cacert` read,
//! nothing touched on disk yet. Bad input stops here with a [`UsageError`] (exit 2).

use std::path::PathBuf;
use std::time::Duration;

use http::HeaderMap;

use super::args::ProbeArgs;
use super::config::ConfigFile;
use super::resolver::dns_settings;
use super::targets::{Target, apply_http3_labels, check_http3_urls, merge_targets, parse_headers};
use crate::error::UsageError;
use crate::probe::{HttpChoice, IpFamily, Prober, TlsSettings};

const DEFAULT_SAMPLES: u64 = 10;
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Plan {
    pub targets: Vec<Target>,
    pub samples: u64,
    pub warmup: u64,
    pub interval: Duration,
    pub region: String,
    pub out: Option<PathBuf>,
    pub reuse: bool,
    pub cache_bust: bool,
    /// The run-wide prober.
    pub prober: Prober,
    /// One per target, in `targets` order: the run-wide prober, or one for the target's own
    /// HTTP version. Fetch with [`Plan::prober_for`].
    target_probers: Vec<Prober>,
    /// Said once before the first sample: the lookups will be timed against a local cache.
    pub dns_warning: Option<String>,
}

impl Plan {
    /// Checks `args` against `config` (flags win). `command_headers` go to every target after
    /// the config's and `-H`'s (e.g. `run --range`).
    pub fn new(
        args: &ProbeArgs,
        config: &ConfigFile,
        command_headers: HeaderMap,
    ) -> Result<Plan, UsageError> {
        let mut common_headers = parse_headers(&config.headers)?;
        common_headers.extend(parse_headers(&args.headers)?);
        common_headers.extend(command_headers);
        let mut targets = merge_targets(&config.target, &args.targets, &common_headers)?;
        apply_http3_labels(&mut targets, &args.http3_targets)?;
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
        let http = match (args.http1_1, args.http2, args.http3) {
            (true, _, _) => HttpChoice::Http1,
            (_, true, _) => HttpChoice::Http2,
            (_, _, true) => HttpChoice::Http3,
            _ => HttpChoice::Auto,
        };
        check_http3_urls(&targets, http)?;
        let tls_for = |http: HttpChoice| {
            TlsSettings::new(args.cacert.as_deref(), args.insecure, http.alpn())
                .map_err(|e| UsageError::new(e.to_string()))
        };
        let tls = tls_for(http)?;
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
            .clone()
            .or(config.region.clone())
            .unwrap_or_else(|| gethostname::gethostname().to_string_lossy().into_owned());
        let prober = Prober {
            dns,
            family,
            tls,
            http,
            timeout,
            max_bytes: args.max_bytes.or(config.max_bytes),
        };
        let target_probers = targets
            .iter()
            .map(|target| match target.http {
                Some(own) if own != http => Ok(Prober {
                    tls: tls_for(own)?,
                    http: own,
                    ..prober.clone()
                }),
                _ => Ok(prober.clone()),
            })
            .collect::<Result<_, UsageError>>()?;
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
            out: args.out.clone(),
            reuse: args.reuse || config.reuse.unwrap_or(false),
            cache_bust: args.cache_bust || config.cache_bust.unwrap_or(false),
            prober,
            target_probers,
        })
    }

    /// The prober for the target at `index` of `targets` (its own HTTP version, if it has one).
    pub fn prober_for(&self, index: usize) -> &Prober {
        &self.target_probers[index]
    }

    /// Every fetch the plan makes, warm-up included (for the progress bar).
    pub fn total_slots(&self) -> u64 {
        (self.warmup + self.samples) * self.targets.len() as u64
    }
}

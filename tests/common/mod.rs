//! Shared pieces of the `run_*` integration tests: a lab on loopback (DNS, CA, fixture servers)
//! and ways to run `cdnprobe run` and read its rows back.
#![allow(dead_code)] // each test binary uses a different subset

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use cdnprobe::cli::{Cli, Command};
use cdnprobe::lab::dns::{DnsRecord, DnsServer};
use cdnprobe::lab::fixture::h3::H3FixtureServer;
use cdnprobe::lab::fixture::{FixtureConfig, FixtureServer};
use cdnprobe::lab::tls::{ALPN_H2_AND_HTTP1, ALPN_HTTP1, TestCa};
use cdnprobe::sample::Sample;
use clap::Parser;

/// The delay tests inject into one phase.
pub const INJECTED: Duration = Duration::from_millis(200);
/// How far above the injected delay a phase may land on a loaded 2-core CI machine.
pub const TOLERANCE_MS: f64 = 150.0;
/// Phases with nothing injected must stay below this.
pub const FAR_BELOW_MS: f64 = 100.0;

pub const HOST: &str = "cdn.lab.test";
pub const SLOW_DNS_HOST: &str = "slow-dns.lab.test";
/// Has both an A (127.0.0.1) and an AAAA (::1) record.
pub const DUAL_STACK_HOST: &str = "dual.lab.test";

/// DNS for the lab names, a CA and a scratch directory holding its `ca.pem`.
pub struct Lab {
    pub dns: DnsServer,
    pub ca: TestCa,
    pub dir: tempfile::TempDir,
}

impl Lab {
    pub fn start() -> Lab {
        let loopback = vec![IpAddr::from([127, 0, 0, 1])];
        let dns = DnsServer::start(vec![
            DnsRecord::new(HOST, loopback.clone()),
            DnsRecord::new(SLOW_DNS_HOST, loopback.clone()).with_delay(INJECTED),
            DnsRecord::new(
                DUAL_STACK_HOST,
                vec![loopback[0], IpAddr::from(std::net::Ipv6Addr::LOCALHOST)],
            ),
        ])
        .expect("lab DNS starts");
        let ca = TestCa::new().expect("lab CA");
        let dir = tempfile::tempdir().expect("scratch directory");
        ca.write_ca_pem(&dir.path().join("ca.pem"))
            .expect("ca.pem written");
        Lab { dns, ca, dir }
    }

    pub fn ca_pem(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    pub fn out(&self) -> PathBuf {
        self.dir.path().join("samples.csv")
    }

    /// An HTTPS fixture with a certificate for the lab names (h2 and http/1.1 by ALPN).
    pub async fn https(&self, config: FixtureConfig) -> FixtureServer {
        self.https_for(&[HOST, SLOW_DNS_HOST], true, config).await
    }

    pub async fn https_for(
        &self,
        names: &[&str],
        h2: bool,
        config: FixtureConfig,
    ) -> FixtureServer {
        let alpn = if h2 { ALPN_H2_AND_HTTP1 } else { ALPN_HTTP1 };
        let tls = self.ca.server_config(names, alpn).expect("server config");
        start_fixture(FixtureConfig {
            tls: Some(tls),
            host: Some(HOST.into()),
            ..config
        })
        .await
    }

    /// An HTTP/3 fixture (UDP) with a certificate for the lab names, on a runtime of its own.
    pub async fn h3(&self, config: FixtureConfig) -> H3FixtureServer {
        self.h3_on("127.0.0.1:0", &[HOST, SLOW_DNS_HOST], config)
            .await
    }

    /// [`Lab::h3`] on a given UDP address, with a certificate for `names`.
    pub async fn h3_on(
        &self,
        bind: &str,
        names: &[&str],
        config: FixtureConfig,
    ) -> H3FixtureServer {
        let tls = self
            .ca
            .server_config(names, &["h3"])
            .expect("server config");
        H3FixtureServer::start_on_own_runtime(
            bind.parse().expect("a socket address"),
            FixtureConfig {
                tls: Some(tls),
                host: Some(HOST.into()),
                ..config
            },
        )
        .await
        .expect("h3 fixture starts")
    }

    /// A plain-HTTP fixture reached by the lab name.
    pub async fn http(&self, config: FixtureConfig) -> FixtureServer {
        start_fixture(FixtureConfig {
            host: Some(HOST.into()),
            ..config
        })
        .await
    }

    /// A plain-HTTP fixture that keeps every request for inspection.
    pub async fn http_recording_requests(&self) -> FixtureServer {
        self.http(FixtureConfig {
            record_requests: true,
            ..Default::default()
        })
        .await
    }

    /// `run` with the lab's resolver, CA and output file, then `extra` arguments.
    pub fn args(&self, extra: &[&str]) -> Vec<String> {
        let mut args: Vec<String> = vec![
            "run".into(),
            "--resolver".into(),
            self.dns.addr().to_string(),
            "--cacert".into(),
            self.ca_pem().display().to_string(),
            "--region".into(),
            "lab".into(),
            "--out".into(),
            self.out().display().to_string(),
        ];
        args.extend(extra.iter().map(|a| a.to_string()));
        args
    }

    /// Runs `cdnprobe run` in this process with [`Lab::args`]; returns the exit code and rows.
    pub async fn run(&self, extra: &[&str]) -> (ExitCode, Vec<Sample>) {
        let code = run_in_process(&self.args(extra)).await;
        (code, read_rows(&self.out()))
    }
}

/// A fixture on 127.0.0.1 with a runtime and thread of its own: its TLS and HTTP work never
/// runs on the probe's runtime, where it would fall between the phases the probe times.
pub async fn start_fixture(config: FixtureConfig) -> FixtureServer {
    start_fixture_on("127.0.0.1:0", config).await
}

/// [`start_fixture`] on a given address (`[::1]:0` for IPv6).
pub async fn start_fixture_on(bind: &str, config: FixtureConfig) -> FixtureServer {
    let bind = bind.parse().expect("a socket address");
    FixtureServer::start_on_own_runtime(bind, config)
        .await
        .expect("fixture starts")
}

/// Parses `args` (without the program name) as the command line would, and runs them.
pub async fn run_in_process(args: &[String]) -> ExitCode {
    let argv = std::iter::once("cdnprobe".to_string()).chain(args.iter().cloned());
    let Command::Run(run_args) = Cli::try_parse_from(argv).expect("valid arguments").command else {
        panic!("not a run command");
    };
    cdnprobe::run::execute(run_args)
        .await
        .expect("run finishes")
}

/// Every row of a sample CSV; panics on a row that does not parse.
pub fn read_rows(path: &Path) -> Vec<Sample> {
    let mut reader = csv::Reader::from_path(path).expect("CSV exists");
    reader
        .deserialize()
        .map(|row| row.expect("row parses"))
        .collect()
}

/// The only row of a one-sample run.
pub async fn one_sample(lab: &Lab, url: &str, extra: &[&str]) -> Sample {
    let target = format!("t={url}");
    let mut args = vec!["--samples", "1", "--target", target.as_str()];
    args.extend_from_slice(extra);
    let (_, mut rows) = lab.run(&args).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    rows.remove(0)
}

/// Asserts the phase got the injected delay (and not much more).
pub fn assert_injected(phase: &str, value: Option<f64>) {
    assert_injected_within(phase, value, 0.0);
}

/// [`assert_injected`], letting the phase measure up to `under_ms` below the injection.
pub fn assert_injected_within(phase: &str, value: Option<f64>, under_ms: f64) {
    let ms = value.unwrap_or_else(|| panic!("{phase} is empty"));
    let injected = INJECTED.as_secs_f64() * 1e3;
    assert!(
        ms >= injected - under_ms,
        "{phase} {ms} ms < injected {injected} − {under_ms} ms"
    );
    assert!(
        ms < injected + TOLERANCE_MS,
        "{phase} {ms} ms ≥ injected {injected} + {TOLERANCE_MS} ms"
    );
}

/// Asserts a phase with nothing injected stayed far below the injected delay.
pub fn assert_quick(phase: &str, value: Option<f64>) {
    let ms = value.unwrap_or_else(|| panic!("{phase} is empty"));
    assert!(
        ms < FAR_BELOW_MS,
        "{phase} {ms} ms should be < {FAR_BELOW_MS} ms"
    );
}

/// Asserts the sample succeeded, `slow` got the injected delay and every other phase of a
/// fresh HTTPS fetch stayed far below it.
pub fn assert_delay_only_in(s: &Sample, slow: &str) {
    assert_delay_only_in_within(s, slow, 0.0);
}

/// [`assert_delay_only_in`], letting `slow` measure up to `under_ms` below the injection.
pub fn assert_delay_only_in_within(s: &Sample, slow: &str, under_ms: f64) {
    assert_eq!(s.error, None, "{s:?}");
    let phases = [
        ("dns", s.dns_ms),
        ("connect", s.connect_ms),
        ("tls", s.tls_ms),
        ("ttfb", s.ttfb_ms),
        ("download", s.download_ms),
    ];
    for (phase, value) in phases {
        if phase == slow {
            assert_injected_within(phase, value, under_ms);
        } else {
            assert_quick(phase, value);
        }
    }
}

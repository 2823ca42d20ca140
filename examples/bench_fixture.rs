//! The delay-injecting HTTPS server of the phase-agreement benchmark (`benches/compare.sh`,
//! comparison 2): `cdnprobe::lab::fixture` on 127.0.0.1 with a throwaway CA, every response
//! delayed the same known way. Writes the CA certificate (for `--cacert` of curl and cdnprobe),
//! prints the URL to fetch on stdout and serves until killed.
//!
//! `bench_fixture --ca-pem FILE --tls-delay-ms N --head-delay-ms N --bytes N --chunk N --chunk-delay-ms N [--http3 yes]`
//!
//! With `--http3 yes` the same responses are also served over HTTP/3 on the same port (UDP), as
//! CloudFront does (benches/h3.sh); the TLS delay then holds the server's handshake datagrams
//! after its first (see `lab::fixture::h3`), so it lands in `tls_ms` as over TCP.
//!
//! The body is paced at `chunk / chunk-delay` bytes per second against the body's start, so the
//! first frame leaves with the head and frame k (0-based) is due k × chunk-delay later; pacing
//! against the start keeps timer slack from adding up.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use cdnprobe::lab::fixture::h3::H3FixtureServer;
use cdnprobe::lab::fixture::{Behaviour, FixtureConfig, FixtureServer, Throttle};
use cdnprobe::lab::tls::{ALPN_H2_AND_HTTP1, TestCa};

struct Options {
    ca_pem: PathBuf,
    tls_delay: Duration,
    head_delay: Duration,
    bytes: u64,
    chunk: usize,
    chunk_delay: Duration,
    http3: bool,
}

fn parse(mut args: impl Iterator<Item = String>) -> anyhow::Result<Options> {
    let mut options = Options {
        ca_pem: PathBuf::new(),
        tls_delay: Duration::ZERO,
        head_delay: Duration::ZERO,
        bytes: 64 * 1024,
        chunk: 16 * 1024,
        chunk_delay: Duration::ZERO,
        http3: false,
    };
    let millis = |v: String| -> anyhow::Result<Duration> { Ok(Duration::from_millis(v.parse()?)) };
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--ca-pem" => options.ca_pem = value.into(),
            "--tls-delay-ms" => options.tls_delay = millis(value)?,
            "--head-delay-ms" => options.head_delay = millis(value)?,
            "--bytes" => options.bytes = value.parse()?,
            "--chunk" => options.chunk = value.parse()?,
            "--chunk-delay-ms" => options.chunk_delay = millis(value)?,
            "--http3" => options.http3 = value == "yes",
            _ => bail!("unknown argument {flag}"),
        }
    }
    if options.ca_pem.as_os_str().is_empty() {
        bail!("--ca-pem FILE is required");
    }
    Ok(options)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = parse(std::env::args().skip(1))?;
    let ca = TestCa::new()?;
    ca.write_ca_pem(&options.ca_pem)
        .with_context(|| format!("writing {}", options.ca_pem.display()))?;
    let throttle = if options.chunk_delay.is_zero() {
        Throttle::None
    } else {
        let rate = options.chunk as f64 / options.chunk_delay.as_secs_f64();
        Throttle::BytesPerSecond(rate.round() as u64)
    };
    let config = FixtureConfig {
        tls: Some(ca.server_config(&["127.0.0.1"], ALPN_H2_AND_HTTP1)?),
        tls_handshake_delay: options.tls_delay,
        behaviour: Behaviour {
            body_len: options.bytes,
            head_delay: options.head_delay,
            throttle,
            chunk: options.chunk,
            ..Behaviour::default()
        },
        ..FixtureConfig::default()
    };
    let h3_config = options.http3.then(|| config.clone());
    let server = FixtureServer::start(config).await?;
    let _h3 = match h3_config {
        Some(config) => Some(H3FixtureServer::start_on(server.addr(), config).await?),
        None => None,
    };
    let mut stdout = std::io::stdout();
    writeln!(stdout, "{}", server.url("/video.mp4"))?;
    stdout.flush()?;
    std::future::pending::<()>().await;
    Ok(())
}

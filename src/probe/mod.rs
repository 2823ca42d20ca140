//! One timed fetch: DNS (hickory-resolver), TCP (tokio), TLS (tokio-rustls), HTTP (hyper client
//! connection API). Produces one `Sample`.
//!
//! Each phase is timed around exactly the operation it names, with the monotonic clock
//! (`Instant`). Phases do not overlap; what falls between them (building the request,
//! spawning the connection task) is the harness's own overhead, the gap between `total_ms`
//! and the sum of the phases.
//!
//! `ttfb_ms` starts when the request is handed to hyper, so it includes writing the request
//! (microseconds), as curl's `time_starttransfer − time_pretransfer` does. On failure, the
//! phases finished keep their times, the phase that failed holds the time until it failed
//! (empty when the failure is the timeout, which cancels it), and `total_ms` runs from the
//! start to the failure.

pub mod cache;
pub mod conn_info;
pub mod connect;
pub mod dns;
pub mod http;
pub mod quic;
mod quic_memory;
pub(crate) mod quic_socket;
mod quic_suite;
pub mod redact;
mod request;
pub mod stream;
pub mod transport;

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use ::http::{HeaderMap, HeaderValue, header};
use url::Url;

use self::conn_info::{TcpInfoSource, TlsFacts};
pub use self::connect::{TlsSettings, TlsSetupError};
pub use self::dns::{DnsSettings, IpFamily};
use self::http::Sender;
use self::request::build_request;
use self::transport::Transport;
use crate::sample::{ErrorClass, Sample};

/// Which HTTP version to speak (in a config file: `http = "auto" | "1.1" | "2" | "3"`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
pub enum HttpChoice {
    /// HTTPS: offer h2 and http/1.1 by ALPN, speak what the server picks. HTTP: 1.1.
    #[default]
    #[serde(rename = "auto")]
    Auto,
    /// `--http1.1`.
    #[serde(rename = "1.1")]
    Http1,
    /// `--http2`: offered alone by ALPN; over plain HTTP, h2 with prior knowledge.
    #[serde(rename = "2")]
    Http2,
    /// `--http3`: QUIC (HTTPS URLs only).
    #[serde(rename = "3")]
    Http3,
}

impl HttpChoice {
    pub fn alpn(self) -> &'static [&'static [u8]] {
        match self {
            HttpChoice::Auto => &[b"h2", b"http/1.1"],
            HttpChoice::Http1 => &[b"http/1.1"],
            HttpChoice::Http2 => &[b"h2"],
            // The TCP connector is not used for h3; QUIC offers `h3` (see `TlsSettings`).
            HttpChoice::Http3 => &[b"h2", b"http/1.1"],
        }
    }
}

/// Everything a fetch needs besides the URL; built once per run.
#[derive(Clone)]
pub struct Prober {
    pub dns: DnsSettings,
    pub family: IpFamily,
    pub tls: TlsSettings,
    pub http: HttpChoice,
    /// Per sample, from the start of the DNS lookup to the last body byte.
    pub timeout: Duration,
    /// Stop reading the body after this many bytes.
    pub max_bytes: Option<u64>,
}

/// An open connection kept between samples with `--reuse`.
pub struct Connection {
    transport: Transport,
    remote_addr: SocketAddr,
    tls: TlsFacts,
}

impl Connection {
    /// The path's round trip and losses so far (TCP_INFO or quinn), into the sample.
    fn write_path_into(&self, sample: &mut Sample) {
        if let Some((rtt, retransmits)) = self.transport.path() {
            sample.rtt_ms = Some(rtt);
            sample.retransmits = Some(retransmits);
        }
    }
}

/// A response whose head has arrived.
struct Head {
    connection: Connection,
    body: transport::Body,
    received: Instant,
    content_length: Option<u64>,
    content_type: Option<String>,
}

/// Fetches `url` once as a first-time viewer (fresh lookup, connection and handshake) and
/// returns the sample; `target`, `region` and `sample` are left for the caller.
pub async fn probe_url(prober: &Prober, url: &Url, headers: &HeaderMap) -> Sample {
    prober.fetch(url, headers, &mut None).await
}

impl Prober {
    /// Fetches `url` with extra request `headers`. With a connection in `kept` (`--reuse`), it
    /// is used if still open, and the phases not performed stay empty; a fresh connection is
    /// left in `kept` for the next sample when the response was read to its end. A kept
    /// connection that fails before any response is retried once on a fresh connection.
    pub async fn fetch(
        &self,
        url: &Url,
        headers: &HeaderMap,
        kept: &mut Option<Connection>,
    ) -> Sample {
        let mut reused = kept.take();
        if let Some(connection) = &mut reused
            && !connection.transport.is_usable().await
        {
            reused = None;
        }
        let Some(connection) = reused else {
            return self.fetch_on(url, headers, None, kept).await;
        };
        let sample = self.fetch_on(url, headers, Some(connection), kept).await;
        let failed_before_response = sample.status.is_none()
            && sample
                .error
                .is_some_and(|class| class != ErrorClass::Timeout);
        if failed_before_response {
            // The server closed the idle connection and hyper had not noticed yet: a failure
            // of the kept connection, not of the target. Retry once on a fresh connection, as
            // a browser would, and record that fetch instead.
            return self.fetch_on(url, headers, None, kept).await;
        }
        sample
    }

    /// One fetch on `reused`, or on a fresh connection when it is `None`.
    async fn fetch_on(
        &self,
        url: &Url,
        headers: &HeaderMap,
        reused: Option<Connection>,
        kept: &mut Option<Connection>,
    ) -> Sample {
        let mut sample = Sample {
            url: redact::redact_url(url),
            ..Sample::default()
        };
        let resolver = match self.resolver_for(url, reused.is_some()) {
            Ok(resolver) => resolver,
            Err(class) => {
                sample.started_at = now_rfc3339();
                sample.error = Some(class);
                return sample;
            }
        };

        sample.started_at = now_rfc3339();
        let start = Instant::now();
        let fetch = self.attempt(url, headers, reused, resolver, &mut sample, start);
        let outcome = tokio::time::timeout(self.timeout, fetch).await;
        let ended = Instant::now();
        match outcome {
            Ok(Ok(connection)) => *kept = connection,
            Ok(Err(class)) => sample.error = Some(class),
            Err(_elapsed) => sample.error = Some(ErrorClass::Timeout),
        }
        if sample.total_ms.is_none() {
            sample.total_ms = Some(ms(start, ended));
        }
        settle(&mut sample);
        sample
    }

    /// A fresh resolver for a fetch that will look `url` up; built before the clock starts:
    /// setting the resolver up is not part of the lookup.
    fn resolver_for(
        &self,
        url: &Url,
        reusing: bool,
    ) -> Result<Option<hickory_resolver::TokioResolver>, ErrorClass> {
        if reusing || literal_ip(url).is_some() {
            return Ok(None);
        }
        self.dns
            .fresh_resolver()
            .map(Some)
            .map_err(|_| ErrorClass::Dns)
    }

    /// The fetch itself. Writes each phase into `sample` the moment it ends, so a timeout
    /// (which drops this future) keeps the phases already finished.
    async fn attempt(
        &self,
        url: &Url,
        extra_headers: &HeaderMap,
        reused: Option<Connection>,
        resolver: Option<hickory_resolver::TokioResolver>,
        sample: &mut Sample,
        start: Instant,
    ) -> Result<Option<Connection>, ErrorClass> {
        let mut head = self
            .head(url, extra_headers, reused, resolver, sample, start)
            .await?;
        let drained = head
            .body
            .drain(self.max_bytes, &mut sample.bytes, head.content_length);
        let outcome = drained.await;
        let last_byte = Instant::now();
        sample.download_ms = Some(ms(head.received, last_byte));
        sample.total_ms = Some(ms(start, last_byte));
        head.connection.write_path_into(sample);
        let read_to_end = outcome?;
        if read_to_end
            && head
                .content_length
                .is_some_and(|expected| sample.bytes < expected)
        {
            return Err(ErrorClass::Truncated);
        }
        // A body left unread makes an HTTP/1.1 connection useless for the next request.
        Ok(read_to_end.then_some(head.connection))
    }

    /// Connection (reused or new), request, response head: everything before the body.
    async fn head(
        &self,
        url: &Url,
        extra_headers: &HeaderMap,
        reused: Option<Connection>,
        resolver: Option<hickory_resolver::TokioResolver>,
        sample: &mut Sample,
        start: Instant,
    ) -> Result<Head, ErrorClass> {
        let host = url.host_str().ok_or(ErrorClass::Connect)?;
        let mut connection = match reused {
            Some(connection) => connection,
            None => self.connect(url, host, resolver, sample, start).await?,
        };
        sample.remote_addr = connection.remote_addr.to_string();
        connection.tls.write_into(sample);
        let request = build_request(url, extra_headers, connection.transport.version());

        let request_sent = Instant::now();
        let response = connection.transport.send(request).await;
        let received = Instant::now();
        let response = response?;
        sample.ttfb_ms = Some(ms(request_sent, received));
        sample.status = Some(response.status().as_u16());
        sample.http_version = http::version_label(response.version()).to_string();
        sample.cache = cache::cache_status(response.headers());
        sample.pop = cache::pop(response.headers());
        sample.alt_svc_h3 = Some(conn_info::alt_svc_offers_h3(response.headers()));
        let header_text = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .map(str::to_string)
        };
        let content_length = header_text(header::CONTENT_LENGTH).and_then(|v| v.parse().ok());
        let content_type = header_text(header::CONTENT_TYPE);
        Ok(Head {
            connection,
            body: response.into_body(),
            received,
            content_length,
            content_type,
        })
    }

    /// DNS, TCP and TLS phases, then the HTTP handshake (not a network round trip).
    async fn connect(
        &self,
        url: &Url,
        host: &str,
        resolver: Option<hickory_resolver::TokioResolver>,
        sample: &mut Sample,
        start: Instant,
    ) -> Result<Connection, ErrorClass> {
        let port = url.port_or_known_default().ok_or(ErrorClass::Connect)?;
        let ips = match (literal_ip(url), resolver) {
            (Some(ip), _) => vec![ip],
            (None, Some(resolver)) => {
                let found = dns::lookup(&resolver, host).await;
                sample.dns_ms = Some(ms(start, Instant::now()));
                found.map_err(|_| ErrorClass::Dns)?
            }
            (None, None) => return Err(ErrorClass::Dns),
        };
        let addrs: Vec<SocketAddr> = ips
            .into_iter()
            .filter(|ip| self.family.allows(*ip))
            .map(|ip| SocketAddr::new(ip, port))
            .collect();

        if self.http == HttpChoice::Http3 {
            let addr = *addrs.first().ok_or(ErrorClass::Connect)?;
            sample.remote_addr = addr.to_string();
            if url.scheme() != "https" {
                // HTTP/3 exists only over TLS: an http:// URL has no QUIC server to reach.
                return Err(ErrorClass::Connect);
            }
            let (quic, tls) = quic::connect(&self.tls, host, addr, sample).await?;
            return Ok(Connection {
                transport: Transport::Quic(quic),
                remote_addr: addr,
                tls,
            });
        }

        let connect_started = Instant::now();
        let connected = connect::tcp_connect(&addrs).await;
        sample.connect_ms = Some(ms(connect_started, Instant::now()));
        let (tcp, remote_addr) = connected.map_err(|failed| {
            // Where the failure happened is worth keeping: an address that refuses or hangs.
            if let Some(addr) = failed.last_tried {
                sample.remote_addr = addr.to_string();
            }
            ErrorClass::Connect
        })?;
        sample.remote_addr = remote_addr.to_string();
        let tcp_info = TcpInfoSource::of(&tcp);

        let mut tls_facts = TlsFacts::default();
        let sender = if url.scheme() == "https" {
            let tls_started = Instant::now();
            let handshake = self.tls.handshake(host, tcp).await;
            sample.tls_ms = Some(ms(tls_started, Instant::now()));
            let tls = handshake.map_err(|_| ErrorClass::Tls)?;
            tls_facts = TlsFacts::of(tls.get_ref().1);
            let h2 = match tls.get_ref().1.alpn_protocol() {
                Some(b"h2") => true,
                Some(_) => false,
                // No ALPN from the server: only a forced --http2 speaks h2 without it.
                None => self.http == HttpChoice::Http2,
            };
            Sender::handshake(tls, h2).await
        } else {
            Sender::handshake(tcp, self.http == HttpChoice::Http2).await
        };
        let sender = sender.map_err(|e| transport::classify_handshake(&e))?;
        Ok(Connection {
            transport: Transport::Tcp { sender, tcp_info },
            remote_addr,
            tls: tls_facts,
        })
    }
}

/// The facts of a finished fetch that follow from the others: a status ≥ 400 is an error,
/// and the throughput of the body.
fn settle(sample: &mut Sample) {
    if sample.error.is_none() && sample.status.is_some_and(|status| status >= 400) {
        sample.error = Some(ErrorClass::HttpStatus);
    }
    sample.throughput_mbps = match sample.download_ms {
        Some(download) if download > 0.0 && sample.bytes > 0 => {
            Some(sample.bytes as f64 * 8.0 / 1e6 / (download / 1e3))
        }
        _ => None,
    };
}

fn literal_ip(url: &Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        url::Host::Domain(_) => None,
    }
}

pub(crate) fn ms(from: Instant, to: Instant) -> f64 {
    to.saturating_duration_since(from).as_secs_f64() * 1e3
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

//! An HTTP(S) server that injects known delays and faults: slow TLS handshake, slow response
//! head, throttled body, reset mid-body, lying Content-Length, a body that stalls forever.
//!
//! Tests use it to check that each injected delay lands in the right phase and that every
//! failure becomes the right error class; the benchmarks and the demo reuse it as a plain fast
//! server. One server has default [`Behaviour`]; query parameters override it per request
//! (see [`Behaviour::apply_query`]), so one server can serve many cases:
//!
//! `bytes=N`, `status=N`, `head_delay_ms=N`, `rate=BYTES_PER_S`, `chunk=N`,
//! `chunk_delay_ms=N`, `fault=reset|short|stall`, `fault_after=N`, `header=Name:value`.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, StreamBody, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;

/// Body bytes come from this zeroed block, sliced without copying or allocating.
static ZEROS: [u8; 1 << 20] = [0; 1 << 20];

/// Before a fault: time for the bytes already produced to reach the socket.
const FLUSH_PAUSE: Duration = Duration::from_millis(5);

/// Server-wide settings.
#[derive(Clone, Default)]
pub struct FixtureConfig {
    /// Serve HTTPS with this configuration (its ALPN decides h2 / http/1.1); plain HTTP if `None`.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Wait this long after accepting a connection before starting the TLS handshake.
    pub tls_handshake_delay: Duration,
    /// The host name used by [`FixtureServer::url`] (default: the IP address).
    pub host: Option<String>,
    /// What every response does unless the request's query says otherwise.
    pub behaviour: Behaviour,
    /// Keep every request's URI and headers for [`FixtureServer::requests`].
    pub record_requests: bool,
}

/// How the body is paced.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub enum Throttle {
    /// As fast as the connection takes it, in 1 MiB frames.
    #[default]
    None,
    /// About this many bytes per second, in `chunk`-byte frames.
    BytesPerSecond(u64),
    /// A pause before every frame after the first.
    ChunkDelay(Duration),
}

/// A failure to inject into the response, after `fault_after` body bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Abort the TCP connection (RST) mid-body.
    Reset,
    /// Announce the full Content-Length but end the body early (a lying server).
    Short,
    /// Stop sending and keep the connection open forever.
    Stall,
}

/// What one response does.
#[derive(Debug, Clone)]
pub struct Behaviour {
    pub status: u16,
    pub body_len: u64,
    pub head_delay: Duration,
    pub throttle: Throttle,
    /// Frame size when throttled.
    pub chunk: usize,
    pub fault: Option<Fault>,
    /// Body bytes sent before the fault (default: half the body).
    pub fault_after: Option<u64>,
    pub headers: Vec<(String, String)>,
}

impl Default for Behaviour {
    fn default() -> Self {
        Self {
            status: 200,
            body_len: 64 * 1024,
            head_delay: Duration::ZERO,
            throttle: Throttle::None,
            chunk: 16 * 1024,
            fault: None,
            fault_after: None,
            headers: Vec::new(),
        }
    }
}

impl Behaviour {
    /// Overrides settings from a request's query string; unknown parameters (such as a
    /// cache-busting one) are ignored.
    pub fn apply_query(&mut self, query: &str) {
        let millis = |v: &str| v.parse().ok().map(Duration::from_millis);
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            match key.as_ref() {
                "bytes" => self.body_len = value.parse().unwrap_or(self.body_len),
                "status" => self.status = value.parse().unwrap_or(self.status),
                "head_delay_ms" => self.head_delay = millis(&value).unwrap_or(self.head_delay),
                "rate" => {
                    if let Ok(rate) = value.parse() {
                        self.throttle = Throttle::BytesPerSecond(rate);
                    }
                }
                "chunk_delay_ms" => {
                    if let Some(delay) = millis(&value) {
                        self.throttle = Throttle::ChunkDelay(delay);
                    }
                }
                "chunk" => self.chunk = value.parse().unwrap_or(self.chunk).max(1),
                "fault" => {
                    self.fault = match value.as_ref() {
                        "reset" => Some(Fault::Reset),
                        "short" => Some(Fault::Short),
                        "stall" => Some(Fault::Stall),
                        _ => None,
                    }
                }
                "fault_after" => self.fault_after = value.parse().ok(),
                "header" => {
                    if let Some((name, value)) = value.split_once(':') {
                        self.headers
                            .push((name.trim().to_string(), value.trim().to_string()));
                    }
                }
                _ => {}
            }
        }
    }
}

/// A request as the server saw it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub uri: http::Uri,
    pub headers: HeaderMap,
}

#[derive(Default)]
struct Shared {
    connections: AtomicU64,
    requests: Mutex<Vec<RecordedRequest>>,
}

/// A running fixture on 127.0.0.1. Stops accepting when dropped.
pub struct FixtureServer {
    addr: SocketAddr,
    scheme: &'static str,
    host: String,
    shared: Arc<Shared>,
    accept_loop: JoinHandle<()>,
    /// The runtime serving this fixture when it has one of its own.
    own_runtime: Option<tokio::runtime::Runtime>,
}

impl FixtureServer {
    /// Binds a free port on 127.0.0.1 and serves. Must be called inside a Tokio runtime.
    pub async fn start(config: FixtureConfig) -> io::Result<FixtureServer> {
        Self::start_on("127.0.0.1:0".parse().expect("valid address"), config).await
    }

    /// Like [`FixtureServer::start`], on a given address (`[::1]:0` for IPv6).
    pub async fn start_on(bind: SocketAddr, config: FixtureConfig) -> io::Result<FixtureServer> {
        let listener = TcpListener::bind(bind).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let scheme = if config.tls.is_some() {
            "https"
        } else {
            "http"
        };
        let host = config.host.clone().unwrap_or_else(|| match addr {
            SocketAddr::V4(v4) => v4.ip().to_string(),
            SocketAddr::V6(v6) => format!("[{}]", v6.ip()),
        });
        let accept_loop = tokio::spawn(accept_loop(listener, Arc::new(config), shared.clone()));
        Ok(FixtureServer {
            addr,
            scheme,
            host,
            shared,
            accept_loop,
            own_runtime: None,
        })
    }

    /// Like [`FixtureServer::start_on`], served by a runtime of its own (one worker thread).
    /// Timing tests use it: on the probe's runtime, the server's TLS and HTTP/2 work would run
    /// between the probe's timed phases and be counted as the harness's overhead.
    pub async fn start_on_own_runtime(
        bind: SocketAddr,
        config: FixtureConfig,
    ) -> io::Result<FixtureServer> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("fixture-server")
            .enable_all()
            .build()?;
        let mut server = runtime
            .spawn(Self::start_on(bind, config))
            .await
            .map_err(io::Error::other)??;
        server.own_runtime = Some(runtime);
        Ok(server)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http(s)://HOST:PORT` + `path_and_query` (which should start with `/`).
    pub fn url(&self, path_and_query: &str) -> String {
        format!(
            "{}://{}:{}{}",
            self.scheme,
            self.host,
            self.addr.port(),
            path_and_query
        )
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.shared.connections.load(Ordering::Relaxed)
    }

    /// Requests seen so far (only with `record_requests`).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared
            .requests
            .lock()
            .expect("request log lock is never poisoned")
            .clone()
    }
}

impl Drop for FixtureServer {
    fn drop(&mut self) {
        self.accept_loop.abort();
        // Dropping a runtime blocks, which panics inside the test's own runtime; its tasks
        // (open connections) are dropped in the background instead.
        if let Some(runtime) = self.own_runtime.take() {
            runtime.shutdown_background();
        }
    }
}

async fn accept_loop(listener: TcpListener, config: Arc<FixtureConfig>, shared: Arc<Shared>) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        shared.connections.fetch_add(1, Ordering::Relaxed);
        let _ = tcp.set_nodelay(true);
        tokio::spawn(serve(tcp, config.clone(), shared.clone()));
    }
}

async fn serve(tcp: TcpStream, config: Arc<FixtureConfig>, shared: Arc<Shared>) {
    let reset = Arc::new(AtomicBool::new(false));
    let io = ResettableStream {
        tcp,
        reset: reset.clone(),
    };
    match &config.tls {
        Some(tls) => {
            sleep_until_precisely(Instant::now() + config.tls_handshake_delay).await;
            if let Ok(stream) = TlsAcceptor::from(tls.clone()).accept(io).await {
                serve_http(stream, config, shared, reset).await;
            }
        }
        None => serve_http(io, config, shared, reset).await,
    }
}

async fn serve_http<I>(
    io: I,
    config: Arc<FixtureConfig>,
    shared: Arc<Shared>,
    reset: Arc<AtomicBool>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |request: Request<Incoming>| {
        let (config, shared, reset) = (config.clone(), shared.clone(), reset.clone());
        async move { Ok::<_, Infallible>(respond(request, &config, &shared, reset).await) }
    });
    // Errors are the faults this server injects, or clients going away: nothing to report.
    let _ = auto::Builder::new(TokioExecutor::new())
        .serve_connection(TokioIo::new(io), service)
        .await;
}

type FixtureBody = BoxBody<Bytes, io::Error>;

async fn respond(
    request: Request<Incoming>,
    config: &FixtureConfig,
    shared: &Shared,
    reset: Arc<AtomicBool>,
) -> Response<FixtureBody> {
    if config.record_requests {
        shared
            .requests
            .lock()
            .expect("request log lock is never poisoned")
            .push(RecordedRequest {
                uri: request.uri().clone(),
                headers: request.headers().clone(),
            });
    }
    let mut behaviour = config.behaviour.clone();
    behaviour.apply_query(request.uri().query().unwrap_or(""));
    sleep_until_precisely(Instant::now() + behaviour.head_delay).await;

    let mut status = StatusCode::from_u16(behaviour.status).unwrap_or(StatusCode::OK);
    let mut len = behaviour.body_len;
    let mut response = Response::builder();
    if let Some((first, last)) = single_range(request.headers(), behaviour.body_len)
        && status == StatusCode::OK
    {
        status = StatusCode::PARTIAL_CONTENT;
        response = response.header(
            header::CONTENT_RANGE,
            format!("bytes {first}-{last}/{}", behaviour.body_len),
        );
        // Every byte is zero: only the length of a range matters.
        len = last - first + 1;
    }
    response = response
        .status(status)
        .header(header::CONTENT_LENGTH, len)
        .header(header::ACCEPT_RANGES, "bytes");
    for (name, value) in &behaviour.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::try_from(value.as_str()),
        ) {
            response = response.header(name, value);
        }
    }
    let body = body_stream(len, behaviour, reset);
    response
        .body(body)
        .expect("status and headers were validated above")
}

/// `Range: bytes=FIRST-LAST` or `bytes=FIRST-` within the body; anything else is ignored.
fn single_range(headers: &HeaderMap, body_len: u64) -> Option<(u64, u64)> {
    let spec = headers.get(header::RANGE)?.to_str().ok()?;
    let (first, last) = spec.strip_prefix("bytes=")?.split_once('-')?;
    let first: u64 = first.parse().ok()?;
    let last: u64 = if last.is_empty() {
        body_len.checked_sub(1)?
    } else {
        last.parse::<u64>().ok()?.min(body_len.checked_sub(1)?)
    };
    (first <= last).then_some((first, last))
}

/// The body: `len` zero bytes paced by the throttle, cut short by the fault.
fn body_stream(len: u64, behaviour: Behaviour, reset: Arc<AtomicBool>) -> FixtureBody {
    let fault_at = behaviour
        .fault
        .map(|_| behaviour.fault_after.unwrap_or(len / 2).min(len));
    let frame_size = match behaviour.throttle {
        Throttle::None => ZEROS.len(),
        _ => behaviour.chunk.min(ZEROS.len()),
    };
    struct State {
        sent: u64,
        started: Instant,
        frames: u64,
    }
    let state = State {
        sent: 0,
        started: Instant::now(),
        frames: 0,
    };
    let stream = futures::stream::unfold(state, move |mut state| {
        let reset = reset.clone();
        async move {
            let end = fault_at.unwrap_or(len);
            if state.sent >= end {
                let fault = behaviour.fault?;
                // hyper drops unflushed output when a body fails; give it a moment to write
                // what was sent, so the client sees those bytes before the fault.
                tokio::time::sleep(FLUSH_PAUSE).await;
                match fault {
                    Fault::Short => return None,
                    Fault::Stall => match std::future::pending::<Infallible>().await {},
                    Fault::Reset => {
                        reset.store(true, Ordering::SeqCst);
                        let error = io::Error::new(io::ErrorKind::ConnectionReset, "fault: reset");
                        return Some((Err(error), state));
                    }
                }
            }
            match behaviour.throttle {
                Throttle::None => {}
                Throttle::BytesPerSecond(rate) => {
                    // Pace against the start, so sleeps never accumulate drift.
                    let due = Duration::from_secs_f64(state.sent as f64 / rate.max(1) as f64);
                    sleep_until_precisely(state.started + due).await;
                }
                Throttle::ChunkDelay(delay) if state.frames > 0 => tokio::time::sleep(delay).await,
                Throttle::ChunkDelay(_) => {}
            }
            let n = (end - state.sent).min(frame_size as u64) as usize;
            state.sent += n as u64;
            state.frames += 1;
            Some((Ok(Frame::data(Bytes::from_static(&ZEROS[..n]))), state))
        }
    });
    StreamBody::new(stream).boxed()
}

/// A TCP stream that closes with RST instead of FIN once `reset` is set: how a server or
/// middlebox aborting a connection looks to the client.
struct ResettableStream {
    tcp: TcpStream,
    reset: Arc<AtomicBool>,
}

impl Drop for ResettableStream {
    fn drop(&mut self) {
        if self.reset.load(Ordering::SeqCst) {
            let _ = self.tcp.set_zero_linger();
        }
    }
}

impl AsyncRead for ResettableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for ResettableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.reset.load(Ordering::SeqCst) {
            // A reset connection never says goodbye politely.
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }
}

/// tokio's timer wakes on 1 ms ticks, about 1.2 ms late: sleep with it to 2 ms before the
/// deadline, then yield until due, so an injected delay is exact to some tens of microseconds.
async fn sleep_until_precisely(deadline: Instant) {
    if let Some(coarse) = deadline.checked_sub(Duration::from_millis(2)) {
        tokio::time::sleep_until(coarse).await;
    }
    while Instant::now() < deadline {
        tokio::task::yield_now().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_overrides_the_default_behaviour() {
        let mut behaviour = Behaviour::default();
        behaviour.apply_query(
            "bytes=10&status=503&head_delay_ms=7&fault=short&fault_after=3&header=X-Cache:%20HIT&cb=1",
        );
        assert_eq!((behaviour.body_len, behaviour.status), (10, 503));
        assert_eq!(behaviour.head_delay, Duration::from_millis(7));
        assert_eq!(behaviour.fault, Some(Fault::Short));
        assert_eq!(behaviour.fault_after, Some(3));
        assert_eq!(
            behaviour.headers,
            [("X-Cache".to_string(), "HIT".to_string())]
        );
    }

    #[test]
    fn rate_and_chunk_delay_select_the_throttle() {
        let mut behaviour = Behaviour::default();
        behaviour.apply_query("rate=1000");
        assert_eq!(behaviour.throttle, Throttle::BytesPerSecond(1000));
        behaviour.apply_query("chunk_delay_ms=5");
        assert_eq!(
            behaviour.throttle,
            Throttle::ChunkDelay(Duration::from_millis(5))
        );
    }

    fn range(value: &'static str, body_len: u64) -> Option<(u64, u64)> {
        let mut headers = HeaderMap::new();
        headers.insert(header::RANGE, HeaderValue::from_static(value));
        single_range(&headers, body_len)
    }

    #[test]
    fn single_ranges_are_clamped_to_the_body() {
        assert_eq!(range("bytes=0-99", 1000), Some((0, 99)));
        assert_eq!(range("bytes=900-", 1000), Some((900, 999)));
        assert_eq!(range("bytes=900-5000", 1000), Some((900, 999)));
    }

    #[test]
    fn unsatisfiable_or_malformed_ranges_are_ignored() {
        assert_eq!(range("bytes=2000-3000", 1000), None);
        assert_eq!(range("items=0-1", 1000), None);
        assert_eq!(range("bytes=0-1,5-6", 1000), None);
    }
}

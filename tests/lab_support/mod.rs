//! Plain hyper servers and clients over loopback for the lab's tests.
#![allow(dead_code)] // each test file uses its own part of this support

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// The bytes of the test object of `size` bytes: not all alike, so a reordering would show.
pub fn object_bytes(size: usize) -> Bytes {
    (0..size).map(|i| (i * 7 % 251) as u8).collect()
}

/// An origin: `GET /object/N` answers N bytes (cacheable, with an ETag), `/private/N` the same
/// with `Cache-Control: no-store`, anything else 404. Counts the requests it answered and the
/// connections it accepted.
pub struct Origin {
    pub addr: SocketAddr,
    requests: Arc<AtomicU64>,
    connections: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl Origin {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(AtomicU64::new(0));
        let counter = requests.clone();
        let connections = Arc::new(AtomicU64::new(0));
        let accepted = connections.clone();
        let task = tokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                accepted.fetch_add(1, Ordering::SeqCst);
                let counter = counter.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request: Request<Incoming>| {
                        counter.fetch_add(1, Ordering::SeqCst);
                        async move { Ok::<_, Infallible>(origin_answer(request.uri().path())) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self {
            addr,
            requests,
            connections,
            task,
        }
    }

    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::SeqCst)
    }

    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for Origin {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn origin_answer(path: &str) -> Response<Full<Bytes>> {
    let mut parts = path.trim_start_matches('/').splitn(2, '/');
    let (kind, size) = (parts.next(), parts.next().and_then(|n| n.parse().ok()));
    let cache_control = match kind {
        Some("object") => "public, max-age=31536000, immutable",
        Some("private") => "no-store",
        _ => "",
    };
    match size {
        Some(size) if !cache_control.is_empty() => Response::builder()
            .header(header::CONTENT_TYPE, "video/mp4")
            .header(header::ETAG, format!("\"size-{size}\""))
            .header(header::CACHE_CONTROL, cache_control)
            .body(Full::new(object_bytes(size)))
            .unwrap(),
        _ => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body(Full::new(Bytes::from_static(b"no such object")))
            .unwrap(),
    }
}

/// One fetch over a fresh HTTP/1.1 connection to `addr`.
pub struct Fetched {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// Request sent → response head received.
    pub ttfb: Duration,
    /// Request sent → last body byte.
    pub elapsed: Duration,
}

pub async fn fetch(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Fetched {
    let stream = TcpStream::connect(addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    exchange(stream, method, path, headers).await
}

/// A TLS handshake with `addr` as `server_name`, then one HTTP/1.1 GET. Returns how long the
/// handshake took and the fetch.
pub async fn fetch_tls(
    addr: SocketAddr,
    server_name: &str,
    config: Arc<rustls::ClientConfig>,
    path: &str,
) -> (Duration, Fetched) {
    let stream = TcpStream::connect(addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let name = rustls::pki_types::ServerName::try_from(server_name.to_owned()).unwrap();
    let started = Instant::now();
    let tls = tokio_rustls::TlsConnector::from(config)
        .connect(name, stream)
        .await
        .unwrap();
    let handshake = started.elapsed();
    (handshake, exchange(tls, "GET", path, &[]).await)
}

async fn exchange<S>(stream: S, method: &str, path: &str, headers: &[(&str, &str)]) -> Fetched
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, "lab.test");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(Empty::<Bytes>::new()).unwrap();
    let started = Instant::now();
    let response = sender.send_request(request).await.unwrap();
    let ttfb = started.elapsed();
    let (parts, body) = response.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    Fetched {
        status: parts.status,
        headers: parts.headers,
        body,
        ttfb,
        elapsed: started.elapsed(),
    }
}

pub async fn get(addr: SocketAddr, path: &str) -> Fetched {
    fetch(addr, "GET", path, &[]).await
}

pub async fn get_range(addr: SocketAddr, path: &str, range: &str) -> Fetched {
    fetch(addr, "GET", path, &[("range", range)]).await
}

impl Fetched {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or_default()
    }
}

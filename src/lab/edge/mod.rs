//! A caching edge (CDN emulation): serves hits from memory, fetches misses over the far path,
//! says X-Cache/Age/POP.
//!
//! It answers the way CloudFront does for an S3 origin, so the probe reads it as it would read
//! CloudFront: the first fetch of an object is a miss (`X-Cache: Miss from cloudfront`), fetched
//! whole from the origin — through whatever far [`super::link::Link`] the lab puts in front of
//! it — and kept in memory; later fetches are hits (`X-Cache: Hit from cloudfront`, with `Age`)
//! served without touching the origin. Every answer names the POP (`x-amz-cf-pop`). Single byte
//! ranges are cut from the cached object (206, `Content-Range`); multiple or malformed ranges get
//! the whole object, as CloudFront and S3 do. `Content-Length` is always sent, never chunked.
//!
//! The cache key is the path with its query string, so a probe's `--cache-bust` parameter forces
//! a miss, as it does on a distribution that forwards query strings.
//!
//! Two fronts share the one cache (`cache.rs`): plain HTTP (1.1 and h2) on TCP, which the lab
//! puts behind a TLS front, and, once [`Edge::serve_h3`] is called, HTTP/3 on UDP
//! (`h3_front.rs`). Then every answer advertises it as CloudFront does:
//! `Alt-Svc: h3=":PORT"; ma=86400`.

mod cache;
mod h3_front;
mod range;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use bytes::Bytes;
use http::header::HeaderValue;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpStream;

use super::listening::Listening;
pub use super::upstream::OriginError;
use super::upstream::Upstream;
use cache::EdgeState;
pub use h3_front::EdgeH3Error;
use h3_front::H3Front;
pub use range::{RangeSelection, select_range};

/// How many requests the edge answered from its cache and how many it sent to the origin.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EdgeCounts {
    pub hits: u64,
    pub misses: u64,
}

/// A running edge. Dropping it stops the listener, the QUIC endpoint and every connection.
#[derive(Debug)]
pub struct Edge {
    listening: Listening,
    h3: Option<(H3Front, SocketAddr)>,
    state: Arc<EdgeState>,
}

impl Edge {
    /// Serves plain HTTP (1.1 and h2) on a free port of 127.0.0.1, fetching misses from the
    /// plain-HTTP `origin` and naming itself `pop` (for example `AKL50-C1`).
    pub async fn start(origin: SocketAddr, pop: &str) -> std::io::Result<Self> {
        Self::start_with(Upstream::tcp(origin), pop).await
    }

    /// As [`Edge::start`], fetching misses through `upstream` (already warm, or opened on the
    /// first miss).
    pub async fn start_with(upstream: Upstream, pop: &str) -> std::io::Result<Self> {
        let state = Arc::new(EdgeState {
            upstream,
            pop: HeaderValue::from_str(pop)
                .map_err(|_| std::io::Error::other(format!("bad POP name {pop:?}")))?,
            alt_svc: OnceLock::new(),
            cache: Mutex::default(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        });
        let shared = state.clone();
        let listening = Listening::start(move |stream| serve(stream, shared.clone())).await?;
        Ok(Self {
            listening,
            h3: None,
            state,
        })
    }

    /// Also answers HTTP/3 on `socket` (UDP, bound by the caller where the edge's clients reach
    /// it) with `tls`'s certificate, and from now on advertises `h3=":advertised_port"` (the UDP
    /// port clients see, the same number as the TLS port in front of the TCP front). Must be
    /// called inside a Tokio runtime, and once.
    pub fn serve_h3(
        &mut self,
        socket: std::net::UdpSocket,
        tls: &rustls::ServerConfig,
        advertised_port: u16,
    ) -> Result<(), EdgeH3Error> {
        let addr = socket.local_addr()?;
        let front = H3Front::start(socket, tls, self.state.clone())?;
        let alt_svc = HeaderValue::from_str(&format!("h3=\":{advertised_port}\"; ma=86400"))
            .expect("digits and ASCII");
        let _ = self.state.alt_svc.set(alt_svc);
        self.h3 = Some((front, addr));
        Ok(())
    }

    /// The TCP front's address (plain HTTP).
    pub fn local_addr(&self) -> SocketAddr {
        self.listening.local_addr()
    }

    /// The QUIC endpoint's address, once [`Edge::serve_h3`] was called.
    pub fn h3_addr(&self) -> Option<SocketAddr> {
        self.h3.as_ref().map(|(_, addr)| *addr)
    }

    pub fn counts(&self) -> EdgeCounts {
        EdgeCounts {
            hits: self.state.hits.load(Ordering::Relaxed),
            misses: self.state.misses.load(Ordering::Relaxed),
        }
    }
}

async fn serve(stream: TcpStream, state: Arc<EdgeState>) {
    let service = service_fn(move |request| answer_tcp(state.clone(), request));
    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

async fn answer_tcp(
    state: Arc<EdgeState>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let response = cache::answer(&state, request.method(), request.uri(), request.headers()).await;
    Ok(response.map(Full::new))
}

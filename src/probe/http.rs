//! The HTTP exchange on an established connection, with hyper's client connection API: no
//! pool, no hidden reconnects, so the connection and TLS phases are the probe's own.

use bytes::Bytes;
use http::{Request, Response, Version};
use http_body_util::{BodyExt, Empty};
use hyper::body::{Body, Incoming};
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncWrite};

/// Large reads for large bodies: hyper's HTTP/1 read buffer may grow to this size.
const HTTP1_MAX_READ_BUFFER: usize = 2 << 20;
/// HTTP/2 flow-control windows large enough that a fast path is never window-bound.
const HTTP2_STREAM_WINDOW: u32 = 16 << 20;
const HTTP2_CONNECTION_WINDOW: u32 = 64 << 20;

/// A connection ready to carry requests.
pub enum Sender {
    Http1(http1::SendRequest<Empty<Bytes>>),
    Http2(http2::SendRequest<Empty<Bytes>>),
}

impl Sender {
    /// Starts HTTP on `io`. The connection is driven by a spawned task that ends when the
    /// sender is dropped or the peer closes.
    pub async fn handshake<I>(io: I, http2: bool) -> hyper::Result<Sender>
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let io = TokioIo::new(io);
        if http2 {
            let (sender, connection) = http2::Builder::new(TokioExecutor::new())
                .initial_stream_window_size(HTTP2_STREAM_WINDOW)
                .initial_connection_window_size(HTTP2_CONNECTION_WINDOW)
                .handshake(io)
                .await?;
            tokio::spawn(connection);
            Ok(Sender::Http2(sender))
        } else {
            let (sender, connection) = http1::Builder::new()
                .max_buf_size(HTTP1_MAX_READ_BUFFER)
                .handshake(io)
                .await?;
            tokio::spawn(connection);
            Ok(Sender::Http1(sender))
        }
    }

    /// Whether the connection can take another request now (for `--reuse`).
    pub async fn is_usable(&mut self) -> bool {
        match self {
            Sender::Http1(sender) => sender.ready().await.is_ok(),
            Sender::Http2(sender) => sender.ready().await.is_ok(),
        }
    }

    pub fn version(&self) -> Version {
        match self {
            Sender::Http1(_) => Version::HTTP_11,
            Sender::Http2(_) => Version::HTTP_2,
        }
    }

    /// Sends the request; resolves when the response head has arrived.
    pub async fn send(
        &mut self,
        request: Request<Empty<Bytes>>,
    ) -> hyper::Result<Response<Incoming>> {
        match self {
            Sender::Http1(sender) => sender.send_request(request).await,
            Sender::Http2(sender) => sender.send_request(request).await,
        }
    }
}

/// `1.1` or `2`, as curl's `%{http_version}` writes it.
pub fn version_label(version: Version) -> &'static str {
    match version {
        Version::HTTP_09 => "0.9",
        Version::HTTP_10 => "1.0",
        Version::HTTP_2 => "2",
        Version::HTTP_3 => "3",
        _ => "1.1",
    }
}

/// Reads the body to its end (or past `max_bytes`), counting bytes into `*received` as they
/// arrive and dropping them at once: memory stays flat whatever the size of the body.
/// Returns whether the body was read to its end.
pub async fn drain_body(
    body: &mut Incoming,
    max_bytes: Option<u64>,
    received: &mut u64,
) -> hyper::Result<bool> {
    while let Some(frame) = body.frame().await {
        if let Some(data) = frame?.data_ref() {
            *received += data.len() as u64;
            if max_bytes.is_some_and(|max| *received >= max) {
                return Ok(body.is_end_stream());
            }
        }
    }
    Ok(true)
}

//! The probe's connection interface: one request on an open connection, then its body, whatever
//! carries it (hyper over TCP + TLS, or h3 over QUIC). `mod.rs` times the exchange the same way
//! for both; a new transport is a variant here and a file of its own.

use std::error::Error as StdError;
use std::io;

use bytes::Bytes;
use http::{Request, Response, Version};
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;

use super::conn_info::TcpInfoSource;
use super::http::{self as hyper_http, Sender};
use super::quic::{self, QuicConnection};
use crate::sample::ErrorClass;

pub enum Transport {
    Tcp {
        sender: Sender,
        /// For the round trip and retransmissions (Linux).
        tcp_info: Option<TcpInfoSource>,
    },
    Quic(QuicConnection),
}

/// A response body still to be read.
pub enum Body {
    Tcp(Incoming),
    /// Boxed: an h3 request stream is ten times a hyper body, and one lives per fetch.
    Quic(Box<quic::Stream>),
}

impl Transport {
    /// Whether the connection can take another request now (for `--reuse`).
    pub async fn is_usable(&mut self) -> bool {
        match self {
            Transport::Tcp { sender, .. } => sender.is_usable().await,
            Transport::Quic(quic) => quic.is_usable(),
        }
    }

    /// The version requests on this connection are built for.
    pub fn version(&self) -> Version {
        match self {
            Transport::Tcp { sender, .. } => sender.version(),
            Transport::Quic(_) => Version::HTTP_3,
        }
    }

    /// Sends the request; resolves when the response head has arrived.
    pub async fn send(&mut self, request: Request<()>) -> Result<Response<Body>, ErrorClass> {
        match self {
            Transport::Tcp { sender, .. } => {
                let request = request.map(|()| Empty::new());
                let response = sender.send(request).await.map_err(|e| classify(&e, None))?;
                Ok(response.map(Body::Tcp))
            }
            Transport::Quic(quic) => {
                let (response, stream) = quic.send(request).await?;
                Ok(response.map(|()| Body::Quic(Box::new(stream))))
            }
        }
    }

    /// The smoothed round trip (ms) and retransmissions (TCP) or lost packets (QUIC) so far.
    pub fn path(&self) -> Option<(f64, u64)> {
        match self {
            Transport::Tcp { tcp_info, .. } => tcp_info.as_ref()?.read(),
            Transport::Quic(quic) => Some(quic.path()),
        }
    }
}

impl Body {
    /// The next piece of the body, `Ok(None)` at its end. `content_length` and `received` (bytes
    /// so far) help judge a failure.
    pub async fn next_chunk(
        &mut self,
        content_length: Option<u64>,
        received: u64,
    ) -> Result<Option<Bytes>, ErrorClass> {
        match self {
            Body::Tcp(body) => loop {
                match body.frame().await {
                    None => return Ok(None),
                    Some(Ok(frame)) => {
                        if let Ok(data) = frame.into_data() {
                            return Ok(Some(data));
                        }
                    }
                    Some(Err(e)) => return Err(classify(&e, Some((content_length, received)))),
                }
            },
            Body::Quic(stream) => quic::next_chunk(stream).await,
        }
    }

    /// Reads the body to its end (or past `max_bytes`), counting bytes into `*received`.
    /// Returns whether it was read to its end. `content_length` helps judge a failure.
    pub async fn drain(
        &mut self,
        max_bytes: Option<u64>,
        received: &mut u64,
        content_length: Option<u64>,
    ) -> Result<bool, ErrorClass> {
        match self {
            Body::Tcp(body) => hyper_http::drain_body(body, max_bytes, received)
                .await
                .map_err(|e| classify(&e, Some((content_length, *received)))),
            Body::Quic(stream) => quic::drain_body(stream, max_bytes, received).await,
        }
    }
}

/// The error class of a failed exchange over TCP. `body` is `(Content-Length, bytes received)`
/// when the failure came while reading the body.
fn classify(error: &hyper::Error, body: Option<(Option<u64>, u64)>) -> ErrorClass {
    let mut source: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<io::Error>() {
            match io.kind() {
                io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::BrokenPipe => return ErrorClass::Reset,
                io::ErrorKind::UnexpectedEof if body.is_some() => return ErrorClass::Truncated,
                io::ErrorKind::TimedOut => return ErrorClass::Timeout,
                _ => {}
            }
        }
        if let Some(h2) = cause.downcast_ref::<h2::Error>() {
            // A reset the server sent is a reset; one h2 raised itself (a body that does not
            // match its Content-Length) is judged below.
            if (h2.is_reset() || h2.is_go_away()) && h2.is_remote() {
                return ErrorClass::Reset;
            }
        }
        source = cause.source();
    }
    match body {
        Some((Some(expected), received)) if received < expected => ErrorClass::Truncated,
        Some(_) if error.is_incomplete_message() => ErrorClass::Truncated,
        None if error.is_incomplete_message() => ErrorClass::Reset,
        _ => ErrorClass::Protocol,
    }
}

/// The error class of a failed HTTP handshake over TCP.
pub fn classify_handshake(error: &hyper::Error) -> ErrorClass {
    classify(error, None)
}

//! HTTP/3: QUIC with quinn (ring), HTTP with h3 over h3-quinn. One endpoint and UDP socket per
//! connection, as a browser opening a page for the first time: no 0-RTT, no resumed session, no
//! address-validation token from an earlier connection.
//!
//! The phases, as curl writes them for HTTP/3: `connect_ms` runs from the first datagram the
//! probe sends (the client's first Initial) to the first datagram from the server
//! (`time_connect`); `tls_ms` from there to quinn reporting the handshake complete, the client's
//! Finished sent (`time_appconnect`). Both instants are taken on the socket, see
//! `quic_socket.rs`. `ttfb_ms` and `download_ms` are timed in `mod.rs` as for TCP.
//!
//! Each endpoint's receive buffer is 2.9 MiB: `quic_memory.rs` keeps thousands of them in a
//! run from piling up in the heap.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes};
use h3::client::{RequestStream, SendRequest};
use h3::error::{Code, ConnectionError as H3ConnectionError, StreamError};
use h3::quic::ConnectionErrorIncoming;
use http::{Request, Response};
use quinn::{ConnectionError, EndpointConfig, IdleTimeout, TokioRuntime, TransportConfig, VarInt};
use rustls::pki_types::CertificateDer;

use super::conn_info::TlsFacts;
use super::connect::TlsSettings;
use super::quic_suite::{Negotiated, SuiteReading};
use super::{ms, quic_memory, quic_socket};
use crate::sample::{ErrorClass, Sample};

/// Flow-control windows as the TCP path's HTTP/2 ones (`http.rs`): quinn's defaults (a 1.25 MB
/// stream window) cap a 1 ms loopback path near 1 GB/s and a 20 ms path near 60 MB/s; these
/// keep the client from being what limits a large download.
const STREAM_RECEIVE_WINDOW: u32 = 16 << 20;
const CONNECTION_RECEIVE_WINDOW: u32 = 64 << 20;
/// A server that never answers is given up on after this long (as `connect`), unless the
/// sample's own timeout ends the attempt first (as `timeout`).
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

pub type Stream = RequestStream<h3_quinn::BidiStream<Bytes>, Bytes>;

/// An HTTP/3 connection: the QUIC connection, its endpoint, and the h3 request sender.
pub struct QuicConnection {
    connection: quinn::Connection,
    sender: SendRequest<h3_quinn::OpenStreams, Bytes>,
    /// Drives the h3 connection (control streams, GOAWAY); ends with it.
    driver: tokio::task::JoinHandle<()>,
    _endpoint: quinn::Endpoint,
}

impl Drop for QuicConnection {
    fn drop(&mut self) {
        // Tell the server now rather than leave it to time the connection out.
        self.connection.close(VarInt::from_u32(0), b"");
        self.driver.abort();
    }
}

fn transport() -> Arc<TransportConfig> {
    let mut transport = TransportConfig::default();
    transport
        .stream_receive_window(VarInt::from_u32(STREAM_RECEIVE_WINDOW))
        .receive_window(VarInt::from_u32(CONNECTION_RECEIVE_WINDOW))
        .max_idle_timeout(IdleTimeout::try_from(IDLE_TIMEOUT).ok());
    Arc::new(transport)
}

/// The QUIC handshake and the h3 connection setup (no round trip: SETTINGS are sent, not
/// awaited). Writes `connect_ms` and `tls_ms` into `sample`.
pub async fn connect(
    tls: &TlsSettings,
    host: &str,
    addr: SocketAddr,
    sample: &mut Sample,
) -> Result<(QuicConnection, TlsFacts), ErrorClass> {
    quic_memory::map_large_buffers();
    let (socket, observed) = quic_socket::bind(addr).map_err(|_| ErrorClass::Connect)?;
    let endpoint = quinn::Endpoint::new_with_abstract_socket(
        EndpointConfig::default(),
        None,
        socket,
        Arc::new(TokioRuntime),
    )
    .map_err(|_| ErrorClass::Connect)?;
    let mut config = quinn::ClientConfig::new(Arc::new(SuiteReading(tls.quic.clone())));
    config
        .transport_config(transport())
        .token_store(Arc::new(quinn::NoneTokenStore));
    let name = host.trim_start_matches('[').trim_end_matches(']');
    let connecting = endpoint
        .connect_with(config, addr, name)
        .map_err(|_| ErrorClass::Connect)?;

    let handshake = tokio::select! {
        outcome = connecting => Some(outcome),
        () = observed.refused() => None,
    };
    let ended = Instant::now();
    let sent = observed.first_sent.get().copied();
    let answered = observed.first_received.get().copied();
    match (sent, answered) {
        (Some(sent), Some(answered)) => {
            sample.connect_ms = Some(ms(sent, answered));
            sample.tls_ms = Some(ms(answered, ended));
        }
        (Some(sent), None) => sample.connect_ms = Some(ms(sent, ended)),
        (None, _) => {}
    }
    let connection = match handshake {
        Some(Ok(connection)) => connection,
        // Port unreachable, or nothing ever came back: the server was not reached.
        None => return Err(ErrorClass::Connect),
        Some(Err(_)) if answered.is_none() => return Err(ErrorClass::Connect),
        Some(Err(error)) => return Err(classify_handshake(&error)),
    };
    let negotiated = negotiated(&connection);
    let tls = TlsFacts::new(
        Some(rustls::ProtocolVersion::TLSv1_3),
        negotiated.as_ref().and_then(|n| n.cipher_suite),
        negotiated.as_ref().and_then(|n| n.alpn.as_deref()),
        peer_certificates(&connection).as_deref(),
    );
    let (mut h3_connection, sender) =
        h3::client::new(h3_quinn::Connection::new(connection.clone()))
            .await
            .map_err(|e| classify_connection(&e))?;
    let driver = tokio::spawn(async move {
        let _ = std::future::poll_fn(|cx| h3_connection.poll_close(cx)).await;
    });
    let connection = QuicConnection {
        connection,
        sender,
        driver,
        _endpoint: endpoint,
    };
    Ok((connection, tls))
}

fn negotiated(connection: &quinn::Connection) -> Option<Negotiated> {
    let data = connection.handshake_data()?;
    data.downcast::<Negotiated>()
        .ok()
        .map(|negotiated| *negotiated)
}

fn peer_certificates(connection: &quinn::Connection) -> Option<Vec<CertificateDer<'static>>> {
    let identity = connection.peer_identity()?;
    identity
        .downcast::<Vec<CertificateDer<'static>>>()
        .ok()
        .map(|chain| *chain)
}

impl QuicConnection {
    /// Whether the connection can take another request (for `--reuse`).
    pub fn is_usable(&self) -> bool {
        self.connection.close_reason().is_none()
    }

    /// Sends the request and finishes its stream; resolves when the response head arrived.
    pub async fn send(
        &mut self,
        request: Request<()>,
    ) -> Result<(Response<()>, Stream), ErrorClass> {
        let mut stream = self
            .sender
            .send_request(request)
            .await
            .map_err(|e| classify_stream(&e))?;
        stream.finish().await.map_err(|e| classify_stream(&e))?;
        let response = stream
            .recv_response()
            .await
            .map_err(|e| classify_stream(&e))?;
        Ok((response, stream))
    }

    /// quinn's smoothed path RTT (ms) and the packets it has declared lost so far.
    pub fn path(&self) -> (f64, u64) {
        let stats = self.connection.stats();
        (stats.path.rtt.as_secs_f64() * 1e3, stats.path.lost_packets)
    }
}

/// The next piece of an h3 response body, `Ok(None)` at its end.
pub async fn next_chunk(stream: &mut Stream) -> Result<Option<Bytes>, ErrorClass> {
    let chunk = stream.recv_data().await.map_err(|e| classify_stream(&e))?;
    Ok(chunk.map(|mut chunk| chunk.copy_to_bytes(chunk.remaining())))
}

/// Reads the body as `http::drain_body` does for TCP. Returns whether it was read to its end.
pub async fn drain_body(
    stream: &mut Stream,
    max_bytes: Option<u64>,
    received: &mut u64,
) -> Result<bool, ErrorClass> {
    while let Some(mut chunk) = stream.recv_data().await.map_err(|e| classify_stream(&e))? {
        let n = chunk.remaining();
        *received += n as u64;
        chunk.advance(n);
        if max_bytes.is_some_and(|max| *received >= max) {
            stream.stop_sending(Code::H3_NO_ERROR);
            return Ok(false);
        }
    }
    Ok(true)
}

/// A failed handshake after the server answered: TLS alerts (QUIC's crypto error codes
/// 0x100–0x1ff) are `tls`, a silent server `timeout`, anything else `protocol`.
fn classify_handshake(error: &ConnectionError) -> ErrorClass {
    let crypto = |code: quinn::TransportErrorCode| (0x100..0x200).contains(&u64::from(code));
    match error {
        ConnectionError::TransportError(e) if crypto(e.code) => ErrorClass::Tls,
        ConnectionError::ConnectionClosed(close) if crypto(close.error_code) => ErrorClass::Tls,
        ConnectionError::TimedOut => ErrorClass::Timeout,
        ConnectionError::Reset => ErrorClass::Reset,
        _ => ErrorClass::Protocol,
    }
}

/// A stream that failed: reset by the server → `reset`; the connection closed under it → by how
/// it closed.
fn classify_stream(error: &StreamError) -> ErrorClass {
    match error {
        StreamError::RemoteTerminate { .. } => ErrorClass::Reset,
        StreamError::ConnectionError { 0: e, .. } => classify_connection(e),
        _ => ErrorClass::Protocol,
    }
}

/// A connection closed mid-exchange: by the server without an error (H3_NO_ERROR) is like a TCP
/// reset, an idle timeout is a timeout, an error code is a protocol error.
fn classify_connection(error: &H3ConnectionError) -> ErrorClass {
    match error {
        H3ConnectionError::Remote {
            0: ConnectionErrorIncoming::ApplicationClose { error_code },
            ..
        } if *error_code == Code::H3_NO_ERROR.value() => ErrorClass::Reset,
        H3ConnectionError::Remote {
            0: ConnectionErrorIncoming::Timeout,
            ..
        }
        | H3ConnectionError::Timeout { .. } => ErrorClass::Timeout,
        H3ConnectionError::Remote {
            0: ConnectionErrorIncoming::Undefined(cause),
            ..
        } => match cause.downcast_ref::<ConnectionError>() {
            Some(ConnectionError::Reset) => ErrorClass::Reset,
            Some(ConnectionError::TimedOut) => ErrorClass::Timeout,
            _ => ErrorClass::Protocol,
        },
        _ => ErrorClass::Protocol,
    }
}

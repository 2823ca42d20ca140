//! The cipher suite of a QUIC handshake. quinn keeps its rustls connection to itself and reports
//! only the ALPN (`HandshakeData`), so the probe's QUIC TLS session is quinn's, wrapped: every
//! call goes through unchanged, and the server's ServerHello (the first handshake bytes the
//! client reads, at the Initial level) is read on the way for the suite it chose.
//!
//! ServerHello (RFC 8446 §4.1.3): type 2, a 3-byte length, legacy_version (2), random (32),
//! legacy_session_id_echo (1-byte length, then the id, empty over QUIC), cipher_suite (2).
//! A HelloRetryRequest has the same shape and must name the suite the ServerHello will.

use std::any::Any;
use std::sync::Arc;

use quinn::crypto::rustls::{HandshakeData, QuicClientConfig};
use quinn::crypto::{
    self, ExportKeyingMaterialError, HeaderKey, KeyPair, Keys, PacketKey, Session,
};
use quinn::{ConnectError, ConnectionId, Side};
use quinn_proto::TransportError;
use quinn_proto::transport_parameters::TransportParameters;

const SERVER_HELLO: u8 = 2;
/// Bytes of a ServerHello before its session id: type, length, version, random, id length.
const BEFORE_SESSION_ID: usize = 1 + 3 + 2 + 32 + 1;

/// What the handshake agreed, as [`quinn::Connection::handshake_data`] returns it for a
/// connection made with [`SuiteReading`].
#[derive(Debug)]
pub struct Negotiated {
    pub alpn: Option<Vec<u8>>,
    pub cipher_suite: Option<rustls::CipherSuite>,
}

/// quinn's rustls client configuration, whose sessions also learn the cipher suite.
pub struct SuiteReading(pub Arc<QuicClientConfig>);

impl crypto::ClientConfig for SuiteReading {
    fn start_session(
        self: Arc<Self>,
        version: u32,
        server_name: &str,
        params: &TransportParameters,
    ) -> Result<Box<dyn Session>, ConnectError> {
        let inner = self.0.clone().start_session(version, server_name, params)?;
        Ok(Box::new(SuiteReadingSession {
            inner,
            server_hello: ServerHelloReader::default(),
        }))
    }
}

struct SuiteReadingSession {
    inner: Box<dyn Session>,
    server_hello: ServerHelloReader,
}

/// Reads the suite from the first handshake bytes the server sends, however they are split.
#[derive(Default)]
struct ServerHelloReader {
    /// The bytes so far, until the suite could be read from them.
    bytes: Vec<u8>,
    cipher_suite: Option<rustls::CipherSuite>,
}

impl ServerHelloReader {
    fn observe(&mut self, received: &[u8]) {
        if self.cipher_suite.is_some() || self.bytes.len() > BEFORE_SESSION_ID + 32 + 2 {
            return;
        }
        self.bytes.extend_from_slice(received);
        self.cipher_suite = cipher_suite(&self.bytes);
        if self.cipher_suite.is_some() {
            self.bytes = Vec::new();
        }
    }
}

/// The suite a ServerHello names, once enough of it is in `bytes`.
fn cipher_suite(bytes: &[u8]) -> Option<rustls::CipherSuite> {
    if *bytes.first()? != SERVER_HELLO {
        return None;
    }
    let at = BEFORE_SESSION_ID + usize::from(*bytes.get(BEFORE_SESSION_ID - 1)?);
    let suite = bytes.get(at..at + 2)?;
    Some(u16::from_be_bytes([suite[0], suite[1]]).into())
}

impl Session for SuiteReadingSession {
    fn initial_keys(&self, dst_cid: &ConnectionId, side: Side) -> Keys {
        self.inner.initial_keys(dst_cid, side)
    }

    fn handshake_data(&self) -> Option<Box<dyn Any>> {
        let data = self
            .inner
            .handshake_data()?
            .downcast::<HandshakeData>()
            .ok()?;
        Some(Box::new(Negotiated {
            alpn: data.protocol,
            cipher_suite: self.server_hello.cipher_suite,
        }))
    }

    fn peer_identity(&self) -> Option<Box<dyn Any>> {
        self.inner.peer_identity()
    }

    fn early_crypto(&self) -> Option<(Box<dyn HeaderKey>, Box<dyn PacketKey>)> {
        self.inner.early_crypto()
    }

    fn early_data_accepted(&self) -> Option<bool> {
        self.inner.early_data_accepted()
    }

    fn is_handshaking(&self) -> bool {
        self.inner.is_handshaking()
    }

    fn read_handshake(&mut self, buf: &[u8]) -> Result<bool, TransportError> {
        self.server_hello.observe(buf);
        self.inner.read_handshake(buf)
    }

    fn transport_parameters(&self) -> Result<Option<TransportParameters>, TransportError> {
        self.inner.transport_parameters()
    }

    fn write_handshake(&mut self, buf: &mut Vec<u8>) -> Option<Keys> {
        self.inner.write_handshake(buf)
    }

    fn next_1rtt_keys(&mut self) -> Option<KeyPair<Box<dyn PacketKey>>> {
        self.inner.next_1rtt_keys()
    }

    fn is_valid_retry(&self, orig_dst_cid: &ConnectionId, header: &[u8], payload: &[u8]) -> bool {
        self.inner.is_valid_retry(orig_dst_cid, header, payload)
    }

    fn export_keying_material(
        &self,
        output: &mut [u8],
        label: &[u8],
        context: &[u8],
    ) -> Result<(), ExportKeyingMaterialError> {
        self.inner.export_keying_material(output, label, context)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server_hello(session_id: &[u8], suite: u16) -> Vec<u8> {
        let mut hello = vec![SERVER_HELLO, 0, 0, 90, 3, 3];
        hello.extend([7; 32]);
        hello.push(session_id.len() as u8);
        hello.extend(session_id);
        hello.extend(suite.to_be_bytes());
        hello.extend([0, 0, 0]); // compression, extensions…
        hello
    }

    #[test]
    fn the_suite_is_read_after_the_session_id() {
        assert_eq!(
            cipher_suite(&server_hello(&[], 0x1302)),
            Some(rustls::CipherSuite::TLS13_AES_256_GCM_SHA384)
        );
        assert_eq!(
            cipher_suite(&server_hello(&[1, 2, 3], 0x1303)),
            Some(rustls::CipherSuite::TLS13_CHACHA20_POLY1305_SHA256)
        );
    }

    #[test]
    fn a_server_hello_split_across_reads_is_read_once_whole() {
        let hello = server_hello(&[], 0x1301);
        let mut reader = ServerHelloReader::default();
        reader.observe(&hello[..20]);
        assert_eq!(reader.cipher_suite, None);
        reader.observe(&hello[20..]);
        assert_eq!(
            reader.cipher_suite,
            Some(rustls::CipherSuite::TLS13_AES_128_GCM_SHA256)
        );
    }

    #[test]
    fn other_handshake_messages_name_no_suite() {
        let mut certificate = server_hello(&[], 0x1301);
        certificate[0] = 11;
        assert_eq!(cipher_suite(&certificate), None);
        assert_eq!(cipher_suite(&[SERVER_HELLO, 0, 0]), None);
    }
}

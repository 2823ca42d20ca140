//! The connect and TLS phases: a TCP connection with tokio, then a TLS handshake with
//! tokio-rustls (ring), trusting the bundled webpki roots plus any `--cacert`.

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use rustls::client::Resumption;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// Why the TLS settings could not be built (bad input: exit 2).
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("--cacert {path}: {reason}")]
    CaCert { path: String, reason: String },
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("QUIC TLS configuration: {0}")]
    Quic(String),
}

/// A connect that reached no address.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct ConnectError {
    pub error: io::Error,
    /// The last address tried, if there was any to try.
    pub last_tried: Option<SocketAddr>,
}

/// Connects to the first address that accepts, in order (like curl without happy eyeballs).
/// Returns the stream and the address it reached.
pub async fn tcp_connect(addrs: &[SocketAddr]) -> Result<(TcpStream, SocketAddr), ConnectError> {
    let mut failed = ConnectError {
        error: io::Error::new(io::ErrorKind::AddrNotAvailable, "no address to connect"),
        last_tried: None,
    };
    for &addr in addrs {
        let connected = TcpStream::connect(addr).await.and_then(|stream| {
            // Requests are small single writes; Nagle would only delay them.
            stream.set_nodelay(true)?;
            Ok(stream)
        });
        match connected {
            Ok(stream) => return Ok((stream, addr)),
            Err(error) => {
                failed = ConnectError {
                    error,
                    last_tried: Some(addr),
                }
            }
        }
    }
    Err(failed)
}

/// How the probe's TLS client trusts servers and what it offers by ALPN, over TCP and over QUIC.
#[derive(Clone)]
pub struct TlsSettings {
    connector: TlsConnector,
    /// The same trust for QUIC: TLS 1.3 only (QUIC has no other), ALPN `h3`.
    pub(super) quic: Arc<quinn::crypto::rustls::QuicClientConfig>,
}

impl TlsSettings {
    /// `alpn`: protocols offered over TCP, in order of preference. `insecure` skips certificate
    /// checks (signatures on the handshake are still verified).
    pub fn new(
        cacert: Option<&Path>,
        insecure: bool,
        alpn: &[&[u8]],
    ) -> Result<Self, TlsSetupError> {
        let roots = match cacert {
            Some(path) => read_pem_certificates(path)?,
            None => Vec::new(),
        };
        let tcp = client_config(&roots, insecure, alpn, false)?;
        let quic = client_config(&roots, insecure, &[b"h3"], true)?;
        let quic = quinn::crypto::rustls::QuicClientConfig::try_from(quic)
            .map_err(|e| TlsSetupError::Quic(e.to_string()))?;
        Ok(Self {
            connector: TlsConnector::from(Arc::new(tcp)),
            quic: Arc::new(quic),
        })
    }

    /// The handshake, verifying the certificate for `host` (a DNS name or an IP literal).
    pub async fn handshake(&self, host: &str, tcp: TcpStream) -> io::Result<TlsStream<TcpStream>> {
        self.connector.connect(server_name(host)?, tcp).await
    }
}

/// `host` as TLS names it (an IPv6 literal without its brackets).
pub fn server_name(host: &str) -> io::Result<ServerName<'static>> {
    ServerName::try_from(host.trim_start_matches('[').trim_end_matches(']'))
        .map(|name| name.to_owned())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
}

/// A first-time viewer's client: the bundled roots plus `extra_roots`, never resuming a
/// session, never sending early data (0-RTT).
fn client_config(
    extra_roots: &[CertificateDer<'static>],
    insecure: bool,
    alpn: &[&[u8]],
    tls13_only: bool,
) -> Result<rustls::ClientConfig, TlsSetupError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    for cert in extra_roots {
        roots.add(cert.clone())?;
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone());
    let builder = if tls13_only {
        builder.with_protocol_versions(&[&rustls::version::TLS13])?
    } else {
        builder.with_safe_default_protocol_versions()?
    };
    let mut config = if insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(
                provider.signature_verification_algorithms,
            )))
            .with_no_client_auth()
    } else {
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    // Every new connection is a first-time viewer's: a full handshake, never resumed.
    config.resumption = Resumption::disabled();
    config.enable_early_data = false;
    Ok(config)
}

fn read_pem_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsSetupError> {
    let error = |reason: String| TlsSetupError::CaCert {
        path: path.display().to_string(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|e| error(e.to_string()))?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| error(e.to_string()))?;
    if certs.is_empty() {
        return Err(error("no PEM certificate in the file".into()));
    }
    Ok(certs)
}

/// `--insecure`: any certificate for any name, as `curl -k`.
#[derive(Debug)]
struct AcceptAnyCertificate(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}

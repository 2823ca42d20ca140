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

/// How the probe's TLS client trusts servers and what it offers by ALPN.
#[derive(Clone)]
pub struct TlsSettings {
    connector: TlsConnector,
}

impl TlsSettings {
    /// `alpn`: protocols offered, in order of preference. `insecure` skips certificate checks
    /// (signatures on the handshake are still verified).
    pub fn new(
        cacert: Option<&Path>,
        insecure: bool,
        alpn: &[&[u8]],
    ) -> Result<Self, TlsSetupError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        if let Some(path) = cacert {
            for cert in read_pem_certificates(path)? {
                roots.add(cert)?;
            }
        }
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()?;
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
        Ok(Self {
            connector: TlsConnector::from(Arc::new(config)),
        })
    }

    /// The handshake, verifying the certificate for `host` (a DNS name or an IP literal).
    pub async fn handshake(&self, host: &str, tcp: TcpStream) -> io::Result<TlsStream<TcpStream>> {
        let name = ServerName::try_from(host.trim_start_matches('[').trim_end_matches(']'))
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?
            .to_owned();
        self.connector.connect(name, tcp).await
    }
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

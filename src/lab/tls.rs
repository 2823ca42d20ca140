//! A throwaway certificate authority and leaf certificates (rcgen) for TLS on loopback.
//!
//! The lab's servers present leaves issued here; the probe trusts them through
//! `--cacert` (the PEM from [`TestCa::write_ca_pem`]) exactly as a user would trust a private CA.

use std::io;
use std::path::Path;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// ALPN for a server that speaks both HTTP versions, preferring h2 (like most CDNs).
pub const ALPN_H2_AND_HTTP1: &[&str] = &["h2", "http/1.1"];
/// ALPN for an HTTP/1.1-only server.
pub const ALPN_HTTP1: &[&str] = &["http/1.1"];

/// A QUIC server configuration with `tls`'s certificate and ALPN `h3` (its other ALPN
/// protocols are TCP's), for the lab's HTTP/3 servers.
pub fn h3_server_config(
    tls: &rustls::ServerConfig,
) -> Result<quinn::ServerConfig, quinn::crypto::rustls::NoInitialCipherSuite> {
    let mut tls = tls.clone();
    tls.alpn_protocols = vec![b"h3".to_vec()];
    let quic = quinn::crypto::rustls::QuicServerConfig::try_from(tls)?;
    Ok(quinn::ServerConfig::with_crypto(Arc::new(quic)))
}

#[derive(Debug, thiserror::Error)]
pub enum LabTlsError {
    #[error("certificate generation: {0}")]
    Rcgen(#[from] rcgen::Error),
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

/// A self-signed CA made fresh for each lab; its key never leaves memory.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A leaf certificate (chain: leaf, then CA) and its private key.
pub struct LeafCert {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

impl TestCa {
    pub fn new() -> Result<Self, LabTlsError> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params
            .distinguished_name
            .push(DnType::CommonName, "cdnprobe lab CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate()?)?;
        Ok(Self { issuer })
    }

    /// The CA certificate, PEM: what `--cacert` reads.
    pub fn ca_pem(&self) -> String {
        self.issuer.pem()
    }

    pub fn ca_der(&self) -> CertificateDer<'static> {
        self.issuer.der().clone()
    }

    pub fn write_ca_pem(&self, path: &Path) -> io::Result<()> {
        std::fs::write(path, self.ca_pem())
    }

    /// A server certificate for `names`: DNS names, or IP literals (which become IP SANs).
    pub fn issue(&self, names: &[&str]) -> Result<LeafCert, LabTlsError> {
        self.issue_with(names, |_| {})
    }

    /// [`TestCa::issue`], with `adjust` changing the leaf's parameters before it is signed.
    fn issue_with(
        &self,
        names: &[&str],
        adjust: impl FnOnce(&mut CertificateParams),
    ) -> Result<LeafCert, LabTlsError> {
        let sans: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(sans)?;
        if let Some(first) = names.first() {
            params.distinguished_name.push(DnType::CommonName, *first);
        }
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        adjust(&mut params);
        let key = KeyPair::generate()?;
        let leaf = params.signed_by(&key, &self.issuer)?;
        Ok(LeafCert {
            chain: vec![leaf.der().clone(), self.ca_der()],
            key: PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
        })
    }

    /// A rustls server configuration (ring provider) presenting a leaf for `names` and
    /// offering `alpn` (for example [`ALPN_H2_AND_HTTP1`]).
    pub fn server_config(
        &self,
        names: &[&str],
        alpn: &[&str],
    ) -> Result<Arc<rustls::ServerConfig>, LabTlsError> {
        self.server_config_with_versions(names, alpn, rustls::DEFAULT_VERSIONS)
    }

    /// [`TestCa::server_config`] speaking only `versions` (`&[&rustls::version::TLS12]` forces
    /// TLS 1.2, as an old origin would).
    pub fn server_config_with_versions(
        &self,
        names: &[&str],
        alpn: &[&str],
        versions: &[&'static rustls::SupportedProtocolVersion],
    ) -> Result<Arc<rustls::ServerConfig>, LabTlsError> {
        leaf_config(self.issue(names)?, alpn, versions)
    }

    /// [`TestCa::server_config`] whose leaf expires at midnight UTC starting `year-month-day`:
    /// a known not-after for tests of expiry reporting.
    pub fn server_config_expiring(
        &self,
        names: &[&str],
        alpn: &[&str],
        (year, month, day): (i32, u8, u8),
    ) -> Result<Arc<rustls::ServerConfig>, LabTlsError> {
        let leaf = self.issue_with(names, |params| {
            params.not_after = rcgen::date_time_ymd(year, month, day);
        })?;
        leaf_config(leaf, alpn, rustls::DEFAULT_VERSIONS)
    }

    /// A rustls client configuration that trusts only this CA: for tests and untimed helpers.
    pub fn client_config(&self, alpn: &[&str]) -> Result<Arc<rustls::ClientConfig>, LabTlsError> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.ca_der())?;
        let mut config = rustls::ClientConfig::builder_with_provider(ring_provider())
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
        Ok(Arc::new(config))
    }
}

/// A rustls server configuration (ring provider) presenting `leaf`.
fn leaf_config(
    leaf: LeafCert,
    alpn: &[&str],
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Result<Arc<rustls::ServerConfig>, LabTlsError> {
    let mut config = rustls::ServerConfig::builder_with_provider(ring_provider())
        .with_protocol_versions(versions)?
        .with_no_client_auth()
        .with_single_cert(leaf.chain, leaf.key)?;
    config.alpn_protocols = alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
    Ok(Arc::new(config))
}

fn ring_provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::ServerName;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_rustls::{TlsAcceptor, TlsConnector};

    /// Handshakes a client trusting `client_ca` with a server holding a leaf from `server_ca`
    /// for `leaf_names`, asking for `server_name`. Returns the negotiated ALPN protocol.
    async fn handshake(
        server_ca: &TestCa,
        client_ca: &TestCa,
        leaf_names: &[&str],
        server_name: &str,
    ) -> Result<Option<Vec<u8>>, io::Error> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let acceptor = TlsAcceptor::from(
            server_ca
                .server_config(leaf_names, ALPN_H2_AND_HTTP1)
                .unwrap(),
        );
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await?;
            let mut tls = acceptor.accept(tcp).await?;
            tls.write_all(b"ok").await?;
            tls.shutdown().await
        });
        let connector = TlsConnector::from(client_ca.client_config(ALPN_H2_AND_HTTP1).unwrap());
        let tcp = tokio::net::TcpStream::connect(addr).await?;
        let name = ServerName::try_from(server_name.to_string()).unwrap();
        let mut tls = connector.connect(name, tcp).await?;
        let mut reply = Vec::new();
        tls.read_to_end(&mut reply).await?;
        assert_eq!(reply, b"ok");
        let alpn = tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
        let _ = server.await;
        Ok(alpn)
    }

    #[tokio::test]
    async fn client_trusting_the_ca_accepts_a_leaf_for_the_name() {
        let ca = TestCa::new().unwrap();
        let alpn = handshake(&ca, &ca, &["cdn.lab.test"], "cdn.lab.test").await;
        assert_eq!(alpn.unwrap().as_deref(), Some(&b"h2"[..]));
    }

    #[tokio::test]
    async fn leaf_for_an_ip_literal_is_accepted_for_that_ip() {
        let ca = TestCa::new().unwrap();
        let alpn = handshake(&ca, &ca, &["127.0.0.1"], "127.0.0.1").await;
        assert!(alpn.is_ok(), "{alpn:?}");
    }

    #[tokio::test]
    async fn leaf_for_another_name_is_rejected() {
        let ca = TestCa::new().unwrap();
        let result = handshake(&ca, &ca, &["origin.lab.test"], "cdn.lab.test").await;
        assert!(result.is_err());
    }

    #[tokio::test]
    async fn leaf_from_another_ca_is_rejected() {
        let (server_ca, client_ca) = (TestCa::new().unwrap(), TestCa::new().unwrap());
        let result = handshake(&server_ca, &client_ca, &["cdn.lab.test"], "cdn.lab.test").await;
        assert!(result.is_err());
    }

    #[test]
    fn ca_pem_written_to_disk_is_one_certificate() {
        let ca = TestCa::new().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        ca.write_ca_pem(&path).unwrap();
        let pem = std::fs::read_to_string(&path).unwrap();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert_eq!(pem.matches("BEGIN CERTIFICATE").count(), 1);
    }
}

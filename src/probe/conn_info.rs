//! What each connection was, beside its phases: the TLS version, cipher and ALPN agreed, when the
//! leaf certificate expires, whether the response offered h3, and the path's round trip and
//! losses (`TCP_INFO` for TCP; quinn's path statistics for QUIC, read in `quic.rs`).

use http::HeaderMap;
use rustls::pki_types::CertificateDer;

use crate::sample::{Sample, YesNo};

/// The TLS facts of a handshake, kept with the connection and written into every sample it
/// carries.
#[derive(Debug, Clone, Default)]
pub struct TlsFacts {
    version: String,
    cipher: String,
    alpn: String,
    cert_expires_at: String,
}

impl TlsFacts {
    pub fn new(
        version: Option<rustls::ProtocolVersion>,
        cipher: Option<rustls::CipherSuite>,
        alpn: Option<&[u8]>,
        certificates: Option<&[CertificateDer<'_>]>,
    ) -> Self {
        Self {
            version: match version {
                Some(rustls::ProtocolVersion::TLSv1_3) => "1.3".into(),
                Some(rustls::ProtocolVersion::TLSv1_2) => "1.2".into(),
                Some(other) => format!("{other:?}"),
                None => String::new(),
            },
            cipher: cipher.map(iana_name).unwrap_or_default(),
            alpn: alpn
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .unwrap_or_default(),
            cert_expires_at: certificates
                .and_then(|chain| chain.first())
                .and_then(not_after)
                .unwrap_or_default(),
        }
    }

    /// The facts of a rustls connection after its handshake.
    pub fn of(connection: &rustls::CommonState) -> Self {
        Self::new(
            connection.protocol_version(),
            connection.negotiated_cipher_suite().map(|s| s.suite()),
            connection.alpn_protocol(),
            connection.peer_certificates(),
        )
    }

    pub fn write_into(&self, sample: &mut Sample) {
        sample.tls_version.clone_from(&self.version);
        sample.tls_cipher.clone_from(&self.cipher);
        sample.alpn.clone_from(&self.alpn);
        sample.cert_expires_at.clone_from(&self.cert_expires_at);
    }
}

/// rustls names TLS 1.3 suites `TLS13_…`; the IANA registry calls them `TLS_…` (as TLS 1.2's).
fn iana_name(suite: rustls::CipherSuite) -> String {
    let name = suite
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| format!("0x{:04x}", u16::from(suite)));
    match name.strip_prefix("TLS13_") {
        Some(rest) => format!("TLS_{rest}"),
        None => name,
    }
}

/// The leaf's not-after, RFC 3339 (UTC).
fn not_after(leaf: &CertificateDer<'_>) -> Option<String> {
    let (_, certificate) = x509_parser::parse_x509_certificate(leaf.as_ref()).ok()?;
    let seconds = certificate.validity().not_after.timestamp();
    let at = chrono::DateTime::from_timestamp(seconds, 0)?;
    Some(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

/// Whether an `Alt-Svc` header offers h3 (`h3=":443"`; drafts such as `h3-29` do not count).
pub fn alt_svc_offers_h3(headers: &HeaderMap) -> YesNo {
    let offers = headers
        .get_all(http::header::ALT_SVC)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|entry| {
            entry
                .trim()
                .split_once('=')
                .is_some_and(|(protocol, _)| protocol.trim() == "h3")
        });
    offers.into()
}

/// A duplicate of the probe's TCP socket, kept to read `TCP_INFO` after the body: the original
/// belongs to the HTTP connection's task, and a duplicate keeps the socket (not a recycled
/// descriptor number) alive for as long as the probe asks.
pub struct TcpInfoSource {
    #[cfg(target_os = "linux")]
    fd: std::os::fd::OwnedFd,
}

impl TcpInfoSource {
    #[cfg(target_os = "linux")]
    pub fn of(tcp: &tokio::net::TcpStream) -> Option<Self> {
        use std::os::fd::AsFd;
        let fd = tcp.as_fd().try_clone_to_owned().ok()?;
        Some(Self { fd })
    }

    #[cfg(not(target_os = "linux"))]
    pub fn of(_tcp: &tokio::net::TcpStream) -> Option<Self> {
        None
    }

    /// The smoothed RTT (ms) and total retransmitted segments, now.
    #[cfg(target_os = "linux")]
    pub fn read(&self) -> Option<(f64, u64)> {
        use std::os::fd::AsRawFd;
        // SAFETY: `tcp_info` is plain old data, and the kernel writes at most `len` bytes of it
        // into the zeroed struct through a descriptor this value owns.
        let info = unsafe {
            let mut info: libc::tcp_info = std::mem::zeroed();
            let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
            let read = libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::IPPROTO_TCP,
                libc::TCP_INFO,
                (&mut info as *mut libc::tcp_info).cast(),
                &mut len,
            );
            if read != 0 {
                return None;
            }
            info
        };
        Some((info.tcpi_rtt as f64 / 1e3, info.tcpi_total_retrans as u64))
    }

    #[cfg(not(target_os = "linux"))]
    pub fn read(&self) -> Option<(f64, u64)> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn offers(value: &'static str) -> YesNo {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::ALT_SVC, HeaderValue::from_static(value));
        alt_svc_offers_h3(&headers)
    }

    #[test]
    fn alt_svc_h3_entries_are_recognised_among_others() {
        assert_eq!(offers(r#"h3=":443"; ma=86400"#), YesNo::Yes);
        assert_eq!(offers(r#"h3-29=":443", h3=":8443""#), YesNo::Yes);
        assert_eq!(offers(r#"h3-29=":443""#), YesNo::No);
        assert_eq!(offers("clear"), YesNo::No);
        assert_eq!(alt_svc_offers_h3(&HeaderMap::new()), YesNo::No);
    }

    #[test]
    fn tls13_suites_take_their_iana_names() {
        assert_eq!(
            iana_name(rustls::CipherSuite::TLS13_AES_128_GCM_SHA256),
            "TLS_AES_128_GCM_SHA256"
        );
        assert_eq!(
            iana_name(rustls::CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256),
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
        );
    }
}

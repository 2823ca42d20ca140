//! A TLS front: terminates TLS with the lab's certificate and relays the plain bytes to a
//! backend, the way a load balancer sits in front of an HTTP server (without a certificate it
//! relays plain TCP, as the origin's port 80 does for the edge in the namespace lab).
//!
//! The lab puts a [`super::link::Link`] in front of each TLS front, so the TLS handshake crosses
//! the emulated path and takes its round trip, while the backend (the real `cdnprobe-server`, or
//! the edge) speaks plain HTTP on loopback. The backend must speak what ALPN agreed: give the
//! front a `ServerConfig` whose `alpn_protocols` the backend understands.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

use super::listening::Listening;

/// A running TLS front. Dropping it stops the listener and every connection.
#[derive(Debug)]
pub struct TlsFront {
    listening: Listening,
}

impl TlsFront {
    /// Listens on a free port of 127.0.0.1, terminates TLS with `config` and relays to `backend`.
    pub async fn start(
        config: Arc<rustls::ServerConfig>,
        backend: SocketAddr,
    ) -> std::io::Result<Self> {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), Some(config), backend).await
    }

    /// Listens on `bind` (in the calling thread's network namespace) and relays every
    /// connection to `backend`, terminating TLS with `config` first when one is given.
    pub async fn start_on(
        bind: SocketAddr,
        config: Option<Arc<rustls::ServerConfig>>,
        backend: SocketAddr,
    ) -> std::io::Result<Self> {
        let acceptor = config.map(TlsAcceptor::from);
        let listening = Listening::start_on(bind, move |client| {
            forward(client, acceptor.clone(), backend)
        })
        .await?;
        Ok(Self { listening })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listening.local_addr()
    }
}

async fn forward(client: TcpStream, acceptor: Option<TlsAcceptor>, backend: SocketAddr) {
    match acceptor {
        Some(acceptor) => {
            let Ok(tls) = acceptor.accept(client).await else {
                return; // a failed handshake is the client's to report
            };
            relay(tls, backend).await;
        }
        None => relay(client, backend).await,
    }
}

async fn relay<S>(mut client: S, backend: SocketAddr)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let Ok(mut server) = TcpStream::connect(backend).await else {
        return;
    };
    let _ = server.set_nodelay(true);
    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
}

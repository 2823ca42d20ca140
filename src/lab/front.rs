//! A TLS front: terminates TLS with the lab's certificate and relays the plain bytes to a
//! backend, the way a load balancer sits in front of an HTTP server.
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
        let acceptor = TlsAcceptor::from(config);
        let listening =
            Listening::start(move |client| terminate(client, acceptor.clone(), backend)).await?;
        Ok(Self { listening })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listening.local_addr()
    }
}

async fn terminate(client: TcpStream, acceptor: TlsAcceptor, backend: SocketAddr) {
    let Ok(mut tls) = acceptor.accept(client).await else {
        return; // a failed handshake is the client's to report
    };
    let Ok(mut server) = TcpStream::connect(backend).await else {
        return;
    };
    let _ = server.set_nodelay(true);
    let _ = tokio::io::copy_bidirectional(&mut tls, &mut server).await;
}

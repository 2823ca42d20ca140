//! The edge's HTTP/3 front: a quinn endpoint on UDP with the edge's certificate (ALPN `h3`)
//! whose requests get the same answers, from the same cache, as the TCP front's.

use std::io;
use std::sync::Arc;

use bytes::Bytes;
use http::Response;
use quinn::{TokioRuntime, VarInt};
use tokio::task::JoinHandle;

use super::cache::{EdgeState, answer};
use crate::lab::tls::h3_server_config;

/// A running QUIC endpoint. Dropping it closes every connection and the socket.
#[derive(Debug)]
pub(super) struct H3Front {
    endpoint: quinn::Endpoint,
    accept_loop: JoinHandle<()>,
}

/// Why the edge could not answer HTTP/3.
#[derive(Debug, thiserror::Error)]
pub enum EdgeH3Error {
    #[error("QUIC TLS configuration: {0}")]
    Tls(String),
    #[error(transparent)]
    Io(#[from] io::Error),
}

impl H3Front {
    /// Serves on `socket` (bound by the caller, in whichever namespace the edge lives) with
    /// `tls`'s certificate. Must be called inside a Tokio runtime.
    pub(super) fn start(
        socket: std::net::UdpSocket,
        tls: &rustls::ServerConfig,
        state: Arc<EdgeState>,
    ) -> Result<Self, EdgeH3Error> {
        let server = h3_server_config(tls).map_err(|e| EdgeH3Error::Tls(e.to_string()))?;
        let endpoint = quinn::Endpoint::new(
            quinn::EndpointConfig::default(),
            Some(server),
            socket,
            Arc::new(TokioRuntime),
        )?;
        let accept_loop = tokio::spawn(accept_loop(endpoint.clone(), state));
        Ok(Self {
            endpoint,
            accept_loop,
        })
    }
}

impl Drop for H3Front {
    fn drop(&mut self) {
        self.accept_loop.abort();
        self.endpoint.close(VarInt::from_u32(0), b"");
    }
}

async fn accept_loop(endpoint: quinn::Endpoint, state: Arc<EdgeState>) {
    while let Some(incoming) = endpoint.accept().await {
        tokio::spawn(serve_connection(incoming, state.clone()));
    }
}

async fn serve_connection(incoming: quinn::Incoming, state: Arc<EdgeState>) {
    let Ok(connecting) = incoming.accept() else {
        return;
    };
    let Ok(connection) = connecting.await else {
        return; // a failed handshake is the client's to report
    };
    let Ok(mut h3) =
        h3::server::Connection::<_, Bytes>::new(h3_quinn::Connection::new(connection)).await
    else {
        return;
    };
    while let Ok(Some(resolver)) = h3.accept().await {
        let state = state.clone();
        tokio::spawn(async move {
            let Ok((request, mut stream)) = resolver.resolve_request().await else {
                return;
            };
            let response = answer(&state, request.method(), request.uri(), request.headers()).await;
            let (head, body) = response.into_parts();
            if stream
                .send_response(Response::from_parts(head, ()))
                .await
                .is_err()
            {
                return;
            }
            if !body.is_empty() && stream.send_data(body).await.is_err() {
                return;
            }
            let _ = stream.finish().await;
        });
    }
}

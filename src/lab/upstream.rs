//! The edge's connection to the origin: one HTTP/1.1 connection, opened ahead of time and kept
//! open, as CloudFront keeps its connections to an origin warm. A miss then costs one round
//! trip of the edge↔origin path plus the body, not a new handshake.
//!
//! How the connection is dialled is the lab's business ([`Dial`]): straight to a loopback
//! address for the relay lab, from inside the edge's namespace for the namespace lab.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;
use http::{HeaderMap, Request, StatusCode, header};
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// What went wrong fetching from the origin; the edge answers 502.
#[derive(Debug, thiserror::Error)]
pub enum OriginError {
    #[error("cannot connect to the origin: {0}")]
    Connect(#[from] std::io::Error),
    #[error("origin HTTP exchange failed: {0}")]
    Http(#[from] hyper::Error),
}

/// Opens a new TCP connection to the origin.
pub type Dial = Arc<dyn Fn() -> BoxFuture<'static, std::io::Result<TcpStream>> + Send + Sync>;

/// An origin response, whole.
#[derive(Debug)]
pub struct Fetched {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// The warm connection and how to open another when the origin closes it.
pub struct Upstream {
    dial: Dial,
    /// Sent as `Host`.
    host: String,
    /// One request at a time on the one connection, as HTTP/1.1 allows.
    connection: tokio::sync::Mutex<Option<SendRequest<Empty<Bytes>>>>,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream")
            .field("host", &self.host)
            .finish()
    }
}

impl Upstream {
    pub fn new(host: impl Into<String>, dial: Dial) -> Self {
        Self {
            dial,
            host: host.into(),
            connection: tokio::sync::Mutex::new(None),
        }
    }

    /// An origin reached by connecting to `origin` from the lab process.
    pub fn tcp(origin: SocketAddr) -> Self {
        Self::new(
            origin.to_string(),
            Arc::new(move || Box::pin(TcpStream::connect(origin))),
        )
    }

    /// Opens the connection now, so the first miss finds it open.
    pub async fn warm(&self) -> Result<(), OriginError> {
        let mut connection = self.connection.lock().await;
        if connection.is_none() {
            *connection = Some(self.connect().await?);
        }
        Ok(())
    }

    /// GETs `path_and_query` whole, on the warm connection (reopened if the origin closed it).
    pub async fn get(&self, path_and_query: &str) -> Result<Fetched, OriginError> {
        let mut connection = self.connection.lock().await;
        let open = match connection.take() {
            Some(mut sender) => sender.ready().await.is_ok().then_some(sender),
            None => None,
        };
        let sender = match open {
            Some(sender) => connection.insert(sender),
            None => connection.insert(self.connect().await?),
        };
        let request = Request::get(path_and_query)
            .header(header::HOST, &self.host)
            .body(Empty::<Bytes>::new())
            .expect("a path from a parsed URI makes a valid request");
        let response = sender.send_request(request).await?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await?.to_bytes();
        Ok(Fetched {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    }

    async fn connect(&self) -> Result<SendRequest<Empty<Bytes>>, OriginError> {
        let stream = (self.dial)().await?;
        let _ = stream.set_nodelay(true);
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        // Ends when the origin closes or the last sender is dropped with the Upstream.
        tokio::spawn(connection);
        Ok(sender)
    }
}

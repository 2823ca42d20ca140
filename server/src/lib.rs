//! cdnprobe-server: the video origin cdnprobe measures. Uploads stream into an object store
//! (local disk or S3); videos stream back with RFC 9110 ranges and conditionals, fit to sit
//! behind CloudFront.
//!
//! `serve` runs it on a listener you bound, and `InProcessServer` on a free loopback port, so
//! the offline demo and the tests can start it in-process; `main.rs` is a thin wrapper that
//! binds `--listen` and handles signals.

pub mod config;
pub mod connections;
pub mod error;
pub mod fuzzing;
pub mod leftovers;
pub mod linger;
pub mod local_videos;
pub mod mapped;
pub mod metadata;
pub mod metrics;
pub mod pending;
pub mod read_budget;
pub mod routes;
pub mod stall;
pub mod storage;
pub mod stream;
pub mod upload;

use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use config::Args;

use crate::connections::ConnectionLimit;
use crate::metrics::Metrics;
pub use crate::routes::App;
use crate::storage::Storage;

/// Serves the API on `listener` until `shutdown` completes, then lets open requests and
/// uploads being committed finish (up to `--shutdown-grace` seconds) and returns.
pub async fn serve(
    args: Args,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    Server::open(args, listener)?.run(shutdown).await
}

/// A cdnprobe-server running inside this process on a free loopback port, for tests and the
/// offline lab that want the real server without a child process. `stop` shuts it down
/// gracefully; dropping it aborts it.
pub struct InProcessServer {
    address: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl InProcessServer {
    /// Binds a free port on 127.0.0.1, in place of `--listen`, and serves `args` there. A bad
    /// configuration or storage that cannot be opened is an error here, before any request.
    pub async fn start(mut args: Args) -> anyhow::Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .context("listening on a free loopback port")?;
        args.listen = listener
            .local_addr()
            .context("reading the listening address")?;
        let address = args.listen;
        let server = Server::open(args, listener)?;
        let (shutdown, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server.run(async move {
            let _ = stopped.await;
        }));
        Ok(Self {
            address,
            shutdown: Some(shutdown),
            task,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// `http://127.0.0.1:PORT`, the base of every API URL.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Asks the server to stop, waits until it has, and returns how its serving ended.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        (&mut self.task).await.context("the server task panicked")?
    }
}

impl Drop for InProcessServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Largest request head (request line and headers) accepted; a larger one is answered 431 and
/// the connection closed. nginx's default is 1 KiB grown to at most 4 × 8 KiB.
pub const MAX_HEADER_BYTES: usize = 16 << 10;

/// The shared state of a server: its configuration checked, its storage open.
pub fn open_app(args: Args) -> anyhow::Result<App> {
    // The command line refuses an empty token; Args built in code get the same check.
    if let Some(token) = &args.upload_token {
        config::upload_token(token)
            .map_err(|message| anyhow::anyhow!("--upload-token: {message}"))?;
    }
    Ok(App {
        storage: Storage::from_args(&args)?,
        metrics: Metrics::default(),
        args,
    })
}

/// HTTP/1.1 with the server's limits: the request head's size, the time to send it.
pub fn http_builder(args: &Args) -> http1::Builder {
    let mut http = http1::Builder::new();
    // half_close: a client may shut down its sending side once its request is out (as
    // `nc -N` does) and still read the answer.
    http.timer(TokioTimer::new())
        .half_close(true)
        .header_read_timeout(Duration::from_secs(args.header_read_timeout))
        .max_header_size(MAX_HEADER_BYTES);
    http
}

/// The API as a hyper service, for one connection.
pub fn service(
    app: Arc<App>,
) -> impl hyper::service::Service<
    http::Request<hyper::body::Incoming>,
    Response = http::Response<routes::ResponseBody>,
    Error = Infallible,
    Future = impl Send,
> + Clone {
    service_fn(move |request| {
        let app = app.clone();
        async move { Ok::<_, Infallible>(routes::handle(app, request).await) }
    })
}

/// A server with its configuration checked and its storage open, ready to accept.
struct Server {
    app: Arc<App>,
    listener: TcpListener,
    http: http1::Builder,
    grace: Duration,
    limit: ConnectionLimit,
}

impl Server {
    fn open(args: Args, listener: TcpListener) -> anyhow::Result<Self> {
        let app = open_app(args)?;
        let args = &app.args;
        let address = listener
            .local_addr()
            .context("reading the listening address")?;
        if !address.ip().is_loopback() && args.upload_token.is_none() {
            tracing::warn!(
                %address,
                "listening beyond loopback without --upload-token: anyone who reaches this port can upload"
            );
        }
        tracing::info!("storing videos in {}", app.storage.description());
        tracing::info!("listening on http://{address}");
        let max_connections = connections::fit_to_file_limit(args.max_connections as usize);
        let limit = ConnectionLimit::new(
            max_connections,
            app.metrics.connections_open.clone(),
            app.metrics.connections_shed.clone(),
        );
        tracing::info!(max_connections, "accepting connections");
        Ok(Self {
            limit,
            grace: Duration::from_secs(args.shutdown_grace),
            http: http_builder(args),
            app: Arc::new(app),
            listener,
        })
    }

    async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let Self {
            app,
            listener,
            http,
            grace,
            limit,
        } = self;
        let graceful = GracefulShutdown::new();
        tokio::pin!(shutdown);
        // Before the first connection: once uploads run, their staged files look the same.
        if app.args.s3_bucket.is_none() {
            leftovers::remove_staged_files(&app.args.data_dir);
        }
        // In the background: a large bucket must not delay serving.
        let cleaning = app.clone();
        tokio::spawn(async move {
            let grace = Duration::from_secs(cleaning.args.orphan_grace);
            leftovers::remove_orphans(&cleaning.storage, grace).await;
        });
        loop {
            let (socket, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of file descriptors and the like: wait instead of spinning.
                        tracing::warn!(%error, "accepting a connection failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let Some((socket, admitted)) = limit.admit(socket) else {
                continue;
            };
            let _ = socket.set_nodelay(true);
            let service = service(app.clone());
            let connection = graceful.watch(http.serve_connection(TokioIo::new(socket), service));
            tokio::spawn(async move {
                let _admitted = admitted;
                if let Err(error) = connection.await {
                    tracing::debug!(%peer, %error, "connection ended with an error");
                }
            });
        }
        drop(listener);
        tracing::info!("shutting down: finishing open requests");
        let finished = async {
            graceful.shutdown().await;
            // A commit outlives its connection when the client left during it.
            app.storage.finish_commits().await;
        };
        tokio::select! {
            () = finished => tracing::info!("all connections closed"),
            () = tokio::time::sleep(grace) => tracing::warn!("connections still open after {grace:?}; exiting"),
        }
        Ok(())
    }
}

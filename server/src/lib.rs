//! cdnprobe-server: the video origin cdnprobe measures. Uploads stream into an object store
//! (local disk or S3); videos stream back with RFC 9110 ranges and conditionals, fit to sit
//! behind CloudFront.
//!
//! `serve` runs it on a listener you bound, so the offline demo and the tests can start it
//! in-process; `main.rs` is a thin wrapper that binds `--listen` and handles signals.

pub mod config;
pub mod error;
pub mod metrics;
pub mod routes;
pub mod storage;
pub mod stream;
pub mod upload;

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

pub use config::Args;

use crate::metrics::Metrics;
use crate::routes::App;
use crate::storage::Storage;

/// Serves the API on `listener` until `shutdown` completes, then lets open requests finish
/// (up to `--shutdown-grace` seconds) and returns.
pub async fn serve(
    args: Args,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let storage = Storage::from_args(&args)?;
    let address = listener
        .local_addr()
        .context("reading the listening address")?;
    if !address.ip().is_loopback() && args.upload_token.is_none() {
        tracing::warn!(
            %address,
            "listening beyond loopback without --upload-token: anyone who reaches this port can upload"
        );
    }
    tracing::info!(
        storage = storage.description(),
        "listening on http://{address}"
    );
    let grace = Duration::from_secs(args.shutdown_grace);
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(args.header_read_timeout));
    let app = Arc::new(App {
        args,
        storage,
        metrics: Metrics::default(),
    });

    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
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
        let _ = socket.set_nodelay(true);
        let app = app.clone();
        let service = service_fn(move |request| {
            let app = app.clone();
            async move { Ok::<_, Infallible>(routes::handle(app, request).await) }
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(socket), service));
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%peer, %error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tracing::info!("shutting down: finishing open requests");
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("all connections closed"),
        () = tokio::time::sleep(grace) => tracing::warn!("connections still open after {grace:?}; exiting"),
    }
    Ok(())
}

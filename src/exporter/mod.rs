//! `cdnprobe exporter`: probe every configured target on a schedule and serve the samples to
//! Prometheus (`/metrics`), one probe per scrape for blackbox-style setups (`/probe`), and
//! `/healthz`.
//!
//! Three threads: probes run on the main thread's current-thread runtime (as in `run`, one
//! thread keeps a phase's time free of hand-offs between workers); the endpoints on their own
//! runtime and thread, so serving a scrape never lands inside a timed phase; and the encoder
//! (`encoder.rs`), which prepares `/metrics`' body ahead of the scrapes, so that a scrape
//! does not wait for the encoding of every series.

pub mod blackbox;
pub mod cadence;
pub mod encoder;
pub mod endpoints;
pub mod exposition;
pub mod metrics;
pub mod plan;
pub mod playback;
pub mod probes;
pub mod rows;
pub mod scheduler;
pub mod tls;
pub mod web;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::watch;

use self::encoder::Encoder;
use self::endpoints::Endpoints;
use self::metrics::ExporterMetrics;
pub use self::plan::ExporterArgs;
use self::plan::ExporterPlan;
use self::probes::Probes;
use self::rows::Rows;
use crate::usage_error;

pub fn execute(args: ExporterArgs) -> anyhow::Result<ExitCode> {
    let sink = args.probe.sink.clone();
    let plan = ExporterPlan::from_args(args)?;
    if let Some(warning) = &plan.dns_warning {
        eprintln!("{warning}");
    }
    let listener = std::net::TcpListener::bind(plan.listen)
        .map_err(|e| usage_error!("--listen {}: {e}", plan.listen))?;
    listener
        .set_nonblocking(true)
        .context("setting the listener non-blocking")?;
    let address = listener
        .local_addr()
        .context("reading --listen's address")?;
    if let Some(warning) = web::exposure_warning(address) {
        eprintln!("{warning}");
    }
    let mut rows = match &plan.out {
        Some(path) => Some(Rows::open(path, &sink, plan.out_every)?),
        None => None,
    };

    let probing = runtime()?;
    let metrics = Arc::new(ExporterMetrics::new(
        &plan.region,
        plan.metric_labels(),
        &plan.playback_targets(),
    ));
    let probes = Arc::new(Probes::new(
        plan.targets.clone(),
        plan.prober.clone(),
        plan.region.clone(),
        plan.concurrency,
        probing.handle().clone(),
    ));
    let (stop, stopped) = watch::channel(false);

    let encoder = Arc::new(Encoder::new(metrics.clone()));
    let (stop_encoder, encoder_stopped) = std::sync::mpsc::channel::<()>();
    let encoding = {
        let encoder = encoder.clone();
        std::thread::Builder::new()
            .name("encoder".into())
            .spawn(move || encoder.run(encoder_stopped))
            .context("starting the encoder's thread")?
    };
    let endpoints = Arc::new(Endpoints {
        encoder,
        probes: probes.clone(),
    });
    let mut server_stopped = stopped.clone();
    let server = std::thread::Builder::new()
        .name("endpoints".into())
        .spawn(move || -> anyhow::Result<()> {
            runtime()?.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener)?;
                let shutdown = async move {
                    let _ = server_stopped.wait_for(|stopped| *stopped).await;
                };
                endpoints::serve(listener, endpoints, shutdown).await;
                Ok(())
            })
        })
        .context("starting the endpoints' thread")?;
    eprintln!(
        "cdnprobe exporter: {} targets ({} scheduled), region {}, listening on http://{address}",
        plan.targets.len(),
        plan.scheduled.len(),
        plan.region,
    );

    let not_stored = probing.block_on(async {
        let (sender, writer) = match rows.take() {
            Some(rows) => {
                let (sender, receiver) = tokio::sync::mpsc::channel(4096);
                (Some(sender), Some(tokio::spawn(rows.write_all(receiver))))
            }
            None => (None, None),
        };
        let tasks = scheduler::start(
            plan.cadences(tokio::time::Instant::now()),
            probes.clone(),
            metrics.clone(),
            sender,
            stopped,
        );
        shutdown_signal().await;
        eprintln!("cdnprobe exporter: shutting down; letting running probes finish");
        let _ = stop.send(true);
        // A running probe ends within its timeout; give it that, and a little more.
        scheduler::finish(tasks, plan.prober.timeout + Duration::from_secs(1)).await;
        probes.close();
        match writer {
            // All senders are gone with the tasks: the writer drains what is queued and ends.
            Some(writer) => writer.await.context("the --out writer panicked")?,
            None => anyhow::Ok(None),
        }
    })?;
    server
        .join()
        .map_err(|_| anyhow::anyhow!("the endpoints' thread panicked"))??;
    drop(stop_encoder);
    encoding
        .join()
        .map_err(|_| anyhow::anyhow!("the encoder's thread panicked"))?;
    eprintln!("cdnprobe exporter: stopped");
    Ok(not_stored.unwrap_or(ExitCode::SUCCESS))
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// Ctrl-C or SIGTERM (what systemd and Kubernetes send).
async fn shutdown_signal() {
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let terminated = async {
        match &mut terminate {
            Some(signal) => {
                signal.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminated => {}
    }
}

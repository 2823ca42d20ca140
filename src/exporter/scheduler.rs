//! Scheduled probing: one task per scheduled target, each probing on its [`Cadence`] until
//! asked to stop, counting every sample into the metrics and handing it to the sample sink.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::SeedableRng;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use super::cadence::Cadence;
use super::metrics::ExporterMetrics;
use super::probes::Probes;
use crate::play::session::SessionSettings;
use crate::sample::Sample;

/// One scheduled target: its index in [`Probes`], when it is due, and whether it plays.
pub struct Scheduled {
    pub index: usize,
    pub cadence: Cadence,
    /// Play a session (these settings) instead of one fetch.
    pub playback: Option<SessionSettings>,
}

/// Starts one task per scheduled target on the current runtime. They stop waiting when
/// `stop` turns true; a probe already running finishes (within the prober's timeout) and is
/// counted.
pub fn start(
    scheduled: Vec<Scheduled>,
    probes: Arc<Probes>,
    metrics: Arc<ExporterMetrics>,
    rows: Option<mpsc::Sender<Sample>>,
    stop: watch::Receiver<bool>,
) -> JoinSet<()> {
    let mut tasks = JoinSet::new();
    for Scheduled {
        index,
        cadence,
        playback,
    } in scheduled
    {
        let probes = probes.clone();
        let metrics = metrics.clone();
        let rows = rows.clone();
        let mut stop = stop.clone();
        tasks.spawn(async move {
            // Each target its own generator: no lock, and no shared sequence to correlate them.
            let mut rng = rand_pcg::Pcg64::from_rng(&mut rand::rng());
            let mut count = 0u64;
            loop {
                let due = cadence.next_after(tokio::time::Instant::now(), &mut rng);
                tokio::select! {
                    () = tokio::time::sleep_until(due) => {}
                    _ = stop.wait_for(|stopped| *stopped) => break,
                }
                count += 1;
                if let Some(settings) = &playback {
                    // Session rows have their own CSV schema; `--out` takes the probes' rows.
                    let Some(mut row) = probes.play(index, settings).await else {
                        break;
                    };
                    row.session = count;
                    metrics.record_playback(index, &row, unix_now());
                    continue;
                }
                let Some(mut sample) = probes.probe(index).await else {
                    break;
                };
                sample.sample = count;
                metrics.record(index, &sample, unix_now());
                if let Some(rows) = &rows {
                    // A full queue means the sink is stuck; the metrics matter more than rows.
                    if rows.try_send(sample).is_err() {
                        tracing::warn!("the --out writer is behind; a row was dropped");
                    }
                }
            }
        });
    }
    tasks
}

/// Waits for the tasks to end, at most `grace`; the rest are cancelled.
pub async fn finish(mut tasks: JoinSet<()>, grace: Duration) {
    let all = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(grace, all).await.is_err() {
        tracing::warn!("probes still running after {grace:?}; cancelling them");
    }
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

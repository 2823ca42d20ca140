//! The exporter's `--out`: every scheduled probe's row, as `run` writes them. A CSV or Parquet
//! file is one file for the whole life of the exporter; an object store gets one object per
//! `--out-every` (an hour by default): when a row arrives in a new period, the sink of the last
//! one is closed (its spool becomes its object, in the layout of [`crate::layout`]) and a new
//! one opened whose RUN_ID starts with the period's start (`20261202T050000Z-host-…`). The
//! object of the exporter's first period is named after the exporter's start.
//!
//! Closing a period's sink (reading its spool, Parquet, the upload with its retries) runs on a
//! thread and runtime of its own: it never holds up the probes' runtime.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use crate::sample::Sample;
use crate::sink::{Sink, SinkArgs};
use crate::store;

/// Where the rows go, and when a new object starts.
pub struct Rows {
    out: PathBuf,
    args: SinkArgs,
    sink: Sink,
    /// `Some` for an object store: the length of one object's period.
    every: Option<Duration>,
    /// The start of the current period.
    period: DateTime<Utc>,
}

impl Rows {
    /// Opens `--out` before anything starts (a bad `--out` exits 2 at once).
    pub fn open(out: &Path, args: &SinkArgs, every: Duration) -> anyhow::Result<Rows> {
        let now = Utc::now();
        let every = store::is_url(&out.to_string_lossy()).then_some(every);
        Ok(Rows {
            out: out.to_owned(),
            args: args.clone(),
            sink: Sink::open_at(Some(out), "samples", args, now)?,
            every,
            period: every.map_or(now, |every| period_start(now, every)),
        })
    }

    /// Writes every row received, each flushed as it comes, rolling to a new object at each
    /// period's end, until all senders are gone; then closes the last sink. The exit status
    /// when some period's rows could not be stored (each such spool is kept and its `push`
    /// command printed).
    pub async fn write_all(
        mut self,
        mut received: mpsc::Receiver<Sample>,
    ) -> anyhow::Result<Option<ExitCode>> {
        let mut closing = Vec::new();
        let mut status = None;
        while let Some(sample) = received.recv().await {
            if let Some(every) = self.every {
                let period = period_start(Utc::now(), every);
                if period > self.period {
                    let next = Sink::open_at(Some(&self.out), "samples", &self.args, period)?;
                    let done = std::mem::replace(&mut self.sink, next);
                    // Join the periods already stored, so an exporter that runs for months
                    // does not keep a finished thread (and its stack) per hour.
                    status = status.or(join(&mut closing, true)?);
                    closing.push(close_on_own_thread(done)?);
                    self.period = period;
                }
            }
            self.sink.write(&sample)?;
        }
        let last = self.sink.close().await?;
        let earlier = join(&mut closing, false)?;
        Ok(status.or(earlier).or(last))
    }
}

type Closing = std::thread::JoinHandle<anyhow::Result<Option<ExitCode>>>;

/// Joins the closing threads (only those already finished when `finished_only`), removing
/// them; the first exit status any of them gave.
fn join(closing: &mut Vec<Closing>, finished_only: bool) -> anyhow::Result<Option<ExitCode>> {
    let mut status = None;
    let (done, running): (Vec<_>, Vec<_>) = std::mem::take(closing)
        .into_iter()
        .partition(|handle| !finished_only || handle.is_finished());
    *closing = running;
    for handle in done {
        let closed = handle
            .join()
            .map_err(|_| anyhow::anyhow!("closing a period's --out panicked"))??;
        status = status.or(closed);
    }
    Ok(status)
}

fn close_on_own_thread(sink: Sink) -> anyhow::Result<Closing> {
    std::thread::Builder::new()
        .name("out-period".into())
        .spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?
                .block_on(sink.close())
        })
        .context("starting a thread to close the --out period")
}

/// The start of the period of length `every` (counted from the Unix epoch, so an hour starts
/// on the hour, UTC) that holds `at`.
pub fn period_start(at: DateTime<Utc>, every: Duration) -> DateTime<Utc> {
    let every_ms = every.as_millis().max(1) as i64;
    let ms = at.timestamp_millis();
    DateTime::from_timestamp_millis(ms - ms.rem_euclid(every_ms)).unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_hour_starts_on_the_hour_utc() {
        let at: DateTime<Utc> = "2026-12-02T05:17:42.250Z".parse().unwrap();
        let start = period_start(at, Duration::from_secs(3600));
        assert_eq!(start.to_rfc3339(), "2026-12-02T05:00:00+00:00");
        let on_the_hour: DateTime<Utc> = "2026-12-02T06:00:00Z".parse().unwrap();
        assert_eq!(
            period_start(on_the_hour, Duration::from_secs(3600)),
            on_the_hour
        );
        let ten_seconds = period_start(at, Duration::from_secs(10));
        assert_eq!(ten_seconds.to_rfc3339(), "2026-12-02T05:17:40+00:00");
    }
}

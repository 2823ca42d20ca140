//! The body of `/metrics`, encoded ahead of the scrape on a thread of its own.
//!
//! Encoding is the whole cost of a scrape and grows with the series the config defines: 100
//! targets are some 21,000 lines (2.3 MB), which `prometheus-client` writes anew every time. Done
//! inside the request, a scrape waited for all of it, on a machine whose cores the probes and
//! everything else share. So while someone scrapes, this thread re-encodes every [`REFRESH`]
//! (only when a sample came in since), and a scrape takes the body ready at that moment: it
//! pays for handing over bytes, not for encoding them. A body is served while at most
//! [`MAX_AGE`] old; a scrape after a quiet spell (none for [`IDLE_AFTER`], or the first) encodes
//! in the request as before, and the thread wakes up again.

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::exposition;
use super::metrics::ExporterMetrics;

/// How often the body is re-encoded while scrapes come: the most a scrape's values lag.
pub const REFRESH: Duration = Duration::from_secs(1);
/// A body older than this is not served (the thread fell behind): the scrape encodes.
pub const MAX_AGE: Duration = Duration::from_secs(3);
/// No scrape for this long: stop re-encoding (longer than any usual scrape interval).
pub const IDLE_AFTER: Duration = Duration::from_secs(300);

/// One encoding of the registry.
struct Encoded {
    /// The registry's [`ExporterMetrics::generation`] when encoding began.
    generation: u64,
    /// When these values were current.
    at: Instant,
    openmetrics: Bytes,
    /// The classic text format, made from `openmetrics` when first asked for.
    classic: OnceLock<Bytes>,
}

impl Encoded {
    fn of(metrics: &ExporterMetrics) -> Self {
        let generation = metrics.generation();
        Self {
            generation,
            at: Instant::now(),
            openmetrics: Bytes::from(metrics.encode()),
            classic: OnceLock::new(),
        }
    }

    fn body(&self, openmetrics: bool) -> Bytes {
        if openmetrics {
            return self.openmetrics.clone();
        }
        self.classic
            .get_or_init(|| {
                let text = std::str::from_utf8(&self.openmetrics).expect("encoded as a String");
                Bytes::from(exposition::classic(text))
            })
            .clone()
    }

    /// The same values, known to be current still at `at`.
    fn still_current(&self, at: Instant) -> Self {
        let classic = OnceLock::new();
        if let Some(body) = self.classic.get() {
            let _ = classic.set(body.clone());
        }
        Self {
            generation: self.generation,
            at,
            openmetrics: self.openmetrics.clone(),
            classic,
        }
    }
}

#[derive(Default)]
struct State {
    latest: Option<Arc<Encoded>>,
    /// The last scrape that asked for OpenMetrics, and for the classic format.
    openmetrics_scraped: Option<Instant>,
    classic_scraped: Option<Instant>,
}

/// Hands out `/metrics` bodies; [`Encoder::run`] keeps them fresh. The lock guards only the
/// hand-over of finished bodies, never an encoding.
pub struct Encoder {
    metrics: Arc<ExporterMetrics>,
    state: Mutex<State>,
}

impl Encoder {
    pub fn new(metrics: Arc<ExporterMetrics>) -> Self {
        Self {
            metrics,
            state: Mutex::new(State::default()),
        }
    }

    /// The body of one scrape in the format asked for.
    pub fn scrape(&self, openmetrics: bool) -> Bytes {
        let now = Instant::now();
        let latest = {
            let mut state = self.state.lock().expect("encoder state");
            if openmetrics {
                state.openmetrics_scraped = Some(now);
            } else {
                state.classic_scraped = Some(now);
            }
            state.latest.clone()
        };
        if let Some(latest) = latest.filter(|l| now.saturating_duration_since(l.at) <= MAX_AGE) {
            return latest.body(openmetrics);
        }
        let encoded = Arc::new(Encoded::of(&self.metrics));
        let body = encoded.body(openmetrics);
        self.store(encoded);
        body
    }

    /// Re-encodes every [`REFRESH`] while scrapes come, until `stop`'s sender is dropped. Call
    /// it on a thread of its own: it lowers that thread's priority.
    pub fn run(&self, stop: Receiver<()>) {
        yield_to_other_threads();
        loop {
            match stop.recv_timeout(REFRESH) {
                Err(RecvTimeoutError::Timeout) => self.refresh(),
                Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }

    /// One turn of [`Encoder::run`]: a new body if anyone scraped lately, encoded only if a
    /// sample came in since the last one; the classic form too if it was asked for lately.
    pub fn refresh(&self) {
        let now = Instant::now();
        let (latest, classic_wanted) = {
            let state = self.state.lock().expect("encoder state");
            let recent = |at: Option<Instant>| {
                at.is_some_and(|at| now.saturating_duration_since(at) < IDLE_AFTER)
            };
            if !recent(state.openmetrics_scraped) && !recent(state.classic_scraped) {
                return;
            }
            (state.latest.clone(), recent(state.classic_scraped))
        };
        let encoded = match latest {
            Some(latest) if latest.generation == self.metrics.generation() => {
                latest.still_current(now)
            }
            _ => Encoded::of(&self.metrics),
        };
        if classic_wanted {
            let _ = encoded.body(false);
        }
        self.store(Arc::new(encoded));
    }

    /// Keeps `encoded` unless a newer body was stored meanwhile.
    fn store(&self, encoded: Arc<Encoded>) {
        let mut state = self.state.lock().expect("encoder state");
        if state.latest.as_ref().is_none_or(|l| l.at <= encoded.at) {
            state.latest = Some(encoded);
        }
    }
}

/// Lowers the calling thread's priority (nice 10): encoding ahead gives way to the probes,
/// whose phases are being timed, and to the scrapes. If it falls behind [`MAX_AGE`], scrapes
/// encode for themselves at full priority.
fn yield_to_other_threads() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority on the calling thread's own id (Linux niceness is per thread); raising
    // niceness needs no privilege, and a failure leaves the priority as it was.
    unsafe {
        let thread = libc::gettid();
        libc::setpriority(libc::PRIO_PROCESS, thread as libc::id_t, 10);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exporter::metrics::TargetLabels;
    use crate::sample::Sample;
    use crate::schedule::config::Role;

    fn encoder() -> Encoder {
        let labels = TargetLabels {
            target: Arc::new("cdn".into()),
            role: Role::Candidate,
        };
        Encoder::new(Arc::new(ExporterMetrics::new("eu", [labels], &[])))
    }

    fn ok_count(body: &Bytes) -> String {
        let text = std::str::from_utf8(body).unwrap();
        let line = text
            .lines()
            .find(|l| l.starts_with("cdnprobe_samples_total{") && l.contains("result=\"ok\""))
            .unwrap_or_else(|| panic!("{text}"));
        line.rsplit(' ').next().unwrap().to_string()
    }

    fn record_ok(encoder: &Encoder) {
        let ok = Sample {
            status: Some(200),
            ..Sample::default()
        };
        encoder.metrics.record(0, &ok, 1.0);
    }

    #[test]
    fn a_scrape_within_the_refresh_is_served_the_prepared_body() {
        let encoder = encoder();
        assert_eq!(ok_count(&encoder.scrape(true)), "0");
        record_ok(&encoder);
        // Not encoded again for this scrape: the body of a moment ago.
        assert_eq!(ok_count(&encoder.scrape(true)), "0");
        encoder.refresh();
        assert_eq!(ok_count(&encoder.scrape(true)), "1");
    }

    #[test]
    fn both_formats_come_from_the_same_encoding() {
        let encoder = encoder();
        let openmetrics = encoder.scrape(true);
        let classic = encoder.scrape(false);
        assert!(openmetrics.ends_with(b"# EOF\n"));
        assert!(!classic.ends_with(b"# EOF\n"));
        record_ok(&encoder);
        encoder.refresh();
        assert_eq!(ok_count(&encoder.scrape(false)), "1");
        assert_eq!(ok_count(&encoder.scrape(true)), "1");
    }

    #[test]
    fn nothing_is_encoded_ahead_before_anyone_scrapes() {
        let encoder = encoder();
        encoder.refresh();
        assert!(encoder.state.lock().unwrap().latest.is_none());
    }
}

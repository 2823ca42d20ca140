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

/// The exposition formats a scrape can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The classic text format (0.0.4).
    Classic,
    OpenMetrics,
    /// Prometheus's protobuf format, the one with native histograms.
    Protobuf,
}

/// What a scrape asks for: the format, and whether compressed with gzip (as Prometheus always
/// asks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Form {
    pub format: Format,
    pub gzip: bool,
}

impl Form {
    const COUNT: usize = 6;

    fn index(self) -> usize {
        self.format as usize * 2 + usize::from(self.gzip)
    }

    fn all() -> impl Iterator<Item = Form> {
        [Format::Classic, Format::OpenMetrics, Format::Protobuf]
            .into_iter()
            .flat_map(|format| [false, true].map(move |gzip| Form { format, gzip }))
    }

    fn plain(self) -> Form {
        Form {
            gzip: false,
            ..self
        }
    }
}

const OPENMETRICS_TEXT: Form = Form {
    format: Format::OpenMetrics,
    gzip: false,
};

/// One encoding of the registry, in each form once asked for.
struct Encoded {
    /// The registry's [`ExporterMetrics::generation`] when encoding began.
    generation: u64,
    /// When these values were current.
    at: Instant,
    /// By [`Form::index`]; the OpenMetrics text is set at once, the others are made when first
    /// asked for (the classic text and the compressed forms from it; protobuf from the
    /// registry, at most moments later).
    bodies: [OnceLock<Bytes>; Form::COUNT],
}

impl Encoded {
    fn of(metrics: &ExporterMetrics) -> Self {
        let generation = metrics.generation();
        let encoded = Self {
            generation,
            at: Instant::now(),
            bodies: Default::default(),
        };
        let _ = encoded.bodies[OPENMETRICS_TEXT.index()].set(Bytes::from(metrics.encode()));
        encoded
    }

    fn body(&self, form: Form, metrics: &ExporterMetrics) -> Bytes {
        self.bodies[form.index()]
            .get_or_init(|| {
                if form.gzip {
                    return exposition::gzip(&self.body(form.plain(), metrics));
                }
                match form.format {
                    Format::Protobuf => Bytes::from(metrics.encode_protobuf()),
                    // Only the classic text is left: the OpenMetrics one is always set.
                    Format::Classic | Format::OpenMetrics => {
                        let openmetrics = self.body(OPENMETRICS_TEXT, metrics);
                        let text = std::str::from_utf8(&openmetrics).expect("encoded as a String");
                        Bytes::from(exposition::classic(text))
                    }
                }
            })
            .clone()
    }

    /// The same values, known to be current still at `at`.
    fn still_current(&self, at: Instant) -> Self {
        let bodies: [OnceLock<Bytes>; Form::COUNT] = Default::default();
        for (made, copy) in self.bodies.iter().zip(&bodies) {
            if let Some(body) = made.get() {
                let _ = copy.set(body.clone());
            }
        }
        Self {
            generation: self.generation,
            at,
            bodies,
        }
    }
}

#[derive(Default)]
struct State {
    latest: Option<Arc<Encoded>>,
    /// The last scrape that asked for each form, by [`Form::index`].
    scraped: [Option<Instant>; Form::COUNT],
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

    /// The body of one scrape in the form asked for.
    pub fn scrape(&self, form: Form) -> Bytes {
        let now = Instant::now();
        let latest = {
            let mut state = self.state.lock().expect("encoder state");
            state.scraped[form.index()] = Some(now);
            state.latest.clone()
        };
        if let Some(latest) = latest.filter(|l| now.saturating_duration_since(l.at) <= MAX_AGE) {
            return latest.body(form, &self.metrics);
        }
        let encoded = Arc::new(Encoded::of(&self.metrics));
        let body = encoded.body(form, &self.metrics);
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
    /// sample came in since the last one, in every form asked for lately (the compressed ones
    /// too, so that a scrape never waits for gzip either).
    pub fn refresh(&self) {
        let now = Instant::now();
        let (latest, wanted) = {
            let state = self.state.lock().expect("encoder state");
            let wanted: Vec<Form> = Form::all()
                .filter(|form| {
                    state.scraped[form.index()]
                        .is_some_and(|at| now.saturating_duration_since(at) < IDLE_AFTER)
                })
                .collect();
            if wanted.is_empty() {
                return;
            }
            (state.latest.clone(), wanted)
        };
        let encoded = match latest {
            Some(latest) if latest.generation == self.metrics.generation() => {
                latest.still_current(now)
            }
            _ => Encoded::of(&self.metrics),
        };
        for form in wanted {
            let _ = encoded.body(form, &self.metrics);
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
    // niceness needs no privilege, and a failure leaves the priority as it was. The id comes
    // from the raw system call: glibc's gettid() wrapper is 2.30's, newer than the portable
    // binary's 2.17 (scripts/dist.sh).
    unsafe {
        let thread = libc::syscall(libc::SYS_gettid);
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

    const OPENMETRICS: Form = OPENMETRICS_TEXT;
    const CLASSIC: Form = Form {
        format: Format::Classic,
        gzip: false,
    };

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
        assert_eq!(ok_count(&encoder.scrape(OPENMETRICS)), "0");
        record_ok(&encoder);
        // Not encoded again for this scrape: the body of a moment ago.
        assert_eq!(ok_count(&encoder.scrape(OPENMETRICS)), "0");
        encoder.refresh();
        assert_eq!(ok_count(&encoder.scrape(OPENMETRICS)), "1");
    }

    #[test]
    fn both_formats_come_from_the_same_encoding() {
        let encoder = encoder();
        let openmetrics = encoder.scrape(OPENMETRICS);
        let classic = encoder.scrape(CLASSIC);
        assert!(openmetrics.ends_with(b"# EOF\n"));
        assert!(!classic.ends_with(b"# EOF\n"));
        record_ok(&encoder);
        encoder.refresh();
        assert_eq!(ok_count(&encoder.scrape(CLASSIC)), "1");
        assert_eq!(ok_count(&encoder.scrape(OPENMETRICS)), "1");
    }

    #[test]
    fn a_gzip_scrape_gets_the_same_text_compressed_and_prepared_ahead() {
        let encoder = encoder();
        let gzip = Form {
            gzip: true,
            ..OPENMETRICS
        };
        let compressed = encoder.scrape(gzip);
        let plain = encoder.scrape(OPENMETRICS);
        assert_eq!(gunzip(&compressed), plain);
        assert!(
            compressed.len() < plain.len() / 3,
            "{} bytes",
            compressed.len()
        );
        record_ok(&encoder);
        encoder.refresh();
        // Made by the refresh, not by this scrape: the prepared body is handed out.
        let latest = encoder.state.lock().unwrap().latest.clone().unwrap();
        assert!(latest.bodies[gzip.index()].get().is_some());
        assert_eq!(ok_count(&gunzip(&encoder.scrape(gzip))), "1");
    }

    fn gunzip(body: &Bytes) -> Bytes {
        use std::io::Read;
        let mut text = Vec::new();
        flate2::read::GzDecoder::new(&body[..])
            .read_to_end(&mut text)
            .expect("a gzip body");
        Bytes::from(text)
    }

    #[test]
    fn nothing_is_encoded_ahead_before_anyone_scrapes() {
        let encoder = encoder();
        encoder.refresh();
        assert!(encoder.state.lock().unwrap().latest.is_none());
    }
}

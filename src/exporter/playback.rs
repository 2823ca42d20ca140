//! Playback series of `/metrics`, for targets with `play = true`: one session (as `cdnprobe
//! play` runs it) per interval. Labels as for the probes: the config's target and role only.

use std::sync::atomic::AtomicU64;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use super::metrics::{RESULTS, ResultLabels, TargetLabels, duration_histogram, result_name};
use crate::play::record::PlaybackRow;

pub struct PlaybackMetrics {
    startup_seconds: Family<TargetLabels, Histogram>,
    seek_seconds: Family<TargetLabels, Histogram>,
    sessions: Family<ResultLabels, Counter>,
    stalls: Family<TargetLabels, Counter>,
    stall_seconds: Family<TargetLabels, Counter<f64, AtomicU64>>,
}

impl PlaybackMetrics {
    /// Registers the playback families in `registry` (whose prefix is `cdnprobe`).
    pub fn register(registry: &mut Registry) -> Self {
        let metrics = Self {
            startup_seconds: Family::new_with_constructor(duration_histogram),
            seek_seconds: Family::new_with_constructor(duration_histogram),
            sessions: Family::default(),
            stalls: Family::default(),
            stall_seconds: Family::default(),
        };
        registry.register_with_unit(
            "playback_startup",
            "Session start to the startup buffer complete: what a viewer waits",
            Unit::Seconds,
            metrics.startup_seconds.clone(),
        );
        registry.register_with_unit(
            "playback_seek",
            "Seek to playing again",
            Unit::Seconds,
            metrics.seek_seconds.clone(),
        );
        registry.register(
            "playback_sessions",
            "Playback sessions by result: ok or the error class",
            metrics.sessions.clone(),
        );
        registry.register(
            "playback_stalls",
            "Stalls after startup (the playhead caught up with the download)",
            metrics.stalls.clone(),
        );
        registry.register_with_unit(
            "playback_stall",
            "Time spent stalled",
            Unit::Seconds,
            metrics.stall_seconds.clone(),
        );
        metrics
    }

    /// Every series of a playback target, at zero.
    pub fn create_series(&self, labels: &TargetLabels) {
        let _ = self.startup_seconds.get_or_create(labels);
        let _ = self.seek_seconds.get_or_create(labels);
        let _ = self.stalls.get_or_create(labels);
        let _ = self.stall_seconds.get_or_create(labels);
        for result in RESULTS {
            let _ = self
                .sessions
                .get_or_create(&ResultLabels::new(labels, result));
        }
    }

    /// Counts one finished session. Startup and seek are observed whenever the session got
    /// that far, even if it failed later: they are complete measurements of their own.
    pub fn record(&self, labels: &TargetLabels, row: &PlaybackRow) {
        self.sessions
            .get_or_create(&ResultLabels::new(labels, result_name(row.error)))
            .inc();
        if let Some(ms) = row.startup_ms {
            self.startup_seconds.get_or_create(labels).observe(ms / 1e3);
        }
        if let Some(ms) = row.seek_ms {
            self.seek_seconds.get_or_create(labels).observe(ms / 1e3);
        }
        self.stalls
            .get_or_create(labels)
            .inc_by(u64::from(row.stalls));
        if let Some(ms) = row.stall_ms {
            self.stall_seconds.get_or_create(labels).inc_by(ms / 1e3);
        }
    }
}

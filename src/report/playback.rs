//! Playback CSVs (written by `cdnprobe play`) in a report: read beside the sample CSVs (told
//! apart by their header), summarised per region × target: startup p50/p90, stalls per session,
//! rebuffer ratio, delivered bitrate, seek time and the cache state of the sessions; then the
//! report.md section and one sentence per region in the seed's style.
//!
//! Sessions are few (one per several seconds of playing), so their values are kept exactly.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use crate::error::UsageError;
use crate::play::record::{PlaybackRow, SessionCache};
use crate::play::rows::for_each_playback_row;
use crate::stats::quantile::quantile;

use crate::format::short_ms;

/// The sessions of one region × target.
#[derive(Debug, Default, Clone)]
pub struct PlaybackGroup {
    pub region: String,
    pub target: String,
    pub sessions: u64,
    pub failed: u64,
    /// Successful sessions' startup times, ms.
    pub startup_ms: Vec<f64>,
    pub seek_ms: Vec<f64>,
    pub stalls: u64,
    pub stall_ms: f64,
    pub watched_ms: f64,
    /// Σ bitrate × watched seconds, and the watched seconds that had a bitrate.
    bitrate_seconds: f64,
    bitrate_weight: f64,
    pub cache: BTreeMap<&'static str, u64>,
}

impl PlaybackGroup {
    fn succeeded(&self) -> u64 {
        self.sessions - self.failed
    }

    pub fn startup_quantile(&self, q: f64) -> Option<f64> {
        (!self.startup_ms.is_empty()).then(|| quantile(&mut self.startup_ms.clone(), q))
    }

    pub fn seek_p50(&self) -> Option<f64> {
        (!self.seek_ms.is_empty()).then(|| quantile(&mut self.seek_ms.clone(), 0.5))
    }

    /// Stalls per successful session.
    pub fn stalls_per_session(&self) -> Option<f64> {
        (self.succeeded() > 0).then(|| self.stalls as f64 / self.succeeded() as f64)
    }

    /// All stall time ÷ (all watched time + all stall time) of the successful sessions.
    pub fn rebuffer_ratio(&self) -> Option<f64> {
        let total = self.watched_ms + self.stall_ms;
        (total > 0.0).then(|| self.stall_ms / total)
    }

    /// Delivered bitrate: the sessions' bitrates weighted by the media time each played.
    pub fn mean_bitrate_kbps(&self) -> Option<f64> {
        (self.bitrate_weight > 0.0).then(|| self.bitrate_seconds / self.bitrate_weight)
    }

    fn record(&mut self, row: &PlaybackRow) {
        self.sessions += 1;
        if !row.succeeded() {
            self.failed += 1;
            return;
        }
        let cache = match row.cache {
            SessionCache::Hit => "hit",
            SessionCache::Miss => "miss",
            SessionCache::Mixed => "mixed",
            SessionCache::Unknown => "unknown",
        };
        *self.cache.entry(cache).or_default() += 1;
        self.startup_ms.extend(row.startup_ms);
        self.seek_ms.extend(row.seek_ms);
        self.stalls += u64::from(row.stalls);
        self.stall_ms += row.stall_ms.unwrap_or(0.0);
        let watched_s = row.watched_s.unwrap_or(0.0);
        self.watched_ms += watched_s * 1e3;
        if let Some(kbps) = row.mean_bitrate_kbps {
            self.bitrate_seconds += kbps * watched_s;
            self.bitrate_weight += watched_s;
        }
    }
}

/// Every playback session of the report's inputs.
#[derive(Debug, Default)]
pub struct Playback {
    pub groups: Vec<PlaybackGroup>,
}

impl Playback {
    /// Reads the playback CSVs among `inputs` (sample CSVs are skipped).
    pub fn read(inputs: &[PathBuf]) -> Result<Playback, UsageError> {
        let mut playback = Playback::default();
        for_each_playback_row(inputs, |row| {
            playback.group(&row.region, &row.target).record(row);
        })?;
        Ok(playback)
    }

    fn group(&mut self, region: &str, target: &str) -> &mut PlaybackGroup {
        let index = self
            .groups
            .iter()
            .position(|g| g.region == region && g.target == target);
        let index = index.unwrap_or_else(|| {
            self.groups.push(PlaybackGroup {
                region: region.to_string(),
                target: target.to_string(),
                ..PlaybackGroup::default()
            });
            self.groups.len() - 1
        });
        &mut self.groups[index]
    }

    pub fn get(&self, region: &str, target: &str) -> Option<&PlaybackGroup> {
        self.groups
            .iter()
            .find(|g| g.region == region && g.target == target)
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    pub fn has_target(&self, target: &str) -> bool {
        self.groups.iter().any(|g| g.target == target)
    }

    pub fn regions(&self) -> Vec<&str> {
        let mut regions: Vec<&str> = Vec::new();
        for group in &self.groups {
            if !regions.contains(&group.region.as_str()) {
                regions.push(&group.region);
            }
        }
        regions
    }
}

/// The report.md section: the table, then one sentence per region comparing `pair` when given.
pub fn section(playback: &Playback, pair: Option<(&str, &str)>) -> String {
    let mut md = String::from(
        "## Playback\n\nOne row per region and target, over the playback sessions of `cdnprobe \
         play` (failed sessions are counted, not measured).\n\n\
         | Region | Target | Sessions | Failed | Startup p50 (ms) | Startup p90 (ms) | \
         Stalls / session | Rebuffer ratio | Bitrate (kbit/s) | Seek p50 (ms) | Cache |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
    );
    let dash = || "–".to_string();
    for g in &playback.groups {
        let cache: Vec<String> = g.cache.iter().map(|(k, n)| format!("{n} {k}")).collect();
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            g.region,
            g.target,
            g.sessions,
            g.failed,
            g.startup_quantile(0.5).map_or_else(dash, short_ms),
            g.startup_quantile(0.9).map_or_else(dash, short_ms),
            g.stalls_per_session()
                .map_or_else(dash, |v| format!("{v:.2}")),
            g.rebuffer_ratio()
                .map_or_else(dash, |v| format!("{:.1} %", v * 100.0)),
            g.mean_bitrate_kbps()
                .map_or_else(dash, |v| format!("{v:.0}")),
            g.seek_p50().map_or_else(dash, short_ms),
            if cache.is_empty() {
                dash()
            } else {
                cache.join(", ")
            },
        );
    }
    if let Some((baseline, candidate)) = pair {
        md.push('\n');
        for region in playback.regions() {
            let _ = writeln!(md, "{}\n", sentence(playback, region, baseline, candidate));
        }
    }
    md
}

/// "In Auckland, the video started in 0.41 s via cloudfront against 1.12 s from s3 (2.7×
/// sooner), with 0 stalls per session against 1.4."
pub fn sentence(playback: &Playback, region: &str, baseline: &str, candidate: &str) -> String {
    let (Some(b), Some(c)) = (
        playback.get(region, baseline),
        playback.get(region, candidate),
    ) else {
        return format!(
            "In {region}, playback was not measured for both {baseline} and {candidate}."
        );
    };
    let (Some(b_start), Some(c_start)) = (b.startup_quantile(0.5), c.startup_quantile(0.5)) else {
        return format!(
            "In {region}, no playback session started for both {baseline} and {candidate}."
        );
    };
    let factor = b_start / c_start;
    let relation = if factor >= 1.0 {
        format!("{factor:.1}× sooner")
    } else {
        format!("{:.1}× later", 1.0 / factor)
    };
    let stalls = |g: &PlaybackGroup| {
        g.stalls_per_session()
            .map_or_else(|| "n/a".to_string(), short_ms)
    };
    format!(
        "In {region}, the video started in {:.2} s via {candidate} against {:.2} s from \
         {baseline} ({relation}), with {} stalls per session against {}.",
        c_start / 1e3,
        b_start / 1e3,
        stalls(c),
        stalls(b),
    )
}

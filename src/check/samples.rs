//! The sample CSVs of one run, grouped by region and target: row and error counts, and the
//! successful samples' times for each metric the check looks at. For the playback metrics
//! (`startup`, `seek`) the rows are playback sessions.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use crate::check::decision::Side;
use crate::error::UsageError;
use crate::input;
use crate::play::rows::for_each_playback_row;
use crate::sample::Sample;
use crate::stats::Phase;
use crate::stats::groups::Groups;

/// Per metric, the times of one group's successful samples that measured it, ms.
type Times = BTreeMap<Phase, Vec<f64>>;

/// One run's samples, kept only for the labels a check compares.
#[derive(Debug)]
pub struct Run {
    /// How the run is named in messages: "input" or "previous run".
    name: &'static str,
    groups: Groups<Times>,
    /// Every target in the input, compared or not (to name them when a label is wrong).
    targets: BTreeSet<String>,
    /// Playback: (region, target) → (stall ms, watched ms) of successful sessions.
    rebuffer: BTreeMap<(String, String), (f64, f64)>,
}

impl Run {
    /// Reads every sample of `inputs`, keeping the times of `labels` for `metrics`. Error rows
    /// count as rows and errors, never as times.
    pub fn read(
        name: &'static str,
        inputs: &[PathBuf],
        reading: &input::Reading,
        labels: &[&str],
        metrics: &[Phase],
    ) -> Result<Self, UsageError> {
        let mut run = Run {
            name,
            groups: Groups::default(),
            targets: BTreeSet::new(),
            rebuffer: BTreeMap::new(),
        };
        if metrics.iter().any(|m| m.is_playback()) {
            if !metrics.iter().all(|m| m.is_playback()) {
                return Err(UsageError(
                    "--metric startup/seek (playback sessions) cannot be mixed with sample \
                     phases in one check: run check once for each"
                        .into(),
                ));
            }
            run.read_playback(inputs, labels, metrics)?;
            return Ok(run);
        }
        input::for_each_sample(inputs, reading, |sample: &Sample| {
            if !run.targets.contains(&sample.target) {
                run.targets.insert(sample.target.clone());
            }
            if !labels.contains(&sample.target.as_str()) {
                return;
            }
            let group = run.groups.record(sample, |_| Times::new());
            if !sample.succeeded() {
                return;
            }
            for &metric in metrics {
                let times = group.measured.entry(metric).or_default();
                if let Some(ms) = metric.of(sample) {
                    times.push(ms);
                }
            }
        })?;
        Ok(run)
    }

    /// The playback sessions of `inputs`: a session is a row, a failed session an error, and
    /// its startup or seek time the metric's time. Also keeps the stall and watched time.
    fn read_playback(
        &mut self,
        inputs: &[PathBuf],
        labels: &[&str],
        metrics: &[Phase],
    ) -> Result<(), UsageError> {
        let rows = for_each_playback_row(inputs, |row| {
            if !self.targets.contains(&row.target) {
                self.targets.insert(row.target.clone());
            }
            if !labels.contains(&row.target.as_str()) {
                return;
            }
            let key = Sample {
                region: row.region.clone(),
                target: row.target.clone(),
                error: row.error,
                ..Sample::default()
            };
            let group = self.groups.record(&key, |_| Times::new());
            if !row.succeeded() {
                return;
            }
            for &metric in metrics {
                let time = match metric {
                    Phase::Startup => row.startup_ms,
                    Phase::Seek => row.seek_ms,
                    _ => None,
                };
                let times = group.measured.entry(metric).or_default();
                times.extend(time);
            }
            let rebuffer = self
                .rebuffer
                .entry((row.region.clone(), row.target.clone()))
                .or_default();
            rebuffer.0 += row.stall_ms.unwrap_or(0.0);
            rebuffer.1 += row.watched_s.unwrap_or(0.0) * 1e3;
        })?;
        if rows == 0 {
            return Err(UsageError(format!(
                "no playback sessions in the {} (CSV files written by `cdnprobe play`)",
                self.name
            )));
        }
        Ok(())
    }

    /// `label`'s stall time ÷ (watched + stall time) over its successful sessions in `region`.
    pub fn rebuffer_ratio(&self, region: &str, label: &str) -> Option<f64> {
        let (stall, watched) = self
            .rebuffer
            .get(&(region.to_string(), label.to_string()))?;
        (stall + watched > 0.0).then(|| stall / (stall + watched))
    }

    /// Fails with the targets the input does have when `label` is not one of them.
    pub fn require_target(&self, role: &str, label: &str) -> Result<(), UsageError> {
        if self.targets.contains(label) {
            return Ok(());
        }
        Err(UsageError(format!(
            "{role} label {label:?} not found in the {}; its targets are: {}",
            self.name,
            list(&self.targets)
        )))
    }

    /// The regions in which any of the compared labels has rows, sorted.
    pub fn regions(&self) -> Vec<String> {
        let mut regions: Vec<String> = self
            .groups
            .regions()
            .into_iter()
            .map(String::from)
            .collect();
        regions.sort();
        regions
    }

    /// `label`'s samples in `region` for `metric`; an error when it has no rows there, or
    /// successful rows none of which measured the metric (e.g. `tls` over plain http).
    pub fn side<'a>(
        &'a self,
        region: &str,
        label: &'a str,
        metric: Phase,
    ) -> Result<Side<'a>, UsageError> {
        let Some(group) = self.groups.get(region, label) else {
            let known = if self.groups.is_empty() {
                String::new()
            } else {
                format!(" (regions with rows: {})", list(self.regions()))
            };
            return Err(UsageError(format!(
                "region {region:?}: no rows for {label:?} in the {}{known}",
                self.name
            )));
        };
        let times_ms = group.measured.get(&metric).map_or(&[][..], Vec::as_slice);
        if times_ms.is_empty() && group.counts.errors < group.counts.rows {
            return Err(UsageError(format!(
                "region {region:?}: {label:?} has successful samples in the {} but none measured {metric}_ms (is --metric {metric} right for this target?)",
                self.name
            )));
        }
        Ok(Side {
            label,
            counts: group.counts,
            times_ms,
        })
    }
}

fn list<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> String {
    names
        .into_iter()
        .map(|name| format!("{:?}", name.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

//! The sample CSVs of one run, grouped by region and target: row and error counts, and the
//! successful samples' times for each metric the check looks at.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use crate::check::decision::Side;
use crate::error::UsageError;
use crate::input;
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
        };
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

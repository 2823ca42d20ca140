//! Stage one of a report: stream sample rows into one `Series` per region × target, each holding
//! per-phase statistics whose memory does not grow with the number of rows.

use std::path::PathBuf;

use crate::error::UsageError;
use crate::input::Reading;
use crate::sample::{CacheStatus, Sample};
use crate::stats::groups::{Group, Groups};
use crate::stats::{Phase, PhaseStats, PhaseSummary};

use super::connection::ConnectionStats;

/// Points kept for the timeline chart of one series; longer runs are folded into bins.
pub const TIMELINE_BINS: usize = 1000;

/// `resolve` is dns under the seed's name: one summary serves both (and is bootstrapped once).
fn stored(phase: Phase) -> Phase {
    match phase {
        Phase::Resolve => Phase::Dns,
        other => other,
    }
}

/// The phases a series keeps a summary for, in `Phase::ALL` order.
fn stored_phases() -> impl Iterator<Item = Phase> {
    Phase::ALL.into_iter().filter(|p| stored(*p) == *p)
}

/// Everything a report needs from the input: series in order of first appearance.
#[derive(Debug, Default)]
pub struct Summary {
    pub series: Groups<SeriesStats>,
    pub files: usize,
    pub rows: u64,
}

/// The samples of one target measured from one region: its row and error counts, and its
/// successful rows' statistics.
pub type Series = Group<SeriesStats>;

/// What a series keeps of its successful rows, in memory that does not grow with them.
#[derive(Debug)]
pub struct SeriesStats {
    /// Successful rows by the CDN's cache status.
    pub cache: CacheCounts,
    /// Indexed like `stored_phases()`.
    phases: Vec<PhaseSummary>,
    pub timeline: Timeline,
    /// TLS, ALPN, round trip and retransmissions of all its rows.
    pub connection: ConnectionStats,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CacheCounts {
    pub hit: u64,
    pub miss: u64,
    pub refresh: u64,
    pub unknown: u64,
}

impl CacheCounts {
    /// Hits among the responses that reported a cache status; `None` when none did (an origin).
    pub fn hit_rate(&self) -> Option<f64> {
        let known = self.hit + self.miss + self.refresh;
        (known > 0).then(|| self.hit as f64 / known as f64)
    }
}

impl Summary {
    /// Reads every selected sample row of `inputs` (files, directories, store prefixes).
    pub fn read(inputs: &[PathBuf], reading: &Reading) -> Result<Summary, UsageError> {
        let mut series = Groups::default();
        let totals = crate::input::for_each_sample(inputs, reading, |sample| {
            let group = series.record(sample, |index| SeriesStats::new(index as u64));
            group.measured.record(sample);
        })?;
        Ok(Summary {
            series,
            files: totals.files + totals.playback,
            rows: totals.rows,
        })
    }

    /// Regions in order of first appearance.
    pub fn regions(&self) -> Vec<&str> {
        self.series.regions()
    }

    /// Targets with `first` labels leading (baseline, candidate), then the others in order of
    /// first appearance; so each target keeps one colour across charts.
    pub fn targets<'a>(&'a self, first: &[&'a str]) -> Vec<&'a str> {
        let mut targets: Vec<&str> = first
            .iter()
            .copied()
            .filter(|t| self.has_target(t))
            .collect();
        for s in self.series.iter() {
            if !targets.contains(&s.target.as_str()) {
                targets.push(&s.target);
            }
        }
        targets
    }

    /// Series by region, then in `targets` order (the report's legend order).
    pub fn ordered<'a>(&'a self, targets: &'a [&'a str]) -> impl Iterator<Item = &'a Series> + 'a {
        self.regions()
            .into_iter()
            .flat_map(move |region| targets.iter().filter_map(move |t| self.series(region, t)))
    }

    pub fn has_target(&self, target: &str) -> bool {
        self.series.has_target(target)
    }

    pub fn series(&self, region: &str, target: &str) -> Option<&Series> {
        self.series.get(region, target)
    }
}

impl SeriesStats {
    fn new(seed: u64) -> SeriesStats {
        SeriesStats {
            cache: CacheCounts::default(),
            phases: (0u64..)
                .zip(stored_phases())
                .map(|(index, _)| PhaseSummary::new(seed * 16 + index))
                .collect(),
            timeline: Timeline::default(),
            connection: ConnectionStats::default(),
        }
    }

    /// A row the group has counted: a failed one only takes its place in the timeline.
    fn record(&mut self, sample: &Sample) {
        self.connection.record(sample);
        if !sample.succeeded() {
            self.timeline.skip();
            return;
        }
        for (phase, summary) in stored_phases().zip(&mut self.phases) {
            if let Some(ms) = phase.of(sample) {
                summary.record(ms);
            }
        }
        match sample.cache {
            CacheStatus::Hit => self.cache.hit += 1,
            CacheStatus::Miss => self.cache.miss += 1,
            CacheStatus::Refresh => self.cache.refresh += 1,
            CacheStatus::Unknown => self.cache.unknown += 1,
        }
        match sample.total_ms {
            Some(total) => self.timeline.push(total),
            None => self.timeline.skip(),
        }
    }
}

impl Series {
    pub fn phase(&self, phase: Phase) -> &PhaseSummary {
        let index = stored_phases()
            .position(|p| p == stored(phase))
            .expect("every phase is stored or stored as another");
        &self.measured.phases[index]
    }

    /// The statistics of `phase`; `None` when no successful row had it.
    pub fn stats(&self, phase: Phase) -> Option<PhaseStats> {
        self.phase(phase).stats()
    }
}

/// Total time of each sample in row order, folded into at most `TIMELINE_BINS` bins of equal
/// width (doubling the width whenever it fills), so a million rows still draw as a thousand.
#[derive(Debug, Clone)]
pub struct Timeline {
    /// Samples per bin: 1 until the run outgrows `TIMELINE_BINS`.
    pub width: u64,
    pub bins: Vec<TimelineBin>,
    next: u64,
}

/// The successful samples among `width` consecutive rows.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TimelineBin {
    pub count: u64,
    pub min: f64,
    pub max: f64,
    pub sum: f64,
}

impl Default for Timeline {
    fn default() -> Self {
        Timeline {
            width: 1,
            bins: Vec::new(),
            next: 0,
        }
    }
}

impl TimelineBin {
    fn add(&mut self, other: &TimelineBin) {
        if other.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = *other;
            return;
        }
        self.count += other.count;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.sum += other.sum;
    }

    pub fn mean(&self) -> f64 {
        self.sum / self.count as f64
    }
}

impl Timeline {
    /// A failed row: it takes a place in the order but has no time.
    fn skip(&mut self) {
        self.bin_for_next();
        self.next += 1;
    }

    fn push(&mut self, total_ms: f64) {
        let bin = self.bin_for_next();
        bin.add(&TimelineBin {
            count: 1,
            min: total_ms,
            max: total_ms,
            sum: total_ms,
        });
        self.next += 1;
    }

    fn bin_for_next(&mut self) -> &mut TimelineBin {
        while self.next / self.width >= TIMELINE_BINS as u64 {
            self.bins = self
                .bins
                .chunks(2)
                .map(|pair| {
                    let mut merged = pair[0];
                    if let Some(second) = pair.get(1) {
                        merged.add(second);
                    }
                    merged
                })
                .collect();
            self.width *= 2;
        }
        let index = (self.next / self.width) as usize;
        if self.bins.len() <= index {
            self.bins.resize(index + 1, TimelineBin::default());
        }
        &mut self.bins[index]
    }

    /// Rows seen, failed ones included.
    pub fn len(&self) -> u64 {
        self.next
    }

    pub fn is_empty(&self) -> bool {
        self.next == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeline_folds_long_runs_into_bounded_bins_keeping_extremes() {
        let mut timeline = Timeline::default();
        for i in 0..10_000u64 {
            timeline.push(if i == 7_777 { 1e6 } else { 100.0 });
        }
        assert!(timeline.bins.len() <= TIMELINE_BINS);
        assert_eq!(timeline.bins.iter().map(|b| b.count).sum::<u64>(), 10_000);
        let max = timeline.bins.iter().map(|b| b.max).fold(0.0, f64::max);
        assert_eq!(max, 1e6);
    }

    #[test]
    fn timeline_keeps_every_sample_of_a_short_run() {
        let mut timeline = Timeline::default();
        timeline.push(5.0);
        timeline.skip();
        timeline.push(7.0);
        assert_eq!(timeline.width, 1);
        let counts: Vec<u64> = timeline.bins.iter().map(|b| b.count).collect();
        assert_eq!(counts, [1, 0, 1]);
    }
}

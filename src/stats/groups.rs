//! Sample rows grouped by region × target, the unit every report row and every check verdict
//! is about: how many rows each group had, how many failed, and what the caller keeps of them.

use std::collections::HashMap;

use crate::sample::Sample;

/// Rows of one region × target and how many of them failed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RowCounts {
    /// Rows read, failed ones included.
    pub rows: u64,
    /// Rows with an `error`: counted here, never as a time.
    pub errors: u64,
}

impl RowCounts {
    /// Failed rows ÷ rows; 0 when there are no rows.
    pub fn error_rate(&self) -> f64 {
        self.errors as f64 / self.rows.max(1) as f64
    }
}

/// One target measured from one region.
#[derive(Debug)]
pub struct Group<T> {
    pub region: String,
    pub target: String,
    pub counts: RowCounts,
    /// What the caller keeps of the group's rows (histograms, times).
    pub measured: T,
}

/// Groups in order of first appearance, found by (region, target) without allocating.
#[derive(Debug)]
pub struct Groups<T> {
    groups: Vec<Group<T>>,
    /// region → target → index in `groups`: looked up by `&str`, so a row of an existing group
    /// costs two hash lookups and no allocation, whatever order the rows come in.
    index: HashMap<String, HashMap<String, usize>>,
}

impl<T> Default for Groups<T> {
    fn default() -> Self {
        Groups {
            groups: Vec::new(),
            index: HashMap::new(),
        }
    }
}

impl<T> Groups<T> {
    /// Counts `sample` in its group, creating the group with `new(its index)` on its first row,
    /// and returns the group for the caller to record what it keeps.
    pub fn record(&mut self, sample: &Sample, new: impl FnOnce(usize) -> T) -> &mut Group<T> {
        let index = match self.position(&sample.region, &sample.target) {
            Some(index) => index,
            None => {
                let index = self.groups.len();
                self.groups.push(Group {
                    region: sample.region.clone(),
                    target: sample.target.clone(),
                    counts: RowCounts::default(),
                    measured: new(index),
                });
                self.index
                    .entry(sample.region.clone())
                    .or_default()
                    .insert(sample.target.clone(), index);
                index
            }
        };
        let group = &mut self.groups[index];
        group.counts.rows += 1;
        if !sample.succeeded() {
            group.counts.errors += 1;
        }
        group
    }

    fn position(&self, region: &str, target: &str) -> Option<usize> {
        self.index.get(region)?.get(target).copied()
    }

    pub fn get(&self, region: &str, target: &str) -> Option<&Group<T>> {
        self.position(region, target)
            .map(|index| &self.groups[index])
    }

    /// Every group, in order of first appearance.
    pub fn iter(&self) -> std::slice::Iter<'_, Group<T>> {
        self.groups.iter()
    }

    /// Regions in order of first appearance.
    pub fn regions(&self) -> Vec<&str> {
        let mut regions: Vec<&str> = Vec::new();
        for group in &self.groups {
            if !regions.contains(&group.region.as_str()) {
                regions.push(&group.region);
            }
        }
        regions
    }

    pub fn has_target(&self, target: &str) -> bool {
        self.groups.iter().any(|group| group.target == target)
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::ErrorClass;

    fn row(region: &str, target: &str, failed: bool) -> Sample {
        Sample {
            region: region.into(),
            target: target.into(),
            error: failed.then_some(ErrorClass::Timeout),
            ..Sample::default()
        }
    }

    #[test]
    fn interleaved_rows_are_counted_in_their_own_group() {
        let mut groups: Groups<()> = Groups::default();
        for (target, failed) in [
            ("a", false),
            ("b", true),
            ("a", true),
            ("b", false),
            ("a", false),
        ] {
            groups.record(&row("lab", target, failed), |_| ());
        }
        let counts = |target| groups.get("lab", target).unwrap().counts;
        assert_eq!(counts("a"), RowCounts { rows: 3, errors: 1 });
        assert_eq!(counts("b"), RowCounts { rows: 2, errors: 1 });
        let order: Vec<&str> = groups.iter().map(|g| g.target.as_str()).collect();
        assert_eq!(order, ["a", "b"]);
    }

    #[test]
    fn error_rate_of_no_rows_is_zero() {
        assert_eq!(RowCounts::default().error_rate(), 0.0);
        assert_eq!(
            RowCounts {
                rows: 40,
                errors: 10
            }
            .error_rate(),
            0.25
        );
    }
}

//! Which rows to read: `--since`, `--until` and `--region`. Objects and files are pruned by the
//! `date=` and `region=` parts of their path before anything is read; rows are then filtered by
//! their own `started_at` and `region`, so files outside the layout are filtered as exactly.

use chrono::{DateTime, Duration as Days, NaiveDate, Utc};

use crate::error::UsageError;
use crate::layout::{Partitions, partition_value};
use crate::sample::Sample;

/// Rows kept: started in `[since, until)` and, when `regions` is not empty, from one of them.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub regions: Vec<String>,
}

impl Selection {
    pub fn new(
        since: Option<&str>,
        until: Option<&str>,
        regions: &[String],
    ) -> Result<Selection, UsageError> {
        let now = Utc::now();
        let since = since
            .map(|text| moment("--since", text, now, false))
            .transpose()?;
        let until = until
            .map(|text| moment("--until", text, now, true))
            .transpose()?;
        if let (Some(since), Some(until)) = (since, until)
            && since >= until
        {
            return Err(UsageError(format!(
                "--since {since} is not before --until {until}: nothing to read"
            )));
        }
        Ok(Selection {
            since,
            until,
            regions: regions.to_vec(),
        })
    }

    /// Only regions, for inputs a time filter must not apply to (`check --previous`).
    pub fn regions_only(&self) -> Selection {
        Selection {
            regions: self.regions.clone(),
            ..Selection::default()
        }
    }

    pub fn is_everything(&self) -> bool {
        self.since.is_none() && self.until.is_none() && self.regions.is_empty()
    }

    /// False when the path's partitions prove that none of its rows can be selected.
    pub fn may_hold(&self, partitions: &Partitions) -> bool {
        if let Some(date) = partitions.date {
            let start = date.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
            let end = start + Days::days(1);
            if self.since.is_some_and(|since| end <= since)
                || self.until.is_some_and(|until| start >= until)
            {
                return false;
            }
        }
        match &partitions.region {
            Some(region) if !self.regions.is_empty() => self
                .regions
                .iter()
                .any(|wanted| partition_value(wanted) == *region),
            _ => true,
        }
    }

    /// Whether a row is selected; a row without a readable time cannot be placed in a window.
    pub fn selects(&self, sample: &Sample) -> Result<bool, String> {
        if !self.regions.is_empty() && !self.regions.contains(&sample.region) {
            return Ok(false);
        }
        if self.since.is_none() && self.until.is_none() {
            return Ok(true);
        }
        let started: DateTime<Utc> = DateTime::parse_from_rfc3339(&sample.started_at)
            .map_err(|_| {
                format!(
                    "column started_at: {:?} is not an RFC 3339 time (needed by --since/--until)",
                    sample.started_at
                )
            })?
            .into();
        Ok(self.since.is_none_or(|since| started >= since)
            && self.until.is_none_or(|until| started < until))
    }
}

/// A date (`2026-12-01`: its midnight, or for `--until` the midnight after it, so the day is
/// included), an RFC 3339 time, or a duration back from now (`7d`, `12h`, `90m`).
fn moment(
    flag: &str,
    text: &str,
    now: DateTime<Utc>,
    end_of_day: bool,
) -> Result<DateTime<Utc>, UsageError> {
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let midnight = date.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
        return Ok(if end_of_day {
            midnight + Days::days(1)
        } else {
            midnight
        });
    }
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.into());
    }
    let ago = humantime::parse_duration(text).map_err(|_| {
        UsageError(format!(
            "{flag} {text:?}: expected a date (2026-12-01), an RFC 3339 time or a duration (7d, 12h)"
        ))
    })?;
    let ago = chrono::Duration::from_std(ago)
        .map_err(|_| UsageError(format!("{flag} {text:?}: too long ago")))?;
    Ok(now - ago)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::partitions;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn a_date_until_includes_that_day_and_a_duration_counts_back_from_now() {
        let now = at("2026-12-02T12:00:00Z");
        assert_eq!(
            moment("--until", "2026-12-01", now, true).unwrap(),
            at("2026-12-02T00:00:00Z")
        );
        assert_eq!(
            moment("--since", "2026-12-01", now, false).unwrap(),
            at("2026-12-01T00:00:00Z")
        );
        assert_eq!(
            moment("--since", "7d", now, false).unwrap(),
            at("2026-11-25T12:00:00Z")
        );
        let error = moment("--since", "last week", now, false).unwrap_err();
        assert!(
            error
                .0
                .starts_with("--since \"last week\": expected a date"),
            "{}",
            error.0
        );
    }

    #[test]
    fn partitions_outside_the_window_or_the_regions_are_pruned() {
        let selection = Selection {
            since: Some(at("2026-12-01T06:00:00Z")),
            until: Some(at("2026-12-03T00:00:00Z")),
            regions: vec!["auckland, nz".into()],
        };
        let key = |date: &str, region: &str| partitions([date, region]);
        assert!(selection.may_hold(&key("date=2026-12-01", "region=auckland__nz")));
        assert!(selection.may_hold(&key("date=2026-12-02", "region=auckland__nz")));
        assert!(!selection.may_hold(&key("date=2026-11-30", "region=auckland__nz")));
        assert!(!selection.may_hold(&key("date=2026-12-03", "region=auckland__nz")));
        assert!(!selection.may_hold(&key("date=2026-12-02", "region=sydney")));
        assert!(
            selection.may_hold(&Partitions::default()),
            "outside the layout: read, then filter rows"
        );
    }

    #[test]
    fn rows_are_filtered_by_their_own_time_and_region() {
        let selection = Selection {
            since: Some(at("2026-12-01T06:00:00Z")),
            until: None,
            regions: vec!["sydney".into()],
        };
        let row = |started: &str, region: &str| Sample {
            started_at: started.into(),
            region: region.into(),
            ..Sample::default()
        };
        assert_eq!(
            selection.selects(&row("2026-12-01T06:00:00.000000Z", "sydney")),
            Ok(true)
        );
        assert_eq!(
            selection.selects(&row("2026-12-01T05:59:59.999999Z", "sydney")),
            Ok(false)
        );
        assert_eq!(
            selection.selects(&row("2026-12-01T07:00:00.000000Z", "auckland")),
            Ok(false)
        );
        assert!(selection.selects(&row("yesterday", "sydney")).is_err());
    }
}

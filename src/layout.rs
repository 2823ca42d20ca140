//! Where results live in a store: one Hive-style layout that the sink writes and the input
//! prunes by, so query engines (Athena, DuckDB, Spark) see `kind`, `date` and `region` as
//! partition columns:
//!
//! `PREFIX/kind=samples/date=2026-12-02/region=auckland/RUN_ID.csv`
//!
//! `date` is the UTC day the rows in the object started on (a run that crosses midnight writes
//! one object per day, under the same RUN_ID), so pruning by date is exact.

use chrono::{DateTime, NaiveDate, Utc};

/// The record kinds a run can produce: one object per run (and day) for each.
pub const KINDS: [&str; 3] = ["samples", "playback", "requests"];

/// The file formats results are written in; read back by their extension.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    #[default]
    Csv,
    Parquet,
}

impl Format {
    /// By the name's extension: `.parquet` or `.csv` (any case); `None` for anything else.
    pub fn of(name: &str) -> Option<Format> {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".parquet") {
            Some(Format::Parquet)
        } else if lower.ends_with(".csv") {
            Some(Format::Csv)
        } else {
            None
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Parquet => "parquet",
        }
    }
}

/// The partition columns of one object's key.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Partitions {
    pub kind: Option<String>,
    pub date: Option<NaiveDate>,
    pub region: Option<String>,
}

/// The key of one object below the prefix (no leading slash).
pub fn object_key(kind: &str, date: NaiveDate, region: &str, run_id: &str, ext: &str) -> String {
    format!(
        "kind={kind}/date={}/region={}/{run_id}.{ext}",
        date.format("%Y-%m-%d"),
        partition_value(region)
    )
}

/// A region as a partition value: letters, digits, `.`, `_` and `-` kept, anything else `_`
/// (a path part must not hold `/` or `=`). Lossy, so the rows' own `region` stays the truth and
/// pruning compares values made the same way.
pub fn partition_value(text: &str) -> String {
    let value: String = text
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '_' | '-' => c,
            _ => '_',
        })
        .collect();
    if value.is_empty() { "_".into() } else { value }
}

/// Reads the `name=value` parts of a key or path.
pub fn partitions<'p>(parts: impl IntoIterator<Item = &'p str>) -> Partitions {
    let mut found = Partitions::default();
    for part in parts {
        match part.split_once('=') {
            Some(("kind", kind)) => found.kind = Some(kind.to_owned()),
            Some(("date", date)) => found.date = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok(),
            Some(("region", region)) => found.region = Some(region.to_owned()),
            _ => {}
        }
    }
    found
}

/// Unique across hosts and runs: the start time, the host and 64 random bits, e.g.
/// `20261202T041700Z-auckland-vm-3f9a0c1d2e4b5a69`. Sorts by start time.
pub fn run_id(started: DateTime<Utc>) -> String {
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    format!(
        "{}-{}-{:016x}",
        started.format("%Y%m%dT%H%M%SZ"),
        partition_value(&host),
        rand::random::<u64>()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_reads_back_as_its_partitions() {
        let date = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        let key = object_key("samples", date, "auckland, nz", "RUN", "csv");
        assert_eq!(
            key,
            "kind=samples/date=2026-12-02/region=auckland__nz/RUN.csv"
        );
        let read = partitions(key.split('/'));
        assert_eq!(read.kind.as_deref(), Some("samples"));
        assert_eq!(read.date, Some(date));
        assert_eq!(read.region.as_deref(), Some("auckland__nz"));
    }

    #[test]
    fn run_ids_differ_and_sort_by_start() {
        let early = "2026-12-02T04:00:00Z".parse().unwrap();
        let late = "2026-12-02T05:00:00Z".parse().unwrap();
        let (a, b) = (run_id(early), run_id(early));
        assert_ne!(a, b);
        assert!(a < run_id(late) && b < run_id(late));
    }
}

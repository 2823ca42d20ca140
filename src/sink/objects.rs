//! A closed spool → the objects of its run: one per UTC day and region its rows started in
//! (almost always exactly one), each a CSV with the spool's header or a Parquet file, keyed by
//! the layout. The same spool always gives the same keys and bytes, whoever makes them.

use std::path::Path;

use bytes::Bytes;
use chrono::NaiveDate;

use super::parquet::{ParquetError, csv_to_parquet};
use super::schema::Column;
use crate::layout::{Format, object_key};

/// One object to write, its key below the prefix.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    pub key: String,
    pub bytes: Bytes,
    pub rows: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ObjectsError {
    #[error("{0}")]
    Csv(#[from] csv::Error),
    #[error("{0}")]
    Parquet(#[from] ParquetError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// The rows of one (date, region), CSV with the spool's header, and how many.
type Group = ((NaiveDate, String), csv::Writer<Vec<u8>>, u64);

/// The objects of the run whose spool is `spool`. `run_date` files rows without a readable
/// `started_at`; `columns` types the Parquet columns.
pub fn of_spool(
    spool: &Path,
    kind: &str,
    run_id: &str,
    run_date: NaiveDate,
    format: Format,
    columns: &[Column],
) -> Result<Vec<Object>, ObjectsError> {
    let mut reader = csv::Reader::from_path(spool)?;
    let header = reader.headers()?.clone();
    let column = |name: &str| header.iter().position(|h| h == name);
    let (started, region) = (column("started_at"), column("region"));
    // (date, region) → the rows filed under it, in spool order.
    let mut groups: Vec<Group> = Vec::new();
    for record in reader.records() {
        let record = record?;
        let date = started
            .and_then(|i| record.get(i))
            .and_then(|text| NaiveDate::parse_from_str(text.get(..10)?, "%Y-%m-%d").ok())
            .unwrap_or(run_date);
        let region = region
            .and_then(|i| record.get(i))
            .unwrap_or_default()
            .to_owned();
        let key = (date, region);
        let index = match groups.iter().position(|(k, _, _)| *k == key) {
            Some(index) => index,
            None => {
                let mut writer = csv::Writer::from_writer(Vec::new());
                writer.write_record(&header)?;
                groups.push((key, writer, 0));
                groups.len() - 1
            }
        };
        groups[index].1.write_record(&record)?;
        groups[index].2 += 1;
    }
    let mut objects = Vec::new();
    for ((date, region), writer, rows) in groups {
        let csv = writer.into_inner().map_err(|e| e.into_error())?;
        let bytes = match format {
            Format::Csv => csv,
            Format::Parquet => csv_to_parquet(&csv[..], columns)?,
        };
        objects.push(Object {
            key: object_key(kind, date, &region, run_id, format.extension()),
            bytes: Bytes::from(bytes),
            rows,
        });
    }
    Ok(objects)
}

/// The day a run started, from its id (`20261202T…`).
pub fn run_date(run_id: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(run_id.get(..8)?, "%Y%m%d").ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::Sample;
    use crate::sink::schema::columns_of;

    fn spool_of(rows: &[(&str, &str)]) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        let mut writer = csv::Writer::from_path(file.path()).unwrap();
        for (started, region) in rows {
            writer
                .serialize(Sample {
                    started_at: (*started).into(),
                    region: (*region).into(),
                    ..Sample::default()
                })
                .unwrap();
        }
        writer.flush().unwrap();
        file
    }

    #[test]
    fn a_run_across_midnight_is_one_object_per_day_with_the_spool_s_bytes() {
        let spool = spool_of(&[
            ("2026-12-01T23:59:59.000000Z", "auckland"),
            ("2026-12-02T00:00:01.000000Z", "auckland"),
        ]);
        let date = run_date("20261201T235900Z-h-1").unwrap();
        let objects = of_spool(spool.path(), "samples", "RUN", date, Format::Csv, &[]).unwrap();
        let keys: Vec<&str> = objects.iter().map(|o| o.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "kind=samples/date=2026-12-01/region=auckland/RUN.csv",
                "kind=samples/date=2026-12-02/region=auckland/RUN.csv"
            ]
        );
        let spooled = std::fs::read_to_string(spool.path()).unwrap();
        let lines: Vec<&str> = spooled.lines().collect();
        assert_eq!(objects[0].bytes, format!("{}\n{}\n", lines[0], lines[1]));
        assert_eq!(objects[1].bytes, format!("{}\n{}\n", lines[0], lines[2]));
    }

    #[test]
    fn the_same_spool_always_gives_the_same_parquet_bytes() {
        let spool = spool_of(&[("2026-12-01T10:00:00.000000Z", "sydney")]);
        let columns = columns_of::<Sample>();
        let date = run_date("20261201T100000Z").unwrap();
        let make = || {
            of_spool(
                spool.path(),
                "samples",
                "R",
                date,
                Format::Parquet,
                &columns,
            )
            .unwrap()
        };
        let (first, second) = (make(), make());
        assert_eq!(first, second);
        assert!(first[0].bytes.starts_with(b"PAR1"));
    }
}

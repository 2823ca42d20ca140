//! One Parquet file of samples, read a record batch at a time into a reused `Sample`. Each typed
//! value is written out as the CSV would have it and read by the same column parsers, so a row
//! means the same whichever format carried it.

use std::fmt::Write as _;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, TimeUnit};
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::file::reader::ChunkReader;

use super::columns::{self, ParseInto};
use super::sources::Data;
use crate::error::UsageError;
use crate::sample::Sample;

const BATCH_ROWS: usize = 8192;

pub struct ParquetSamples<'d> {
    name: &'d str,
    batches: ParquetRecordBatchReader,
    batch: Option<RecordBatch>,
    /// The next row of `batch` to read.
    next: usize,
    names: Vec<String>,
    /// As in the CSV reader: `None` is an optional column this file lacks.
    columns: Vec<(Option<usize>, ParseInto)>,
    cell: String,
    rows: u64,
}

impl<'d> ParquetSamples<'d> {
    pub fn open(name: &'d str, data: &Data) -> Result<Self, UsageError> {
        let bad = |what: String| UsageError(format!("{name}: {what}"));
        let (names, batches) = match data {
            Data::File(path) => {
                let file = std::fs::File::open(path).map_err(|e| bad(e.to_string()))?;
                contained(|| batches(file))
            }
            Data::Bytes(bytes) => contained(|| batches(bytes.clone())),
        }
        .map_err(bad)?;
        let columns = columns::resolve(names.iter().map(String::as_str)).map_err(bad)?;
        Ok(ParquetSamples {
            name,
            batches,
            batch: None,
            next: 0,
            names,
            columns,
            cell: String::new(),
            rows: 0,
        })
    }

    /// Overwrites every field of `sample` with the next row; false after the last.
    pub fn read_into(&mut self, sample: &mut Sample) -> Result<bool, UsageError> {
        while self
            .batch
            .as_ref()
            .is_none_or(|b| self.next == b.num_rows())
        {
            let next = contained(|| self.batches.next().transpose().map_err(|e| e.to_string()));
            match next {
                Ok(None) => return Ok(false),
                Ok(Some(batch)) => (self.batch, self.next) = (Some(batch), 0),
                Err(e) => return Err(UsageError(format!("{}: {e}", self.name))),
            }
        }
        let batch = self.batch.as_ref().expect("a batch with rows left");
        let row = self.next;
        for (index, parse) in &self.columns {
            let Some(index) = *index else {
                let _ = parse(sample, "");
                continue;
            };
            let at = |what: String| {
                UsageError(format!(
                    "{}: row {}: column {}: {what}",
                    self.name,
                    self.rows + 1,
                    self.names[index]
                ))
            };
            cell_text(batch.column(index), row, &mut self.cell).map_err(at)?;
            parse(sample, &self.cell).map_err(at)?;
        }
        self.next += 1;
        self.rows += 1;
        Ok(true)
    }

    pub fn finish(self) -> Result<u64, UsageError> {
        if self.rows == 0 {
            return Err(UsageError(format!("{}: no sample rows", self.name)));
        }
        Ok(self.rows)
    }
}

/// Runs a call into the parquet crate, which panics on some malformed files instead of returning
/// an error (a non-bool wire type where thrift metadata declares a bool: apache/arrow-rs#9839,
/// found by our `sample_parquet` fuzz target, fixed upstream after 57.3): such a file is refused
/// like any other bad file, not a crash of `report`. The reader is not used again after a panic.
fn contained<T>(call: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(call))
        .unwrap_or_else(|_| Err("malformed Parquet: the parquet crate failed reading it".into()))
}

/// The column names of a Parquet file and a reader of its record batches.
fn batches<T: ChunkReader + 'static>(
    input: T,
) -> Result<(Vec<String>, ParquetRecordBatchReader), String> {
    let builder = ParquetRecordBatchReaderBuilder::try_new(input)
        .map_err(|e| format!("not a Parquet file: {e}"))?;
    let names = builder
        .schema()
        .fields()
        .iter()
        .map(|field| field.name().clone())
        .collect();
    let reader = builder
        .with_batch_size(BATCH_ROWS)
        .build()
        .map_err(|e| e.to_string())?;
    Ok((names, reader))
}

/// A value as the CSV writes it: numbers in Rust's shortest round-trip form (so they parse back
/// to the same `f64`), timestamps in RFC 3339 UTC with microseconds as the probe writes them,
/// null as an empty cell.
fn cell_text(array: &dyn Array, row: usize, out: &mut String) -> Result<(), String> {
    out.clear();
    if array.is_null(row) {
        return Ok(());
    }
    macro_rules! number {
        ($type:ty) => {
            write!(out, "{}", array.as_primitive::<$type>().value(row))
        };
    }
    let _ = match array.data_type() {
        DataType::Utf8 => write!(out, "{}", array.as_string::<i32>().value(row)),
        DataType::LargeUtf8 => write!(out, "{}", array.as_string::<i64>().value(row)),
        DataType::Utf8View => write!(out, "{}", array.as_string_view().value(row)),
        DataType::Boolean => write!(out, "{}", array.as_boolean().value(row)),
        DataType::Int8 => number!(Int8Type),
        DataType::Int16 => number!(Int16Type),
        DataType::Int32 => number!(Int32Type),
        DataType::Int64 => number!(Int64Type),
        DataType::UInt8 => number!(UInt8Type),
        DataType::UInt16 => number!(UInt16Type),
        DataType::UInt32 => number!(UInt32Type),
        DataType::UInt64 => number!(UInt64Type),
        DataType::Float32 => number!(Float32Type),
        DataType::Float64 => number!(Float64Type),
        DataType::Timestamp(unit, _) => {
            let value = |array: &dyn Array| match unit {
                TimeUnit::Second => array.as_primitive::<TimestampSecondType>().value(row),
                TimeUnit::Millisecond => {
                    array.as_primitive::<TimestampMillisecondType>().value(row)
                }
                TimeUnit::Microsecond => {
                    array.as_primitive::<TimestampMicrosecondType>().value(row)
                }
                TimeUnit::Nanosecond => array.as_primitive::<TimestampNanosecondType>().value(row),
            };
            let value = value(array);
            let micros = match unit {
                TimeUnit::Second => value.checked_mul(1_000_000),
                TimeUnit::Millisecond => value.checked_mul(1_000),
                TimeUnit::Microsecond => Some(value),
                TimeUnit::Nanosecond => Some(value / 1_000),
            };
            let time = micros
                .and_then(chrono::DateTime::from_timestamp_micros)
                .ok_or_else(|| format!("timestamp out of range: {value}"))?;
            write!(
                out,
                "{}",
                time.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
            )
        }
        other => return Err(format!("unsupported Parquet type {other}")),
    };
    Ok(())
}

//! One Parquet file of samples, read a record batch at a time into a reused `Sample`. Numbers go
//! straight into the sample through `columns::number_into`, text is borrowed from the batch, and
//! any other value (timestamps, a foreign file's types) is written out as the CSV would have it
//! and read by the same column parsers: a row means the same whichever format carried it.

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

use super::columns::{self, Number, NumberInto, ParseInto};
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
    /// For each of `columns`, how a numeric value is stored without text, for numeric columns.
    numbers: Vec<Option<NumberInto>>,
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
        // Absent columns read an empty cell, through their text parser.
        let numbers = columns
            .iter()
            .map(|(index, _)| index.and_then(|index| columns::number_into(&names[index])))
            .collect();
        Ok(ParquetSamples {
            name,
            batches,
            batch: None,
            next: 0,
            names,
            columns,
            numbers,
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
        for ((index, parse), number) in self.columns.iter().zip(&self.numbers) {
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
            let array = batch.column(index).as_ref();
            let stored = if let Some(set) = number
                && let Some(value) = number_cell(array, row)
            {
                set(sample, value)
            } else if let Some(text) = text_cell(array, row) {
                parse(sample, text)
            } else {
                cell_text(array, row, &mut self.cell).map_err(at)?;
                parse(sample, &self.cell)
            };
            stored.map_err(at)?;
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

/// A cell of a numeric array as a number (`Some(None)` when null); `None` for other arrays.
fn number_cell(array: &dyn Array, row: usize) -> Option<Option<Number>> {
    macro_rules! typed {
        ($type:ty, $variant:ident, $as:ty) => {
            Number::$variant(<$as>::from(array.as_primitive::<$type>().value(row)))
        };
    }
    let value = match array.data_type() {
        DataType::Int8 => typed!(Int8Type, Integer, i64),
        DataType::Int16 => typed!(Int16Type, Integer, i64),
        DataType::Int32 => typed!(Int32Type, Integer, i64),
        DataType::Int64 => typed!(Int64Type, Integer, i64),
        DataType::UInt8 => typed!(UInt8Type, Integer, i64),
        DataType::UInt16 => typed!(UInt16Type, Integer, i64),
        DataType::UInt32 => typed!(UInt32Type, Integer, i64),
        DataType::Float32 => typed!(Float32Type, Float, f64),
        DataType::Float64 => typed!(Float64Type, Float, f64),
        _ => return None,
    };
    Some((!array.is_null(row)).then_some(value))
}

/// A cell of a text array, borrowed (empty when null); `None` for other arrays.
fn text_cell(array: &dyn Array, row: usize) -> Option<&str> {
    let data_type = array.data_type();
    if !matches!(
        data_type,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    ) {
        return None;
    }
    if array.is_null(row) {
        return Some("");
    }
    Some(match data_type {
        DataType::Utf8 => array.as_string::<i32>().value(row),
        DataType::LargeUtf8 => array.as_string::<i64>().value(row),
        _ => array.as_string_view().value(row),
    })
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

/// A value as the CSV writes it (for the values `number_cell` and `text_cell` do not take):
/// numbers in Rust's shortest round-trip form (so they parse back to the same `f64`), timestamps
/// in RFC 3339 UTC with microseconds as the probe writes them, null as an empty cell.
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

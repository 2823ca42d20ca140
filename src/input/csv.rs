//! One CSV of samples, read row by row into a reused `Sample`, with `NAME:LINE: what is wrong`
//! on bad input.

use std::io::{BufRead, Read};

use super::columns::{self, ParseInto};
use super::sources::Data;
use crate::error::UsageError;
use crate::sample::Sample;

pub struct CsvSamples<'d> {
    name: &'d str,
    data: &'d Data,
    reader: csv::Reader<Box<dyn Read + 'd>>,
    headers: csv::StringRecord,
    /// The column index (`None`: absent from this older file) and parser of every column the
    /// file format knows.
    columns: Vec<(Option<usize>, ParseInto)>,
    record: csv::StringRecord,
    rows: u64,
}

impl<'d> CsvSamples<'d> {
    pub fn open(name: &'d str, data: &'d Data) -> Result<Self, UsageError> {
        let body = data
            .reader()
            .map_err(|e| UsageError(format!("{name}: {e}")))?;
        let mut reader = csv::ReaderBuilder::new().from_reader(body);
        let at = |what: String| UsageError(format!("{name}:1: {what}"));
        let headers = reader.headers().map_err(|e| at(e.to_string()))?.clone();
        if headers.is_empty() || (headers.len() == 1 && headers[0].is_empty()) {
            return Err(at("empty file (expected a header row)".into()));
        }
        let columns = columns::resolve(headers.iter()).map_err(at)?;
        Ok(CsvSamples {
            name,
            data,
            reader,
            headers,
            columns,
            record: csv::StringRecord::new(),
            rows: 0,
        })
    }

    /// Overwrites every field of `sample` with the next row; false at the end of the file.
    pub fn read_into(&mut self, sample: &mut Sample) -> Result<bool, UsageError> {
        let before = self.reader.position().clone();
        let read = self.reader.read_record(&mut self.record);
        let at = |what: String| {
            let line = self.record_line(&before);
            UsageError(format!("{}:{line}: {what}", self.name))
        };
        match read {
            Ok(false) => return Ok(false),
            Ok(true) => {}
            Err(e) => return Err(at(e.to_string())),
        }
        for (index, parse) in &self.columns {
            let Some(index) = *index else {
                // Only optional columns can be absent, and they all read an empty cell.
                let _ = parse(sample, "");
                continue;
            };
            let value = self.record.get(index).unwrap_or_default();
            parse(sample, value)
                .map_err(|what| at(format!("column {}: {what}", &self.headers[index])))?;
        }
        self.rows += 1;
        Ok(true)
    }

    /// The line the record read from `before` starts on (for an error message). The reader's
    /// line at `before` may be a blank line, or the `\n` of a `\r\n`, that `read_record`
    /// skipped, so count the line breaks between there and the record's first byte.
    fn record_line(&self, before: &csv::Position) -> u64 {
        let skipped = || -> std::io::Result<u64> {
            let mut gap = self.data.buffered_from(before.byte())?;
            let mut breaks = 0;
            loop {
                let chunk = gap.fill_buf()?;
                let blank = chunk
                    .iter()
                    .take_while(|b| matches!(b, b'\r' | b'\n'))
                    .count();
                breaks += chunk[..blank].iter().filter(|b| **b == b'\n').count() as u64;
                if blank < chunk.len() || chunk.is_empty() {
                    return Ok(breaks);
                }
                gap.consume(blank);
            }
        };
        before.line() + skipped().unwrap_or(0)
    }

    pub fn finish(self) -> Result<u64, UsageError> {
        if self.rows == 0 {
            return Err(UsageError(format!("{}:1: no sample rows", self.name)));
        }
        Ok(self.rows)
    }
}

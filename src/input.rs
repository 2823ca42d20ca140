//! Reading sample CSVs back (for `report` and `check`): files or directories of `*.csv`,
//! streamed row by row, with `file:line: what is wrong` on bad input (exit 2).

use std::path::{Path, PathBuf};

use crate::error::UsageError;
use crate::sample::{COLUMNS, Sample};

/// The CSV files named by `inputs`: files as given, directories expanded to their `*.csv`
/// (sorted, not recursive).
pub fn csv_files(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, UsageError> {
    let mut files = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let entries = std::fs::read_dir(input)
                .map_err(|e| UsageError(format!("{}: {e}", input.display())))?;
            let mut found: Vec<PathBuf> = entries
                .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                .filter(|path| path.is_file() && path.extension().is_some_and(|ext| ext == "csv"))
                .collect();
            if found.is_empty() {
                return Err(UsageError(format!(
                    "{}: directory has no .csv files",
                    input.display()
                )));
            }
            found.sort();
            files.extend(found);
        } else if input.is_file() {
            files.push(input.clone());
        } else {
            return Err(UsageError(format!(
                "{}: no such file or directory",
                input.display()
            )));
        }
    }
    if files.is_empty() {
        return Err(UsageError("no input files".into()));
    }
    Ok(files)
}

/// Whether the CSV at `path` is a playback CSV of `cdnprobe play`: its header has the session
/// columns a sample CSV lacks.
pub fn is_playback_csv(path: &Path) -> bool {
    let Ok(mut reader) = csv::Reader::from_path(path) else {
        return false;
    };
    reader.headers().is_ok_and(|header| {
        header.iter().any(|c| c == "startup_ms") && header.iter().any(|c| c == "session")
    })
}

/// Rows parsed per batch handed from the parsing thread to the caller's.
const BATCH_ROWS: usize = 1024;
/// Batches parsed ahead of the caller: bounds memory whatever the size of the input.
const BATCHES_AHEAD: usize = 4;

/// Calls `each` for every sample row of every file, in file order. Parsing runs on its own
/// thread, a few batches ahead, so a million rows are parsed and summarised at the same time;
/// batches go back to the parser to be refilled, so no row allocates.
pub fn for_each_sample(
    inputs: &[PathBuf],
    mut each: impl FnMut(&Sample),
) -> Result<u64, UsageError> {
    // Playback CSVs (`cdnprobe play`) sit beside sample CSVs; they are read by their own reader.
    let files: Vec<PathBuf> = csv_files(inputs)?
        .into_iter()
        .filter(|path| !is_playback_csv(path))
        .collect();
    let (send_full, full) = std::sync::mpsc::sync_channel::<Batch>(BATCHES_AHEAD);
    let (send_empty, empty) = std::sync::mpsc::channel::<Batch>();
    std::thread::scope(|scope| {
        let parser = scope.spawn(move || {
            let mut batch = Batch::default();
            let mut rows = 0;
            for path in &files {
                let mut reader = SampleReader::open(path)?;
                while reader.read_into(batch.next_slot())? {
                    if batch.len == BATCH_ROWS {
                        let refill = empty.try_recv().unwrap_or_default();
                        // The receiver lives until this thread ends: sending cannot fail.
                        let _ = send_full.send(std::mem::replace(&mut batch, refill));
                    }
                }
                batch.len -= 1; // the slot the end of the file left unfilled
                rows += reader.finish()?;
            }
            let _ = send_full.send(batch);
            Ok(rows)
        });
        for mut batch in full {
            batch.samples[..batch.len].iter().for_each(&mut each);
            batch.len = 0;
            let _ = send_empty.send(batch);
        }
        parser
            .join()
            .expect("the CSV parsing thread does not panic")
    })
}

/// Samples parsed in place: the first `len` are rows, the rest are buffers to reuse.
#[derive(Default)]
struct Batch {
    samples: Vec<Sample>,
    len: usize,
}

impl Batch {
    fn next_slot(&mut self) -> &mut Sample {
        if self.len == self.samples.len() {
            self.samples.push(Sample::default());
        }
        self.len += 1;
        &mut self.samples[self.len - 1]
    }
}

/// One CSV file of samples, read row by row into a reused `Sample`.
struct SampleReader<'p> {
    path: &'p Path,
    reader: csv::Reader<std::fs::File>,
    headers: csv::StringRecord,
    /// The column index and parser of every column the file format knows.
    columns: Vec<(usize, ParseInto)>,
    record: csv::StringRecord,
    rows: u64,
}

impl<'p> SampleReader<'p> {
    fn open(path: &'p Path) -> Result<Self, UsageError> {
        let mut reader = csv::ReaderBuilder::new()
            .from_path(path)
            .map_err(|e| UsageError(format!("{}: {e}", path.display())))?;
        let at = |what: String| UsageError(format!("{}:1: {what}", path.display()));
        let headers = reader.headers().map_err(|e| at(e.to_string()))?.clone();
        if headers.is_empty() || (headers.len() == 1 && headers[0].is_empty()) {
            return Err(at("empty file (expected a header row)".into()));
        }
        let missing: Vec<&str> = COLUMNS
            .iter()
            .copied()
            .filter(|c| !headers.iter().any(|h| h == *c))
            .collect();
        if !missing.is_empty() {
            return Err(at(format!("missing column(s): {}", missing.join(", "))));
        }
        // Columns the format does not know are ignored, as serde ignores unknown fields.
        let columns = headers
            .iter()
            .enumerate()
            .filter_map(|(index, name)| Some((index, parse_into(name)?)))
            .collect();
        Ok(SampleReader {
            path,
            reader,
            headers,
            columns,
            record: csv::StringRecord::new(),
            rows: 0,
        })
    }

    /// Overwrites every field of `sample` with the next row; false at the end of the file.
    fn read_into(&mut self, sample: &mut Sample) -> Result<bool, UsageError> {
        let before = self.reader.position().clone();
        let read = self.reader.read_record(&mut self.record);
        let at = |what: String| {
            let line = self.record_line(&before);
            UsageError(format!("{}:{line}: {what}", self.path.display()))
        };
        match read {
            Ok(false) => return Ok(false),
            Ok(true) => {}
            Err(e) => return Err(at(e.to_string())),
        }
        for (index, parse) in &self.columns {
            let value = self.record.get(*index).unwrap_or_default();
            parse(sample, value)
                .map_err(|what| at(format!("column {}: {what}", &self.headers[*index])))?;
        }
        self.rows += 1;
        Ok(true)
    }

    /// The line the record read from `before` starts on (for an error message). The reader's
    /// line at `before` may be a blank line, or the `\n` of a `\r\n`, that `read_record`
    /// skipped, so count the line breaks between there and the record's first byte.
    fn record_line(&self, before: &csv::Position) -> u64 {
        use std::io::{BufRead, BufReader, Seek, SeekFrom};
        let skipped = || -> std::io::Result<u64> {
            let mut file = std::fs::File::open(self.path)?;
            file.seek(SeekFrom::Start(before.byte()))?;
            let mut gap = BufReader::new(file);
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

    fn finish(self) -> Result<u64, UsageError> {
        if self.rows == 0 {
            return Err(UsageError(format!(
                "{}:1: no sample rows",
                self.path.display()
            )));
        }
        Ok(self.rows)
    }
}

/// Parses one CSV field into its place in a sample; the error says what is wrong with the value.
type ParseInto = fn(&mut Sample, &str) -> Result<(), String>;

/// How each column of `COLUMNS` is read, as serde would read it (a test checks they agree):
/// strings copied into the sample's buffers, an empty cell as `None`, enums by their serde names.
fn parse_into(column: &str) -> Option<ParseInto> {
    let parse: ParseInto = match column {
        "started_at" => |s, v| text(&mut s.started_at, v),
        "region" => |s, v| text(&mut s.region, v),
        "target" => |s, v| text(&mut s.target, v),
        "url" => |s, v| text(&mut s.url, v),
        "sample" => |s, v| put(&mut s.sample, number(v)),
        "http_version" => |s, v| text(&mut s.http_version, v),
        "status" => |s, v| put(&mut s.status, optional(v, number)),
        "remote_addr" => |s, v| text(&mut s.remote_addr, v),
        "bytes" => |s, v| put(&mut s.bytes, number(v)),
        "dns_ms" => |s, v| put(&mut s.dns_ms, optional(v, measure)),
        "connect_ms" => |s, v| put(&mut s.connect_ms, optional(v, measure)),
        "tls_ms" => |s, v| put(&mut s.tls_ms, optional(v, measure)),
        "ttfb_ms" => |s, v| put(&mut s.ttfb_ms, optional(v, measure)),
        "download_ms" => |s, v| put(&mut s.download_ms, optional(v, measure)),
        "total_ms" => |s, v| put(&mut s.total_ms, optional(v, measure)),
        "throughput_mbps" => |s, v| put(&mut s.throughput_mbps, optional(v, measure)),
        "cache" => |s, v| put(&mut s.cache, named(v)),
        "pop" => |s, v| text(&mut s.pop, v),
        "error" => |s, v| put(&mut s.error, optional(v, named)),
        _ => return None,
    };
    Some(parse)
}

fn text(into: &mut String, value: &str) -> Result<(), String> {
    into.clear();
    into.push_str(value);
    Ok(())
}

fn put<T>(into: &mut T, value: Result<T, String>) -> Result<(), String> {
    *into = value?;
    Ok(())
}

fn number<T: std::str::FromStr>(value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("not a number: {value:?}"))
}

/// A time or a rate: `f64` parses `inf`, `NaN` and negatives, none of which a measurement can be
/// (an infinite value hangs the chart's axis computation and prints as "inf ms").
fn measure(value: &str) -> Result<f64, String> {
    let measured: f64 = number(value)?;
    if measured.is_finite() && measured >= 0.0 {
        Ok(measured)
    } else {
        Err("not a finite non-negative number".into())
    }
}

fn optional<T>(value: &str, parse: fn(&str) -> Result<T, String>) -> Result<Option<T>, String> {
    if value.is_empty() {
        Ok(None)
    } else {
        parse(value).map(Some)
    }
}

/// An enum cell by the variant names serde gives it (`hit`, `http_status`, …).
fn named<T: serde::de::DeserializeOwned>(value: &str) -> Result<T, String> {
    T::deserialize(serde::de::value::StrDeserializer::<serde::de::value::Error>::new(value))
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::{CacheStatus, ErrorClass};

    #[test]
    fn every_column_of_the_format_has_a_parser() {
        for column in COLUMNS {
            assert!(parse_into(column).is_some(), "no parser for {column}");
        }
    }

    #[test]
    fn rows_read_back_equal_the_samples_serde_wrote() {
        let full = Sample {
            started_at: "2026-11-24T22:00:00.123456Z".into(),
            region: "auckland, nz".into(),
            target: "cloudfront".into(),
            url: "https://d1.example.net/v.mp4?a=1,b=\"2\"".into(),
            sample: 7,
            http_version: "HTTP/2".into(),
            status: Some(206),
            remote_addr: "[::1]:443".into(),
            bytes: 21_504,
            dns_ms: Some(1.5),
            connect_ms: Some(12.125),
            tls_ms: Some(30.0),
            ttfb_ms: Some(0.001),
            download_ms: Some(2278.0),
            total_ms: Some(2321.626),
            throughput_mbps: Some(75.5),
            cache: CacheStatus::Hit,
            pop: "AKL50-C1".into(),
            error: None,
        };
        let failed = Sample {
            status: None,
            tls_ms: None,
            ttfb_ms: None,
            download_ms: None,
            total_ms: None,
            throughput_mbps: None,
            cache: CacheStatus::Unknown,
            pop: String::new(),
            error: Some(ErrorClass::HttpStatus),
            ..full.clone()
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("samples.csv");
        let mut csv = csv::Writer::from_path(&path).unwrap();
        let written: Vec<Sample> = (0..3000)
            .map(|i| {
                if i % 3 == 0 {
                    failed.clone()
                } else {
                    full.clone()
                }
            })
            .collect();
        for sample in &written {
            csv.serialize(sample).unwrap();
        }
        csv.flush().unwrap();
        let mut read = Vec::new();
        let rows = for_each_sample(&[path], |s| read.push(s.clone())).unwrap();
        assert_eq!(rows, 3000);
        assert_eq!(read, written);
    }

    #[test]
    fn an_unknown_enum_name_is_reported_with_serde_s_words() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("samples.csv");
        let mut csv = csv::Writer::from_path(&path).unwrap();
        csv.serialize(Sample::default()).unwrap();
        csv.flush().unwrap();
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace(",unknown,", ",warm,");
        std::fs::write(&path, text).unwrap();
        let error = for_each_sample(std::slice::from_ref(&path), |_| {}).unwrap_err();
        assert_eq!(
            error.0,
            format!(
                "{}:2: column cache: unknown variant `warm`, expected one of `hit`, `miss`, `refresh`, `unknown`",
                path.display()
            )
        );
    }

    /// The line `for_each_sample` names for `text`, a file whose one bad row has `cache` = warm.
    fn line_of_the_bad_row(text: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("samples.csv");
        std::fs::write(&path, text).unwrap();
        let error = for_each_sample(std::slice::from_ref(&path), |_| {}).unwrap_err();
        let after_path = &error.0[path.display().to_string().len() + 1..];
        after_path.split(':').next().unwrap().to_string()
    }

    #[test]
    fn a_bad_row_is_named_by_its_own_line_after_blank_lines_and_multi_line_fields() {
        let mut csv = csv::Writer::from_writer(Vec::new());
        let multi_line = Sample {
            region: "two\nlines".into(),
            ..Sample::default()
        };
        csv.serialize(&multi_line).unwrap();
        csv.serialize(Sample::default()).unwrap();
        let text = String::from_utf8(csv.into_inner().unwrap()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        // header (1), the quoted region over lines 2-3, the good row (4)
        assert_eq!(lines.len(), 4);
        let good = lines[3];
        let bad = good.replace(",unknown,", ",warm,");
        let head = lines[..4].join("\n");
        assert_eq!(line_of_the_bad_row(&format!("{head}\n{bad}\n")), "5");
        assert_eq!(line_of_the_bad_row(&format!("{head}\n\n\n{bad}\n")), "7");
        // The last line without its line break.
        assert_eq!(line_of_the_bad_row(&format!("{head}\n\n{bad}")), "6");
        // Windows line breaks, blank lines included.
        let crlf = format!("{head}\n\n{bad}\n").replace('\n', "\r\n");
        assert_eq!(line_of_the_bad_row(&crlf), "6");
        // A bad multi-line row is named by its first line.
        let bad_multi = format!("{}\n{}", lines[1], lines[2]).replace(",unknown,", ",warm,");
        assert_eq!(
            line_of_the_bad_row(&format!("{}\n{good}\n\n{bad_multi}\n{good}\n", lines[0])),
            "4"
        );
    }
}

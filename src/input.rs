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

/// Rows parsed per batch handed from the parsing thread to the caller's.
const BATCH_ROWS: usize = 1024;
/// Batches parsed ahead of the caller: bounds memory whatever the size of the input.
const BATCHES_AHEAD: usize = 4;

/// Calls `each` for every sample row of every file, in file order. Parsing runs on its own
/// thread, a few batches ahead, so a million rows are parsed and summarised at the same time.
pub fn for_each_sample(
    inputs: &[PathBuf],
    mut each: impl FnMut(&Sample),
) -> Result<u64, UsageError> {
    let files = csv_files(inputs)?;
    let (send, batches) = std::sync::mpsc::sync_channel::<Vec<Sample>>(BATCHES_AHEAD);
    std::thread::scope(|scope| {
        let parser = scope.spawn(move || {
            let mut batch = Vec::with_capacity(BATCH_ROWS);
            let mut rows = 0;
            for path in &files {
                rows += read_file(path, &mut |sample| {
                    batch.push(sample);
                    if batch.len() == BATCH_ROWS {
                        // The receiver lives until this thread ends: sending cannot fail.
                        let _ = send.send(std::mem::replace(
                            &mut batch,
                            Vec::with_capacity(BATCH_ROWS),
                        ));
                    }
                })?;
            }
            let _ = send.send(batch);
            Ok(rows)
        });
        for batch in batches {
            batch.iter().for_each(&mut each);
        }
        parser
            .join()
            .expect("the CSV parsing thread does not panic")
    })
}

fn read_file(path: &Path, each: &mut impl FnMut(Sample)) -> Result<u64, UsageError> {
    let at = |line: u64, what: String| UsageError(format!("{}:{line}: {what}", path.display()));
    let mut reader = csv::ReaderBuilder::new()
        .from_path(path)
        .map_err(|e| UsageError(format!("{}: {e}", path.display())))?;
    let headers = reader.headers().map_err(|e| at(1, e.to_string()))?.clone();
    if headers.is_empty() || (headers.len() == 1 && headers[0].is_empty()) {
        return Err(at(1, "empty file (expected a header row)".into()));
    }
    let missing: Vec<&str> = COLUMNS
        .iter()
        .copied()
        .filter(|c| !headers.iter().any(|h| h == *c))
        .collect();
    if !missing.is_empty() {
        return Err(at(1, format!("missing column(s): {}", missing.join(", "))));
    }
    let mut record = csv::StringRecord::new();
    let mut rows = 0;
    loop {
        let line = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(at(line, e.to_string())),
        }
        let sample: Sample = record
            .deserialize(Some(&headers))
            .map_err(|e| at(line, describe(&e, &headers, &record)))?;
        each(sample);
        rows += 1;
    }
    if rows == 0 {
        return Err(at(1, "no sample rows".into()));
    }
    Ok(rows)
}

/// "column dns_ms: not a number: \"abc\"" from a csv deserialisation error.
fn describe(error: &csv::Error, headers: &csv::StringRecord, record: &csv::StringRecord) -> String {
    let csv::ErrorKind::Deserialize { err, .. } = error.kind() else {
        return error.to_string();
    };
    let field = err.field().map(|i| i as usize);
    let column = field
        .and_then(|i| headers.get(i))
        .map(|name| format!("column {name}: "))
        .unwrap_or_default();
    let what = match err.kind() {
        csv::DeserializeErrorKind::ParseFloat(_) | csv::DeserializeErrorKind::ParseInt(_) => {
            let value = field.and_then(|i| record.get(i)).unwrap_or("");
            format!("not a number: {value:?}")
        }
        other => other.to_string(),
    };
    format!("{column}{what}")
}

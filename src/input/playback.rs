//! Playback CSVs (`cdnprobe play`) sit beside sample CSVs in the inputs: recognised by their
//! header, skipped by the sample reader and listed here for their own reader
//! ([`crate::play::rows`]).

use std::path::{Path, PathBuf};

use super::sources::Data;
use crate::error::UsageError;
use crate::store;

/// Whether a CSV header is a playback CSV's: it has the session columns a sample CSV lacks.
pub fn is_playback_header(header: &csv::StringRecord) -> bool {
    header.iter().any(|c| c == "startup_ms") && header.iter().any(|c| c == "session")
}

/// Whether the CSV `data` holds is a playback CSV.
pub fn is_playback_data(data: &Data) -> bool {
    let Ok(body) = data.reader() else {
        return false;
    };
    csv::Reader::from_reader(body)
        .headers()
        .is_ok_and(is_playback_header)
}

/// Whether the CSV at `path` is a playback CSV.
pub fn is_playback_csv(path: &Path) -> bool {
    is_playback_data(&Data::File(path.to_owned()))
}

/// The playback CSVs among local `inputs`: files as given, directories searched recursively
/// (hidden entries skipped). Object-store URLs are left to the sample reader: playback rows are
/// read from local files only. A local input that does not exist is an error.
pub fn playback_csv_files(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, UsageError> {
    let mut files = Vec::new();
    for input in inputs {
        if input.to_str().is_some_and(store::is_url) {
            continue;
        }
        if input.is_dir() {
            let mut found = Vec::new();
            walk(input, &mut found).map_err(|e| UsageError(format!("{}: {e}", input.display())))?;
            found.sort();
            files.extend(found);
        } else if input.is_file() {
            files.extend(Some(input.clone()).filter(|path| is_playback_csv(path)));
        } else {
            return Err(UsageError(format!(
                "{}: no such file or directory",
                input.display()
            )));
        }
    }
    Ok(files)
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path
            .file_name()
            .is_some_and(|name| name.to_string_lossy().starts_with('.'))
        {
            continue;
        }
        if path.is_dir() {
            walk(&path, found)?;
        } else if path.extension().is_some_and(|ext| ext == "csv") && is_playback_csv(&path) {
            found.push(path);
        }
    }
    Ok(())
}

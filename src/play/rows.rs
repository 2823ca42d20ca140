//! Reading playback CSVs back (for `report` and `check`): the playback files among the inputs,
//! row by row, with `file:line: what is wrong` on bad input (exit 2).

use std::path::PathBuf;

use super::record::PlaybackRow;
use crate::error::UsageError;
use crate::input::playback_csv_files;

/// Calls `each` for every row of every playback CSV among `inputs` (files or directories;
/// store URLs are skipped); returns the number of rows. Sample CSVs are skipped.
pub fn for_each_playback_row(
    inputs: &[PathBuf],
    mut each: impl FnMut(&PlaybackRow),
) -> Result<u64, UsageError> {
    let mut rows = 0;
    for path in &playback_csv_files(inputs)? {
        let mut reader = csv::Reader::from_path(path)
            .map_err(|e| UsageError(format!("{}: {e}", path.display())))?;
        for (line, row) in (2..).zip(reader.deserialize::<PlaybackRow>()) {
            let at = |what: String| UsageError(format!("{}:{line}: {what}", path.display()));
            let row = row.map_err(|e| at(e.to_string().replace('\n', " ")))?;
            for (name, value) in [
                ("startup_ms", row.startup_ms),
                ("stall_ms", row.stall_ms),
                ("seek_ms", row.seek_ms),
                ("watched_s", row.watched_s),
                ("mean_bitrate_kbps", row.mean_bitrate_kbps),
            ] {
                if value.is_some_and(|v| !v.is_finite() || v < 0.0) {
                    return Err(at(format!("{name} is not a finite, non-negative number")));
                }
            }
            each(&row);
            rows += 1;
        }
    }
    Ok(rows)
}

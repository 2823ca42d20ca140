//! The spool: a local CSV that takes each row the moment it is measured (flushed), so a crash
//! or Ctrl-C loses nothing, and from which the run's objects are made when it ends — by the run,
//! or later by `cdnprobe push`. Its name, `RUN_ID.KIND.csv`, is all `push` needs besides the
//! rows themselves.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::layout::KINDS;

pub struct Spool {
    path: PathBuf,
    writer: csv::Writer<File>,
    rows: u64,
}

impl Spool {
    /// A new spool in `dir` (created if missing) with the header row written.
    pub fn create(
        dir: &Path,
        run_id: &str,
        kind: &str,
        header: &[String],
    ) -> std::io::Result<Spool> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(format!("{run_id}.{kind}.csv"));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)?;
        let mut writer = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(file);
        writer.write_record(header)?;
        writer.flush()?;
        Ok(Spool {
            path,
            writer,
            rows: 0,
        })
    }

    /// Appends one row and flushes it to the file.
    pub fn write<T: Serialize>(&mut self, row: &T) -> std::io::Result<()> {
        self.writer.serialize(row).map_err(std::io::Error::other)?;
        self.writer.flush()?;
        self.rows += 1;
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Closes the file, syncing it to disk: from here on it is the run's only copy.
    pub fn close(mut self) -> std::io::Result<PathBuf> {
        self.writer.flush()?;
        let file = self.writer.into_inner().map_err(|e| e.into_error())?;
        let mut file = file;
        file.flush()?;
        file.sync_all()?;
        Ok(self.path)
    }
}

/// The run id and kind a spool's name holds: `RUN_ID.KIND.csv`.
pub fn identity(path: &Path) -> Option<(String, String)> {
    let name = path.file_name()?.to_str()?;
    let stem = name.strip_suffix(".csv")?;
    let (run_id, kind) = stem.rsplit_once('.')?;
    (KINDS.contains(&kind) && !run_id.is_empty()).then(|| (run_id.to_owned(), kind.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spool_s_name_gives_back_its_run_and_kind() {
        let path = Path::new("/spool/20261202T041700Z-host-00ff.samples.csv");
        assert_eq!(
            identity(path),
            Some(("20261202T041700Z-host-00ff".into(), "samples".into()))
        );
        assert_eq!(identity(Path::new("results.csv")), None);
        assert_eq!(identity(Path::new("x.weird.csv")), None);
    }
}

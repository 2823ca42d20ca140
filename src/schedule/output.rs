//! Where rows go: a CSV file appended to (header only when new or empty) or stdout, each row
//! flushed as its sample ends so Ctrl-C or a crash loses nothing finished; and the progress bar,
//! shown only on a terminal.

use std::fs::{File, OpenOptions};
use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::Context;
use serde::Serialize;

use crate::usage_error;

pub struct RowWriter {
    writer: csv::Writer<Box<dyn Write + Send>>,
}

impl RowWriter {
    /// Opens `out` (or stdout) for rows with these `columns`.
    pub fn open(out: Option<&Path>, columns: &[&str]) -> anyhow::Result<Self> {
        let (sink, needs_header): (Box<dyn Write + Send>, bool) = match out {
            Some(path) => {
                let file: File = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| usage_error!("--out {}: {e}", path.display()))?;
                let empty = file.metadata().map(|m| m.len() == 0).unwrap_or(true);
                (Box::new(file), empty)
            }
            None => (Box::new(std::io::stdout()), true),
        };
        let mut writer = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(sink);
        if needs_header {
            writer.write_record(columns)?;
            writer.flush()?;
        }
        Ok(Self { writer })
    }

    /// Writes one row and flushes it.
    pub fn write<T: Serialize>(&mut self, row: &T) -> anyhow::Result<()> {
        self.writer.serialize(row).context("writing a CSV row")?;
        self.writer.flush().context("writing a CSV row")
    }
}

/// A bar counting `unit`s (e.g. "samples") on stderr when it is a terminal; hidden otherwise.
pub fn progress_bar(total: u64, unit: &str) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(total);
    let template = format!(
        "{{spinner}} [{{elapsed_precise}}] {{wide_bar}} {{pos}}/{{len}} {unit} (eta {{eta}})"
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    bar
}

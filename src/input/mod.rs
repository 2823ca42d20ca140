//! Where rows come from (for `report` and `check`): files, directories (recursive) and
//! object-store prefixes (`s3://`, `gs://`, `az://`, `file:///`), CSV or Parquet, streamed row by
//! row through one memory-bounded path, with `NAME:LINE: what is wrong` on bad input (exit 2).
//!
//! inputs → `sources` (listed, pruned by `selection`) → `fetch` (objects, concurrently, in
//! order) → `csv` / `parquet` (rows, parsed by `columns`) → batches → the caller's closure.

pub mod columns;
mod csv;
mod fetch;
mod parquet;
mod playback;
pub mod selection;
pub mod sources;

use std::path::PathBuf;

use crate::error::UsageError;
use crate::sample::Sample;
use crate::store::StoreArgs;
use selection::Selection;
use sources::{Data, Format, Source};

pub use playback::{is_playback_csv, playback_csv_files};

/// The options `report` and `check` share for reading their inputs.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ReadArgs {
    /// Only rows that started at or after this: a date (2026-12-01, UTC), an RFC 3339 time, or a
    /// duration back from now (7d, 12h). Objects of the layout outside it are never fetched.
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Only rows that started before this (a date includes that whole day).
    #[arg(long, value_name = "WHEN")]
    pub until: Option<String>,
    /// Skip, with a warning, objects and files that are not readable sample files (foreign or
    /// corrupt), instead of stopping with exit 2.
    #[arg(long)]
    pub skip_bad: bool,
    /// Objects fetched from a store at once (each is read whole).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_FETCHES)]
    pub fetches: usize,
    #[command(flatten)]
    pub store: StoreArgs,
}

pub const DEFAULT_FETCHES: usize = 16;

/// How to read: which rows, from which stores, how forgiving.
#[derive(Debug, Clone)]
pub struct Reading {
    pub selection: Selection,
    pub skip_bad: bool,
    pub fetches: usize,
    pub store: StoreArgs,
}

impl Default for Reading {
    fn default() -> Self {
        Reading {
            selection: Selection::default(),
            skip_bad: false,
            fetches: DEFAULT_FETCHES,
            store: StoreArgs::default(),
        }
    }
}

impl ReadArgs {
    /// The reading these flags ask for, keeping only `regions` when some are named.
    pub fn reading(&self, regions: &[String]) -> Result<Reading, UsageError> {
        if self.fetches == 0 {
            return Err(UsageError::new("--fetches must be at least 1"));
        }
        Ok(Reading {
            selection: Selection::new(self.since.as_deref(), self.until.as_deref(), regions)?,
            skip_bad: self.skip_bad,
            fetches: self.fetches,
            store: self.store.clone(),
        })
    }
}

/// What was read.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    /// Rows selected and handed to the caller.
    pub rows: u64,
    /// Sample files (and objects) read.
    pub files: usize,
    /// Files skipped as bad (`--skip-bad`).
    pub skipped: usize,
    /// Playback CSVs (`cdnprobe play`) among the inputs, left to their own reader.
    pub playback: usize,
}

/// Rows parsed per batch handed from the parsing thread to the caller's.
const BATCH_ROWS: usize = 1024;
/// Batches parsed ahead of the caller: bounds memory whatever the size of the input.
const BATCHES_AHEAD: usize = 4;

/// Calls `each` for every selected sample row of every input, in input order (a directory or
/// prefix in name order). Objects are fetched on one thread, parsed on another a few batches
/// ahead of the caller, so fetching, parsing and summarising overlap; batches go back to the
/// parser to be refilled, so no row allocates.
pub fn for_each_sample(
    inputs: &[PathBuf],
    reading: &Reading,
    mut each: impl FnMut(&Sample),
) -> Result<Totals, UsageError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| UsageError(format!("starting the fetcher: {e}")))?;
    let sources = sources::resolve(
        inputs,
        &reading.selection,
        &reading.store,
        &runtime,
        reading.skip_bad,
    )?;
    let progress = progress_bar(&sources);
    let (send_loaded, mut loaded) = tokio::sync::mpsc::channel(reading.fetches);
    let (send_full, full) = std::sync::mpsc::sync_channel::<Batch>(BATCHES_AHEAD);
    let (send_empty, empty) = std::sync::mpsc::channel::<Batch>();
    std::thread::scope(|scope| {
        let fetches = reading.fetches;
        scope.spawn(move || fetch::fetch_in_order(sources, &runtime, fetches, send_loaded));
        let parser = scope.spawn(move || {
            let mut batch = Batch::default();
            let mut totals = Totals::default();
            let mut hand_over = |batch: &mut Batch| {
                let refill = empty.try_recv().unwrap_or_default();
                // The receiver lives until this thread ends: sending cannot fail.
                let _ = send_full.send(std::mem::replace(batch, refill));
            };
            while let Some((source, data)) = loaded.blocking_recv() {
                progress.inc(1);
                let playback =
                    |data: &Data| source.format == Format::Csv && playback::is_playback_data(data);
                if data.as_ref().is_ok_and(playback) {
                    totals.playback += 1;
                    continue;
                }
                let checked = data.and_then(|data| {
                    if reading.skip_bad {
                        // Read it once without keeping rows: a file bad halfway is skipped whole.
                        read_rows(
                            &source,
                            &data,
                            &reading.selection,
                            &mut Batch::default(),
                            |b| b.len = 0,
                        )?;
                    }
                    Ok(data)
                });
                let data = match checked {
                    Ok(data) => data,
                    Err(error) if reading.skip_bad => {
                        progress.suspend(|| eprintln!("cdnprobe: warning: skipping {error}"));
                        totals.skipped += 1;
                        continue;
                    }
                    Err(error) => return Err(error),
                };
                totals.rows += read_rows(
                    &source,
                    &data,
                    &reading.selection,
                    &mut batch,
                    &mut hand_over,
                )?;
                totals.files += 1;
            }
            let _ = send_full.send(batch);
            progress.finish_and_clear();
            if totals.files + totals.playback == 0 {
                return Err(UsageError::new("no readable input files"));
            }
            Ok(totals)
        });
        for mut batch in full {
            batch.samples[..batch.len].iter().for_each(&mut each);
            batch.len = 0;
            let _ = send_empty.send(batch);
        }
        parser
            .join()
            .expect("the sample parsing thread does not panic")
    })
}

/// Reads every row of one source into `batch`, calling `full` whenever it holds `BATCH_ROWS`;
/// returns the rows selected.
fn read_rows(
    source: &Source,
    data: &Data,
    selection: &Selection,
    batch: &mut Batch,
    mut full: impl FnMut(&mut Batch),
) -> Result<u64, UsageError> {
    let mut rows = match source.format {
        Format::Csv => Rows::Csv(csv::CsvSamples::open(&source.name, data)?),
        Format::Parquet => Rows::Parquet(parquet::ParquetSamples::open(&source.name, data)?),
    };
    let (mut read, mut selected) = (0u64, 0u64);
    while rows.read_into(batch.next_slot())? {
        read += 1;
        let sample = &batch.samples[batch.len - 1];
        let keep = selection
            .selects(sample)
            .map_err(|what| UsageError(format!("{}: sample row {read}: {what}", source.name)))?;
        if !keep {
            batch.len -= 1;
            continue;
        }
        selected += 1;
        if batch.len == BATCH_ROWS {
            full(batch);
        }
    }
    batch.len -= 1; // the slot the end of the file left unfilled
    rows.finish()?;
    Ok(selected)
}

/// The rows of one sample file, whichever its format.
enum Rows<'d> {
    Csv(csv::CsvSamples<'d>),
    Parquet(parquet::ParquetSamples<'d>),
}

impl Rows<'_> {
    fn read_into(&mut self, sample: &mut Sample) -> Result<bool, UsageError> {
        match self {
            Rows::Csv(rows) => rows.read_into(sample),
            Rows::Parquet(rows) => rows.read_into(sample),
        }
    }

    fn finish(self) -> Result<u64, UsageError> {
        match self {
            Rows::Csv(rows) => rows.finish(),
            Rows::Parquet(rows) => rows.finish(),
        }
    }
}

/// A bar of objects read, on a terminal only, and only when something is fetched from a store.
fn progress_bar(sources: &[Source]) -> indicatif::ProgressBar {
    let fetched = sources
        .iter()
        .any(|source| matches!(source.body, sources::Body::Object(..)));
    if !fetched {
        return indicatif::ProgressBar::hidden();
    }
    crate::schedule::output::progress_bar(sources.len() as u64, "objects read")
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

#[cfg(test)]
mod tests;

//! Where rows go. Every command that measures (`run`, `play`, `exporter`) writes its rows
//! through a [`Sink`]:
//!
//! - no `--out`: CSV on standard output;
//! - `--out FILE.csv`: appended to the file, each row flushed as it is measured (as always);
//! - `--out FILE.parquet` or an object-store URL (`s3://bucket/prefix`, `gs://`, `az://`,
//!   `file:///`): each row goes to a local spool file as it is measured, and when the run ends
//!   (or is interrupted) the spool becomes the run's immutable object(s) in the layout of
//!   [`crate::layout`], as CSV or Parquet. If the store cannot be written the spool is kept and
//!   `cdnprobe push SPOOL URL` writes it later, exactly as the run would have.

pub mod objects;
pub mod parquet;
pub mod push;
pub mod schema;
pub mod spool;
pub mod upload;

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::error::UsageError;
use crate::layout::{self, Format};
use crate::play::record::PlaybackRow;
use crate::sample::Sample;
use crate::store::{self, Location, StoreArgs};
use schema::{Column, Kind, columns_of};
use spool::Spool;

/// Exit status when the rows were measured but could not be written to the store: they are in
/// the spool, and the printed `cdnprobe push` command writes them later.
pub const EXIT_NOT_STORED: u8 = 3;

/// The options of every command that writes rows, beside its `--out`.
#[derive(Debug, Clone, clap::Args)]
pub struct SinkArgs {
    /// File format of --out [default: csv; parquet when --out is a local path ending .parquet].
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Where rows wait for the store (or a Parquet file) while the run goes on; a spool that
    /// could not be written stays here.
    #[arg(
        long,
        value_name = "DIR",
        env = "CDNPROBE_SPOOL_DIR",
        default_value = "cdnprobe-spool"
    )]
    pub spool_dir: PathBuf,
    /// How long each write to the store is retried, with exponential backoff, before giving up.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration, default_value = "60s")]
    pub upload_retry_for: Duration,
    #[command(flatten)]
    pub store: StoreArgs,
}

impl Default for SinkArgs {
    fn default() -> Self {
        SinkArgs {
            format: None,
            spool_dir: PathBuf::from("cdnprobe-spool"),
            upload_retry_for: store::DEFAULT_RETRY_FOR,
            store: StoreArgs::default(),
        }
    }
}

/// The typed columns of each kind of record, in CSV order: the one registry a new kind of row
/// joins (its struct is the schema; see [`schema`]).
pub fn columns_for(kind: &str) -> Option<Vec<Column>> {
    match kind {
        "samples" => Some(columns_of::<Sample>()),
        "playback" => Some(columns_of::<PlaybackRow>()),
        // `play --requests`: a sample per HTTP request, then its session and object.
        "requests" => {
            let mut columns = columns_of::<Sample>();
            columns.extend([
                Column::new("session", Kind::Int64),
                Column::new("object", Kind::Text),
            ]);
            Some(columns)
        }
        _ => None,
    }
}

/// Where a command's rows go; see the module documentation.
pub struct Sink {
    out: Out,
    kind: &'static str,
}

enum Out {
    /// Both boxed: each holds a buffered writer hundreds of bytes long.
    Csv(Box<csv::Writer<Box<dyn Write + Send>>>),
    Spooled(Box<Spooled>),
}

struct Spooled {
    spool: Spool,
    to: Finish,
    run_id: String,
    run_date: NaiveDate,
    format: Format,
}

/// What a spool becomes when the run ends.
enum Finish {
    ParquetFile(PathBuf),
    Store {
        location: Location,
        url: String,
        args: SinkArgs,
    },
}

/// Why a run's rows are not where `--out` said, and how to put them there.
#[derive(Debug, thiserror::Error)]
#[error(
    "could not write to {url}: {cause}\ncdnprobe: the rows are kept in {spool}; write them later with:\n  {push}"
)]
pub struct NotStored {
    pub url: String,
    pub cause: String,
    pub spool: String,
    pub push: String,
}

impl Sink {
    /// Checks `--out` and opens what the rows are written to first. Bad input (an unsupported
    /// URL, Parquet to standard output, an existing Parquet file) touches nothing.
    pub fn open(
        out: Option<&Path>,
        kind: &'static str,
        args: &SinkArgs,
    ) -> Result<Sink, UsageError> {
        Self::open_at(out, kind, args, Utc::now())
    }

    /// [`Sink::open`] for rows from `started` on: the time the RUN_ID of a spool starts with
    /// (the exporter opens one sink per period, named after the period's start).
    pub fn open_at(
        out: Option<&Path>,
        kind: &'static str,
        args: &SinkArgs,
        started: DateTime<Utc>,
    ) -> Result<Sink, UsageError> {
        let columns = columns_for(kind).expect("every kind of row registers its columns");
        let header: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
        let text = out.map(|path| path.to_string_lossy().into_owned());
        let url = text.as_deref().filter(|text| store::is_url(text));
        let local_format = out.and_then(|path| Format::of(&path.to_string_lossy()));
        let format = match (args.format, local_format, url) {
            (Some(Format::Csv), Some(Format::Parquet), None) => {
                return Err(UsageError::new("--format csv: --out names a .parquet file"));
            }
            (Some(format), _, _) => format,
            (None, Some(Format::Parquet), None) => Format::Parquet,
            _ => Format::Csv,
        };
        let to = match (out, url) {
            (_, Some(url)) => Finish::Store {
                location: store::open(url, &args.store, args.upload_retry_for)?,
                url: url.to_owned(),
                args: args.clone(),
            },
            (Some(path), None) if format == Format::Parquet => {
                if path.exists() {
                    return Err(UsageError(format!(
                        "--out {}: exists (a Parquet file is written whole, never appended to)",
                        path.display()
                    )));
                }
                Finish::ParquetFile(path.to_owned())
            }
            (None, None) if format == Format::Parquet => {
                return Err(UsageError::new(
                    "--format parquet needs --out (a .parquet file or an object-store URL)",
                ));
            }
            (path, None) => {
                let out = Out::Csv(Box::new(open_csv(path, &header)?));
                return Ok(Sink { out, kind });
            }
        };
        let run_id = layout::run_id(started);
        let spool = Spool::create(&args.spool_dir, &run_id, kind, &header)
            .map_err(|e| UsageError(format!("--spool-dir {}: {e}", args.spool_dir.display())))?;
        Ok(Sink {
            out: Out::Spooled(Box::new(Spooled {
                spool,
                to,
                run_id,
                run_date: started.date_naive(),
                format,
            })),
            kind,
        })
    }

    /// Writes one row, flushed before this returns.
    pub fn write<T: Serialize>(&mut self, row: &T) -> std::io::Result<()> {
        match &mut self.out {
            Out::Csv(writer) => {
                writer.serialize(row).map_err(std::io::Error::other)?;
                writer.flush()
            }
            Out::Spooled(spooled) => spooled.spool.write(row),
        }
    }

    /// Ends the output and tells the user where the rows went (stderr). When the store could
    /// not be written, tells why and how to write them later, and returns the exit status to
    /// end with ([`EXIT_NOT_STORED`]).
    pub async fn close(self) -> anyhow::Result<Option<std::process::ExitCode>> {
        match self.finish().await {
            Ok(written) => {
                for place in written {
                    eprintln!("cdnprobe: rows written to {place}");
                }
                Ok(None)
            }
            Err(error) => match error.downcast::<NotStored>() {
                Ok(not_stored) => {
                    eprintln!("cdnprobe: {not_stored}");
                    Ok(Some(std::process::ExitCode::from(EXIT_NOT_STORED)))
                }
                Err(other) => Err(other),
            },
        }
    }

    /// Ends the run's output: for a spool, makes its objects (or Parquet file) and removes it.
    /// Returns what was written, for the user.
    pub async fn finish(self) -> Result<Vec<String>, anyhow::Error> {
        let Out::Spooled(spooled) = self.out else {
            return Ok(Vec::new());
        };
        let Spooled {
            spool,
            to,
            run_id,
            run_date,
            format,
        } = *spooled;
        let rows = spool.rows();
        let path = spool.close()?;
        if rows == 0 {
            std::fs::remove_file(&path)?;
            return Ok(Vec::new());
        }
        let columns = columns_for(self.kind).expect("registered at open");
        match to {
            Finish::ParquetFile(file) => {
                let bytes = parquet::csv_to_parquet(File::open(&path)?, &columns)?;
                let parent = file
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(Path::new("."));
                let mut staged = tempfile::NamedTempFile::new_in(parent)?;
                staged.write_all(&bytes)?;
                staged.persist_noclobber(&file).map_err(|e| e.error)?;
                std::fs::remove_file(&path)?;
                Ok(vec![file.display().to_string()])
            }
            Finish::Store {
                location,
                url,
                args,
            } => {
                let objects =
                    objects::of_spool(&path, self.kind, &run_id, run_date, format, &columns)?;
                match upload::put_all(&location, &objects).await {
                    Ok(written) => {
                        std::fs::remove_file(&path)?;
                        Ok(written)
                    }
                    Err(error) => {
                        Err(not_stored(&url, error.to_string(), &path, format, &args).into())
                    }
                }
            }
        }
    }
}

/// The failure report with the one command that finishes the job.
pub fn not_stored(
    url: &str,
    cause: String,
    spool: &Path,
    format: Format,
    args: &SinkArgs,
) -> NotStored {
    let mut push = format!("cdnprobe push {} {url}", spool.display());
    if format == Format::Parquet {
        push.push_str(" --format parquet");
    }
    if let Some(endpoint) = &args.store.s3_endpoint {
        push.push_str(&format!(" --s3-endpoint {endpoint}"));
    }
    NotStored {
        url: url.to_owned(),
        cause,
        spool: spool.display().to_string(),
        push,
    }
}

/// The CSV file `--out` names (appended; header only when new or empty), or stdout.
fn open_csv(
    out: Option<&Path>,
    header: &[String],
) -> Result<csv::Writer<Box<dyn Write + Send>>, UsageError> {
    let (sink, needs_header): (Box<dyn Write + Send>, bool) = match out {
        Some(path) => {
            if path.is_dir() {
                return Err(UsageError(format!(
                    "--out {}: is a directory",
                    path.display()
                )));
            }
            let file: File = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| UsageError(format!("--out {}: {e}", path.display())))?;
            let empty = file.metadata().map(|m| m.len() == 0).unwrap_or(true);
            (Box::new(file), empty)
        }
        None => (Box::new(std::io::stdout()), true),
    };
    let mut writer = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(sink);
    if needs_header {
        let written = writer
            .write_record(header)
            .and_then(|()| Ok(writer.flush()?));
        written.map_err(|e| UsageError(format!("--out: {e}")))?;
    }
    Ok(writer)
}

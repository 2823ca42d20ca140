//! `cdnprobe push SPOOL URL`: writes a spool that a run could not write to the store, making
//! the very objects the run would have made (same keys, same bytes), then removes the spool.

use std::path::PathBuf;
use std::process::ExitCode;

use super::{SinkArgs, columns_for, not_stored, objects, spool, upload};
use crate::error::UsageError;
use crate::store;

#[derive(Debug, clap::Args)]
pub struct PushArgs {
    /// The spool file a run kept (`RUN_ID.KIND.csv`, named in the run's message).
    #[arg(value_name = "SPOOL")]
    pub spool: PathBuf,
    /// The store prefix the run was writing to (s3://bucket/prefix, gs://, az://, file:///).
    #[arg(value_name = "URL")]
    pub url: String,
    #[command(flatten)]
    pub sink: SinkArgs,
}

pub async fn execute(args: PushArgs) -> anyhow::Result<ExitCode> {
    let (run_id, kind) = spool::identity(&args.spool).ok_or_else(|| {
        UsageError(format!(
            "{}: not a spool file (expected RUN_ID.KIND.csv, as a run names it)",
            args.spool.display()
        ))
    })?;
    if !args.spool.is_file() {
        return Err(UsageError(format!("{}: no such file", args.spool.display())).into());
    }
    if !store::is_url(&args.url) {
        return Err(UsageError(format!("{}: not an object-store URL", args.url)).into());
    }
    let location = store::open(&args.url, &args.sink.store, args.sink.upload_retry_for)?;
    let format = args.sink.format.unwrap_or_default();
    let columns = columns_for(&kind).unwrap_or_default();
    let run_date = objects::run_date(&run_id).ok_or_else(|| {
        UsageError(format!(
            "{}: the run id does not start with its date",
            args.spool.display()
        ))
    })?;
    let objects = objects::of_spool(&args.spool, &kind, &run_id, run_date, format, &columns)
        .map_err(|e| UsageError(format!("{}: {e}", args.spool.display())))?;
    match upload::put_all(&location, &objects).await {
        Ok(written) => {
            std::fs::remove_file(&args.spool)?;
            for url in written {
                println!("{url}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            let failure = not_stored(
                &args.url,
                error.to_string(),
                &args.spool,
                format,
                &args.sink,
            );
            eprintln!("cdnprobe: {failure}");
            Ok(ExitCode::from(super::EXIT_NOT_STORED))
        }
    }
}

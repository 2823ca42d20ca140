//! TODO(issue): `cdnprobe upload`.

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct UploadArgs {}

pub async fn execute(_args: UploadArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`cdnprobe upload` is not implemented yet")
}

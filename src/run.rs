//! TODO(issue): `cdnprobe run`.

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct RunArgs {}

pub async fn execute(_args: RunArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`cdnprobe run` is not implemented yet")
}

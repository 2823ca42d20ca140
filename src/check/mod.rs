//! TODO(issue): `cdnprobe check`.

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct CheckArgs {}

pub fn execute(_args: CheckArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`cdnprobe check` is not implemented yet")
}

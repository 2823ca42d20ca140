//! TODO(issue): `cdnprobe report`.

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ReportArgs {}

pub fn execute(_args: ReportArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`cdnprobe report` is not implemented yet")
}

//! TODO(issue): `cdnprobe demo`.

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct DemoArgs {}

pub async fn execute(_args: DemoArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`cdnprobe demo` is not implemented yet")
}

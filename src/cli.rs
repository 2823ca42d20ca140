//! The command line: one subcommand per stage of the pipeline. Each subcommand's arguments live
//! beside its code (`run::RunArgs`, `report::ReportArgs`, …); this file only lists them.

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "cdnprobe",
    version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("CDNPROBE_COMMIT"), ")"),
    about = "Prove, with numbers, how much a CDN speeds up video delivery"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per process: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Time DNS, TCP connect, TLS, first byte and download for each target; one CSV row per sample.
    Run(crate::run::RunArgs),
    /// Play each target as a first-time viewer (progressive MP4 or HLS; DASH may come later):
    /// startup, stalls, seek and bitrate; one CSV row per playback session.
    Play(crate::play::command::PlayArgs),
    /// Merge sample CSVs from many regions into tables (CSV, Markdown) and charts (PNG, SVG).
    Report(crate::report::ReportArgs),
    /// CI gate: is the candidate (CDN) still at least N× faster than the baseline (origin)?
    Check(crate::check::CheckArgs),
    /// The whole pipeline offline on this machine, with emulated far-origin and near-edge paths.
    Demo(crate::demo::DemoArgs),
    /// Write a spool that a run could not write to the store (the command the run printed).
    Push(crate::sink::push::PushArgs),
    /// Probe on a schedule and serve the results to Prometheus (/metrics, /probe, /healthz).
    Exporter(crate::exporter::ExporterArgs),
    /// Upload a test video to a cdnprobe-server and print the URLs to probe.
    Upload(crate::upload::UploadArgs),
}

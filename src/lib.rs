//! cdnprobe: measure how much a CDN speeds up video delivery.
//!
//! The pipeline, one module per stage:
//! `probe` (one timed fetch) → `sample` (one CSV row) → `stats` (histograms, intervals)
//! → `report` (tables, charts) → `check` (the CI verdict). `run` schedules probes,
//! `input` reads sample CSVs back, `lab` emulates far-origin and near-edge paths for `demo`.

pub mod check;
pub mod cli;
pub mod demo;
pub mod error;
pub mod format;
pub mod input;
pub mod lab;
pub mod play;
pub mod probe;
pub mod report;
pub mod run;
pub mod sample;
pub mod schedule;
pub mod stats;
pub mod synthetic;
pub mod upload;

//! cdnprobe: measure how much a CDN speeds up video delivery.
//!
//! The pipeline, one module per stage:
//! `probe` (one timed fetch) → `sample` (one CSV row) → `stats` (histograms, intervals)
//! → `report` (tables, charts) → `check` (the CI verdict). `run` schedules probes,
//! `input` reads sample files back (local or from an object store, CSV or Parquet), `store` and
//! `layout` say where results live in a bucket, `lab` emulates far-origin and near-edge paths for `demo`.

pub mod check;
pub mod cli;
pub mod demo;
pub mod error;
pub mod exporter;
pub mod format;
pub mod fuzzing;
pub mod input;
pub mod lab;
pub mod layout;
pub mod play;
pub mod probe;
pub mod report;
pub mod run;
pub mod sample;
pub mod schedule;
pub mod sink;
pub mod stats;
pub mod store;
pub mod synthetic;
pub mod upload;

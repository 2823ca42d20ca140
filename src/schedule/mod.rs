//! What every probing command shares (`run` today; `play` and `exporter` next): the targets and
//! options from the command line and the `--config` file, the validated [`Plan`], the A B A B
//! rounds, the CSV output with Ctrl-C safety, and the end-of-run table.
//!
//! The pipeline: [`ProbeArgs`] (+ [`ConfigFile`]) → [`Plan`] (everything validated; bad input
//! stops here, before any file is touched) → [`rounds::each_slot`] → rows through
//! [`output::RowWriter`] → [`summary`] and the exit status.

pub mod args;
pub mod config;
pub mod output;
pub mod plan;
pub mod resolver;
pub mod rounds;
pub mod summary;
pub mod targets;

pub use self::args::ProbeArgs;
pub use self::config::ConfigFile;
pub use self::plan::Plan;
pub use self::targets::Target;

/// Exit status after Ctrl-C, as shells report a process ended by SIGINT.
pub const EXIT_INTERRUPTED: u8 = 130;

//! The progress bar, shown only on a terminal. Rows go through [`crate::sink::Sink`] (a CSV
//! file or stdout, a Parquet file, or an object store), each written as its sample ends.

use std::io::IsTerminal;

/// A bar counting `unit`s (e.g. "samples") on stderr when it is a terminal; hidden otherwise.
pub fn progress_bar(total: u64, unit: &str) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(total);
    let template = format!(
        "{{spinner}} [{{elapsed_precise}}] {{wide_bar}} {{pos}}/{{len}} {unit} (eta {{eta}})"
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    bar
}

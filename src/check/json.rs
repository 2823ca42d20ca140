//! JSON with every number: the settings, and per region and metric both sides' counts, error
//! rates and statistics, each interval with its limit and outcome, and the reasons.

use super::{CheckReport, Render};

pub struct Json;

impl Render for Json {
    fn render(&self, report: &CheckReport) -> String {
        // Only plain data (strings, numbers, options, vectors) is serialised, which cannot fail.
        // An infinite speedup (a candidate time of 0 ms) becomes null, as JSON has no infinity.
        let mut out = serde_json::to_string_pretty(report).expect("a check report serialises");
        out.push('\n');
        out
    }
}

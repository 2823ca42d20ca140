//! JUnit XML for CI test reporters: one test suite, one test case per region and metric, a
//! `<failure>` with the reasons when it did not pass, and the numbers in `<system-out>`.

use std::fmt::Write;

use super::{CheckReport, Comparison, RegionCheck, Render, headline, interval_cell, side_cell};

pub struct Junit;

impl Render for Junit {
    fn render(&self, report: &CheckReport) -> String {
        let tests = report.checks.len();
        let failures = report.failed();
        let suite = format!(
            "cdnprobe check: {} vs {}",
            report.settings.candidate, report.settings.baseline
        );
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            out,
            "<testsuites name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\">",
            escape(&suite)
        );
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">",
            escape(&suite)
        );
        let _ = writeln!(
            out,
            "    <properties><property name=\"rule\" value=\"{}\"/></properties>",
            escape(&headline(report))
        );
        for check in &report.checks {
            test_case(&mut out, check);
        }
        out.push_str("  </testsuite>\n</testsuites>\n");
        out
    }
}

fn test_case(out: &mut String, check: &RegionCheck) {
    let _ = writeln!(
        out,
        "    <testcase classname=\"cdnprobe.check.{}\" name=\"{} {}\" time=\"0\">",
        escape(&check.region),
        escape(&check.region),
        check.metric
    );
    if !check.passed {
        let _ = writeln!(
            out,
            "      <failure type=\"{}\" message=\"{}\">{}</failure>",
            check.outcome.name(),
            escape(check.reasons.first().map_or("", String::as_str)),
            escape(&check.reasons.join("\n"))
        );
    }
    let mut numbers = format!(
        "baseline {}: {}\ncandidate {}: {}",
        check.baseline.label,
        side_cell(&check.baseline),
        check.candidate.label,
        side_cell(&check.candidate)
    );
    if let Some(speedup) = &check.speedup {
        numbers.push_str(&comparison_line("speedup", speedup));
    }
    if let (Some(previous), Some(regression)) = (&check.previous, &check.regression) {
        let _ = write!(
            numbers,
            "\nprevious {}: {}",
            previous.label,
            side_cell(previous)
        );
        numbers.push_str(&comparison_line("previous ÷ now", regression));
    }
    let _ = writeln!(out, "      <system-out>{}</system-out>", escape(&numbers));
    out.push_str("    </testcase>\n");
}

fn comparison_line(name: &str, comparison: &Comparison) -> String {
    format!(
        "\n{name}: {:.3}× (interval {}, need ≥ {:.3}×)",
        comparison.interval.estimate,
        interval_cell(comparison),
        comparison.limit
    )
}

/// XML text and attribute escaping; control characters other than tab and newline are not
/// allowed in XML 1.0 and are dropped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            c if c.is_control() && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

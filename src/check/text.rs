//! Plain text for a terminal or a CI log: the rule, an aligned table, the reasons, the verdict.

use super::{CheckReport, Render, conclusion, headline, reasons, summary_table};

pub struct Text;

impl Render for Text {
    fn render(&self, report: &CheckReport) -> String {
        let (header, rows) = summary_table(report);
        let mut widths: Vec<usize> = header.iter().map(|cell| cell.chars().count()).collect();
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let padded: Vec<String> = cells
                .iter()
                .zip(&widths)
                .map(|(cell, &width)| format!("{cell:<width$}"))
                .collect();
            padded.join("  ").trim_end().to_owned() + "\n"
        };

        let mut out = format!("cdnprobe check: {}\n\n", headline(report));
        out.push_str(&line(&header));
        for row in &rows {
            out.push_str(&line(row));
        }
        let reasons: Vec<String> = reasons(report)
            .map(|(check, reason)| format!("  {} {}: {reason}\n", check.region, check.metric))
            .collect();
        if !reasons.is_empty() {
            out.push('\n');
            out.extend(reasons);
        }
        out.push('\n');
        out.push_str(&conclusion(report));
        out.push('\n');
        out
    }
}

//! GitHub-flavoured Markdown, made to be appended to `$GITHUB_STEP_SUMMARY`: a heading with the
//! verdict, the rule, one table, and the reasons a region did not pass.

use crate::format::markdown_escape as escape;

use super::{CheckReport, Render, conclusion, headline, reasons, summary_table};

pub struct Markdown;

impl Render for Markdown {
    fn render(&self, report: &CheckReport) -> String {
        let (header, rows) = summary_table(report);
        let mark = if report.passed { "✅" } else { "❌" };
        let mut out = format!("### {mark} cdnprobe check: {}\n\n", conclusion(report));
        out.push_str(&format!("{}\n\n", escape(&headline(report))));
        out.push_str(&table_row(&header));
        out.push_str(&table_row(&vec!["---".to_owned(); header.len()]));
        for row in &rows {
            out.push_str(&table_row(row));
        }
        let reasons: Vec<String> = reasons(report)
            .map(|(check, reason)| {
                let (region, metric) = (escape(&check.region), check.metric);
                format!("- **{region} {metric}**: {}\n", escape(reason))
            })
            .collect();
        if !reasons.is_empty() {
            out.push_str("\n**Why not a pass**\n\n");
            out.extend(reasons);
        }
        out.push('\n');
        out
    }
}

fn table_row(cells: &[String]) -> String {
    let cells: Vec<String> = cells.iter().map(|cell| escape(cell)).collect();
    format!("| {} |\n", cells.join(" | "))
}

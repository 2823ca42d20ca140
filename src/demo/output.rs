//! What the demo prints and appends to report.md: the lab's inputs, and its outcome against the
//! original project's.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;

use crate::lab::choice::LabKind;
use crate::lab::regions::{ACCESS_QUEUE_TIME, PUBLISHED, Region, TimeScale};

/// The inputs of every region as a markdown table (the same for the terminal and report.md).
pub fn inputs_table(regions: &[Region]) -> String {
    let mut table = String::from(
        "| region | client↔s3 RTT | client↔cloudfront RTT | cloudfront↔s3 RTT | access line | loss | DNS s3 / cloudfront |\n\
         |---|---:|---:|---:|---:|---:|---:|\n",
    );
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    for r in regions {
        let _ = writeln!(
            table,
            "| {} | {:.0} ms | {:.0} ms | {:.0} ms | {:.0} Mbit/s | {:.2} % | {:.0} / {:.0} ms |",
            r.name,
            ms(r.client_origin_rtt),
            ms(r.client_edge_rtt),
            ms(r.edge_origin_rtt),
            r.access_bits_per_second / 1e6,
            r.access_loss * 100.0,
            ms(r.origin_dns),
            ms(r.edge_dns),
        );
    }
    table
}

/// What the lab is, for the top of report.md.
pub fn emulation_note(lab: &LabKind, scale: TimeScale, plays: bool) -> String {
    let how = match lab {
        LabKind::Namespaces => format!(
            "The client, the origin (labelled s3: the real cdnprobe-server behind TLS, HTTP/1.1) \
             and a caching edge (labelled cloudfront over h2 and cloudfront-h3 over h3 on the \
             same port, warm connection to the origin) each live in a network namespace; a packet router in the lab process holds every IP packet for \
             its path's one-way delay, serialises it at the access line's rate behind a queue of \
             {} ms of traffic (tail drop) and drops it with the line's loss rate, seeded. The \
             kernel's own TCP runs end to end, so the TCP handshake, slow start and loss recovery \
             are real and `connect` takes its round trip; QUIC runs on the kernel's UDP over the \
             same lines.",
            ACCESS_QUEUE_TIME.as_millis()
        ),
        LabKind::Relays { .. } => "User-space TCP relays on loopback add half the round trip each \
             way and the access line's rate on the downlink; they cannot delay the TCP handshake \
             (`connect` is loopback time), do not lose packets, and terminate TCP, so slow start \
             happens on loopback. The edge's HTTP/3 (cloudfront-h3) crosses a datagram relay with \
             the same delays and rate, which delays every datagram, the QUIC handshake's too."
            .to_owned(),
    };
    let playback = if plays {
        format!(
            " The video is also played (`cdnprobe play`, a first-time viewer per session) over \
             s3 (HTTP/1.1), cloudfront (h2) and cloudfront-h3 (h3) at {}× real time (`--playback-rate {}`), so its \
             startup and stall times are lab times like every other duration.",
            scale.k(),
            scale.k()
        )
    } else {
        String::new()
    };
    format!(
        "These samples come from `cdnprobe demo`, offline on one machine: the network paths are \
         emulated, not real. {} {how} Inputs are physics only: the round trips, access line, loss \
         and resolver delays of the original project's Auckland and Sydney clients (table below), \
         nothing derived from its results. Time scale k = {}: every delay ÷ k, every rate × k, so \
         every duration is 1/{} of the real one; both hosts serve real TLS with a throwaway CA.\
         {playback}",
        lab.headline(),
        scale.k(),
        scale.k(),
    )
}

/// Reads the total-time speedup per region from comparison.csv.
pub fn total_speedups(comparison: &Path) -> anyhow::Result<Vec<(String, f64)>> {
    Ok(total_rows(comparison, ["region", "speedup"])?
        .into_iter()
        .filter_map(|[region, speedup]| Some((region, speedup.parse().ok()?)))
        .collect())
}

/// The `columns` of every row of a report table whose phase is `total`.
fn total_rows<const N: usize>(
    table: &Path,
    columns: [&str; N],
) -> anyhow::Result<Vec<[String; N]>> {
    let mut reader =
        csv::Reader::from_path(table).with_context(|| format!("reading {}", table.display()))?;
    let headers = reader.headers()?.clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .with_context(|| format!("{} has no {name} column", table.display()))
    };
    let phase = column("phase")?;
    let mut indexes = [0; N];
    for (index, name) in indexes.iter_mut().zip(columns) {
        *index = column(name)?;
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record?;
        if &record[phase] == "total" {
            rows.push(indexes.map(|index| record[index].to_owned()));
        }
    }
    Ok(rows)
}

/// Reads each region's total-time speedup of `candidate` over `baseline` (p50 ÷ p50, as
/// comparison.csv's) from summary.csv, for a target beside the report's compared pair.
pub fn total_speedups_from_summary(
    summary: &Path,
    baseline: &str,
    candidate: &str,
) -> anyhow::Result<Vec<(String, f64)>> {
    let totals: Vec<(String, String, f64)> = total_rows(summary, ["region", "target", "p50"])?
        .into_iter()
        .filter_map(|[region, target, p50]| Some((region, target, p50.parse().ok()?)))
        .collect();
    let speedups = totals
        .iter()
        .filter(|(_, label, _)| label == baseline)
        .filter_map(|(region, _, b)| {
            let (_, _, c) = totals
                .iter()
                .find(|(r, label, c)| r == region && label == candidate && *c > 0.0)?;
            Some((region.clone(), b / c))
        })
        .collect();
    Ok(speedups)
}

/// The lab's outcome against the original's, one markdown table: cloudfront (h2) over s3, as
/// the original compared, and beside it cloudfront-h3 over s3 (the original had no h3).
pub fn outcome_table(speedups: &[(String, f64)], h3_speedups: &[(String, f64)]) -> String {
    let mut table = String::from(
        "| region | cloudfront speedup, total p50 (this lab) | original | lab ÷ original | \
         cloudfront-h3 speedup (this lab) |\n\
         |---|---:|---:|---:|---:|\n",
    );
    for (region, lab) in speedups {
        if let Some(original) = PUBLISHED.iter().find(|p| p.region == region) {
            let h3 = h3_speedups
                .iter()
                .find(|(r, _)| r == region)
                .map_or_else(|| "–".to_owned(), |(_, s)| format!("{s:.2}×"));
            let _ = writeln!(
                table,
                "| {region} | {lab:.2}× | {:.2}× | {:.2} | {h3} |",
                original.total_speedup,
                lab / original.total_speedup
            );
        }
    }
    table
}

/// Appends the lab's inputs and outcome to report.md.
pub fn append_lab_section(
    report: &Path,
    lab: &LabKind,
    scale: TimeScale,
    regions: &[Region],
    speedups: &[(String, f64)],
    h3_speedups: &[(String, f64)],
) -> anyhow::Result<()> {
    use std::io::Write as _;
    let section = format!(
        "\n## The lab\n\n{}\n\nTime scale k = {} (delays ÷ k, rates × k).\n\n### Inputs\n\n{}\n\
         ### Outcome against the original\n\n{}\nThe inputs were not tuned to reach the original's \
         figures: this is what {} gives.\n",
        lab.headline(),
        scale.k(),
        inputs_table(regions),
        outcome_table(speedups, h3_speedups),
        match lab {
            LabKind::Namespaces => "real kernel TCP over these paths",
            LabKind::Relays { .. } => "the relay lab",
        }
    );
    std::fs::OpenOptions::new()
        .append(true)
        .open(report)
        .and_then(|mut file| file.write_all(section.as_bytes()))
        .with_context(|| format!("appending the lab section to {}", report.display()))
}

/// The report's comparison table, aligned for the terminal.
pub fn print_comparison(path: &Path) -> anyhow::Result<()> {
    let mut reader =
        csv::Reader::from_path(path).with_context(|| format!("reading {}", path.display()))?;
    let headers = reader.headers()?.clone();
    let column = |name: &str| headers.iter().position(|h| h == name);
    let wanted = [
        "region",
        "phase",
        "baseline_p50",
        "candidate_p50",
        "speedup",
        "speedup_low",
        "speedup_high",
    ];
    let indexes: Vec<usize> = wanted.iter().filter_map(|name| column(name)).collect();
    println!(
        "\np50 per phase, ms (s3 = baseline, cloudfront = candidate; speedup with its confidence interval):"
    );
    let mut rows = vec![
        indexes
            .iter()
            .map(|&i| headers[i].to_owned())
            .collect::<Vec<_>>(),
    ];
    for record in reader.records() {
        let record = record?;
        rows.push(
            indexes
                .iter()
                .map(|&i| record.get(i).unwrap_or("").to_owned())
                .collect(),
        );
    }
    let widths: Vec<usize> = (0..indexes.len())
        .map(|c| rows.iter().map(|row| row[c].len()).max().unwrap_or(0))
        .collect();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:>width$}"))
            .collect();
        println!("  {}", cells.join("  "));
    }
    Ok(())
}

/// Wraps prose at `width` columns for the terminal.
pub fn textwrap(text: &str, width: usize) -> String {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let line = lines.last_mut().expect("never empty");
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(word.to_owned());
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines.join("\n")
}

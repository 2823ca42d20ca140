//! Writes a synthetic sample CSV for benchmarking `cdnprobe report`:
//! `cargo run --release --example report_synthetic_samples -- ROWS FILE [SEED]`.

use std::io::BufWriter;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [rows, file, rest @ ..] = args.as_slice() else {
        anyhow::bail!("usage: report_synthetic_samples ROWS FILE [SEED]");
    };
    let seed = rest.first().map_or(Ok(1), |s| s.parse())?;
    let out = BufWriter::new(std::fs::File::create(file)?);
    cdnprobe::synthetic::write_benchmark_samples(out, rows.parse()?, seed)?;
    Ok(())
}

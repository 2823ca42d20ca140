//! Writes a long synthetic MP4 (real boxes and sample tables, filler media bytes) for benchmarks
//! and demos: `cargo run --example synthetic_mp4 -- OUT.mp4 [SECONDS] [VIDEO_KBPS] [--tail]`
//! (default 7200 s at 2000 kbit/s, moov first; `--tail` puts moov after mdat).

use std::io::BufWriter;

use cdnprobe::play::mp4::synthetic::SyntheticMp4;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let positional: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let Some(out) = positional.first() else {
        anyhow::bail!("usage: synthetic_mp4 OUT.mp4 [SECONDS] [VIDEO_KBPS] [--tail]");
    };
    let spec = SyntheticMp4 {
        duration_s: positional.get(1).map_or(Ok(7200), |s| s.parse())?,
        video_kbps: positional.get(2).map_or(Ok(2000), |s| s.parse())?,
        faststart: !args.iter().any(|a| a == "--tail"),
    };
    let mut file = BufWriter::new(std::fs::File::create(out)?);
    let size = spec.write_to(&mut file)?;
    println!("{out}: {size} bytes, {spec:?}");
    Ok(())
}

//! The player's metadata path on a 2-hour file: a synthetic MP4 `moov` (25 fps H.264 with key
//! frames every 2 s and composition offsets, 44.1 kHz AAC; several MiB of sample tables) parsed
//! with mp4parse and turned into the offset table, as `cdnprobe play` does when `moov` arrives.
//!
//! `cargo bench --bench play_moov` prints the median and the peak RSS of this process; the
//! issue's target is ≤ 50 ms and ≤ 64 MiB. Figures go to reports/bench/play.md.

use std::time::Instant;

use cdnprobe::play::mp4::MediaIndex;
use cdnprobe::play::mp4::synthetic::SyntheticMp4;

const RUNS: usize = 21;

fn main() {
    // `cargo bench` passes `--bench`; a filter argument that does not match skips the run.
    if std::env::args()
        .skip(1)
        .any(|a| !a.starts_with('-') && !"play_moov".contains(&a))
    {
        return;
    }
    let spec = SyntheticMp4 {
        duration_s: 2 * 3600,
        video_kbps: 2000,
        faststart: true,
    };
    let moov = spec.moov_box();
    let mut times = Vec::with_capacity(RUNS);
    let mut duration = 0.0;
    for _ in 0..RUNS {
        let started = Instant::now();
        let index = MediaIndex::from_moov(&moov).expect("a valid moov");
        // One lookup of each kind, so the table is used as the player uses it.
        let offset = index.offset_needed(3600.0);
        let _ = std::hint::black_box((index.playable_until(offset), index.seek_point(4000.0)));
        times.push(started.elapsed().as_secs_f64() * 1e3);
        duration = index.duration_s();
        drop(index);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "play_moov: 2-hour synthetic moov of {:.2} MiB ({duration:.0} s of media): \
         parse + offset table median {:.1} ms (min {:.1}, max {:.1}, {RUNS} runs); \
         peak RSS {} MiB",
        moov.len() as f64 / (1 << 20) as f64,
        times[RUNS / 2],
        times[0],
        times[RUNS - 1],
        peak_rss_kib().map_or("?".into(), |kib| format!("{:.1}", kib as f64 / 1024.0)),
    );
}

/// VmHWM of this process (Linux).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

//! The options of `cdnprobe play` that `run` does not have: the player model, the variant rule,
//! the seek, the `moov` bound and the per-request CSV.

use std::path::PathBuf;
use std::time::Duration;

use super::hls::VariantChoice;
use super::model::ModelSettings;
use super::mp4::DEFAULT_MAX_MOOV_BYTES;
use super::session::{SeekTo, SessionSettings};
use crate::error::UsageError;

pub const AFTER_HELP: &str = "\
Each session is a first-time viewer: fresh DNS, connection and TLS, then the requests a player
makes on one kept connection (keep-alive on HTTP/1.1, one connection on h2; a new connection, timed,
when the old one cannot carry the next request). The format is recognised from the response:
progressive MP4/MOV (ISO BMFF) or an HLS playlist (#EXTM3U). DASH is not supported yet (it may come
later).

MP4: GET with Range: bytes=0-, top-level boxes walked as they arrive; without faststart, a Range
request for moov after mdat, then one from the media data. HLS: multivariant playlist → variant →
media playlist → init section → segments; --variant auto starts on the first variant and adapts
like hls.js (fast/slow EWMA of segment throughput, highest BANDWIDTH under 0.95 × the estimate, 0.7
× to go up).

Player model: playback starts when --startup-buffer of media is downloaded; the playhead then
advances at 1× wall time (× --playback-rate) until --watch of media has played; a stall begins when
the playhead reaches media not downloaded and ends when --rebuffer-buffer is downloaded ahead;
downloading pauses while --max-buffer is held ahead. A session therefore takes about startup +
watch + stalls of wall time.

Each row: started_at, region, target, url, session, format (mp4|hls), http_version, requests, bytes,
media_duration_s, dns_ms, connect_ms, tls_ms (first connection), metadata_ms (moov or media
playlist parsed), first_media_byte_ms, startup_ms (session start → startup buffer complete),
stalls, stall_ms, rebuffer_ratio (stall_ms ÷ (watched ms + stall_ms)), watched_s, seek_ms,
mean_bitrate_kbps, switches, cache (hit|miss|mixed|unknown, of the media requests), pop, error
(the run classes, plus media: not a playable MP4 or playlist).

Exit status: 0 the run finished; 1 every session of some target failed; 2 bad arguments or
input files (nothing written); 130 interrupted (every finished row is kept).";

/// The options only `play` has.
#[derive(Debug, Clone, clap::Args)]
pub struct PlayOptions {
    /// HLS variant: auto (first listed, then adapt), lowest, highest, or a BANDWIDTH in bit/s.
    #[arg(
        long,
        default_value = "auto",
        value_name = "auto|lowest|highest|BANDWIDTH"
    )]
    pub variant: VariantChoice,
    /// Media buffered before playback starts.
    #[arg(long, default_value = "2s", value_name = "DURATION", value_parser = media_time)]
    pub startup_buffer: Duration,
    /// Media buffered ahead before a stall ends.
    #[arg(long, default_value = "2s", value_name = "DURATION", value_parser = media_time)]
    pub rebuffer_buffer: Duration,
    /// Downloading pauses while this much media is buffered ahead of the playhead.
    #[arg(long, default_value = "30s", value_name = "DURATION", value_parser = media_time)]
    pub max_buffer: Duration,
    /// Media played per session (the whole media if shorter); the session lasts about
    /// startup + watch + stalls of wall time.
    #[arg(long, default_value = "10s", value_name = "DURATION", value_parser = media_time)]
    pub watch: Duration,
    /// Media seconds played per wall-clock second: for time-scaled labs only.
    #[arg(long, default_value_t = 1.0, value_name = "X", value_parser = positive)]
    pub playback_rate: f64,
    /// Seek once after startup, to a share of the media (50%) or a time (12s) [default: no seek].
    #[arg(long, value_name = "POSITION")]
    pub seek: Option<SeekTo>,
    /// Largest moov box read (bytes); a larger one fails the session as media.
    #[arg(long, default_value_t = DEFAULT_MAX_MOOV_BYTES, value_name = "BYTES")]
    pub max_moov_bytes: u64,
    /// Also write every HTTP request of every session here: the run columns, then session and
    /// object (range 0-, moov N-, seek N-, playlist, init, segment 7, …).
    #[arg(long, value_name = "FILE.csv")]
    pub requests: Option<PathBuf>,
}

impl PlayOptions {
    pub fn session_settings(&self) -> Result<SessionSettings, UsageError> {
        let model = ModelSettings {
            startup_buffer_s: self.startup_buffer.as_secs_f64(),
            rebuffer_buffer_s: self.rebuffer_buffer.as_secs_f64(),
            max_buffer_s: self.max_buffer.as_secs_f64(),
            watch_s: self.watch.as_secs_f64(),
            playback_rate: self.playback_rate,
        };
        if model.watch_s <= 0.0 {
            return Err(UsageError::new("--watch must be more than zero"));
        }
        if model.max_buffer_s < model.startup_buffer_s.max(model.rebuffer_buffer_s) {
            return Err(UsageError::new(
                "--max-buffer must be at least --startup-buffer and --rebuffer-buffer",
            ));
        }
        Ok(SessionSettings {
            model,
            variant: self.variant,
            seek: self.seek,
            max_moov_bytes: self.max_moov_bytes,
        })
    }
}

fn media_time(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|e| format!("{text:?}: {e} (e.g. 2s, 500ms)"))
}

fn positive(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        _ => Err(format!("{text:?}: expected a number above zero")),
    }
}

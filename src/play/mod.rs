//! `cdnprobe play`: playback sessions of a first-time viewer, for progressive MP4 and HLS
//! (DASH may come later).
//!
//! One session ([`session`]): fetch what a player fetches ([`fetcher`]; [`progressive`] for MP4
//! with [`mp4`], [`adaptive`] for HLS with [`hls`] and [`abr`]), feed the arrivals to one player
//! model ([`model`]), and record one row ([`record`]): startup, stalls, seek, bitrate.
//! [`command`] schedules sessions like `run` schedules samples.

pub mod abr;
pub mod adaptive;
pub mod command;
pub mod fetcher;
pub mod hls;
pub mod model;
pub mod mp4;
pub mod options;
pub mod progressive;
pub mod record;
pub mod rows;
pub mod session;
pub mod summary;

/// Why the media could not be played: the `media` failure class.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    #[error("not an MP4: {0}")]
    NotMp4(String),
    #[error("moov of {size} bytes is over --max-moov-bytes {max}")]
    MoovTooLarge { size: u64, max: u64 },
    #[error("unreadable moov: {0}")]
    BadMoov(String),
    #[error("no moov in the file")]
    NoMoov,
    #[error("playlist: {0}")]
    Playlist(String),
    #[error("neither an MP4 nor an HLS playlist")]
    UnknownFormat,
}

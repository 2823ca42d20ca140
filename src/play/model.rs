//! The player model, one for MP4 and HLS: what a viewer sees, given when media arrived.
//!
//! - **Startup**: playback starts once `startup_buffer_s` of media past the start position is
//!   downloaded (or the whole media, if shorter).
//! - **Playhead**: from then on media time advances at `playback_rate` × wall time.
//! - **Stall**: begins the moment the playhead reaches media not downloaded yet; ends once
//!   `rebuffer_buffer_s` is downloaded ahead of it (or the media is downloaded to its end).
//! - **Forward buffer cap**: the downloader stops fetching while `max_buffer_s` is held ahead
//!   of the playhead and resumes when it falls below ([`Player::resume_download_at`]).
//! - **Watch**: the session ends when `watch_s` of media has played (or the media ends).
//! - **Seek**: the playhead jumps; playback resumes once `rebuffer_buffer_s` is held past the
//!   position; the wait is the seek time, not a stall.
//!
//! Times are seconds since the session started, passed in by the caller, so the model is exact
//! (a stall begins at the computed crossing, not when the caller next looked) and testable
//! without a clock. Only the downloaded range ahead of the playhead is kept: one interval.

/// The model's constants, from the command line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelSettings {
    pub startup_buffer_s: f64,
    pub rebuffer_buffer_s: f64,
    pub max_buffer_s: f64,
    pub watch_s: f64,
    pub playback_rate: f64,
}

impl Default for ModelSettings {
    fn default() -> Self {
        Self {
            startup_buffer_s: 2.0,
            rebuffer_buffer_s: 2.0,
            max_buffer_s: 30.0,
            watch_s: 10.0,
            playback_rate: 1.0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Starting,
    /// Playing since wall time `at`, from media time `from`.
    Playing {
        at: f64,
        from: f64,
    },
    Stalled {
        since: f64,
    },
    Seeking {
        since: f64,
    },
    Ended {
        at: f64,
    },
}

/// One session's playback.
#[derive(Debug, Clone)]
pub struct Player {
    settings: ModelSettings,
    duration_s: f64,
    state: State,
    /// Where the playhead stands while not playing.
    position: f64,
    /// Downloaded media ahead: [position, buffered_to).
    buffered_to: f64,
    watch_end: f64,
    /// (from, to, bits per second) of downloaded media, for the played bitrate.
    bitrates: Vec<(f64, f64, f64)>,
    /// Played media intervals.
    played: Vec<(f64, f64)>,
    pub startup_s: Option<f64>,
    pub stalls: u32,
    pub stall_s: f64,
    pub seek_s: Option<f64>,
}

impl Player {
    /// A player that will start at media time `start_s` of media lasting `duration_s`.
    pub fn new(settings: ModelSettings, duration_s: f64, start_s: f64) -> Self {
        Self {
            settings,
            duration_s,
            state: State::Starting,
            position: start_s,
            buffered_to: start_s,
            watch_end: (start_s + settings.watch_s).min(duration_s),
            bitrates: Vec::new(),
            played: Vec::new(),
            startup_s: None,
            stalls: 0,
            stall_s: 0.0,
            seek_s: None,
        }
    }

    /// Media downloaded up to `to_s` (contiguous from the playhead), at `bps` bits per second of
    /// media when known.
    pub fn downloaded(&mut self, now: f64, to_s: f64, bps: Option<f64>) {
        self.advance(now);
        let to_s = to_s.min(self.duration_s);
        if to_s <= self.buffered_to {
            return;
        }
        if let Some(bps) = bps {
            self.bitrates.push((self.buffered_to, to_s, bps));
        }
        self.buffered_to = to_s;
        let ahead = self.buffered_to - self.playhead(now);
        let complete = self.buffered_to >= self.duration_s - 1e-9;
        match self.state {
            State::Starting
                if ahead >= self.settings.startup_buffer_s - 1e-9
                    || complete
                    || self.buffered_to >= self.watch_end =>
            {
                self.startup_s = Some(now);
                self.play(now);
            }
            State::Stalled { since }
                if ahead >= self.settings.rebuffer_buffer_s - 1e-9 || complete =>
            {
                self.stall_s += now - since;
                self.play(now);
            }
            State::Seeking { since }
                if ahead >= self.settings.rebuffer_buffer_s - 1e-9 || complete =>
            {
                self.seek_s = Some(now - since);
                self.play(now);
            }
            _ => {}
        }
        self.advance(now);
    }

    fn play(&mut self, now: f64) {
        self.state = State::Playing {
            at: now,
            from: self.position,
        };
    }

    /// Moves the playhead to `now`: a stall or the end that happened since is placed at the
    /// moment it happened.
    pub fn advance(&mut self, now: f64) {
        let State::Playing { at, from } = self.state else {
            return;
        };
        let rate = self.settings.playback_rate;
        let stop = self.buffered_to.min(self.watch_end);
        let stop_at = at + (stop - from) / rate;
        if now < stop_at {
            return;
        }
        self.played.push((from, stop));
        self.position = stop;
        self.state = if stop >= self.watch_end - 1e-9 {
            State::Ended { at: stop_at }
        } else {
            self.stalls += 1;
            State::Stalled { since: stop_at }
        };
    }

    /// Media time of the playhead at `now` (without moving state: call [`Self::advance`]).
    pub fn playhead(&self, now: f64) -> f64 {
        match self.state {
            State::Playing { at, from } => (from + (now - at) * self.settings.playback_rate)
                .min(self.buffered_to.min(self.watch_end)),
            _ => self.position,
        }
    }

    /// Seeks to `to_s`; downloads will continue from `resume_from_s` (the key frame, the segment
    /// start), at or before it.
    pub fn seek(&mut self, now: f64, to_s: f64, resume_from_s: f64) {
        self.advance(now);
        if let State::Playing { from, .. } = self.state {
            let here = self.playhead(now);
            self.played.push((from, here));
        }
        if let State::Stalled { since } = self.state {
            self.stall_s += now - since;
        }
        let watched = self.watched_s();
        let to_s = to_s.clamp(0.0, self.duration_s);
        self.position = to_s;
        self.buffered_to = resume_from_s.min(to_s);
        self.watch_end = (to_s + (self.settings.watch_s - watched).max(0.0)).min(self.duration_s);
        self.state = State::Seeking { since: now };
    }

    /// Whether the download should go on now (false while the forward buffer is full).
    pub fn wants_data(&self, now: f64) -> bool {
        !self.is_ended() && self.buffered_to - self.playhead(now) < self.settings.max_buffer_s
    }

    /// When the forward buffer falls below the cap, if it is full now.
    pub fn resume_download_at(&self, now: f64) -> Option<f64> {
        match self.state {
            State::Playing { at, from } if !self.wants_data(now) => Some(
                at + (self.buffered_to - self.settings.max_buffer_s - from)
                    / self.settings.playback_rate,
            ),
            _ => None,
        }
    }

    /// When playback will end with what is downloaded now, if it will end without more data.
    pub fn ends_at(&self) -> Option<f64> {
        match self.state {
            State::Ended { at } => Some(at),
            State::Playing { at, from } if self.buffered_to >= self.watch_end - 1e-9 => {
                Some(at + (self.watch_end - from) / self.settings.playback_rate)
            }
            _ => None,
        }
    }

    pub fn is_ended(&self) -> bool {
        matches!(self.state, State::Ended { .. })
    }

    pub fn has_started(&self) -> bool {
        self.startup_s.is_some()
    }

    pub fn is_seeking(&self) -> bool {
        matches!(self.state, State::Seeking { .. })
    }

    /// Closes the session at `now` (ended, or given up): counts the stall still running.
    pub fn finish(&mut self, now: f64) {
        self.advance(now);
        match self.state {
            State::Playing { from, .. } => {
                let here = self.playhead(now);
                self.played.push((from, here));
                self.position = here;
            }
            State::Stalled { since } => self.stall_s += now - since,
            _ => {}
        }
        self.state = State::Ended { at: now };
    }

    /// Media seconds played.
    pub fn watched_s(&self) -> f64 {
        self.played.iter().map(|(from, to)| to - from).sum()
    }

    /// Time-weighted bits per second of the media played, when bitrates were given.
    pub fn mean_bitrate_bps(&self) -> Option<f64> {
        let mut bits = 0.0;
        let mut seconds = 0.0;
        for &(from, to) in &self.played {
            for &(b_from, b_to, bps) in &self.bitrates {
                let overlap = to.min(b_to) - from.max(b_from);
                if overlap > 0.0 {
                    bits += overlap * bps;
                    seconds += overlap;
                }
            }
        }
        (seconds > 0.0).then(|| bits / seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn player() -> Player {
        Player::new(ModelSettings::default(), 30.0, 0.0)
    }

    #[test]
    fn playback_starts_when_the_startup_buffer_is_downloaded() {
        let mut p = player();
        p.downloaded(0.5, 1.9, None);
        assert_eq!(p.startup_s, None);
        p.downloaded(0.7, 2.0, None);
        assert_eq!(p.startup_s, Some(0.7));
    }

    #[test]
    fn a_stall_begins_when_the_playhead_reaches_the_buffer_end_and_ends_at_the_rebuffer_target() {
        let mut p = player();
        p.downloaded(1.0, 3.0, None); // playing from t=1 with 3 s buffered
        p.downloaded(5.0, 4.0, None); // the playhead reached 3.0 at t=4: stalled since then
        assert_eq!(p.stalls, 1);
        p.downloaded(6.0, 4.9, None); // 1.9 s ahead: still stalled
        p.downloaded(6.5, 5.0, None); // 2 s ahead of 3.0 → playing again after 2.5 s
        assert!((p.stall_s - 2.5).abs() < 1e-9, "{}", p.stall_s);
        p.downloaded(7.0, 30.0, None);
        p.advance(100.0);
        assert!(p.is_ended());
        assert!((p.watched_s() - 10.0).abs() < 1e-9);
        assert_eq!(p.stalls, 1);
    }

    #[test]
    fn a_download_ahead_of_the_playhead_never_stalls_and_ends_after_watch_time() {
        let mut p = player();
        p.downloaded(0.2, 30.0, None);
        assert_eq!(p.ends_at(), Some(10.2));
        p.advance(10.2);
        assert!(p.is_ended());
        assert_eq!(p.stalls, 0);
    }

    #[test]
    fn the_forward_buffer_cap_pauses_the_download_until_the_playhead_catches_up() {
        let mut p = Player::new(
            ModelSettings {
                max_buffer_s: 5.0,
                watch_s: 20.0,
                ..ModelSettings::default()
            },
            30.0,
            0.0,
        );
        p.downloaded(1.0, 8.0, None);
        assert!(!p.wants_data(1.0));
        assert_eq!(p.resume_download_at(1.0), Some(4.0));
        assert!(p.wants_data(4.01));
    }

    #[test]
    fn playback_rate_scales_the_playhead() {
        let mut p = Player::new(
            ModelSettings {
                playback_rate: 10.0,
                ..ModelSettings::default()
            },
            30.0,
            0.0,
        );
        p.downloaded(0.0, 30.0, None);
        assert_eq!(p.ends_at(), Some(1.0));
    }

    #[test]
    fn a_seek_is_timed_apart_from_stalls_and_watch_continues_from_the_new_position() {
        let mut p = player();
        p.downloaded(1.0, 2.0, None);
        p.seek(1.0, 15.0, 14.0);
        assert!(p.is_seeking());
        p.downloaded(1.5, 16.0, None);
        assert!(p.is_seeking()); // 1 s past 15: not yet the 2 s rebuffer target
        p.downloaded(1.8, 17.0, None);
        assert!((p.seek_s.unwrap() - 0.8).abs() < 1e-9);
        assert_eq!(p.stalls, 0);
        p.downloaded(2.0, 30.0, None);
        assert_eq!(p.ends_at(), Some(11.8));
    }

    #[test]
    fn mean_bitrate_weights_by_media_time_played() {
        let mut p = player();
        p.downloaded(0.0, 4.0, Some(100.0));
        p.downloaded(0.0, 10.0, Some(400.0));
        p.advance(20.0);
        assert!((p.mean_bitrate_bps().unwrap() - (4.0 * 100.0 + 6.0 * 400.0) / 10.0).abs() < 1e-9);
    }
}

//! When each scheduled probe is due: every `interval`, late by a random `jitter`, targets that
//! share an interval spread evenly across it so they take turns (A B A B, as `run` does) and
//! drift on the path hits them alike.
//!
//! Due times are counted from a fixed start, not from the last probe's end: the rate stays
//! exactly one probe per interval however long probes take and however the jitter falls, and
//! a probe that overran its slot skips the slots it missed instead of firing them in a burst.

use std::time::Duration;

use rand::Rng;
use tokio::time::Instant;

#[derive(Debug, Clone, Copy)]
pub struct Cadence {
    start: Instant,
    interval: Duration,
    jitter: Duration,
}

impl Cadence {
    /// The `position`th of `of` targets with this interval; `jitter` is at most `interval`.
    pub fn new(
        first: Instant,
        interval: Duration,
        jitter: Duration,
        position: usize,
        of: usize,
    ) -> Self {
        let offset = interval.mul_f64(position as f64 / of.max(1) as f64);
        Self {
            start: first + offset,
            interval,
            jitter: jitter.min(interval),
        }
    }

    /// The next due time strictly after `now`'s slot: slot k starts at `start + k × interval`
    /// and the probe is due a random part of `jitter` into it.
    pub fn next_after(&self, now: Instant, rng: &mut impl Rng) -> Instant {
        let slot = self.slot_after(now);
        let base = self.start + self.interval.mul_f64(slot as f64);
        let late = self.jitter.mul_f64(rng.random::<f64>());
        base + late
    }

    /// The first slot whose start is at or after `now` (slot 0 when `now` is before start).
    fn slot_after(&self, now: Instant) -> u64 {
        if now <= self.start || self.interval.is_zero() {
            return 0;
        }
        let elapsed = now - self.start;
        elapsed.as_nanos().div_ceil(self.interval.as_nanos()) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn targets_sharing_an_interval_take_turns() {
        let first = Instant::now();
        let second = Duration::from_secs(1);
        let a = Cadence::new(first, second, Duration::ZERO, 0, 2);
        let b = Cadence::new(first, second, Duration::ZERO, 1, 2);
        let mut rng = rand_pcg::Pcg64::seed_from_u64(1);
        assert_eq!(a.next_after(first, &mut rng), first);
        assert_eq!(b.next_after(first, &mut rng), first + second / 2);
        // After a's first probe, b's comes before a's second.
        let after_a = first + Duration::from_millis(1);
        assert_eq!(a.next_after(after_a, &mut rng), first + second);
        assert_eq!(b.next_after(after_a, &mut rng), first + second / 2);
    }

    #[test]
    fn a_probe_that_overran_skips_the_slots_it_missed() {
        let first = Instant::now();
        let cadence = Cadence::new(first, Duration::from_secs(1), Duration::ZERO, 0, 1);
        let mut rng = rand_pcg::Pcg64::seed_from_u64(1);
        let late = first + Duration::from_millis(3_200);
        assert_eq!(
            cadence.next_after(late, &mut rng),
            first + Duration::from_secs(4)
        );
    }

    #[test]
    fn jitter_delays_within_its_bound_and_never_shifts_later_slots() {
        let first = Instant::now();
        let interval = Duration::from_secs(10);
        let jitter = Duration::from_secs(2);
        let cadence = Cadence::new(first, interval, jitter, 0, 1);
        let mut rng = rand_pcg::Pcg64::seed_from_u64(7);
        let mut spread = Vec::new();
        for slot in 1..200u32 {
            let now = first + interval * slot - Duration::from_millis(1);
            let due = cadence.next_after(now, &mut rng);
            let slot_start = first + interval * slot;
            assert!(due >= slot_start && due <= slot_start + jitter, "{due:?}");
            spread.push((due - slot_start).as_secs_f64());
        }
        // Not all at one point: the jitter is random.
        let min = spread.iter().cloned().fold(f64::MAX, f64::min);
        let max = spread.iter().cloned().fold(f64::MIN, f64::max);
        assert!(max - min > 1.0, "{min}..{max}");
    }
}

//! One direction of one emulated path, packet by packet: loss, a bounded queue drained at the
//! link rate, then the one-way propagation delay.
//!
//! ```text
//! packet ──▶ lost? (seeded) ──▶ queue full? (tail drop) ──▶ serialise at rate ──▶ +one-way ──▶ out
//! ```
//!
//! The queue is kept as time, not as a list: a packet leaves the serialiser at
//! `max(now, previous departure) + size ÷ rate`, so the bytes still waiting at `now` are
//! `(last departure − now) × rate`. A packet that would push them past the queue's size is
//! dropped (tail drop, as a plain FIFO router does). Departures are in arrival order and the
//! propagation delay is the same for every packet, so deliveries are in order too and a FIFO of
//! packets waiting for their delivery time is all the state a link needs.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use rand::{Rng as _, SeedableRng as _};
use rand_pcg::Pcg64Mcg;

/// What one direction of a path does to packets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinkSpec {
    /// Propagation delay added to every packet.
    pub one_way: Duration,
    /// Serialisation rate in bytes per second; `None` leaves only the delay.
    pub bytes_per_second: Option<f64>,
    /// Bytes the queue in front of the serialiser holds; a packet beyond it is dropped.
    pub queue_bytes: usize,
    /// Probability that a packet is lost, drawn per packet from a generator seeded with `seed`.
    pub loss: f64,
    pub seed: u64,
}

impl LinkSpec {
    /// A link with only a delay: no rate, no loss, a queue that never fills.
    pub fn delay(one_way: Duration) -> Self {
        Self {
            one_way,
            bytes_per_second: None,
            queue_bytes: usize::MAX,
            loss: 0.0,
            seed: 0,
        }
    }
}

/// What the link did with a packet it was offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Queued; it comes out at this instant.
    Delivered(Instant),
    Lost,
    /// The queue was full (tail drop).
    Dropped,
}

/// Counters of one link, for tests and the benchmark.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkCounts {
    pub delivered: u64,
    pub delivered_bytes: u64,
    pub lost: u64,
    pub dropped: u64,
}

/// A link's state: its serialiser, its loss generator and the packets in flight.
#[derive(Debug)]
pub struct DelayLine<P> {
    spec: LinkSpec,
    loss: Pcg64Mcg,
    /// When the serialiser finishes the last packet accepted.
    busy_until: Option<Instant>,
    in_flight: VecDeque<(Instant, P)>,
    counts: LinkCounts,
}

impl<P> DelayLine<P> {
    pub fn new(spec: LinkSpec) -> Self {
        Self {
            spec,
            loss: Pcg64Mcg::seed_from_u64(spec.seed),
            busy_until: None,
            in_flight: VecDeque::new(),
            counts: LinkCounts::default(),
        }
    }

    pub fn spec(&self) -> LinkSpec {
        self.spec
    }

    /// Offers a packet of `bytes` that arrived at `now`.
    pub fn offer(&mut self, now: Instant, bytes: usize, packet: P) -> Fate {
        // Drawn for every packet, lost or not, so the sequence of fates depends only on the
        // seed and the packets offered.
        if self.spec.loss > 0.0 && self.loss.random::<f64>() < self.spec.loss {
            self.counts.lost += 1;
            return Fate::Lost;
        }
        let departs = match self.spec.bytes_per_second {
            None => now,
            Some(rate) => {
                let start = self.busy_until.filter(|busy| *busy > now).unwrap_or(now);
                let queued = (start - now).as_secs_f64() * rate;
                if queued + bytes as f64 > self.spec.queue_bytes as f64 {
                    self.counts.dropped += 1;
                    return Fate::Dropped;
                }
                let departs = start + Duration::from_secs_f64(bytes as f64 / rate);
                self.busy_until = Some(departs);
                departs
            }
        };
        let deliver_at = departs + self.spec.one_way;
        self.in_flight.push_back((deliver_at, packet));
        self.counts.delivered += 1;
        self.counts.delivered_bytes += bytes as u64;
        Fate::Delivered(deliver_at)
    }

    /// When the next packet comes out, if any is in flight.
    pub fn next_delivery(&self) -> Option<Instant> {
        self.in_flight.front().map(|(at, _)| *at)
    }

    /// The next packet if its delivery time has come by `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<(Instant, P)> {
        match self.in_flight.front() {
            Some((at, _)) if *at <= now => self.in_flight.pop_front(),
            _ => None,
        }
    }

    pub fn counts(&self) -> LinkCounts {
        self.counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn rated(rate: f64, queue_bytes: usize) -> LinkSpec {
        LinkSpec {
            bytes_per_second: Some(rate),
            queue_bytes,
            ..LinkSpec::delay(10 * MS)
        }
    }

    #[test]
    fn a_packet_comes_out_after_its_serialisation_and_the_one_way_delay() {
        let now = Instant::now();
        let mut line = DelayLine::new(rated(1_000_000.0, 100_000));
        assert_eq!(line.offer(now, 1000, ()), Fate::Delivered(now + 11 * MS));
        // The second waits behind the first in the serialiser.
        assert_eq!(line.offer(now, 1000, ()), Fate::Delivered(now + 12 * MS));
        assert_eq!(line.pop_due(now + 10 * MS), None);
        assert!(line.pop_due(now + 11 * MS).is_some());
    }

    #[test]
    fn a_full_queue_drops_the_tail_and_drains_at_the_rate() {
        let now = Instant::now();
        let mut line = DelayLine::new(rated(1_000_000.0, 3000));
        let fates: Vec<Fate> = (0..5).map(|_| line.offer(now, 1000, ())).collect();
        assert!(matches!(fates[2], Fate::Delivered(_)));
        assert_eq!(fates[3], Fate::Dropped);
        assert_eq!(fates[4], Fate::Dropped);
        // One packet time later one packet has left: there is room for exactly one more.
        assert!(matches!(line.offer(now + MS, 1000, ()), Fate::Delivered(_)));
        assert_eq!(line.offer(now + MS, 1000, ()), Fate::Dropped);
        assert_eq!(line.counts().dropped, 3);
    }

    #[test]
    fn seeded_loss_is_reproducible_and_near_its_probability() {
        let fates = |seed| {
            let mut line = DelayLine::new(LinkSpec {
                loss: 0.1,
                seed,
                ..LinkSpec::delay(MS)
            });
            let now = Instant::now();
            (0..10_000)
                .map(|_| line.offer(now, 100, ()) == Fate::Lost)
                .collect::<Vec<bool>>()
        };
        assert_eq!(fates(7), fates(7));
        assert_ne!(fates(7), fates(8));
        let lost = fates(7).iter().filter(|lost| **lost).count();
        assert!((850..1150).contains(&lost), "{lost}");
    }
}

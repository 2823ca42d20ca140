//! Region profiles: the physics of a client's paths in Auckland and Sydney, and nothing else.
//!
//! The original project measured S3 (Ireland) and CloudFront from clients in Auckland and
//! Sydney and published the times in its README (`../shared/seed/aws-video-cdn-README.md`). A
//! profile takes from it only what describes the network, and sets nothing that names a result
//! (no download time, no rate derived from one):
//!
//! | input | Auckland | Sydney | from |
//! | --- | ---: | ---: | --- |
//! | client ↔ origin (S3) round trip | 280 ms | 327 ms | the published `connection` time, one round trip |
//! | client ↔ edge (CloudFront) round trip | 127 ms | 155 ms | the published `connection` time, one round trip |
//! | edge ↔ origin round trip | 153 ms | 172 ms | origin − edge: the edge sits on the way to the origin |
//! | access bandwidth, both targets | 50 Mbit/s | 50 Mbit/s | chosen: a typical fixed-broadband line (see below) |
//! | packet loss on the access link, both targets | 0.1 % | 0.1 % | chosen (see below) |
//! | DNS answer delay, s3 / cloudfront | 63 / 32 ms | 23 / 9 ms | the published `resolve` times |
//!
//! Why these choices: the original does not say what line its clients were on. 50 Mbit/s is
//! the most sold Australian NBN tier and a common New Zealand fibre plan of the time, so one
//! value serves both regions and both targets (the viewer's line does not change with the
//! server). 0.1 % loss is a good consumer line: rare enough that most packets arrive, frequent
//! enough that a multi-megabyte transfer meets a loss or two and TCP must recover, as real ones
//! do. The edge's path to the origin is backbone: no rate limit of its own, no loss. The edge is
//! warm: its connection to the origin is open before the first probe, as CloudFront's are.
//!
//! [`TimeScale`] shrinks every delay and stretches every rate by the same factor `k`, so the
//! lab runs `k` times faster than the world it stands for.

use std::time::Duration;

/// A client region: the round trips, line and resolver delays its clients see.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Region {
    /// The name written into every sample row (`--region`).
    pub name: &'static str,
    /// The edge's POP name (`x-amz-cf-pop`).
    pub edge_pop: &'static str,
    pub client_origin_rtt: Duration,
    pub client_edge_rtt: Duration,
    pub edge_origin_rtt: Duration,
    /// The client's access line, bits per second, each direction.
    pub access_bits_per_second: f64,
    /// Probability that a packet on the access line is lost, each direction.
    pub access_loss: f64,
    /// How long the resolver takes to answer for the origin's name and the edge's.
    pub origin_dns: Duration,
    pub edge_dns: Duration,
}

const fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

pub const AUCKLAND: Region = Region {
    name: "auckland",
    edge_pop: "AKL50-C1",
    client_origin_rtt: ms(280),
    client_edge_rtt: ms(127),
    edge_origin_rtt: ms(280 - 127),
    access_bits_per_second: 50e6,
    access_loss: 0.001,
    origin_dns: ms(63),
    edge_dns: ms(32),
};

pub const SYDNEY: Region = Region {
    name: "sydney",
    edge_pop: "SYD1-C1",
    client_origin_rtt: ms(327),
    client_edge_rtt: ms(155),
    edge_origin_rtt: ms(327 - 155),
    access_bits_per_second: 50e6,
    access_loss: 0.001,
    origin_dns: ms(23),
    edge_dns: ms(9),
};

/// The access line's queue holds this much time of traffic at the line's real rate (bytes are
/// the same at every time scale): 100 ms, a common buffer for a broadband modem or the
/// operator's shaper in front of it.
pub const ACCESS_QUEUE_TIME: Duration = Duration::from_millis(100);

impl Region {
    /// The access line's queue in bytes ([`ACCESS_QUEUE_TIME`] at the line's rate).
    pub fn access_queue_bytes(&self) -> usize {
        (self.access_bits_per_second / 8.0 * ACCESS_QUEUE_TIME.as_secs_f64()) as usize
    }
}

/// Every region the lab knows, in report order.
pub const REGIONS: [Region; 2] = [AUCKLAND, SYDNEY];

/// The region called `name`, if the lab has a profile for it.
pub fn by_name(name: &str) -> Option<Region> {
    REGIONS.into_iter().find(|region| region.name == name)
}

/// What the original project published for a region: its result, kept apart from the inputs
/// and used only to compare the lab's outcome with it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Published {
    pub region: &'static str,
    /// S3's total time over CloudFront's.
    pub total_speedup: f64,
}

/// Auckland: 4516 ms ÷ 2437 ms; Sydney: 5319 ms ÷ 2490 ms.
pub const PUBLISHED: [Published; 2] = [
    Published {
        region: "auckland",
        total_speedup: 4516.0 / 2437.0,
    },
    Published {
        region: "sydney",
        total_speedup: 5319.0 / 2490.0,
    },
];

/// Lab time runs `k` times faster than the world: delays ÷ k, rates × k. The bandwidth-delay
/// product, in bytes and in packets, is unchanged, so TCP's round-by-round behaviour is the
/// same and every duration shrinks by k. Timers that TCP does not derive from the round trip
/// are the exception: the lab scales the minimum retransmission timeout with the rest; the
/// delayed-ACK timer (40 ms) it cannot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeScale(pub f64);

/// The demo's scale: an Auckland S3 fetch of the demo video takes a tenth of its real time.
pub const DEMO_TIME_SCALE: TimeScale = TimeScale(10.0);

impl TimeScale {
    pub fn k(self) -> f64 {
        self.0
    }

    pub fn delay(self, real: Duration) -> Duration {
        real.div_f64(self.0)
    }

    pub fn rate(self, real: f64) -> f64 {
        real * self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_edge_is_nearer_than_the_origin_and_on_its_way() {
        for region in REGIONS {
            assert!(region.client_edge_rtt < region.client_origin_rtt);
            assert_eq!(
                region.client_edge_rtt + region.edge_origin_rtt,
                region.client_origin_rtt,
                "{}",
                region.name
            );
        }
    }

    #[test]
    fn scaling_divides_delays_and_multiplies_rates() {
        let scale = TimeScale(10.0);
        assert_eq!(scale.delay(ms(280)), ms(28));
        assert_eq!(scale.rate(50e6), 500e6);
    }

    #[test]
    fn regions_are_found_by_name() {
        assert_eq!(by_name("sydney"), Some(SYDNEY));
        assert_eq!(by_name("perth"), None);
    }
}

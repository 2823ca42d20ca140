//! Region profiles (auckland, sydney) scaled from the original project's published figures.
//!
//! The original project measured S3 (Ireland) and CloudFront from clients in Auckland and Sydney
//! and published the times in its README (`../shared/seed/aws-video-cdn-README.md`). Each figure
//! becomes one knob of the lab, with time divided by [`TIME_SCALE`] so a demo fits in a minute:
//!
//! | published phase | what the lab sets | why |
//! | --- | --- | --- |
//! | resolve    | the DNS server's answer delay for the name | a lookup is one query |
//! | connection | the link's round-trip time | a TLS 1.3 handshake is one round trip; the TCP handshake to a loopback relay cannot be delayed (see [`super::link`]) |
//! | download   | the link's round trip plus the body at the link's downlink rate | the original's "download" runs from request to last byte |
//!
//! The ratio between the two targets, and so the shape of the `phases` chart, comes from the
//! published figures alone; the lab's own overhead (crypto, loopback) adds the same small amount
//! to both.

use std::time::Duration;

use super::link::{DEFAULT_BURST_BYTES, LinkProfile, Shape};

/// Lab time ÷ published time: 1:10, so one S3 fetch from Auckland takes ~0.45 s instead of 4.5 s.
pub const TIME_SCALE: f64 = 0.1;

/// The figures one target got from one region in the original project, milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PublishedFigures {
    pub resolve_ms: f64,
    pub connection_ms: f64,
    pub download_ms: f64,
    pub total_ms: f64,
}

/// A client region: how far the origin (S3) and the edge (CloudFront) were from it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Region {
    /// The name written into every sample row (`--region`).
    pub name: &'static str,
    /// S3 in Ireland, seen from this region.
    pub origin: PublishedFigures,
    /// CloudFront, seen from this region.
    pub edge: PublishedFigures,
    /// The edge's POP name (`x-amz-cf-pop`).
    pub edge_pop: &'static str,
}

pub const AUCKLAND: Region = Region {
    name: "auckland",
    origin: PublishedFigures {
        resolve_ms: 63.0,
        connection_ms: 280.0,
        download_ms: 4173.0,
        total_ms: 4516.0,
    },
    edge: PublishedFigures {
        resolve_ms: 32.0,
        connection_ms: 127.0,
        download_ms: 2278.0,
        total_ms: 2437.0,
    },
    edge_pop: "AKL50-C1",
};

pub const SYDNEY: Region = Region {
    name: "sydney",
    origin: PublishedFigures {
        resolve_ms: 23.0,
        connection_ms: 327.0,
        download_ms: 4969.0,
        total_ms: 5319.0,
    },
    edge: PublishedFigures {
        resolve_ms: 9.0,
        connection_ms: 155.0,
        download_ms: 2326.0,
        total_ms: 2490.0,
    },
    edge_pop: "SYD1-C1",
};

/// Every region the lab knows, in report order.
pub const REGIONS: [Region; 2] = [AUCKLAND, SYDNEY];

/// The region called `name`, if the lab has a profile for it.
pub fn by_name(name: &str) -> Option<Region> {
    REGIONS.into_iter().find(|region| region.name == name)
}

/// How the lab emulates one client→server path.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PathProfile {
    /// Added by the DNS server before it answers for this path's host name.
    pub dns_delay: Duration,
    pub link: LinkProfile,
}

impl PublishedFigures {
    /// The path that reproduces these figures, `scale`d, for an object of `object_bytes`.
    pub fn path(&self, scale: f64, object_bytes: u64) -> PathProfile {
        let millis = |ms: f64| Duration::from_secs_f64(ms * scale / 1000.0);
        let rtt = millis(self.connection_ms);
        // The request and its response head take one round trip; the rest of the published
        // download time is the body crossing the downlink. The bucket's depth leaves at once.
        let body_time = millis(self.download_ms).saturating_sub(rtt);
        let paced_bytes = object_bytes
            .saturating_sub(DEFAULT_BURST_BYTES as u64)
            .max(1);
        let rate = paced_bytes as f64 / body_time.as_secs_f64().max(1e-3);
        PathProfile {
            dns_delay: millis(self.resolve_ms),
            link: LinkProfile {
                uplink: Shape::latency(rtt / 2),
                downlink: Shape::latency(rtt / 2).with_rate(rate),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_totals_are_the_sum_of_their_phases() {
        for region in REGIONS {
            for figures in [region.origin, region.edge] {
                let sum = figures.resolve_ms + figures.connection_ms + figures.download_ms;
                assert_eq!(sum, figures.total_ms, "{}", region.name);
            }
        }
    }

    #[test]
    fn the_edge_path_is_shorter_and_faster_than_the_origin_path_in_every_region() {
        for region in REGIONS {
            let origin = region.origin.path(TIME_SCALE, 21_000);
            let edge = region.edge.path(TIME_SCALE, 21_000);
            assert!(edge.dns_delay < origin.dns_delay, "{}", region.name);
            assert!(edge.link.rtt() < origin.link.rtt(), "{}", region.name);
            assert!(
                edge.link.downlink.bytes_per_second > origin.link.downlink.bytes_per_second,
                "{}",
                region.name
            );
        }
    }

    #[test]
    fn a_path_reproduces_the_scaled_round_trip_and_body_time() {
        let path = AUCKLAND
            .origin
            .path(0.1, 100_000 + DEFAULT_BURST_BYTES as u64);
        assert_eq!(path.dns_delay, Duration::from_micros(6_300));
        assert_eq!(path.link.rtt(), Duration::from_millis(28));
        let rate = path.link.downlink.bytes_per_second.unwrap();
        let body_seconds = 100_000.0 / rate;
        assert!(
            (body_seconds - (0.4173 - 0.028)).abs() < 1e-6,
            "{body_seconds}"
        );
    }

    #[test]
    fn regions_are_found_by_name() {
        assert_eq!(by_name("sydney"), Some(SYDNEY));
        assert_eq!(by_name("perth"), None);
    }
}

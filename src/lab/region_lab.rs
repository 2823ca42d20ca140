//! One region's emulated network, assembled from the lab's pieces around a real origin server.
//!
//! ```text
//!                  DNS (s3.lab.test, cdn.lab.test → 127.0.0.1, per-name answer delays)
//! probe ──far link──▶ TLS front (s3.lab.test, http/1.1) ──▶ origin server
//! probe ──near link─▶ TLS front (cdn.lab.test, h2 + http/1.1) ──▶ edge ──far link──▶ origin server
//! probe ══near datagram link (same port, UDP)══▶ edge's QUIC endpoint (h3) ─┘
//! ```
//!
//! The probe reaches each host by name through the lab's DNS, on the port of the link in front of
//! it, and trusts the lab's CA. The edge's misses cross a far link of their own, as CloudFront's
//! fetches from S3 cross the long path; its hits stay on the near side. The edge's HTTP/3 takes
//! the same port number on UDP, through a datagram link with the near link's delay and rate, and
//! its answers advertise it (`Alt-Svc`).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use super::datagram_link::DatagramLink;
use super::dns::{DnsRecord, DnsServer};
use super::edge::{Edge, EdgeCounts, EdgeH3Error};
use super::front::TlsFront;
use super::link::{Link, LinkProfile, Shape};
use super::regions::{Region, TimeScale};
use super::tls::{ALPN_H2_AND_HTTP1, ALPN_HTTP1, LabTlsError, TestCa};
use super::upstream::Upstream;

/// The origin's host name, what `s3` targets point at.
pub const ORIGIN_HOST: &str = "s3.lab.test";
/// The edge's host name, what `cloudfront` targets point at.
pub const EDGE_HOST: &str = "cdn.lab.test";

#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error("lab TLS: {0}")]
    Tls(#[from] LabTlsError),
    #[error("lab listener: {0}")]
    Io(#[from] std::io::Error),
    #[error("network namespace lab: {0}")]
    Netns(#[from] super::netns::namespace::NamespaceError),
    #[error("the edge cannot reach the origin: {0}")]
    Origin(#[from] super::upstream::OriginError),
    #[error("the edge's HTTP/3 front: {0}")]
    EdgeH3(#[from] EdgeH3Error),
}

/// How the relay lab emulates one client→server path.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PathProfile {
    /// Added by the DNS server before it answers for this path's host name.
    pub dns_delay: Duration,
    pub link: LinkProfile,
    /// The access line's queue for datagrams (tail drop beyond it). A TCP relay needs none:
    /// TCP's flow control holds the sender back at the bucket.
    pub queue_bytes: usize,
}

/// The paths a region sees, and the edge's POP name.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RegionPaths {
    /// Probe → origin.
    pub origin: PathProfile,
    /// Probe → edge.
    pub edge: PathProfile,
    /// Edge → origin, for misses.
    pub edge_origin: LinkProfile,
    pub edge_pop: &'static str,
}

impl RegionPaths {
    /// `region`'s physics at `scale`, as relays can carry it: half the round trip each way and
    /// the access rate on the downlink. Relays carry byte streams, not packets, so the region's
    /// loss rate has no effect here, and TCP's own dynamics stay on loopback. Datagrams (QUIC)
    /// queue behind the access line as on the namespace lab
    /// ([`Region::access_queue_bytes`]).
    pub fn of(region: &Region, scale: TimeScale) -> Self {
        let access = scale.rate(region.access_bits_per_second) / 8.0;
        let queue_bytes = region.access_queue_bytes();
        let path = |rtt: Duration, dns: Duration| {
            let one_way = Shape::latency(scale.delay(rtt) / 2);
            PathProfile {
                dns_delay: scale.delay(dns),
                link: LinkProfile {
                    uplink: one_way,
                    downlink: one_way.with_rate(access),
                },
                queue_bytes,
            }
        };
        Self {
            origin: path(region.client_origin_rtt, region.origin_dns),
            edge: path(region.client_edge_rtt, region.edge_dns),
            edge_origin: LinkProfile::symmetric(Shape::latency(
                scale.delay(region.edge_origin_rtt) / 2,
            )),
            edge_pop: region.edge_pop,
        }
    }
}

/// TLS record size of the lab's hosts. A client can read a record only once all of it has crossed
/// the link; with 16 KiB records a response head shares its record with the body and arrives
/// only after the body's first 16 KiB, which moves download time into `ttfb`. Small records, as
/// CDNs send at the start of a connection, let the head through after one round trip.
const TLS_RECORD_BYTES: usize = 1400;

/// The TLS configurations of the origin's host (HTTP/1.1 only, as S3) and the edge's (h2 and
/// HTTP/1.1), shared by both labs.
pub fn lab_server_configs(
    ca: &TestCa,
) -> Result<(Arc<rustls::ServerConfig>, Arc<rustls::ServerConfig>), LabTlsError> {
    Ok((
        small_records(ca.server_config(&[ORIGIN_HOST], ALPN_HTTP1)?),
        small_records(ca.server_config(&[EDGE_HOST], ALPN_H2_AND_HTTP1)?),
    ))
}

fn small_records(config: Arc<rustls::ServerConfig>) -> Arc<rustls::ServerConfig> {
    let mut config = (*config).clone();
    config.max_fragment_size = Some(TLS_RECORD_BYTES);
    Arc::new(config)
}

/// A running region. Dropping it closes every port it opened; the origin server is the caller's.
pub struct RegionLab {
    paths: RegionPaths,
    dns: DnsServer,
    far_link: Link,
    near_link: Link,
    edge: Edge,
    // Kept for their ports: each is the upstream of a link above, or the way in to h3.
    _near_datagram_link: DatagramLink,
    _origin_front: TlsFront,
    _edge_front: TlsFront,
    _edge_far_link: Link,
}

impl RegionLab {
    /// Builds the region's paths in front of the plain-HTTP `origin`, with certificates from `ca`.
    pub async fn start(
        ca: &TestCa,
        origin: SocketAddr,
        paths: RegionPaths,
    ) -> Result<Self, LabError> {
        let (origin_tls, edge_tls) = lab_server_configs(ca)?;

        let origin_front = TlsFront::start(origin_tls, origin).await?;
        let far_link = Link::start(origin_front.local_addr(), paths.origin.link).await?;

        let edge_far_link = Link::start(origin, paths.edge_origin).await?;
        let upstream = Upstream::tcp(edge_far_link.local_addr());
        upstream.warm().await?;
        let mut edge = Edge::start_with(upstream, paths.edge_pop).await?;
        let edge_front = TlsFront::start(edge_tls.clone(), edge.local_addr()).await?;
        let edge_udp = std::net::UdpSocket::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))?;
        let (near_link, near_datagram_link) =
            links_on_one_port(edge_front.local_addr(), edge_udp.local_addr()?, paths.edge).await?;
        edge.serve_h3(edge_udp, &edge_tls, near_link.local_addr().port())?;

        let loopback = vec![IpAddr::V4(Ipv4Addr::LOCALHOST)];
        let dns = DnsServer::start(vec![
            DnsRecord::new(ORIGIN_HOST, loopback.clone()).with_delay(paths.origin.dns_delay),
            DnsRecord::new(EDGE_HOST, loopback).with_delay(paths.edge.dns_delay),
        ])?;
        Ok(Self {
            paths,
            dns,
            far_link,
            near_link,
            edge,
            _near_datagram_link: near_datagram_link,
            _origin_front: origin_front,
            _edge_front: edge_front,
            _edge_far_link: edge_far_link,
        })
    }

    pub fn paths(&self) -> RegionPaths {
        self.paths
    }

    /// The address to give the probe as `--resolver`.
    pub fn resolver(&self) -> SocketAddr {
        self.dns.addr()
    }

    /// The origin's URL for `path` (which starts with `/`), through the far link.
    pub fn origin_url(&self, path: &str) -> String {
        format!(
            "https://{ORIGIN_HOST}:{}{path}",
            self.far_link.local_addr().port()
        )
    }

    /// The edge's URL for `path` (which starts with `/`), through the near link.
    pub fn edge_url(&self, path: &str) -> String {
        format!(
            "https://{EDGE_HOST}:{}{path}",
            self.near_link.local_addr().port()
        )
    }

    /// How the edge answered so far.
    pub fn edge_counts(&self) -> EdgeCounts {
        self.edge.counts()
    }

    /// Stops the DNS server and waits for it; the other pieces stop as they are dropped.
    pub async fn shutdown(self) {
        self.dns.shutdown().await;
    }
}

/// A TCP link to `tcp` and a datagram link to `udp` on the same free port number of 127.0.0.1,
/// as a host serves h2 and h3 on one port (tries again when the number is taken on TCP).
async fn links_on_one_port(
    tcp: SocketAddr,
    udp: SocketAddr,
    path: PathProfile,
) -> std::io::Result<(Link, DatagramLink)> {
    let mut attempts = 0;
    loop {
        let socket = std::net::UdpSocket::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))?;
        match Link::start_on(socket.local_addr()?, tcp, path.link).await {
            Ok(link) => {
                let datagrams =
                    DatagramLink::start_on_socket(socket, udp, path.link, path.queue_bytes)?;
                return Ok((link, datagrams));
            }
            Err(error) if error.kind() == std::io::ErrorKind::AddrInUse && attempts < 10 => {
                attempts += 1;
            }
            Err(error) => return Err(error),
        }
    }
}

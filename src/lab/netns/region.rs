//! One region on the namespace lab: client, origin and edge hosts, each in its own namespace,
//! with the region's physics on the delay lines between them.
//!
//! ```text
//!  client 10.77.0.1                 origin 10.77.0.2                       (lab process)
//!  probe, resolver 127.0.0.1:53 ═▶  :443 TLS (http/1.1) ─ loopback ─▶ cdnprobe-server
//!                               ═▶  edge 10.77.0.3 :443 TLS (h2) ─▶ edge cache
//!                               ═▶  edge 10.77.0.3 :443 UDP, QUIC (h3) ─▶ edge cache
//!                                   edge ══ warm HTTP/1.1 ══▶ origin :80 ─▶ cdnprobe-server
//! ```
//!
//! `═▶` is a delay line (client↔origin and client↔edge carry the access line's rate, queue and
//! loss; edge↔origin only its delay). The listeners are bound inside their host's namespace and
//! served by the lab's tokio runtime; what they relay to (the real server, the edge's cache)
//! runs on the lab process's own loopback, where the emulated network has ended.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpSocket;

use super::delay_line::LinkSpec;
use super::namespace::{Namespace, NamespaceError};
use super::router::RouterReport;
use super::{Link, Network, scaled_rto_min};
use crate::lab::dns::{DnsRecord, DnsServer};
use crate::lab::edge::{Edge, EdgeCounts};
use crate::lab::front::TlsFront;
use crate::lab::region_lab::{EDGE_HOST, LabError, ORIGIN_HOST, lab_server_configs};
use crate::lab::regions::{Region, TimeScale};
use crate::lab::tls::TestCa;
use crate::lab::upstream::Upstream;

pub const CLIENT: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 1);
pub const ORIGIN: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 2);
pub const EDGE: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 3);
const CLIENT_HOST: usize = 0;
const ORIGIN_HOST_INDEX: usize = 1;
const EDGE_HOST_INDEX: usize = 2;

/// Seeds of the loss generators: fixed, so a demo run drops the same packets of the same
/// transfer every time (the packets offered still depend on TCP's timing).
const LOSS_SEED: u64 = 0x01ab_5eed;

/// The delay lines of `region` at `scale`, between hosts 0 (client), 1 (origin), 2 (edge).
pub fn links(region: &Region, scale: TimeScale) -> Vec<Link> {
    let access = |rtt: Duration, seed: u64| LinkSpec {
        one_way: scale.delay(rtt) / 2,
        bytes_per_second: Some(scale.rate(region.access_bits_per_second) / 8.0),
        queue_bytes: region.access_queue_bytes(),
        loss: region.access_loss,
        seed,
    };
    let backbone = LinkSpec::delay(scale.delay(region.edge_origin_rtt) / 2);
    [
        Link::both_ways(
            CLIENT_HOST,
            ORIGIN_HOST_INDEX,
            access(region.client_origin_rtt, LOSS_SEED),
        ),
        Link::both_ways(
            CLIENT_HOST,
            EDGE_HOST_INDEX,
            access(region.client_edge_rtt, LOSS_SEED + 2),
        ),
        Link::both_ways(EDGE_HOST_INDEX, ORIGIN_HOST_INDEX, backbone),
    ]
    .concat()
}

/// A running region. Dropping it stops every server, then the router, then frees the
/// namespaces.
pub struct NetnsRegion {
    // Field order is drop order: listeners before the network they live in.
    dns: DnsServer,
    edge: Edge,
    _fronts: Vec<TlsFront>,
    network: Network,
}

impl NetnsRegion {
    /// Builds the region in front of the plain-HTTP `origin` (on the lab process's loopback),
    /// with certificates from `ca`. On error, whatever was made is released.
    pub async fn start(
        ca: &TestCa,
        origin: SocketAddr,
        region: &Region,
        scale: TimeScale,
    ) -> Result<Self, LabError> {
        let (origin_tls, edge_tls) = lab_server_configs(ca)?;
        let network = Network::start(
            &[CLIENT, ORIGIN, EDGE],
            &links(region, scale),
            scaled_rto_min(scale.k()),
        )?;
        let origin_ns = &network.host(ORIGIN_HOST_INDEX).namespace;
        let edge_ns = &network.host(EDGE_HOST_INDEX).namespace;
        let https = |ip: Ipv4Addr| SocketAddr::from((ip, 443));
        let mut fronts = vec![
            in_namespace(
                origin_ns,
                TlsFront::start_on(https(ORIGIN), Some(origin_tls), origin),
            )
            .await?,
            // The edge's way in to the origin: plain HTTP on port 80, as a CDN may use.
            in_namespace(
                origin_ns,
                TlsFront::start_on(SocketAddr::from((ORIGIN, 80)), None, origin),
            )
            .await?,
        ];
        let upstream = Upstream::new(ORIGIN_HOST, dial_from(edge_ns.try_clone()?, (ORIGIN, 80)));
        upstream.warm().await?;
        let mut edge = Edge::start_with(upstream, region.edge_pop).await?;
        fronts.push(
            in_namespace(
                edge_ns,
                TlsFront::start_on(https(EDGE), Some(edge_tls.clone()), edge.local_addr()),
            )
            .await?,
        );
        // HTTP/3 on the same port over UDP: the socket is the edge host's, so its datagrams
        // cross the delay line like the TCP segments do.
        let edge_quic = https(EDGE);
        let edge_udp =
            in_namespace(edge_ns, async move { std::net::UdpSocket::bind(edge_quic) }).await?;
        edge.serve_h3(edge_udp, &edge_tls, 443)?;
        let records = vec![
            DnsRecord::new(ORIGIN_HOST, vec![ORIGIN.into()])
                .with_delay(scale.delay(region.origin_dns)),
            DnsRecord::new(EDGE_HOST, vec![EDGE.into()]).with_delay(scale.delay(region.edge_dns)),
        ];
        let client_ns = &network.host(CLIENT_HOST).namespace;
        let dns = in_namespace(client_ns, async move {
            DnsServer::start_on(SocketAddr::from(([127, 0, 0, 1], 53)), records)
        })
        .await?;
        Ok(Self {
            dns,
            edge,
            _fronts: fronts,
            network,
        })
    }

    /// The resolver address for the probe (inside the client's namespace).
    pub fn resolver(&self) -> SocketAddr {
        self.dns.addr()
    }

    /// The origin's URL for `path` (which starts with `/`).
    pub fn origin_url(&self, path: &str) -> String {
        format!("https://{ORIGIN_HOST}{path}")
    }

    /// The edge's URL for `path` (which starts with `/`).
    pub fn edge_url(&self, path: &str) -> String {
        format!("https://{EDGE_HOST}{path}")
    }

    /// The client's namespace: the probe must make its sockets there.
    pub fn client(&self) -> &Namespace {
        &self.network.host(CLIENT_HOST).namespace
    }

    pub fn edge_counts(&self) -> EdgeCounts {
        self.edge.counts()
    }

    pub fn namespace_inodes(&self) -> Vec<u64> {
        self.network.namespace_inodes()
    }

    /// Stops the servers, then the router, and returns what the router counted.
    pub async fn shutdown(self) -> RouterReport {
        let Self {
            dns,
            edge,
            _fronts,
            network,
        } = self;
        dns.shutdown().await;
        drop((edge, _fronts));
        network.stop()
    }
}

/// Runs the future that binds a server on a thread inside `namespace`, so its sockets belong
/// there; the server's tasks run on the caller's runtime.
async fn in_namespace<T, Fut>(namespace: &Namespace, start: Fut) -> Result<T, LabError>
where
    T: Send,
    Fut: Future<Output = std::io::Result<T>> + Send,
{
    let runtime = tokio::runtime::Handle::current();
    // Binding is immediate; the thread lives for microseconds.
    let bound = namespace.run(move || {
        runtime
            .block_on(start)
            .map_err(|source| NamespaceError::Io {
                context: "binding a lab server".into(),
                source,
            })
    })?;
    Ok(bound)
}

/// Dials `to` with a socket made inside `namespace`.
fn dial_from(namespace: Namespace, to: (Ipv4Addr, u16)) -> crate::lab::upstream::Dial {
    let namespace = Arc::new(namespace);
    Arc::new(move || {
        let namespace = namespace.clone();
        Box::pin(async move {
            let socket = namespace
                .run(|| {
                    TcpSocket::new_v4().map_err(|source| NamespaceError::Io {
                        context: "making a socket".into(),
                        source,
                    })
                })
                .map_err(std::io::Error::other)?;
            socket.connect(SocketAddr::from(to)).await
        })
    })
}

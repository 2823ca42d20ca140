//! The namespace lab: real kernel TCP and UDP between lab hosts, each in its own network
//! namespace, joined through TUN devices to a packet router in the lab process that delays,
//! rate-limits, queues and drops every IP packet as the emulated path would.
//!
//! ```text
//!  namespace "client"          lab process (router thread)            namespace "origin"
//!  probe ─ TCP/UDP ─ lab0 ═fd═▶ DelayLine(client→origin) ═fd═▶ lab0 ─ TLS front ─▶ server
//!                    lab0 ◀═fd═ DelayLine(origin→client) ◀═fd═ lab0
//! ```
//!
//! Unlike the relay lab ([`super::link`]), nothing terminates TCP half-way: the handshake, slow
//! start, congestion control and retransmissions are the kernel's, end to end, so `connect`
//! takes its round trip and a large transfer takes the rounds its window needs.
//!
//! Clean-up needs no code on the error paths: namespaces are anonymous (held by a file
//! descriptor, never named under `/run/netns`) and TUN devices are not persistent, so dropping
//! a [`Network`] — or the process dying — frees all of it; `ip` runs as a waited-for child.

pub mod delay_line;
pub mod namespace;
pub mod region;
pub mod router;
pub mod tun;

use std::net::Ipv4Addr;
use std::time::Duration;

use delay_line::LinkSpec;
use namespace::{Namespace, NamespaceError};
use router::{Port, Route, Router, RouterReport};

/// A lab host: its address on the lab network and the namespace it lives in.
#[derive(Debug)]
pub struct Host {
    pub address: Ipv4Addr,
    pub namespace: Namespace,
}

/// A directed link between two hosts, by index in [`Network::start`]'s list.
#[derive(Debug, Clone, Copy)]
pub struct Link {
    pub from: usize,
    pub to: usize,
    pub spec: LinkSpec,
}

impl Link {
    /// The same spec in both directions between `a` and `b` (each direction gets its own
    /// queue and its own loss generator, seeded `spec.seed` and `spec.seed + 1`).
    pub fn both_ways(a: usize, b: usize, spec: LinkSpec) -> [Link; 2] {
        let back = LinkSpec {
            seed: spec.seed.wrapping_add(1),
            ..spec
        };
        [
            Link {
                from: a,
                to: b,
                spec,
            },
            Link {
                from: b,
                to: a,
                spec: back,
            },
        ]
    }
}

/// Hosts in namespaces and the router between them. Dropping it stops the router first (which
/// closes the TUN devices) and then releases the namespaces.
pub struct Network {
    // Field order is drop order.
    router: Router,
    hosts: Vec<Host>,
}

impl Network {
    /// Makes one namespace per address, each with a TUN device, and routes `links` between
    /// them. `rto_min` is the minimum TCP retransmission timeout on every host's lab route.
    /// On error, everything made so far is released before returning.
    pub fn start(
        addresses: &[Ipv4Addr],
        links: &[Link],
        rto_min: Duration,
    ) -> Result<Self, NamespaceError> {
        let mut hosts = Vec::with_capacity(addresses.len());
        let mut ports = Vec::with_capacity(addresses.len());
        for &address in addresses {
            let namespace = Namespace::create()?;
            let device = tun::open_in(&namespace, address, rto_min)?;
            ports.push(Port { address, device });
            hosts.push(Host { address, namespace });
        }
        let routes = links
            .iter()
            .map(|link| Route {
                from: link.from,
                to: link.to,
                spec: link.spec,
            })
            .collect();
        let router = Router::start(ports, routes).map_err(|source| NamespaceError::Io {
            context: "starting the router thread".into(),
            source,
        })?;
        Ok(Self { router, hosts })
    }

    pub fn host(&self, index: usize) -> &Host {
        &self.hosts[index]
    }

    /// The inodes of the namespaces, to check after the lab that none survived.
    pub fn namespace_inodes(&self) -> Vec<u64> {
        self.hosts.iter().map(|h| h.namespace.inode()).collect()
    }

    /// Stops the router and returns what it counted; the namespaces go with `self`.
    pub fn stop(self) -> RouterReport {
        self.router.stop()
    }
}

/// The minimum retransmission timeout at time scale `k`: Linux's 200 ms ÷ k.
pub fn scaled_rto_min(k: f64) -> Duration {
    Duration::from_secs_f64(0.2 / k)
}

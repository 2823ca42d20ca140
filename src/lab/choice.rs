//! Which lab a region runs on — the namespace lab when this process may build it, the relay lab
//! otherwise — behind one interface for the demo and the tests.

use std::net::SocketAddr;

use super::edge::EdgeCounts;
use super::netns::namespace::unavailable_reason;
use super::netns::region::NetnsRegion;
use super::region_lab::{LabError, RegionLab, RegionPaths};
use super::regions::{Region, TimeScale};
use super::tls::TestCa;

/// Set to `relay` to force the relay lab (or `netns` to insist on namespaces).
pub const LAB_ENV: &str = "CDNPROBE_LAB";

/// What the user asked for (`--lab`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LabChoice {
    /// Namespaces when possible, else relays.
    Auto,
    /// Network namespaces and the packet delay line (root or CAP_NET_ADMIN).
    Netns,
    /// User-space TCP relays on loopback (no privileges).
    Relay,
}

/// The lab that will run, and for the relay lab why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabKind {
    Namespaces,
    Relays { why: String },
}

#[derive(Debug, thiserror::Error)]
#[error("--lab netns: the namespace lab cannot run here: {0}")]
pub struct NetnsUnavailable(String);

impl LabKind {
    /// Resolves `choice` by trying what the namespace lab needs.
    pub fn resolve(choice: LabChoice) -> Result<Self, NetnsUnavailable> {
        match (choice, unavailable_reason()) {
            (LabChoice::Relay, _) => Ok(Self::Relays {
                why: "the relay lab was asked for".into(),
            }),
            (_, None) => Ok(Self::Namespaces),
            (LabChoice::Netns, Some(reason)) => Err(NetnsUnavailable(reason)),
            (LabChoice::Auto, Some(reason)) => Ok(Self::Relays { why: reason }),
        }
    }

    /// One line for the terminal and report.md.
    pub fn headline(&self) -> String {
        match self {
            Self::Namespaces => "lab: network namespaces and a packet delay line (real kernel \
                                 TCP end to end)"
                .into(),
            Self::Relays { why } => format!(
                "lab: user-space relays on loopback, not the namespace lab ({why}); \
                 connect is not shaped and TCP's dynamics are loopback's"
            ),
        }
    }
}

/// One region's running lab.
pub enum AnyRegionLab {
    Relay(Box<RegionLab>),
    Netns(Box<NetnsRegion>),
}

impl AnyRegionLab {
    pub async fn start(
        kind: &LabKind,
        ca: &TestCa,
        origin: SocketAddr,
        region: &Region,
        scale: TimeScale,
    ) -> Result<Self, LabError> {
        Ok(match kind {
            LabKind::Namespaces => Self::Netns(Box::new(
                NetnsRegion::start(ca, origin, region, scale).await?,
            )),
            LabKind::Relays { .. } => Self::Relay(Box::new(
                RegionLab::start(ca, origin, RegionPaths::of(region, scale)).await?,
            )),
        })
    }

    pub fn resolver(&self) -> SocketAddr {
        match self {
            Self::Relay(lab) => lab.resolver(),
            Self::Netns(lab) => lab.resolver(),
        }
    }

    pub fn origin_url(&self, path: &str) -> String {
        match self {
            Self::Relay(lab) => lab.origin_url(path),
            Self::Netns(lab) => lab.origin_url(path),
        }
    }

    pub fn edge_url(&self, path: &str) -> String {
        match self {
            Self::Relay(lab) => lab.edge_url(path),
            Self::Netns(lab) => lab.edge_url(path),
        }
    }

    /// Where the hosts live, for the terminal: the namespace lab's addresses and namespaces
    /// (inodes, so that anyone can check with `lsns -t net` that none outlives the lab).
    pub fn hosts(&self) -> String {
        use super::netns::region::{CLIENT, EDGE, ORIGIN};
        match self {
            Self::Relay(_) => "hosts: loopback ports of this process".into(),
            Self::Netns(lab) => {
                let inodes: Vec<String> = lab
                    .namespace_inodes()
                    .iter()
                    .map(|inode| format!("net:[{inode}]"))
                    .collect();
                format!(
                    "hosts: client {CLIENT}, origin {ORIGIN}, edge {EDGE} in namespaces {}",
                    inodes.join(" ")
                )
            }
        }
    }

    pub fn edge_counts(&self) -> EdgeCounts {
        match self {
            Self::Relay(lab) => lab.edge_counts(),
            Self::Netns(lab) => lab.edge_counts(),
        }
    }

    /// Runs `work` where the probe belongs: on a thread inside the client's namespace with a
    /// runtime of its own (namespace lab), or on the caller's runtime (relay lab).
    pub async fn on_client<T, F, Fut>(&self, work: F) -> anyhow::Result<T>
    where
        T: Send + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<T>>,
    {
        match self {
            Self::Relay(_) => work().await,
            Self::Netns(lab) => {
                let (done, result) = tokio::sync::oneshot::channel();
                lab.client().spawn("lab-client", move || {
                    let outcome = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .map_err(anyhow::Error::from)
                        .and_then(|runtime| runtime.block_on(work()));
                    let _ = done.send(outcome);
                })?;
                result.await?
            }
        }
    }

    /// Stops the lab; for the namespace lab, says what the router saw.
    pub async fn shutdown(self) -> Option<super::netns::router::RouterReport> {
        match self {
            Self::Relay(lab) => {
                lab.shutdown().await;
                None
            }
            Self::Netns(lab) => Some(lab.shutdown().await),
        }
    }
}

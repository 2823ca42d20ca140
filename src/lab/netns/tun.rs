//! A TUN device inside a lab namespace: the namespace's only way out, wired to the router.
//!
//! Every IP packet the namespace's kernel sends to another lab host goes into the TUN device
//! and comes out of its file descriptor in the lab process; packets the router writes to the
//! descriptor arrive in the namespace as if received from the wire.

use std::net::Ipv4Addr;
use std::time::Duration;

use super::namespace::{Namespace, NamespaceError};

/// The device's name inside every lab namespace (each namespace has its own).
pub const TUN_NAME: &str = "lab0";
/// An Ethernet-sized MTU, so TCP's segments, windows and losses count packets as on the
/// Internet paths the lab stands for (a larger MTU would make each "packet" cheaper to route
/// but would change the bandwidth-delay product in packets).
pub const MTU: u16 = 1500;
/// Every lab host sits in this /24; the router forwards between them by destination address.
pub const PREFIX_LEN: u8 = 24;

/// A TUN device whose descriptor the router reads and writes, non-blocking.
pub type TunDevice = tun::Device;

/// Creates the TUN device of `namespace` with `address`/24, up, and a route to the other lab
/// hosts whose minimum retransmission timeout is `rto_min` (the kernel's 200 ms divided by the
/// time scale: the timer is part of TCP's dynamics and must shrink with every other delay).
pub fn open_in(
    namespace: &Namespace,
    address: Ipv4Addr,
    rto_min: Duration,
) -> Result<TunDevice, NamespaceError> {
    let device = namespace.run(move || {
        let mut config = tun::Configuration::default();
        config
            .tun_name(TUN_NAME)
            .address(address)
            .netmask(Ipv4Addr::from(u32::MAX << (32 - PREFIX_LEN)))
            .mtu(MTU)
            .up();
        let device = tun::create(&config).map_err(|error| NamespaceError::Io {
            context: format!("creating TUN device {TUN_NAME}"),
            source: std::io::Error::other(error),
        })?;
        device.set_nonblock().map_err(|source| NamespaceError::Io {
            context: "making the TUN device non-blocking".into(),
            source,
        })?;
        Ok(device)
    })?;
    let network = Ipv4Addr::from(address.to_bits() & (u32::MAX << (32 - PREFIX_LEN)));
    let rto_ms = format!("{}ms", rto_min.as_millis().max(1));
    namespace.ip(&[
        "route",
        "replace",
        &format!("{network}/{PREFIX_LEN}"),
        "dev",
        TUN_NAME,
        "rto_min",
        &rto_ms,
    ])?;
    Ok(device)
}

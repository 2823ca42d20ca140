//! Who may reach the endpoints. The exporter serves plain HTTP without authentication, as the
//! Prometheus exporters do without a `--web.config.file`; no Rust crate implements the
//! exporter-toolkit's web configuration (basic auth with bcrypt hashes, TLS), so instead of a
//! partial copy the exporter listens on loopback by default and says so loudly when bound
//! wider. To expose it, put it behind a TLS-terminating reverse proxy with authentication
//! (README, "Continuous monitoring").

use std::net::SocketAddr;

/// One line for stderr when `address` is reachable from other machines.
pub fn exposure_warning(address: SocketAddr) -> Option<String> {
    if address.ip().is_loopback() {
        return None;
    }
    Some(format!(
        "cdnprobe exporter: warning: listening on {address}, beyond loopback, without TLS or \
         authentication: anyone who reaches this port can read the metrics and trigger probes \
         of the configured targets; put a reverse proxy with TLS and basic auth in front"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_quiet_and_anything_wider_is_warned_about() {
        assert_eq!(exposure_warning("127.0.0.1:9516".parse().unwrap()), None);
        assert_eq!(exposure_warning("[::1]:9516".parse().unwrap()), None);
        let wide = exposure_warning("0.0.0.0:9516".parse().unwrap()).unwrap();
        assert!(
            wide.contains("0.0.0.0:9516") && wide.contains("without TLS"),
            "{wide}"
        );
        assert!(exposure_warning("[::]:9516".parse().unwrap()).is_some());
    }
}

//! The DNS phase: a lookup with hickory-resolver that never answers from a cache, so every
//! sample pays for the lookup a first-time viewer pays for.

use std::net::{IpAddr, SocketAddr};

use hickory_resolver::config::{
    LookupIpStrategy, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::NetError;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::{Resolver, TokioResolver};

/// Which address families to look up and connect to (`-4`, `-6`, or both).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum IpFamily {
    /// IPv4 addresses first, then IPv6 (hickory's default).
    #[default]
    Any,
    V4,
    V6,
}

impl IpFamily {
    pub fn allows(self, ip: IpAddr) -> bool {
        match self {
            IpFamily::Any => true,
            IpFamily::V4 => ip.is_ipv4(),
            IpFamily::V6 => ip.is_ipv6(),
        }
    }
}

/// Where lookups go: the system's configuration, or the `--resolver` servers.
#[derive(Debug, Clone)]
pub struct DnsSettings {
    config: ResolverConfig,
    options: ResolverOpts,
}

impl DnsSettings {
    /// The system configuration (`/etc/resolv.conf`, `/etc/hosts`), read once per run.
    pub fn system(family: IpFamily) -> Result<Self, NetError> {
        let (config, options) = hickory_resolver::system_conf::read_system_conf()?;
        Ok(Self::new(config, options, family))
    }

    /// Only these name servers (UDP, falling back to TCP), and no hosts file: the user asked
    /// for these servers.
    pub fn servers(servers: &[SocketAddr], family: IpFamily) -> Self {
        let name_servers = servers
            .iter()
            .map(|server| {
                let mut config = NameServerConfig::udp_and_tcp(server.ip());
                for connection in &mut config.connections {
                    connection.port = server.port();
                }
                config
            })
            .collect();
        let mut options = ResolverOpts::default();
        options.use_hosts_file = ResolveHosts::Never;
        Self::new(
            ResolverConfig::from_name_servers(name_servers),
            options,
            family,
        )
    }

    fn new(config: ResolverConfig, mut options: ResolverOpts, family: IpFamily) -> Self {
        options.cache_size = 0;
        options.ip_strategy = match family {
            IpFamily::Any => LookupIpStrategy::Ipv4thenIpv6,
            IpFamily::V4 => LookupIpStrategy::Ipv4Only,
            IpFamily::V6 => LookupIpStrategy::Ipv6Only,
        };
        Self { config, options }
    }

    /// The first name server on this machine (127.0.0.53 of systemd-resolved, a local dnsmasq):
    /// such a server caches answers itself, so only the first lookup of a name leaves it.
    pub fn local_name_server(&self) -> Option<IpAddr> {
        self.config
            .name_servers()
            .iter()
            .map(|server| server.ip)
            .find(IpAddr::is_loopback)
    }

    /// The settings a `resolv.conf` with this text gives, as [`DnsSettings::system`] reads it.
    #[cfg(test)]
    pub(crate) fn from_resolv_conf(text: &str) -> Self {
        let (config, options) = hickory_resolver::system_conf::parse_resolv_conf(text).unwrap();
        Self::new(config, options, IpFamily::Any)
    }

    /// A resolver with nothing cached and no open connections, built before the clock starts.
    pub fn fresh_resolver(&self) -> Result<TokioResolver, NetError> {
        Resolver::builder_with_config(self.config.clone(), TokioRuntimeProvider::default())
            .with_options(self.options.clone())
            .build()
    }
}

/// `IP` or `IP:PORT` (`[v6]:PORT` for IPv6 with a port); port 53 when not given.
pub fn parse_server(text: &str) -> Option<SocketAddr> {
    text.parse::<SocketAddr>()
        .ok()
        .or_else(|| Some(SocketAddr::new(text.parse().ok()?, 53)))
}

/// Looks `host` up; the addresses in the resolver's order.
pub async fn lookup(resolver: &TokioResolver, host: &str) -> Result<Vec<IpAddr>, NetError> {
    // A trailing dot makes the name absolute: no search-domain queries inflate the timing.
    let absolute = if host.ends_with('.') {
        host.to_string()
    } else {
        format!("{host}.")
    };
    let found = resolver.lookup_ip(absolute.as_str()).await?;
    Ok(found.iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loopback_name_server_is_found_as_local() {
        let settings = DnsSettings::from_resolv_conf("nameserver 127.0.0.53\noptions edns0\n");
        assert_eq!(settings.local_name_server(), Some([127, 0, 0, 53].into()));
        let settings = DnsSettings::from_resolv_conf("nameserver 10.0.0.2\nnameserver ::1\n");
        assert_eq!(
            settings.local_name_server(),
            Some(std::net::Ipv6Addr::LOCALHOST.into())
        );
    }

    #[test]
    fn a_remote_name_server_is_not_local() {
        let settings = DnsSettings::from_resolv_conf("nameserver 10.255.255.53\n");
        assert_eq!(settings.local_name_server(), None);
    }

    #[test]
    fn resolver_address_defaults_to_port_53() {
        assert_eq!(
            parse_server("10.0.0.2"),
            Some("10.0.0.2:53".parse().unwrap())
        );
        assert_eq!(parse_server("::1"), Some("[::1]:53".parse().unwrap()));
    }

    #[test]
    fn resolver_address_keeps_a_given_port() {
        assert_eq!(
            parse_server("127.0.0.1:5353"),
            Some("127.0.0.1:5353".parse().unwrap())
        );
        assert_eq!(
            parse_server("[::1]:5353"),
            Some("[::1]:5353".parse().unwrap())
        );
    }

    #[test]
    fn resolver_address_that_is_a_name_is_rejected() {
        assert_eq!(parse_server("dns.google"), None);
    }
}

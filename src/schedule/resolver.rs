//! Which DNS servers the probe asks, and the warning when the system's is a local cache.

use crate::error::UsageError;
use crate::probe::{DnsSettings, IpFamily, dns};

pub fn dns_settings(
    from_flags: &[String],
    from_config: &[String],
    family: IpFamily,
    needs_dns: bool,
) -> Result<(DnsSettings, Option<String>), UsageError> {
    let given = if from_flags.is_empty() {
        from_config
    } else {
        from_flags
    };
    if given.is_empty() && needs_dns {
        let system = DnsSettings::system(family).map_err(|e| {
            UsageError::new(format!(
                "reading the system DNS configuration: {e} (give --resolver IP)"
            ))
        })?;
        let warning = local_cache_warning(&system);
        return Ok((system, warning));
    }
    let servers = given
        .iter()
        .map(|text| {
            dns::parse_server(text).ok_or_else(|| {
                UsageError::new(format!("--resolver {text:?}: expected IP or IP:PORT"))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((DnsSettings::servers(&servers, family), None))
}

/// The system resolver on this machine answers every lookup after the first from its own
/// cache, however fresh the probe's resolver is: `dns_ms` would not be a first-time viewer's.
fn local_cache_warning(system: &DnsSettings) -> Option<String> {
    let server = system.local_name_server()?;
    Some(format!(
        "cdnprobe: warning: the system resolver {server} is a cache on this machine, so dns_ms \
         after the first sample times its cache, not a first-time viewer's lookup; \
         give --resolver <upstream IP> to time real lookups"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_local_system_resolver_is_warned_about_naming_it_and_the_way_out() {
        let systemd = DnsSettings::from_resolv_conf("nameserver 127.0.0.53\n");
        let warning = local_cache_warning(&systemd).unwrap();
        assert!(warning.contains("127.0.0.53"), "{warning}");
        assert!(warning.contains("--resolver <upstream IP>"), "{warning}");
        assert_eq!(warning.lines().count(), 1, "{warning}");
        let remote = DnsSettings::from_resolv_conf("nameserver 10.255.255.53\n");
        assert_eq!(local_cache_warning(&remote), None);
    }

    #[test]
    fn a_resolver_the_user_gave_is_never_warned_about_even_on_loopback() {
        let given = ["127.0.0.1:5353".to_string()];
        let (_, warning) = dns_settings(&given, &[], IpFamily::Any, true).unwrap();
        assert_eq!(warning, None);
        let (_, warning) = dns_settings(&[], &given, IpFamily::Any, true).unwrap();
        assert_eq!(warning, None);
    }

    #[test]
    fn targets_by_ip_address_are_never_warned_about() {
        let (_, warning) = dns_settings(&[], &[], IpFamily::Any, false).unwrap();
        assert_eq!(warning, None);
    }
}

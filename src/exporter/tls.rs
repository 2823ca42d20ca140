//! TLS facts as metrics: the certificate expiry gauge of `/metrics`, and the values `/probe`
//! gives the blackbox exporter's `probe_ssl_earliest_cert_expiry` and `probe_tls_version_info`.
//!
//! A target without a certificate (plain HTTP, or a handshake that failed before the server's
//! certificate was read) has no expiry series at all rather than one at zero: the alert
//! `expiry - time() < 14 days` would fire on a zero.

use prometheus_client::metrics::family::Family;
use prometheus_client::registry::{Registry, Unit};

use super::metrics::{FloatGauge, TargetLabels};
use crate::sample::Sample;

pub struct CertificateMetrics {
    expiry: Family<TargetLabels, FloatGauge>,
}

impl CertificateMetrics {
    /// Registers the certificate families in `registry` (whose prefix is `cdnprobe`).
    pub fn register(registry: &mut Registry) -> Self {
        let expiry = Family::<TargetLabels, FloatGauge>::default();
        registry.register_with_unit(
            "tls_cert_expiry_timestamp",
            "When the leaf certificate of the last probe that received one expires (Unix time)",
            Unit::Seconds,
            expiry.clone(),
        );
        Self { expiry }
    }

    /// Sets the target's expiry when this sample saw a certificate; leaves it as it was when not.
    pub fn record(&self, labels: &TargetLabels, sample: &Sample) {
        if let Some(seconds) = expiry_seconds(sample) {
            self.expiry.get_or_create(labels).set(seconds);
        }
    }
}

/// The leaf certificate's not-after as Unix seconds; `None` when the sample saw no certificate.
pub fn expiry_seconds(sample: &Sample) -> Option<f64> {
    let at = chrono::DateTime::parse_from_rfc3339(&sample.cert_expires_at).ok()?;
    Some(at.timestamp() as f64)
}

/// The blackbox exporter's `version` label for the sample's TLS version (`TLS 1.3`, as Go's
/// `crypto/tls` names them); `None` over plain HTTP.
pub fn version_name(sample: &Sample) -> Option<&'static str> {
    Some(match sample.tls_version.as_str() {
        "" => return None,
        "1.0" => "TLS 1.0",
        "1.1" => "TLS 1.1",
        "1.2" => "TLS 1.2",
        "1.3" => "TLS 1.3",
        _ => "unknown",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_expiry_is_the_rfc_3339_not_after_in_unix_seconds() {
        let sample = Sample {
            cert_expires_at: "2031-05-18T12:00:00Z".into(),
            ..Sample::default()
        };
        assert_eq!(expiry_seconds(&sample), Some(1_936_872_000.0));
        assert_eq!(expiry_seconds(&Sample::default()), None);
    }

    #[test]
    fn tls_versions_take_the_blackbox_names_from_a_fixed_set() {
        let version = |v: &str| {
            version_name(&Sample {
                tls_version: v.into(),
                ..Sample::default()
            })
        };
        assert_eq!(version("1.3"), Some("TLS 1.3"));
        assert_eq!(version("1.2"), Some("TLS 1.2"));
        assert_eq!(version("TLSv9_9"), Some("unknown"));
        assert_eq!(version(""), None);
    }
}

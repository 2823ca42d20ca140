//! The two text formats of a scrape. `prometheus-client` writes OpenMetrics, which Prometheus
//! asks for; clients that do not (curl, `promtool check metrics`, older scrapers) get the
//! classic Prometheus text format (0.0.4), as Go exporters answer them.
//!
//! The two differ, for what this exporter serves, only in the metadata: OpenMetrics names a
//! counter family without `_total` and adds `# UNIT` and `# EOF` lines; the samples are the same.

use bytes::Bytes;
use flate2::Compression;

/// OpenMetrics, for a client whose `Accept` names it.
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// The classic text format, for everyone else.
pub const CLASSIC: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Prometheus's protobuf format (length-delimited `MetricFamily` messages), which Prometheus
/// asks for first when its native histograms are on.
pub const PROTOBUF: &str =
    "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";

/// Whether the `Accept` header takes the protobuf format.
pub fn wants_protobuf(accept: Option<&str>) -> bool {
    offered(accept, |name, params| {
        name == "application/vnd.google.protobuf"
            && params.contains(&"proto=io.prometheus.client.MetricFamily")
            && params.contains(&"encoding=delimited")
    })
}

/// Whether the `Accept` header asks for OpenMetrics.
pub fn wants_openmetrics(accept: Option<&str>) -> bool {
    accept.is_some_and(|accept| accept.contains("application/openmetrics-text"))
}

/// Whether `Accept-Encoding` takes gzip (Prometheus always sends `gzip`); `gzip;q=0` refuses it.
pub fn accepts_gzip(accept_encoding: Option<&str>) -> bool {
    offered(accept_encoding, |name, _| {
        name.eq_ignore_ascii_case("gzip") || name == "*"
    })
}

/// Whether a comma-separated header (`Accept`, `Accept-Encoding`) lists an element that
/// `matches` (its name and its `;` parameters, trimmed) and does not refuse it with `q=0`.
fn offered(header: Option<&str>, matches: impl Fn(&str, &[&str]) -> bool) -> bool {
    header.is_some_and(|value| {
        value.split(',').any(|element| {
            let mut parts = element.split(';').map(str::trim);
            let name = parts.next().unwrap_or("");
            let params: Vec<&str> = parts.collect();
            let refused = params.iter().any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            matches(name, &params) && !refused
        })
    })
}

/// A body compressed with gzip at the fastest level: a scrape body is repetitive text that
/// shrinks some twentyfold even so, and it is made once a second.
pub fn gzip(body: &[u8]) -> Bytes {
    use std::io::Write;
    let mut encoder =
        flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 8), Compression::fast());
    encoder.write_all(body).expect("writing to memory");
    Bytes::from(encoder.finish().expect("writing to memory"))
}

/// The classic text format of an OpenMetrics exposition.
pub fn classic(openmetrics: &str) -> String {
    let mut out = String::with_capacity(openmetrics.len());
    let mut counters: Vec<&str> = Vec::new();
    for line in openmetrics.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ")
            && let Some(name) = rest.strip_suffix(" counter")
        {
            counters.push(name);
        }
    }
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let renamed = ["# HELP ", "# TYPE "].iter().find_map(|prefix| {
            let rest = line.strip_prefix(prefix)?;
            let (name, tail) = rest.split_once(' ')?;
            counters
                .contains(&name)
                .then(|| format!("{prefix}{name}_total {tail}"))
        });
        match renamed {
            Some(renamed) => out.push_str(&renamed),
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_get_their_total_name_and_openmetrics_only_lines_go() {
        let openmetrics = "# HELP x_samples Probes.\n# TYPE x_samples counter\n\
                           x_samples_total{a=\"b\"} 3\n# HELP x_d Duration.\n# TYPE x_d gauge\n\
                           # UNIT x_d seconds\nx_d 0.5\n# EOF\n";
        assert_eq!(
            classic(openmetrics),
            "# HELP x_samples_total Probes.\n# TYPE x_samples_total counter\n\
             x_samples_total{a=\"b\"} 3\n# HELP x_d Duration.\n# TYPE x_d gauge\nx_d 0.5\n"
        );
    }

    #[test]
    fn gzip_is_taken_when_offered_and_not_refused() {
        assert!(accepts_gzip(Some("gzip")));
        assert!(accepts_gzip(Some("br, GZIP;q=0.5")));
        assert!(accepts_gzip(Some("*")));
        assert!(!accepts_gzip(Some("gzip;q=0")));
        assert!(!accepts_gzip(Some("identity, br")));
        assert!(!accepts_gzip(None));
    }

    #[test]
    fn prometheus_with_native_histograms_gets_protobuf() {
        let native = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert!(wants_protobuf(Some(native)));
        let plain = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5";
        assert!(!wants_protobuf(Some(plain)));
        assert!(!wants_protobuf(None));
    }

    #[test]
    fn prometheus_accept_header_gets_openmetrics() {
        let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert!(wants_openmetrics(Some(prometheus)));
        assert!(!wants_openmetrics(Some("*/*")));
        assert!(!wants_openmetrics(None));
    }
}

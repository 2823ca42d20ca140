//! Prometheus metrics: requests by route and status, request latency, bytes served and uploaded.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Labels from fixed sets only (a route name, a known method or `other`, a status), so no
/// client can make the series grow without bound.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct RequestLabels {
    pub route: &'static str,
    pub method: &'static str,
    pub status: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: &'static str,
}

pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    /// Time to the response head; a video body streams on after it.
    pub request_seconds: Family<RouteLabels, Histogram>,
    pub bytes_served: Counter,
    pub bytes_uploaded: Counter,
    pub connections_open: Gauge,
    pub connections_shed: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        let requests = Family::<RequestLabels, Counter>::default();
        let request_seconds = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            // 100 µs to about 3 s.
            Histogram::new(exponential_buckets(0.0001, 2.0, 16))
        });
        let bytes_served = Counter::default();
        let bytes_uploaded = Counter::default();
        let mut registry = Registry::with_prefix("cdnprobe");
        registry.register(
            "http_requests",
            "HTTP requests by route, method and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time from request to response head, by route",
            request_seconds.clone(),
        );
        registry.register(
            "video_bytes_served",
            "Video bytes sent to clients",
            bytes_served.clone(),
        );
        registry.register(
            "video_bytes_uploaded",
            "Request body bytes received by uploads",
            bytes_uploaded.clone(),
        );
        let connections_open = Gauge::default();
        registry.register(
            "connections_open",
            "Client connections open now",
            connections_open.clone(),
        );
        let connections_shed = Counter::default();
        registry.register(
            "connections_shed",
            "Connections answered 503 and closed because --max-connections were open",
            connections_shed.clone(),
        );
        Self {
            registry,
            connections_open,
            connections_shed,
            requests,
            request_seconds,
            bytes_served,
            bytes_uploaded,
        }
    }
}

impl Metrics {
    /// The Prometheus / OpenMetrics text exposition.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String");
        text
    }
}

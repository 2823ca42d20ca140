//! The exporter's HTTP endpoints: `/metrics`, `/probe?target=LABEL`, `/healthz`, and a page at
//! `/` that links them, served with hyper (HTTP/1.1, as Prometheus scrapes).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use super::blackbox;
use super::encoder::{Encoder, Form, Format};
use super::exposition::{self, CLASSIC, OPENMETRICS, PROTOBUF};
use super::probes::Probes;

/// How long open scrapes may take to finish after shutdown was asked for.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// What the endpoints read.
pub struct Endpoints {
    /// The `/metrics` bodies.
    pub encoder: Arc<Encoder>,
    pub probes: Arc<Probes>,
}

/// Serves until `shutdown` completes, then lets open requests finish (up to 5 s).
pub async fn serve(
    listener: TcpListener,
    endpoints: Arc<Endpoints>,
    shutdown: impl Future<Output = ()>,
) {
    let graceful = GracefulShutdown::new();
    let mut http = http1::Builder::new();
    // A client that opens a connection and sends nothing does not hold it forever.
    http.timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(10));
    tokio::pin!(shutdown);
    loop {
        let socket = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((socket, _peer)) => socket,
                Err(error) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = socket.set_nodelay(true);
        let endpoints = endpoints.clone();
        let service = service_fn(move |request| {
            let endpoints = endpoints.clone();
            async move { Ok::<_, Infallible>(handle(&endpoints, request).await) }
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(socket), service));
        tokio::spawn(async move {
            let _ = connection.await;
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("scrapes still open after {SHUTDOWN_GRACE:?}; closing them");
    }
}

async fn handle(endpoints: &Endpoints, request: Request<Incoming>) -> Response<Full<Bytes>> {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return text(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD\n");
    }
    let header_text = |name| request.headers().get(name).and_then(|v| v.to_str().ok());
    let openmetrics = exposition::wants_openmetrics(header_text(header::ACCEPT));
    match request.uri().path() {
        "/metrics" => {
            let format = if exposition::wants_protobuf(header_text(header::ACCEPT)) {
                Format::Protobuf
            } else if openmetrics {
                Format::OpenMetrics
            } else {
                Format::Classic
            };
            let form = Form {
                format,
                gzip: exposition::accepts_gzip(header_text(header::ACCEPT_ENCODING)),
            };
            let content_type = match format {
                Format::Protobuf => PROTOBUF,
                Format::OpenMetrics => OPENMETRICS,
                Format::Classic => CLASSIC,
            };
            let mut response =
                respond(StatusCode::OK, content_type, endpoints.encoder.scrape(form));
            let headers = response.headers_mut();
            headers.insert(
                header::VARY,
                header::HeaderValue::from_static("accept, accept-encoding"),
            );
            if form.gzip {
                headers.insert(
                    header::CONTENT_ENCODING,
                    header::HeaderValue::from_static("gzip"),
                );
            }
            response
        }
        "/probe" => probe(endpoints, request.uri().query().unwrap_or(""), openmetrics).await,
        "/healthz" => text(StatusCode::OK, "ok\n"),
        "/" => text(StatusCode::OK, INDEX),
        _ => text(StatusCode::NOT_FOUND, "not found: try /metrics\n"),
    }
}

const INDEX: &str = "cdnprobe exporter\n\n\
    /metrics              samples of the scheduled probes\n\
    /probe?target=LABEL   one probe of a configured target (blackbox exporter names)\n\
    /healthz              ok while serving\n";

/// One probe of a configured target. Anything but a label from the config is refused before
/// any connection is made: this endpoint must never fetch a URL a client chose.
async fn probe(endpoints: &Endpoints, query: &str, openmetrics: bool) -> Response<Full<Bytes>> {
    let mut wanted = None;
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        if key == "target" {
            if wanted.is_some() {
                return text(StatusCode::BAD_REQUEST, "give target= once\n");
            }
            wanted = Some(value.into_owned());
        }
    }
    let Some(wanted) = wanted else {
        return text(
            StatusCode::BAD_REQUEST,
            "missing ?target=LABEL (a target label from the config)\n",
        );
    };
    let Some(index) = endpoints.probes.index_of(&wanted) else {
        // The value is not echoed: it may be a URL someone hoped this server would fetch.
        return text(
            StatusCode::BAD_REQUEST,
            "unknown target: /probe only probes target labels from the config\n",
        );
    };
    let started = Instant::now();
    match endpoints.probes.probe_on_demand(index).await {
        Some(sample) => exposed(openmetrics, blackbox::render(&sample, started.elapsed())),
        None => text(StatusCode::SERVICE_UNAVAILABLE, "shutting down\n"),
    }
}

/// An OpenMetrics exposition in the format the client asked for.
fn exposed(openmetrics: bool, text: String) -> Response<Full<Bytes>> {
    let body = if openmetrics {
        text
    } else {
        exposition::classic(&text)
    };
    respond(StatusCode::OK, content_type(openmetrics), Bytes::from(body))
}

fn content_type(openmetrics: bool) -> &'static str {
    if openmetrics { OPENMETRICS } else { CLASSIC }
}

fn text(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    respond(
        status,
        "text/plain; charset=utf-8",
        Bytes::from_static(body.as_bytes()),
    )
}

fn respond(status: StatusCode, content_type: &'static str, body: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(content_type),
    );
    response
}

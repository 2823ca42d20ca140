//! The routes of the API, and the shared state every request sees.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Empty, Full, combinators::UnsyncBoxBody};
use hyper::body::Incoming;
use serde::Serialize;

use crate::config::Args;
use crate::error::ApiError;
use crate::metrics::{Metrics, RequestLabels, RouteLabels};
use crate::storage::{Storage, VideoId, VideoRecord};
use crate::{stream, upload};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub type ResponseBody = UnsyncBoxBody<Bytes, BoxError>;

pub fn empty_body() -> ResponseBody {
    Empty::new()
        .map_err(|never: Infallible| match never {})
        .boxed_unsync()
}

pub fn full_body(bytes: Bytes) -> ResponseBody {
    Full::new(bytes)
        .map_err(|never: Infallible| match never {})
        .boxed_unsync()
}

pub struct App {
    pub args: Args,
    pub storage: Storage,
    pub metrics: Metrics,
}

const VIDEOS: &str = "/api/v1/videos/";

enum Route<'a> {
    Upload,
    Video(&'a str),
    Info(&'a str),
    Healthz,
    Metrics,
    Unknown,
}

impl Route<'_> {
    fn of(path: &str) -> Route<'_> {
        match path {
            "/healthz" => return Route::Healthz,
            "/metrics" => return Route::Metrics,
            _ => {}
        }
        let Some(rest) = path.strip_prefix(VIDEOS) else {
            return Route::Unknown;
        };
        match rest.split_once('/') {
            None if rest == "upload" => Route::Upload,
            None => Route::Video(rest),
            Some((id, "info")) => Route::Info(id),
            Some(_) => Route::Unknown,
        }
    }

    /// The `route` label of the metrics: a fixed set, whatever the ids.
    fn label(&self) -> &'static str {
        match self {
            Route::Upload => "upload",
            Route::Video(_) => "video",
            Route::Info(_) => "info",
            Route::Healthz => "healthz",
            Route::Metrics => "metrics",
            Route::Unknown => "unknown",
        }
    }
}

/// The `method` label of the metrics: the methods HTTP defines, and `other` for the rest, so a
/// client inventing methods cannot create series without end.
fn method_label(method: &Method) -> &'static str {
    const KNOWN: [Method; 9] = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::OPTIONS,
        Method::PATCH,
        Method::TRACE,
        Method::CONNECT,
    ];
    KNOWN
        .iter()
        .find(|known| *known == method)
        .map_or("other", |known| known.as_str())
}

/// One request in, one response out; errors become JSON here, and every request is counted.
pub async fn handle(app: Arc<App>, request: Request<Incoming>) -> Response<ResponseBody> {
    let started = Instant::now();
    let method = method_label(request.method());
    // Shares the request's bytes: kept for the error log after the request is handed on.
    let uri = request.uri().clone();
    let route = Route::of(uri.path());
    let label = route.label();
    let response = match route_request(&app, route, request).await {
        Ok(response) => response,
        Err(error) => {
            let path = uri.path();
            if error.status().is_server_error() {
                tracing::error!(%method, %path, %error, "request failed");
            } else {
                tracing::debug!(%method, %path, %error, "request refused");
            }
            error_response(&error)
        }
    };
    let labels = RequestLabels {
        route: label,
        method,
        status: response.status().as_u16(),
    };
    app.metrics.requests.get_or_create(&labels).inc();
    app.metrics
        .request_seconds
        .get_or_create(&RouteLabels { route: label })
        .observe(started.elapsed().as_secs_f64());
    response
}

async fn route_request(
    app: &App,
    route: Route<'_>,
    request: Request<Incoming>,
) -> Result<Response<ResponseBody>, ApiError> {
    let method = request.method();
    match route {
        Route::Upload => {
            allow(method, &[Method::POST], "POST")?;
            let base = server_base_url(app, &request);
            let record = upload::upload(app, request).await?;
            Ok(json_response(
                StatusCode::CREATED,
                &VideoInfo::new(app, &base, &record),
            ))
        }
        Route::Video(id) => {
            allow(method, &[Method::GET, Method::HEAD], "GET, HEAD")?;
            let record = app.storage.record(&parse_id(id)?).await?;
            Ok(stream::respond(
                &app.storage,
                &record,
                method,
                request.headers(),
                &app.metrics.bytes_served,
            ))
        }
        Route::Info(id) => {
            allow(method, &[Method::GET, Method::HEAD], "GET, HEAD")?;
            let record = app.storage.record(&parse_id(id)?).await?;
            let base = server_base_url(app, &request);
            Ok(json_response(
                StatusCode::OK,
                &VideoInfo::new(app, &base, &record),
            ))
        }
        Route::Healthz => {
            allow(method, &[Method::GET, Method::HEAD], "GET, HEAD")?;
            Ok(json_response(
                StatusCode::OK,
                &serde_json::json!({ "status": "ok" }),
            ))
        }
        Route::Metrics => {
            allow(method, &[Method::GET], "GET")?;
            let text = app.metrics.encode();
            Ok(Response::builder()
                .header(
                    header::CONTENT_TYPE,
                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                )
                .header(header::CONTENT_LENGTH, text.len())
                .body(full_body(Bytes::from(text)))
                .expect("valid metrics response"))
        }
        Route::Unknown => Err(ApiError::NotFound(format!(
            "no route for {}",
            request.uri().path()
        ))),
    }
}

fn allow(method: &Method, allowed: &[Method], allow: &'static str) -> Result<(), ApiError> {
    if allowed.contains(method) {
        Ok(())
    } else {
        Err(ApiError::MethodNotAllowed {
            method: method.to_string(),
            allow,
        })
    }
}

fn parse_id(text: &str) -> Result<VideoId, ApiError> {
    VideoId::parse(text).ok_or_else(|| {
        ApiError::BadRequest("invalid video id: expected the 32 hex digits the server gave".into())
    })
}

/// Where clients reach this server: --public-base-url, else http:// and the Host header.
fn server_base_url(app: &App, request: &Request<Incoming>) -> String {
    if let Some(base) = &app.args.public_base_url {
        return base.trim_end_matches('/').to_string();
    }
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .or_else(|| {
            request
                .uri()
                .authority()
                .map(|authority| authority.as_str())
        })
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// The JSON of a video, as the upload answers it and `/info` repeats it.
#[derive(Serialize)]
pub struct VideoInfo<'a> {
    #[serde(flatten)]
    record: &'a VideoRecord,
    urls: Urls,
}

#[derive(Serialize)]
struct Urls {
    stream: String,
    info: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    s3: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cdn: Option<String>,
}

impl<'a> VideoInfo<'a> {
    fn new(app: &App, base: &str, record: &'a VideoRecord) -> Self {
        let stream = format!("{base}{VIDEOS}{}", record.id);
        // S3 and CloudFront (with an S3 origin) address an object by its key under the base URL.
        let object_url = |base: &Option<String>| {
            base.as_ref()
                .map(|base| format!("{}/{}", base.trim_end_matches('/'), record.key))
        };
        Self {
            record,
            urls: Urls {
                info: format!("{stream}/info"),
                stream,
                s3: object_url(&app.args.s3_public_base_url),
                cdn: object_url(&app.args.cdn_base_url),
            },
        }
    }
}

fn json_response(status: StatusCode, value: &impl Serialize) -> Response<ResponseBody> {
    let mut json = serde_json::to_vec_pretty(value).expect("JSON serialises");
    json.push(b'\n');
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_LENGTH, json.len())
        .body(full_body(Bytes::from(json)))
        .expect("valid JSON response")
}

fn error_response(error: &ApiError) -> Response<ResponseBody> {
    let mut response = json_response(error.status(), &error.body());
    let headers = response.headers_mut();
    match error {
        ApiError::Unauthorized(_) => {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        ApiError::MethodNotAllowed { allow, .. } => {
            headers.insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        ApiError::Storage(_) | ApiError::StoreTimeout(_) if error.status().is_server_error() => {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        _ => {}
    }
    response
}

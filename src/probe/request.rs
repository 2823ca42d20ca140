//! The request a probe sends: a GET as curl sends it, in the form each HTTP version wants.

use ::http::{HeaderMap, HeaderValue, Request, header};
use url::Url;

/// A GET as curl sends it: `User-Agent`, `Accept: */*`, no compression (so `bytes` is the
/// size on the wire), then the user's headers, which win.
pub(super) fn build_request(
    url: &Url,
    extra_headers: &HeaderMap,
    version: ::http::Version,
) -> Request<()> {
    let mut request = Request::new(());
    *request.version_mut() = version;
    let host = url.host_str().unwrap_or_default();
    let authority = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    };
    // HTTP/1.1 takes the path and a Host header; HTTP/2 and 3 the absolute URI (:authority).
    let multiplexed = matches!(version, ::http::Version::HTTP_2 | ::http::Version::HTTP_3);
    let uri = if multiplexed {
        format!("{}://{authority}{}", url.scheme(), path_and_query(url))
    } else {
        path_and_query(url).to_string()
    };
    *request.uri_mut() = uri.parse().unwrap_or_default();
    let headers = request.headers_mut();
    if !multiplexed && let Ok(value) = HeaderValue::try_from(authority) {
        headers.insert(header::HOST, value);
    }
    headers.insert(header::USER_AGENT, HeaderValue::from_static(USER_AGENT));
    headers.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
    for (name, value) in extra_headers {
        headers.insert(name, value.clone());
    }
    request
}

const USER_AGENT: &str = concat!("cdnprobe/", env!("CARGO_PKG_VERSION"));

fn path_and_query(url: &Url) -> &str {
    &url[url::Position::BeforePath..url::Position::AfterQuery]
}

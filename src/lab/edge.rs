//! A caching edge (CDN emulation): serves hits from memory, fetches misses over the far path,
//! says X-Cache/Age/POP.
//!
//! It answers the way CloudFront does for an S3 origin, so the probe reads it as it would read
//! CloudFront: the first fetch of an object is a miss (`X-Cache: Miss from cloudfront`), fetched
//! whole from the origin — through whatever far [`super::link::Link`] the lab puts in front of
//! it — and kept in memory; later fetches are hits (`X-Cache: Hit from cloudfront`, with `Age`)
//! served without touching the origin. Every answer names the POP (`x-amz-cf-pop`). Single byte
//! ranges are cut from the cached object (206, `Content-Range`); multiple or malformed ranges get
//! the whole object, as CloudFront and S3 do. `Content-Length` is always sent, never chunked.
//!
//! The cache key is the path with its query string, so a probe's `--cache-bust` parameter forces
//! a miss, as it does on a distribution that forwards query strings.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpStream;

use super::listening::Listening;
pub use super::upstream::OriginError;
use super::upstream::Upstream;

/// How many requests the edge answered from its cache and how many it sent to the origin.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EdgeCounts {
    pub hits: u64,
    pub misses: u64,
}

/// A running edge. Dropping it stops the listener and every connection.
#[derive(Debug)]
pub struct Edge {
    listening: Listening,
    state: Arc<EdgeState>,
}

impl Edge {
    /// Serves plain HTTP (1.1 and h2) on a free port of 127.0.0.1, fetching misses from the
    /// plain-HTTP `origin` and naming itself `pop` (for example `AKL50-C1`).
    pub async fn start(origin: SocketAddr, pop: &str) -> std::io::Result<Self> {
        Self::start_with(Upstream::tcp(origin), pop).await
    }

    /// As [`Edge::start`], fetching misses through `upstream` (already warm, or opened on the
    /// first miss).
    pub async fn start_with(upstream: Upstream, pop: &str) -> std::io::Result<Self> {
        let state = Arc::new(EdgeState {
            upstream,
            pop: HeaderValue::from_str(pop)
                .map_err(|_| std::io::Error::other(format!("bad POP name {pop:?}")))?,
            cache: Mutex::default(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        });
        let shared = state.clone();
        let listening = Listening::start(move |stream| serve(stream, shared.clone())).await?;
        Ok(Self { listening, state })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listening.local_addr()
    }

    pub fn counts(&self) -> EdgeCounts {
        EdgeCounts {
            hits: self.state.hits.load(Ordering::Relaxed),
            misses: self.state.misses.load(Ordering::Relaxed),
        }
    }
}

#[derive(Debug)]
struct EdgeState {
    upstream: Upstream,
    pop: HeaderValue,
    cache: Mutex<HashMap<String, Arc<CachedObject>>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// An origin response as the edge keeps it.
#[derive(Debug)]
struct CachedObject {
    status: StatusCode,
    /// End-to-end headers from the origin (no hop-by-hop headers, no Content-Length).
    headers: HeaderMap,
    body: Bytes,
    stored_at: Instant,
}

async fn serve(stream: TcpStream, state: Arc<EdgeState>) {
    let service = service_fn(move |request| answer(state.clone(), request));
    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

type EdgeResponse = Response<Full<Bytes>>;

async fn answer(
    state: Arc<EdgeState>,
    request: Request<Incoming>,
) -> Result<EdgeResponse, Infallible> {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        // A distribution that allows only GET and HEAD answers other methods with 403.
        return Ok(edge_error(
            &state,
            StatusCode::FORBIDDEN,
            "method not allowed",
        ));
    }
    let key = request
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let cached = state
        .cache
        .lock()
        .expect("edge cache lock")
        .get(&key)
        .cloned();
    let (object, x_cache) = match cached {
        Some(object) => {
            state.hits.fetch_add(1, Ordering::Relaxed);
            (object, "Hit from cloudfront")
        }
        None => {
            state.misses.fetch_add(1, Ordering::Relaxed);
            let object = match fetch_from_origin(&state.upstream, &key).await {
                Ok(object) => Arc::new(object),
                Err(error) => {
                    tracing::debug!(%error, "edge miss failed");
                    return Ok(edge_error(
                        &state,
                        StatusCode::BAD_GATEWAY,
                        "origin unreachable",
                    ));
                }
            };
            if is_cacheable(&object) {
                state
                    .cache
                    .lock()
                    .expect("edge cache lock")
                    .insert(key, object.clone());
            }
            let x_cache = if object.status.is_success() {
                "Miss from cloudfront"
            } else {
                "Error from cloudfront"
            };
            (object, x_cache)
        }
    };
    let mut response = respond_from(&object, request.headers(), request.method() == Method::HEAD);
    let headers = response.headers_mut();
    headers.insert("x-cache", HeaderValue::from_static(x_cache));
    headers.insert("x-amz-cf-pop", state.pop.clone());
    headers.insert(header::VIA, HeaderValue::from_static(VIA));
    if x_cache.starts_with("Hit") {
        headers.insert(header::AGE, object.stored_at.elapsed().as_secs().into());
    }
    Ok(response)
}

const VIA: &str = "1.1 lab-edge.cloudfront.net (CloudFront)";

fn edge_error(state: &EdgeState, status: StatusCode, message: &'static str) -> EdgeResponse {
    let mut response = Response::new(Full::new(Bytes::from_static(message.as_bytes())));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    headers.insert("x-cache", HeaderValue::from_static("Error from cloudfront"));
    headers.insert("x-amz-cf-pop", state.pop.clone());
    response
}

/// Fetches the whole object (never a range: the cache keeps whole objects) on the edge's warm
/// connection to the origin.
async fn fetch_from_origin(upstream: &Upstream, key: &str) -> Result<CachedObject, OriginError> {
    let fetched = upstream.get(key).await?;
    Ok(CachedObject {
        status: fetched.status,
        headers: end_to_end(fetched.headers),
        body: fetched.body,
        stored_at: Instant::now(),
    })
}

/// Drops hop-by-hop headers and the length (recomputed for each answer).
fn end_to_end(mut headers: HeaderMap) -> HeaderMap {
    const HOP_BY_HOP: [HeaderName; 6] = [
        header::CONNECTION,
        header::TRANSFER_ENCODING,
        header::TE,
        header::TRAILER,
        header::UPGRADE,
        header::CONTENT_LENGTH,
    ];
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
    headers.remove("keep-alive");
    headers
}

/// CloudFront keeps successful answers unless the origin forbids it.
fn is_cacheable(object: &CachedObject) -> bool {
    let forbidden = object
        .headers
        .get_all(header::CACHE_CONTROL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|directive| {
            matches!(
                directive.trim().to_ascii_lowercase().as_str(),
                "no-store" | "private" | "no-cache"
            )
        });
    object.status == StatusCode::OK && !forbidden
}

/// Builds the answer to one request from a stored object, cutting a byte range when asked.
fn respond_from(object: &CachedObject, request: &HeaderMap, head_only: bool) -> EdgeResponse {
    let length = object.body.len() as u64;
    let selection = if object.status == StatusCode::OK && range_applies(object, request) {
        select_range(
            request.get(header::RANGE).and_then(|v| v.to_str().ok()),
            length,
        )
    } else {
        RangeSelection::Whole
    };
    let (status, body, content_range) = match selection {
        RangeSelection::Whole => (object.status, object.body.clone(), None),
        RangeSelection::Partial { first, last } => (
            StatusCode::PARTIAL_CONTENT,
            object.body.slice(first as usize..=last as usize),
            Some(format!("bytes {first}-{last}/{length}")),
        ),
        RangeSelection::Unsatisfiable => (
            StatusCode::RANGE_NOT_SATISFIABLE,
            Bytes::new(),
            Some(format!("bytes */{length}")),
        ),
    };
    let mut headers = object.headers.clone();
    headers.insert(header::CONTENT_LENGTH, body.len().into());
    if let Some(content_range) = content_range {
        headers.insert(
            header::CONTENT_RANGE,
            HeaderValue::from_str(&content_range).expect("digits and ASCII"),
        );
    }
    let mut response = Response::new(Full::new(if head_only { Bytes::new() } else { body }));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

/// `If-Range` with a validator other than the object's ETag asks for the whole object.
fn range_applies(object: &CachedObject, request: &HeaderMap) -> bool {
    match request.get(header::IF_RANGE) {
        None => true,
        Some(validator) => object.headers.get(header::ETAG) == Some(validator),
    }
}

/// Which bytes of an object of `length` bytes a `Range` header asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeSelection {
    /// No range, several ranges, another unit or invalid syntax: the whole object, 200.
    Whole,
    /// One satisfiable range, inclusive bounds: 206.
    Partial { first: u64, last: u64 },
    /// A syntactically valid range that starts past the end: 416.
    Unsatisfiable,
}

/// RFC 9110 single byte ranges: `bytes=A-B`, `bytes=A-`, `bytes=-N`.
pub fn select_range(range: Option<&str>, length: u64) -> RangeSelection {
    let Some(spec) = range.and_then(|r| r.trim().strip_prefix("bytes=")) else {
        return RangeSelection::Whole;
    };
    if spec.contains(',') {
        return RangeSelection::Whole;
    }
    let Some((first, last)) = spec.split_once('-') else {
        return RangeSelection::Whole;
    };
    let number = |text: &str| -> Option<u64> {
        text.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| text.parse().ok())
            .flatten()
    };
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        // bytes=-N: the last N bytes.
        return match number(last) {
            None => RangeSelection::Whole,
            Some(0) => RangeSelection::Unsatisfiable,
            Some(_) if length == 0 => RangeSelection::Unsatisfiable,
            Some(suffix) => RangeSelection::Partial {
                first: length.saturating_sub(suffix),
                last: length - 1,
            },
        };
    }
    let Some(first) = number(first) else {
        return RangeSelection::Whole;
    };
    let last = match (last.is_empty(), number(last)) {
        (true, _) => None,
        (false, Some(last)) if last >= first => Some(last),
        (false, _) => return RangeSelection::Whole,
    };
    if first >= length {
        return RangeSelection::Unsatisfiable;
    }
    RangeSelection::Partial {
        first,
        last: last.map_or(length - 1, |last| last.min(length - 1)),
    }
}

#[cfg(test)]
mod tests {
    use super::RangeSelection::*;
    use super::*;

    #[test]
    fn a_closed_range_is_cut_and_clamped_to_the_end() {
        assert_eq!(
            select_range(Some("bytes=0-9"), 100),
            Partial { first: 0, last: 9 }
        );
        assert_eq!(
            select_range(Some("bytes=90-200"), 100),
            Partial {
                first: 90,
                last: 99
            }
        );
    }

    #[test]
    fn an_open_range_runs_to_the_end() {
        assert_eq!(
            select_range(Some("bytes=40-"), 100),
            Partial {
                first: 40,
                last: 99
            }
        );
    }

    #[test]
    fn a_suffix_range_takes_the_last_bytes() {
        assert_eq!(
            select_range(Some("bytes=-10"), 100),
            Partial {
                first: 90,
                last: 99
            }
        );
        assert_eq!(
            select_range(Some("bytes=-500"), 100),
            Partial { first: 0, last: 99 }
        );
    }

    #[test]
    fn a_range_past_the_end_is_unsatisfiable() {
        assert_eq!(select_range(Some("bytes=100-"), 100), Unsatisfiable);
        assert_eq!(select_range(Some("bytes=100-200"), 100), Unsatisfiable);
        assert_eq!(select_range(Some("bytes=-0"), 100), Unsatisfiable);
    }

    #[test]
    fn several_ranges_or_bad_syntax_get_the_whole_object() {
        for range in [
            "bytes=0-1,5-9",
            "items=0-9",
            "bytes=9-0",
            "bytes=a-b",
            "bytes=",
            "bytes=5",
        ] {
            assert_eq!(select_range(Some(range), 100), Whole, "{range}");
        }
        assert_eq!(select_range(None, 100), Whole);
    }
}

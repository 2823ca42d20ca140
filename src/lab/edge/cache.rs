//! The edge's answer to one request, whichever front (TCP or QUIC) it came through: hits from
//! memory, misses fetched whole from the origin and kept, ranges cut from the kept object.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Response, StatusCode, Uri};

use super::range::{RangeSelection, select_range};
use crate::lab::upstream::{OriginError, Upstream};

/// What both fronts share: the cache, the way to the origin and the counters.
#[derive(Debug)]
pub(super) struct EdgeState {
    pub upstream: Upstream,
    pub pop: HeaderValue,
    /// `h3=":PORT"` once the edge answers HTTP/3, sent on every answer as CloudFront does.
    pub alt_svc: OnceLock<HeaderValue>,
    pub cache: Mutex<HashMap<String, Arc<CachedObject>>>,
    pub hits: AtomicU64,
    pub misses: AtomicU64,
}

/// An origin response as the edge keeps it.
#[derive(Debug)]
pub(super) struct CachedObject {
    status: StatusCode,
    /// End-to-end headers from the origin (no hop-by-hop headers, no Content-Length).
    headers: HeaderMap,
    body: Bytes,
    stored_at: Instant,
}

/// A whole answer: its head and its body (empty for HEAD).
pub(super) type EdgeResponse = Response<Bytes>;

/// Answers one request: from the cache, or from the origin on a miss.
pub(super) async fn answer(
    state: &EdgeState,
    method: &Method,
    uri: &Uri,
    request: &HeaderMap,
) -> EdgeResponse {
    let mut response = answer_uncounted(state, method, uri, request).await;
    let headers = response.headers_mut();
    headers.insert("x-amz-cf-pop", state.pop.clone());
    if let Some(alt_svc) = state.alt_svc.get() {
        headers.insert(header::ALT_SVC, alt_svc.clone());
    }
    response
}

async fn answer_uncounted(
    state: &EdgeState,
    method: &Method,
    uri: &Uri,
    request: &HeaderMap,
) -> EdgeResponse {
    if method != Method::GET && method != Method::HEAD {
        // A distribution that allows only GET and HEAD answers other methods with 403.
        return edge_error(StatusCode::FORBIDDEN, "method not allowed");
    }
    let key = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
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
                    return edge_error(StatusCode::BAD_GATEWAY, "origin unreachable");
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
    let mut response = respond_from(&object, request, method == Method::HEAD);
    let headers = response.headers_mut();
    headers.insert("x-cache", HeaderValue::from_static(x_cache));
    headers.insert(header::VIA, HeaderValue::from_static(VIA));
    if x_cache.starts_with("Hit") {
        headers.insert(header::AGE, object.stored_at.elapsed().as_secs().into());
    }
    response
}

const VIA: &str = "1.1 lab-edge.cloudfront.net (CloudFront)";

fn edge_error(status: StatusCode, message: &'static str) -> EdgeResponse {
    let mut response = Response::new(Bytes::from_static(message.as_bytes()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    headers.insert(header::CONTENT_LENGTH, message.len().into());
    headers.insert("x-cache", HeaderValue::from_static("Error from cloudfront"));
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
/// `Content-Length` is the length a GET would carry, also for HEAD.
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
    let mut response = Response::new(if head_only { Bytes::new() } else { body });
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

//! Serving a stored video: RFC 9110 conditionals (If-None-Match, If-Modified-Since, If-Range)
//! and single byte ranges, always with Content-Length (CloudFront caches partial objects
//! without one), never chunked.

use std::ops::Range;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Response, StatusCode};
use hyper::body::{Body, Frame, SizeHint};
use prometheus_client::metrics::counter::Counter;

use crate::routes::{BoxError, ResponseBody, empty_body};
use crate::storage::{Storage, VideoRecord};

/// What the Range header asks for, once parsed against the video's length.
#[derive(Debug, PartialEq, Eq)]
pub enum RangeRequest {
    /// No Range, or one to ignore: several ranges, another unit, invalid syntax.
    Whole,
    Part(Range<u64>),
    Unsatisfiable,
}

/// Parses a Range header for a representation of `len` bytes (RFC 9110 §14.1.2). Several
/// ranges get the whole body, as from S3 and CloudFront; anything unparseable is ignored.
pub fn parse_range(header: &str, len: u64) -> RangeRequest {
    let Some((unit, set)) = header.split_once('=') else {
        return RangeRequest::Whole;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") || set.contains(',') {
        return RangeRequest::Whole;
    }
    let Some((first, last)) = set.trim().split_once('-') else {
        return RangeRequest::Whole;
    };
    let number = |text: &str| -> Option<u64> {
        let valid = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
        if valid {
            text.parse().ok().or(Some(u64::MAX))
        } else {
            None
        }
    };
    match (first.is_empty(), last.is_empty()) {
        // bytes=-N: the last N bytes; none of an empty representation (found by fuzzing).
        (true, false) => match number(last) {
            Some(0) => RangeRequest::Unsatisfiable,
            Some(_) if len == 0 => RangeRequest::Unsatisfiable,
            Some(suffix) => RangeRequest::Part(len.saturating_sub(suffix)..len),
            None => RangeRequest::Whole,
        },
        // bytes=A- and bytes=A-B.
        (false, open_ended) => {
            let Some(start) = number(first) else {
                return RangeRequest::Whole;
            };
            let end = if open_ended {
                u64::MAX
            } else {
                match number(last) {
                    Some(end) if end >= start => end,
                    _ => return RangeRequest::Whole,
                }
            };
            if start >= len {
                RangeRequest::Unsatisfiable
            } else {
                RangeRequest::Part(start..end.saturating_add(1).min(len))
            }
        }
        (true, true) => RangeRequest::Whole,
    }
}

/// The strong validator of a video: its SHA-256, which no other content shares.
pub fn etag(record: &VideoRecord) -> String {
    format!("\"{}\"", record.sha256)
}

/// Last-Modified: the upload time, to the second as HTTP dates go.
pub fn last_modified(record: &VideoRecord) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(record.created_at.timestamp().max(0) as u64)
}

/// If-None-Match (weak comparison, `*` matches) decides when present; otherwise
/// If-Modified-Since. True means answer 304.
fn not_modified(headers: &HeaderMap, etag: &str, modified: SystemTime) -> bool {
    if let Some(value) = headers.get(header::IF_NONE_MATCH) {
        let Ok(value) = value.to_str() else {
            return false;
        };
        let opaque = |tag: &str| tag.trim().trim_start_matches("W/").to_string();
        return value
            .split(',')
            .any(|tag| tag.trim() == "*" || opaque(tag) == opaque(etag));
    }
    header_date(headers, header::IF_MODIFIED_SINCE).is_some_and(|since| modified <= since)
}

/// If-Range: a Range applies only if the validator still matches — an entity tag by strong
/// comparison, or exactly the Last-Modified date.
fn range_still_valid(headers: &HeaderMap, etag: &str, modified: SystemTime) -> bool {
    let Some(value) = headers.get(header::IF_RANGE) else {
        return true;
    };
    let Ok(value) = value.to_str() else {
        return false;
    };
    let value = value.trim();
    if value.starts_with('"') || value.starts_with("W/") {
        value == etag
    } else {
        header_date(headers, header::IF_RANGE) == Some(modified)
    }
}

fn header_date(headers: &HeaderMap, name: header::HeaderName) -> Option<SystemTime> {
    httpdate::parse_http_date(headers.get(name)?.to_str().ok()?).ok()
}

/// Answers GET or HEAD for a stored video.
pub fn respond(
    storage: &Storage,
    record: &VideoRecord,
    method: &Method,
    headers: &HeaderMap,
    bytes_served: &Counter,
) -> Response<ResponseBody> {
    let etag = etag(record);
    let modified = last_modified(record);
    let mut response = Response::builder()
        .header(header::ETAG, &etag)
        .header(header::CACHE_CONTROL, &record.cache_control);
    if not_modified(headers, &etag, modified) {
        return response
            .status(StatusCode::NOT_MODIFIED)
            .body(empty_body())
            .expect("valid 304");
    }
    let len = record.size;
    // Range is defined for GET only (RFC 9110 §14.2); HEAD describes the whole video.
    let range = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        Some(value) if method == Method::GET && range_still_valid(headers, &etag, modified) => {
            parse_range(value, len)
        }
        _ => RangeRequest::Whole,
    };
    response = response
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::LAST_MODIFIED, httpdate::fmt_http_date(modified));
    let (status, bytes) = match range {
        RangeRequest::Whole => (StatusCode::OK, 0..len),
        RangeRequest::Part(bytes) => {
            let content_range = format!("bytes {}-{}/{len}", bytes.start, bytes.end - 1);
            response = response.header(header::CONTENT_RANGE, content_range);
            (StatusCode::PARTIAL_CONTENT, bytes)
        }
        RangeRequest::Unsatisfiable => {
            let json = serde_json::json!({
                "error": "range not satisfiable",
                "detail": format!("the video has {len} bytes"),
            });
            let json = Bytes::from(json.to_string());
            return response
                .status(StatusCode::RANGE_NOT_SATISFIABLE)
                .header(header::CONTENT_RANGE, format!("bytes */{len}"))
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::CONTENT_LENGTH, json.len())
                .body(crate::routes::full_body(json))
                .expect("valid 416");
        }
    };
    let length = bytes.end - bytes.start;
    let body = if method == Method::HEAD {
        empty_body()
    } else {
        let pieces = storage.video_pieces(&record.key, bytes);
        ResponseBody::new(VideoBody {
            pieces,
            remaining: length,
            bytes_served: bytes_served.clone(),
        })
    };
    response
        .status(status)
        .header(
            header::CONTENT_TYPE,
            HeaderValue::from_str(&record.content_type)
                .unwrap_or(HeaderValue::from_static("application/octet-stream")),
        )
        .header(header::CONTENT_LENGTH, length)
        .body(body)
        .expect("valid video response")
}

/// A video body of known length: its exact size hint is what makes hyper send
/// Content-Length instead of chunked encoding.
struct VideoBody {
    pieces: BoxStream<'static, Result<Bytes, BoxError>>,
    remaining: u64,
    bytes_served: Counter,
}

impl Body for VideoBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match ready!(self.pieces.poll_next_unpin(cx)) {
            Some(Ok(piece)) => {
                let len = piece.len() as u64;
                self.remaining = self.remaining.saturating_sub(len);
                self.bytes_served.inc_by(len);
                Poll::Ready(Some(Ok(Frame::data(piece))))
            }
            Some(Err(error)) => {
                tracing::warn!(%error, "reading a video from storage failed mid-response");
                Poll::Ready(Some(Err(error)))
            }
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_rfc_9110() {
        let cases = [
            ("bytes=0-9", RangeRequest::Part(0..10)),
            ("bytes=10-", RangeRequest::Part(10..100)),
            ("bytes=-10", RangeRequest::Part(90..100)),
            ("bytes=-1000", RangeRequest::Part(0..100)),
            ("bytes=90-1000", RangeRequest::Part(90..100)),
            ("BYTES = 5-5", RangeRequest::Part(5..6)),
            ("bytes=100-", RangeRequest::Unsatisfiable),
            ("bytes=-0", RangeRequest::Unsatisfiable),
            ("bytes=0-1,5-9", RangeRequest::Whole),
            ("bytes=9-1", RangeRequest::Whole),
            ("bytes=a-b", RangeRequest::Whole),
            ("bytes=-", RangeRequest::Whole),
            ("items=0-9", RangeRequest::Whole),
            ("0-9", RangeRequest::Whole),
            ("bytes=+1-2", RangeRequest::Whole),
            (
                "bytes=99999999999999999999999-",
                RangeRequest::Unsatisfiable,
            ),
        ];
        for (header, expected) in cases {
            assert_eq!(parse_range(header, 100), expected, "{header}");
        }
    }

    #[test]
    fn no_range_of_an_empty_video_is_satisfiable() {
        for header in ["bytes=-10", "bytes=0-", "bytes=0-0"] {
            assert_eq!(
                parse_range(header, 0),
                RangeRequest::Unsatisfiable,
                "{header}"
            );
        }
    }

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| (name.clone(), HeaderValue::from_str(value).unwrap()))
            .collect()
    }

    const ETAG: &str = "\"abc\"";

    fn modified() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_700_000_000)
    }

    #[test]
    fn if_range_matches_only_the_same_strong_etag() {
        let valid =
            |value| range_still_valid(&headers(&[(header::IF_RANGE, value)]), ETAG, modified());
        assert!(valid("\"abc\""));
        assert!(
            !valid("W/\"abc\""),
            "a weak validator never matches If-Range"
        );
        assert!(!valid("\"abd\""));
    }

    #[test]
    fn if_range_with_a_date_matches_only_last_modified_exactly() {
        let valid = |time: SystemTime| {
            let date = httpdate::fmt_http_date(time);
            range_still_valid(&headers(&[(header::IF_RANGE, &date)]), ETAG, modified())
        };
        assert!(valid(modified()));
        assert!(!valid(modified() + Duration::from_secs(1)));
        assert!(!valid(modified() - Duration::from_secs(1)));
    }

    #[test]
    fn if_none_match_uses_weak_comparison_and_star() {
        let fresh = |value| {
            not_modified(
                &headers(&[(header::IF_NONE_MATCH, value)]),
                ETAG,
                modified(),
            )
        };
        assert!(fresh("W/\"abc\""));
        assert!(fresh("\"x\", \"abc\""));
        assert!(fresh("*"));
        assert!(!fresh("\"x\""));
    }

    #[test]
    fn if_modified_since_is_ignored_when_if_none_match_is_present() {
        let since = httpdate::fmt_http_date(modified());
        assert!(not_modified(
            &headers(&[(header::IF_MODIFIED_SINCE, &since)]),
            ETAG,
            modified()
        ));
        let both = headers(&[
            (header::IF_MODIFIED_SINCE, &since),
            (header::IF_NONE_MATCH, "\"x\""),
        ]);
        assert!(!not_modified(&both, ETAG, modified()));
    }
}

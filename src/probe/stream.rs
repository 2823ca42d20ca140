//! A fetch whose body the caller reads: for the player, which must see bytes as they arrive
//! (to walk MP4 boxes, to read playlists), stop reading when its buffer is full, and abandon a
//! download (a seek, a non-faststart file). The phases are timed exactly as [`Prober::fetch`]
//! times them, and [`BodyStream::finish`] gives the same `Sample`.
//!
//! `--timeout` bounds the opening (lookup to response head) and then each wait for body bytes
//! while the caller is reading: a player may hold a body open for as long as it plays.

use std::time::{Duration, Instant};

use ::http::HeaderMap;
use bytes::Bytes;
use url::Url;

use super::{Connection, Head, Prober, ms, now_rfc3339, redact, settle};
use crate::sample::{ErrorClass, Sample};

/// A response whose head has arrived; the body is read with [`BodyStream::next_chunk`].
pub struct BodyStream {
    sample: Sample,
    head: Head,
    start: Instant,
    timeout: Duration,
    ended: bool,
}

impl Prober {
    /// Opens `url` on the kept connection when it is usable (else a fresh one, timed) and returns
    /// once the response head is in. A failure before the head returns its sample. A kept
    /// connection that fails before any response is retried once fresh, as `fetch` does.
    pub async fn open(
        &self,
        url: &Url,
        headers: &HeaderMap,
        kept: &mut Option<Connection>,
    ) -> Result<BodyStream, Sample> {
        let mut reused = kept.take();
        if let Some(connection) = &mut reused
            && !connection.transport.is_usable().await
        {
            reused = None;
        }
        let was_reused = reused.is_some();
        match self.open_on(url, headers, reused).await {
            Err(sample) if was_reused && sample.status.is_none() => {
                self.open_on(url, headers, None).await
            }
            other => other,
        }
    }

    async fn open_on(
        &self,
        url: &Url,
        headers: &HeaderMap,
        reused: Option<Connection>,
    ) -> Result<BodyStream, Sample> {
        let mut sample = Sample {
            url: redact::redact_url(url),
            ..Sample::default()
        };
        let resolver = self.resolver_for(url, reused.is_some());
        sample.started_at = now_rfc3339();
        let start = Instant::now();
        let outcome = match resolver {
            Ok(resolver) => {
                let head = self.head(url, headers, reused, resolver, &mut sample, start);
                tokio::time::timeout(self.timeout, head)
                    .await
                    .unwrap_or(Err(ErrorClass::Timeout))
            }
            Err(class) => Err(class),
        };
        match outcome {
            Ok(head) => Ok(BodyStream {
                sample,
                head,
                start,
                timeout: self.timeout,
                ended: false,
            }),
            Err(class) => {
                sample.error = Some(class);
                sample.total_ms = Some(ms(start, Instant::now()));
                Err(sample)
            }
        }
    }
}

impl BodyStream {
    /// The response head as recorded: status, version, cache, POP, phases so far.
    pub fn head(&self) -> &Sample {
        &self.sample
    }

    pub fn content_type(&self) -> Option<&str> {
        self.head.content_type.as_deref()
    }

    pub fn content_length(&self) -> Option<u64> {
        self.head.content_length
    }

    /// The next piece of the body; `None` at its end or on an error (kept for the sample).
    pub async fn next_chunk(&mut self) -> Option<Bytes> {
        while !self.ended {
            let received = self.sample.bytes;
            let chunk = self
                .head
                .body
                .next_chunk(self.head.content_length, received);
            match tokio::time::timeout(self.timeout, chunk).await {
                Ok(Ok(Some(data))) => {
                    self.sample.bytes += data.len() as u64;
                    return Some(data);
                }
                Ok(Ok(None)) => self.ended = true,
                Ok(Err(class)) => {
                    self.ended = true;
                    self.sample.error = Some(class);
                }
                Err(_elapsed) => {
                    self.ended = true;
                    self.sample.error = Some(ErrorClass::Timeout);
                }
            }
        }
        None
    }

    /// Ends the fetch: the sample with its download time. A body read to its end leaves the
    /// connection in `kept`; a body abandoned early leaves it only on HTTP/2, where cancelling
    /// resets one stream (on HTTP/1.1 the unread rest would block the connection).
    pub fn finish(mut self, kept: &mut Option<Connection>) -> Sample {
        let last_byte = Instant::now();
        let complete = self.ended && self.sample.error.is_none();
        let expected = self.head.content_length;
        if complete && expected.is_some_and(|expected| self.sample.bytes < expected) {
            self.sample.error = Some(ErrorClass::Truncated);
        }
        self.sample.download_ms = Some(ms(self.head.received, last_byte));
        self.sample.total_ms = Some(ms(self.start, last_byte));
        settle(&mut self.sample);
        self.head.connection.write_path_into(&mut self.sample);
        // Cancelling a download resets one stream on HTTP/2 and 3; the connection lives on.
        let multiplexed = matches!(
            self.head.connection.transport.version(),
            ::http::Version::HTTP_2 | ::http::Version::HTTP_3
        );
        let reusable = (complete && self.sample.error.is_none()) || multiplexed;
        let Head {
            connection, body, ..
        } = self.head;
        drop(body);
        if reusable {
            *kept = Some(connection);
        }
        self.sample
    }
}

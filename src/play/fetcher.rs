//! The requests of one session, as a player makes them: one connection kept and reused
//! (keep-alive on HTTP/1.1, one connection on h2), a new one (timed) when the old one cannot
//! carry the next request. Every request is logged for `--requests`, with the object it fetched.

use std::time::Instant;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, header};
use url::Url;

use super::MediaError;
use super::hls::Resource;
use crate::probe::stream::BodyStream;
use crate::probe::{Connection, Prober};
use crate::sample::{CacheStatus, ErrorClass, Sample};

/// A request that failed: the session ends with its class.
#[derive(Debug, Clone, PartialEq)]
pub struct Failed(pub ErrorClass);

impl From<MediaError> for Failed {
    fn from(error: MediaError) -> Self {
        tracing::debug!("media: {error}");
        Failed(ErrorClass::Media)
    }
}

/// One session's requests.
pub struct Fetcher<'a> {
    prober: &'a Prober,
    headers: &'a HeaderMap,
    /// One kept connection per origin (scheme, host, port), as a browser pools them: a playlist
    /// may name segments on other hosts.
    kept: Vec<(String, Option<Connection>)>,
    start: Instant,
    /// Every request: its sample and the object it fetched (`range`, `moov`, `segment 7`, …).
    pub log: Vec<(Sample, String)>,
    /// Cache statuses and POP of the media responses (not playlists).
    pub media_cache: Vec<CacheStatus>,
    pub media_pop: Option<String>,
}

/// A request in flight.
pub struct Open {
    pub body: BodyStream,
    object: String,
    media: bool,
    /// Index of its origin's kept connection.
    slot: usize,
}

impl<'a> Fetcher<'a> {
    pub fn new(prober: &'a Prober, headers: &'a HeaderMap) -> Self {
        Self {
            prober,
            headers,
            kept: Vec::new(),
            start: Instant::now(),
            log: Vec::new(),
            media_cache: Vec::new(),
            media_pop: None,
        }
    }

    /// Seconds since the session started.
    pub fn now(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    pub fn start(&self) -> Instant {
        self.start
    }

    /// Sends a GET for `url` (bytes `first`… when `range` is given, to `last` when given) and
    /// returns once the head is in. A failed request is logged and returned as [`Failed`]; a
    /// status ≥ 400 is a failure too.
    pub async fn open(
        &mut self,
        url: &Url,
        range: Option<(u64, Option<u64>)>,
        object: &str,
        media: bool,
    ) -> Result<Open, Failed> {
        let mut headers = self.headers.clone();
        let mut object = object.to_string();
        if let Some((first, last)) = range {
            // The object names its range too (`seek 351234-`): the per-request view shows
            // where every Range request started.
            let span = match last {
                Some(last) => format!("{first}-{last}"),
                None => format!("{first}-"),
            };
            if let Ok(value) = HeaderValue::try_from(format!("bytes={span}")) {
                headers.insert(header::RANGE, value);
            }
            object = format!("{object} {span}");
        }
        let origin = url.origin().ascii_serialization();
        let slot = match self.kept.iter().position(|(o, _)| *o == origin) {
            Some(index) => index,
            None => {
                self.kept.push((origin, None));
                self.kept.len() - 1
            }
        };
        match self
            .prober
            .open(url, &headers, &mut self.kept[slot].1)
            .await
        {
            Ok(body) => {
                let status = body.head().status.unwrap_or(0);
                let open = Open {
                    body,
                    object,
                    media,
                    slot,
                };
                if status >= 400 {
                    let sample = self.close(open);
                    return Err(Failed(sample.error.unwrap_or(ErrorClass::HttpStatus)));
                }
                Ok(open)
            }
            Err(sample) => {
                let class = sample.error.unwrap_or(ErrorClass::Protocol);
                self.log.push((sample, object));
                Err(Failed(class))
            }
        }
    }

    /// Ends a request (read to its end, or abandoned) and logs it.
    pub fn close(&mut self, open: Open) -> Sample {
        let sample = open.body.finish(&mut self.kept[open.slot].1);
        if open.media {
            self.media_cache.push(sample.cache);
            if self.media_pop.is_none() {
                self.media_pop = Some(sample.pop.clone());
            }
        }
        self.log.push((sample.clone(), open.object));
        sample
    }

    /// Fetches a whole small resource (a playlist, an init section), at most `limit` bytes.
    pub async fn fetch_whole(
        &mut self,
        resource: &Resource,
        object: &str,
        limit: usize,
    ) -> Result<Bytes, Failed> {
        let range = resource.range.map(|(first, last)| (first, Some(last)));
        let mut open = self.open(&resource.url, range, object, false).await?;
        let mut body = Vec::new();
        while let Some(chunk) = open.body.next_chunk().await {
            body.extend_from_slice(&chunk);
            if body.len() > limit {
                self.close(open);
                return Err(Failed(ErrorClass::Media));
            }
        }
        let sample = self.close(open);
        match sample.error {
            Some(class) => Err(Failed(class)),
            None => Ok(Bytes::from(body)),
        }
    }

    /// The first request's sample (the first connection's phases), if any.
    pub fn first(&self) -> Option<&Sample> {
        self.log.first().map(|(sample, _)| sample)
    }
}

impl Fetcher<'_> {
    /// `--timeout` in seconds: also the longest a live playlist may go without a new segment.
    pub fn timeout_s(&self) -> f64 {
        self.prober.timeout.as_secs_f64()
    }
}

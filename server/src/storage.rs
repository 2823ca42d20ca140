//! Videos and their metadata records in an object store: local disk or S3, one code path.
//!
//! A video `videos/{id}.{ext}` and its record `videos/{id}.json` sit side by side, so the
//! server keeps no state of its own and several instances can share one bucket. The record is
//! written only after the video is complete, and a video counts as stored only when its record
//! exists: readers never see a partial upload.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{
    Attribute, Attributes, GetOptions, GetResult, ObjectStore, PutMode, PutMultipartOptions,
    PutOptions, PutPayload, RetryConfig,
};
use serde::{Deserialize, Serialize};
use tokio_util::task::TaskTracker;

use crate::config::Args;
use crate::error::{ApiError, StoreStalled};
use crate::local_videos::LocalVideos;
pub use crate::pending::PendingVideo;
use crate::read_budget::ReadBudget;
use crate::routes::BoxError;
use crate::stall;

/// Bytes per multipart part when uploading, and parts in flight at once: together they bound
/// an upload's memory to about 3 parts. S3 needs ≥ 5 MiB for all but the last part; the local
/// file system writes any size, and smaller parts keep a 1 GiB upload well under 64 MiB of RSS.
const S3_UPLOAD_PART: usize = 8 << 20;
const LOCAL_UPLOAD_PART: usize = 2 << 20;

/// Records kept in memory: they never change once written, so a cached one is never stale.
const CACHED_RECORDS: usize = 10_000;

/// A video id: 32 lowercase hex digits chosen by the server. Parsing one is the only way to get
/// one, so a request can never name a path of its own.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VideoId(String);

impl VideoId {
    pub fn generate() -> Self {
        Self(hex::encode(rand::random::<[u8; 16]>()))
    }

    pub fn parse(text: &str) -> Option<Self> {
        let valid =
            text.len() == 32 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        valid.then(|| Self(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn video_key(&self, extension: &str) -> String {
        format!("videos/{}.{extension}", self.0)
    }

    fn record_key(&self) -> Path {
        Path::from(format!("videos/{}.json", self.0))
    }
}

impl fmt::Display for VideoId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The metadata record stored beside a video: everything a GET needs, so serving a video
/// takes no extra request to the store.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VideoRecord {
    pub id: String,
    /// Object key of the video, also the path appended to the S3 and CDN base URLs.
    pub key: String,
    pub filename: String,
    pub content_type: String,
    pub size: u64,
    pub sha256: String,
    pub created_at: DateTime<Utc>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub cache_control: String,
}

/// Where the objects live; the two differ in what a request costs and what an object keeps.
enum Backend {
    /// Reads are cheap system calls (videos are served from memory maps of their files,
    /// found through the store); files keep no Content-Type or Cache-Control.
    LocalDisk(Arc<LocalFileSystem>),
    /// Every request is a round trip; objects keep their Content-Type and Cache-Control, so S3
    /// and CloudFront serve them correctly without this server.
    S3,
}

pub struct Storage {
    store: Arc<dyn ObjectStore>,
    backend: Backend,
    upload_part: usize,
    description: String,
    records: Mutex<HashMap<VideoId, Arc<VideoRecord>>>,
    /// Uploads being committed; shutdown waits for them.
    commits: TaskTracker,
    /// `--store-timeout`: the longest one store step may take.
    timeout: Duration,
    /// Local videos as memory maps, within one read budget for all responses together.
    local_videos: LocalVideos,
}

/// Runs one store step, giving up with [`ApiError::StoreTimeout`] after `timeout`.
pub async fn within<T, E: Into<ApiError>>(
    timeout: Duration,
    step: impl Future<Output = Result<T, E>>,
) -> Result<T, ApiError> {
    match tokio::time::timeout(timeout, step).await {
        Ok(result) => result.map_err(Into::into),
        Err(_) => Err(ApiError::StoreTimeout(timeout)),
    }
}

impl Storage {
    pub fn from_args(args: &Args) -> anyhow::Result<Self> {
        let timeout = Duration::from_secs(args.store_timeout);
        let (store, backend, description): (Arc<dyn ObjectStore>, Backend, String) = match &args
            .s3_bucket
        {
            Some(bucket) => {
                // Retries stop within the store timeout, so a store that is down is reported
                // (503) rather than retried for minutes.
                let retry = RetryConfig {
                    retry_timeout: timeout,
                    ..Default::default()
                };
                let mut builder = AmazonS3Builder::from_env()
                    .with_bucket_name(bucket)
                    .with_retry(retry);
                if let Some(region) = &args.s3_region {
                    builder = builder.with_region(region);
                }
                if let Some(endpoint) = &args.s3_endpoint {
                    builder = builder
                        .with_endpoint(endpoint)
                        .with_allow_http(endpoint.starts_with("http://"));
                }
                let store = builder.build().context("configuring the S3 bucket")?;
                (Arc::new(store), Backend::S3, format!("s3://{bucket}"))
            }
            None => {
                let dir = &args.data_dir;
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating the data directory {}", dir.display()))?;
                // The default `data` is relative to wherever the server was started: the
                // log shows the absolute path, so a user can find the videos.
                let dir = dir
                    .canonicalize()
                    .with_context(|| format!("resolving the data directory {}", dir.display()))?;
                let store = LocalFileSystem::new_with_prefix(&dir)
                    .with_context(|| format!("opening the data directory {}", dir.display()))?;
                let store = Arc::new(store);
                (
                    store.clone(),
                    Backend::LocalDisk(store),
                    dir.display().to_string(),
                )
            }
        };
        Ok(Self {
            store,
            upload_part: match backend {
                Backend::S3 => S3_UPLOAD_PART,
                Backend::LocalDisk(_) => LOCAL_UPLOAD_PART,
            },
            backend,
            description,
            records: Mutex::new(HashMap::new()),
            commits: TaskTracker::new(),
            timeout,
            local_videos: LocalVideos::new(ReadBudget::new(args.read_budget_mib << 20)),
        })
    }

    /// The store itself, for the clean-up at start.
    pub fn object_store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// Where videos are kept (an absolute directory or `s3://BUCKET`), for the log.
    pub fn description(&self) -> &str {
        &self.description
    }

    pub async fn record(&self, id: &VideoId) -> Result<Arc<VideoRecord>, ApiError> {
        if let Some(record) = self.records.lock().expect("record cache").get(id) {
            return Ok(record.clone());
        }
        let read = async { self.store.get(&id.record_key()).await?.bytes().await };
        let bytes = match within(self.timeout, read).await {
            Ok(bytes) => bytes,
            Err(ApiError::Storage(object_store::Error::NotFound { .. })) => {
                return Err(ApiError::NotFound(format!("no video with id {id}")));
            }
            Err(error) => return Err(error),
        };
        let record: Arc<VideoRecord> =
            Arc::new(serde_json::from_slice(&bytes).map_err(|error| {
                ApiError::Internal(format!(
                    "the record of video {id} is not valid JSON: {error}"
                ))
            })?);
        let mut records = self.records.lock().expect("record cache");
        if records.len() >= CACHED_RECORDS {
            records.clear();
        }
        records.insert(id.clone(), record.clone());
        Ok(record)
    }

    /// Starts writing a video; nothing is visible under `key` until [`PendingVideo::finish`].
    pub async fn begin_video(
        &self,
        key: &str,
        content_type: &str,
        cache_control: &str,
    ) -> Result<PendingVideo, ApiError> {
        let options = PutMultipartOptions {
            attributes: self.attributes(content_type, cache_control),
            ..Default::default()
        };
        let path = Path::from(key);
        let upload = within(self.timeout, self.store.put_multipart_opts(&path, options)).await?;
        Ok(PendingVideo::new(upload, self.upload_part, self.timeout))
    }

    /// Completes `video`, then writes `record`, which makes it visible; if the record cannot be
    /// written, the video is deleted again. This runs as a task of its own: hyper drops a
    /// request's future when its client disconnects, and a commit cut short between the two
    /// writes would leave a video without a record — unreachable here, yet served by S3 and
    /// CloudFront under its key.
    pub async fn commit(
        &self,
        video: PendingVideo,
        record: VideoRecord,
    ) -> Result<VideoRecord, ApiError> {
        let store = self.store.clone();
        let options = PutOptions {
            mode: PutMode::Create,
            attributes: self.attributes("application/json", "no-cache"),
            ..Default::default()
        };
        let timeout = self.timeout;
        let commit = self.commits.spawn(async move {
            video.finish().await?;
            let id = VideoId::parse(&record.id).expect("records are made with valid ids");
            let json = serde_json::to_vec_pretty(&record).expect("a record serialises");
            let record_key = id.record_key();
            let saved = within(
                timeout,
                store.put_opts(&record_key, PutPayload::from(json), options),
            )
            .await;
            if let Err(error) = saved {
                // The record may yet land after the timeout: remove both, so neither stays
                // (the clean-up at start catches what this cannot reach).
                for key in [Path::from(record.key.as_str()), record_key] {
                    if let Err(error) = within(timeout, store.delete(&key)).await {
                        tracing::error!(%key, %error, "could not delete part of a failed commit");
                    }
                }
                return Err(error);
            }
            // Logged here, as the client may be gone by the time the handler would.
            tracing::info!(id = %record.id, size = record.size, content_type = %record.content_type, "video stored");
            Ok(record)
        });
        commit
            .await
            .map_err(|error| ApiError::Internal(format!("the commit task failed: {error}")))?
    }

    /// Waits until every commit under way has ended; new ones can no longer start.
    pub async fn finish_commits(&self) {
        self.commits.close();
        self.commits.wait().await;
    }

    /// The bytes of `range` of a video, streamed the way that is fast for the backend.
    pub fn video_pieces(
        &self,
        key: &str,
        range: Range<u64>,
    ) -> BoxStream<'static, Result<Bytes, BoxError>> {
        if range.is_empty() {
            return stream::empty().boxed();
        }
        let pieces = self.store_pieces(key, range);
        // A store that stops sending must not hold the response open: the body is cut off,
        // and the client sees fewer bytes than its Content-Length.
        stall::cut_off_when_stalled(pieces, self.timeout, |idle| StoreStalled(idle).into()).boxed()
    }

    fn store_pieces(
        &self,
        key: &str,
        range: Range<u64>,
    ) -> BoxStream<'static, Result<Bytes, BoxError>> {
        let key = Path::from(key);
        match &self.backend {
            Backend::S3 => {
                // Each S3 request costs a round trip and one object's response streams at the
                // connection's speed: a whole response is one ranged GET, not one per piece.
                let store = self.store.clone();
                stream::once(async move {
                    let options = GetOptions {
                        range: Some(range.into()),
                        ..Default::default()
                    };
                    store
                        .get_opts(&key, options)
                        .await
                        .map(GetResult::into_stream)
                })
                .try_flatten()
                .map_err(BoxError::from)
                .boxed()
            }
            // Pieces are slices of mapped windows of the file, within the read budget.
            Backend::LocalDisk(local) => match local.path_to_filesystem(&key) {
                Ok(path) => self
                    .local_videos
                    .pieces(&path, range)
                    .map_err(BoxError::from)
                    .boxed(),
                Err(error) => stream::once(async { Err(error.into()) }).boxed(),
            },
        }
    }

    fn attributes(&self, content_type: &str, cache_control: &str) -> Attributes {
        if matches!(self.backend, Backend::LocalDisk(_)) {
            return Attributes::new();
        }
        Attributes::from_iter([
            (Attribute::ContentType, content_type.to_string()),
            (Attribute::CacheControl, cache_control.to_string()),
        ])
    }
}

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

use anyhow::Context as _;
use bytes::{Bytes, BytesMut};
use chrono::{DateTime, Utc};
use futures::stream::{self, BoxStream, StreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{
    Attribute, Attributes, MultipartUpload, ObjectStore, PutMode, PutMultipartOptions, PutOptions,
    PutPayload,
};
use serde::{Deserialize, Serialize};
use tokio::task::JoinSet;

use crate::config::Args;
use crate::error::ApiError;

/// Bytes per storage read when streaming a video: large pieces read far faster than the
/// store's default 8 KiB stream chunks (see NOTES.md), and two are fetched ahead.
const READ_PIECE: u64 = 1 << 20;
const READS_AHEAD: usize = 2;

/// Bytes per multipart part when uploading, and parts in flight at once: together they bound
/// an upload's memory to about 3 parts. S3 needs ≥ 5 MiB for all but the last part; the local
/// file system writes any size, and smaller parts keep a 1 GiB upload well under 64 MiB of RSS.
const S3_UPLOAD_PART: usize = 8 << 20;
const LOCAL_UPLOAD_PART: usize = 2 << 20;
const PARTS_IN_FLIGHT: usize = 2;

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

pub struct Storage {
    store: Arc<dyn ObjectStore>,
    /// S3 keeps Content-Type and Cache-Control with the object; the local file system cannot.
    keeps_attributes: bool,
    upload_part: usize,
    description: String,
    records: Mutex<HashMap<VideoId, Arc<VideoRecord>>>,
}

impl Storage {
    pub fn from_args(args: &Args) -> anyhow::Result<Self> {
        let (store, keeps_attributes, description): (Arc<dyn ObjectStore>, bool, String) =
            match &args.s3_bucket {
                Some(bucket) => {
                    let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
                    if let Some(region) = &args.s3_region {
                        builder = builder.with_region(region);
                    }
                    if let Some(endpoint) = &args.s3_endpoint {
                        builder = builder
                            .with_endpoint(endpoint)
                            .with_allow_http(endpoint.starts_with("http://"));
                    }
                    let store = builder.build().context("configuring the S3 bucket")?;
                    (Arc::new(store), true, format!("s3://{bucket}"))
                }
                None => {
                    let dir = &args.data_dir;
                    std::fs::create_dir_all(dir).with_context(|| {
                        format!("creating the data directory {}", dir.display())
                    })?;
                    let store = LocalFileSystem::new_with_prefix(dir)
                        .with_context(|| format!("opening the data directory {}", dir.display()))?;
                    (Arc::new(store), false, dir.display().to_string())
                }
            };
        Ok(Self {
            store,
            keeps_attributes,
            upload_part: if keeps_attributes {
                S3_UPLOAD_PART
            } else {
                LOCAL_UPLOAD_PART
            },
            description,
            records: Mutex::new(HashMap::new()),
        })
    }

    /// Where videos are kept, for the log.
    pub fn description(&self) -> &str {
        &self.description
    }

    pub async fn record(&self, id: &VideoId) -> Result<Arc<VideoRecord>, ApiError> {
        if let Some(record) = self.records.lock().expect("record cache").get(id) {
            return Ok(record.clone());
        }
        let bytes = match self.store.get(&id.record_key()).await {
            Ok(found) => found.bytes().await?,
            Err(object_store::Error::NotFound { .. }) => {
                return Err(ApiError::NotFound(format!("no video with id {id}")));
            }
            Err(error) => return Err(error.into()),
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
        let upload = self
            .store
            .put_multipart_opts(&Path::from(key), options)
            .await?;
        Ok(PendingVideo {
            upload: Some(upload),
            parts: JoinSet::new(),
            buffer: BytesMut::with_capacity(self.upload_part),
            part_size: self.upload_part,
        })
    }

    /// Writes the record that makes a finished video visible.
    pub async fn save_record(&self, record: &VideoRecord) -> Result<(), ApiError> {
        let id = VideoId::parse(&record.id).expect("records are made with valid ids");
        let json = serde_json::to_vec_pretty(record).expect("a record serialises");
        let options = PutOptions {
            mode: PutMode::Create,
            attributes: self.attributes("application/json", "no-cache"),
            ..Default::default()
        };
        self.store
            .put_opts(&id.record_key(), PutPayload::from(json), options)
            .await?;
        Ok(())
    }

    pub async fn delete(&self, key: &str) -> Result<(), ApiError> {
        Ok(self.store.delete(&Path::from(key)).await?)
    }

    /// The bytes of `range` of a video, in large pieces read ahead of the client.
    pub fn video_pieces(
        &self,
        key: &str,
        range: Range<u64>,
    ) -> BoxStream<'static, object_store::Result<Bytes>> {
        let store = self.store.clone();
        let key = Path::from(key);
        let starts = (range.start..range.end).step_by(READ_PIECE as usize);
        stream::iter(starts)
            .map(move |start| {
                let (store, key) = (store.clone(), key.clone());
                let end = (start + READ_PIECE).min(range.end);
                async move { store.get_range(&key, start..end).await }
            })
            .buffered(READS_AHEAD)
            .boxed()
    }

    fn attributes(&self, content_type: &str, cache_control: &str) -> Attributes {
        if !self.keeps_attributes {
            return Attributes::new();
        }
        Attributes::from_iter([
            (Attribute::ContentType, content_type.to_string()),
            (Attribute::CacheControl, cache_control.to_string()),
        ])
    }
}

/// A video being written. Dropping it before [`finish`](Self::finish) — a failed or abandoned
/// upload — aborts the multipart upload, so no object and no temporary file stay behind.
pub struct PendingVideo {
    upload: Option<Box<dyn MultipartUpload>>,
    parts: JoinSet<object_store::Result<()>>,
    buffer: BytesMut,
    part_size: usize,
}

impl PendingVideo {
    pub async fn write(&mut self, mut bytes: &[u8]) -> Result<(), ApiError> {
        while !bytes.is_empty() {
            let room = self.part_size - self.buffer.len();
            let (now, later) = bytes.split_at(room.min(bytes.len()));
            self.buffer.extend_from_slice(now);
            bytes = later;
            if self.buffer.len() == self.part_size {
                self.send_part().await?;
            }
        }
        Ok(())
    }

    /// Uploads what is left, waits for every part and completes the upload: the video is
    /// then stored under its key.
    pub async fn finish(mut self) -> Result<(), ApiError> {
        if !self.buffer.is_empty() {
            self.send_part().await?;
        }
        while let Some(part) = self.parts.join_next().await {
            part.map_err(|error| ApiError::Internal(format!("upload task failed: {error}")))??;
        }
        let mut upload = self.upload.take().expect("finish runs once");
        if let Err(error) = upload.complete().await {
            let _ = upload.abort().await;
            return Err(error.into());
        }
        Ok(())
    }

    async fn send_part(&mut self) -> Result<(), ApiError> {
        while self.parts.len() >= PARTS_IN_FLIGHT {
            if let Some(part) = self.parts.join_next().await {
                part.map_err(|error| ApiError::Internal(format!("upload task failed: {error}")))??;
            }
        }
        let part = self.buffer.split().freeze();
        self.buffer.reserve(self.part_size);
        let upload = self.upload.as_mut().expect("parts are sent before finish");
        self.parts.spawn(upload.put_part(PutPayload::from(part)));
        Ok(())
    }
}

impl Drop for PendingVideo {
    fn drop(&mut self) {
        if let Some(mut upload) = self.upload.take() {
            self.parts.abort_all();
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(async move {
                    if let Err(error) = upload.abort().await {
                        tracing::warn!(%error, "could not abort an unfinished upload");
                    }
                });
            }
        }
    }
}

//! A video being written to the store in parts, at most a few parts in memory at once.

use bytes::BytesMut;
use object_store::{MultipartUpload, PutPayload};
use std::time::Duration;
use tokio::task::JoinSet;

use crate::error::ApiError;
use crate::storage::within;

/// Parts in flight at once: with the part size, this bounds an upload's memory to about
/// three parts.
const PARTS_IN_FLIGHT: usize = 2;
/// Tries to abort an abandoned upload, a second apart and then longer: a store that is down
/// now may be back soon, and an upload never aborted keeps its parts (on S3, until a
/// lifecycle rule removes them).
const ABORT_TRIES: u32 = 6;

/// A video being written. Dropping it before [`finish`](Self::finish) — a failed or abandoned
/// upload — aborts the multipart upload, so no object and no temporary file stay behind.
pub struct PendingVideo {
    upload: Option<Box<dyn MultipartUpload>>,
    parts: JoinSet<object_store::Result<()>>,
    buffer: BytesMut,
    part_size: usize,
    timeout: Duration,
}

impl PendingVideo {
    pub fn new(upload: Box<dyn MultipartUpload>, part_size: usize, timeout: Duration) -> Self {
        Self {
            upload: Some(upload),
            parts: JoinSet::new(),
            buffer: BytesMut::with_capacity(part_size),
            part_size,
            timeout,
        }
    }

    /// Waits for the oldest part in flight, within the store timeout.
    async fn join_part(&mut self) -> Result<(), ApiError> {
        let Some(part) = within(self.timeout, async {
            Ok::<_, ApiError>(self.parts.join_next().await)
        })
        .await?
        else {
            return Ok(());
        };
        part.map_err(|error| ApiError::Internal(format!("upload task failed: {error}")))??;
        Ok(())
    }

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
        while !self.parts.is_empty() {
            self.join_part().await?;
        }
        let upload = self.upload.as_mut().expect("finish runs once");
        within(self.timeout, upload.complete()).await?;
        self.upload = None;
        Ok(())
    }

    async fn send_part(&mut self) -> Result<(), ApiError> {
        while self.parts.len() >= PARTS_IN_FLIGHT {
            self.join_part().await?;
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
                let timeout = self.timeout;
                runtime.spawn(async move {
                    for attempt in 1..=ABORT_TRIES {
                        match within(timeout, upload.abort()).await {
                            Ok(()) => return,
                            Err(error) if attempt == ABORT_TRIES => {
                                tracing::warn!(%error, "could not abort an unfinished upload; its parts stay until the store's clean-up");
                            }
                            Err(_) => tokio::time::sleep(Duration::from_secs(1 << attempt)).await,
                        }
                    }
                });
            }
        }
    }
}

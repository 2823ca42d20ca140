//! What an upload cut short by a crash (SIGKILL, power loss) can leave, and its removal when the
//! server starts. None of it is ever visible through the API: a video counts only once its
//! record exists.
//!
//! - Local disk: the staged file of an unfinished upload (`videos/ID.EXT#N`). Removed at start;
//!   a data directory belongs to one server, so nothing else can be writing it.
//! - Both stores: a video whose record was never written (the crash fell between the commit's
//!   two writes). Unreachable here, yet S3 and CloudFront would serve it under its key: removed
//!   at start once older than `--orphan-grace`, which leaves other instances sharing the bucket
//!   time to finish their own commits.
//! - S3: the parts of a multipart upload never completed. Invisible and never served, but
//!   billed: a lifecycle rule on the bucket (`AbortIncompleteMultipartUpload`) removes them
//!   (see the README).

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use chrono::Utc;
use futures::TryStreamExt;
use object_store::ObjectMeta;

use crate::storage::Storage;

/// Removes the staged files crashed uploads left in a local data directory. Call it before
/// accepting connections: a staged file is told from a running upload's only by the server's
/// start. Failures are logged, never fatal: serving matters more.
pub fn remove_staged_files(data_dir: &Path) {
    let Ok(entries) = std::fs::read_dir(data_dir.join("videos")) else {
        return;
    };
    for path in entries.filter_map(|entry| Some(entry.ok()?.path())) {
        let staged = path
            .file_name()
            .and_then(|name| name.to_str())
            .and_then(|name| name.split_once('#'))
            .is_some_and(|(_, suffix)| suffix.bytes().all(|b| b.is_ascii_digit()));
        if staged {
            match std::fs::remove_file(&path) {
                Ok(()) => {
                    tracing::info!(path = %path.display(), "removed the staged file of an unfinished upload")
                }
                Err(error) => {
                    tracing::warn!(path = %path.display(), %error, "could not remove a staged upload")
                }
            }
        }
    }
}

/// Removes videos left without a record, older than `grace` (a listing of the whole store:
/// run it in the background). Failures are logged, never fatal.
pub async fn remove_orphans(storage: &Storage, grace: Duration) {
    if let Err(error) = remove_orphan_videos(storage, grace).await {
        tracing::warn!(%error, "could not look for videos left without a record");
    }
}

async fn remove_orphan_videos(storage: &Storage, grace: Duration) -> object_store::Result<()> {
    let store = storage.object_store();
    let prefix = object_store::path::Path::from("videos");
    let objects: Vec<ObjectMeta> = store.list(Some(&prefix)).try_collect().await?;
    let recorded: HashSet<&str> = objects
        .iter()
        .filter_map(|object| object.location.as_ref().strip_suffix(".json"))
        .collect();
    let grace = chrono::Duration::from_std(grace).unwrap_or(chrono::Duration::MAX);
    for object in &objects {
        let key = object.location.as_ref();
        let Some((stem, _extension)) = key.rsplit_once('.') else {
            continue;
        };
        let orphan = !key.ends_with(".json") && !recorded.contains(stem);
        if orphan && Utc::now() - object.last_modified >= grace {
            store.delete(&object.location).await?;
            tracing::info!(%key, "removed a video left without its record by an interrupted upload");
        }
    }
    Ok(())
}

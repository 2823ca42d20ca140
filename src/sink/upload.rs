//! Writing a run's objects: each created only if its key is free (`PutMode::Create`, a
//! conditional put), so nothing is ever overwritten; a key already holding the very same bytes
//! (a push retried after a lost answer) counts as written. Transient failures are retried with
//! exponential backoff by the store client, within the location's retry budget.

use object_store::path::Path as ObjectPath;
use object_store::{PutMode, PutOptions, PutPayload};

use super::objects::Object;
use crate::store::{Location, describe};

#[derive(Debug, thiserror::Error)]
#[error("{object}: {cause}")]
pub struct UploadError {
    pub object: String,
    pub cause: String,
}

/// The full key of `key` below the location's prefix.
pub fn full_key(location: &Location, key: &str) -> ObjectPath {
    let prefix = location.prefix.as_ref();
    if prefix.is_empty() {
        ObjectPath::from(key)
    } else {
        ObjectPath::from(format!("{prefix}/{key}"))
    }
}

/// Writes every object, in order; stops at the first that cannot be written.
pub async fn put_all(location: &Location, objects: &[Object]) -> Result<Vec<String>, UploadError> {
    let mut written = Vec::new();
    for object in objects {
        let key = full_key(location, &object.key);
        let url = location.url_of(&key);
        let failed = |cause: String| UploadError {
            object: url.clone(),
            cause,
        };
        let options = PutOptions {
            mode: PutMode::Create,
            ..PutOptions::default()
        };
        let payload = PutPayload::from_bytes(object.bytes.clone());
        match location.store.put_opts(&key, payload, options).await {
            Ok(_) => {}
            Err(object_store::Error::AlreadyExists { .. }) => {
                let existing = async { location.store.get(&key).await?.bytes().await };
                let existing = existing.await.map_err(|e| failed(describe(&e)))?;
                if existing != object.bytes {
                    return Err(failed(
                        "already exists with other contents; nothing was overwritten".into(),
                    ));
                }
            }
            Err(e) => return Err(failed(describe(&e))),
        }
        written.push(url);
    }
    Ok(written)
}

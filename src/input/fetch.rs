//! Fetching objects concurrently (bounded) while the parser reads them in order: at most
//! `ahead` objects are in flight or waiting, so memory is bounded by that many objects,
//! whatever the number of objects under the prefix.

use futures::StreamExt;
use tokio::sync::mpsc;

use super::sources::{Body, Data, Source};
use crate::error::UsageError;
use crate::store;

/// A source and its bytes (or why they could not be fetched).
pub type Loaded = (Source, Result<Data, UsageError>);

/// Fetches `sources` in order, `ahead` at a time, into `send`; stops early when the receiver
/// is gone (the parser stopped at a bad file). Local files are passed on unread.
pub fn fetch_in_order(
    sources: Vec<Source>,
    runtime: &tokio::runtime::Runtime,
    ahead: usize,
    send: mpsc::Sender<Loaded>,
) {
    runtime.block_on(async {
        let mut loaded = futures::stream::iter(sources)
            .map(|source| async move {
                let data = load(&source).await;
                (source, data)
            })
            .buffered(ahead.max(1));
        while let Some(item) = loaded.next().await {
            if send.send(item).await.is_err() {
                break;
            }
        }
    });
}

async fn load(source: &Source) -> Result<Data, UsageError> {
    match &source.body {
        Body::File(path) => Ok(Data::File(path.clone())),
        Body::Object(location, key) => {
            let failed = |e: object_store::Error| {
                UsageError(format!("{}: {}", source.name, store::describe(&e)))
            };
            let object = location.store.get(key).await.map_err(failed)?;
            Ok(Data::Bytes(object.bytes().await.map_err(failed)?))
        }
    }
}

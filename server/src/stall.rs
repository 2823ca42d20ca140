//! Streams that may stop without ending — an upload whose client stops sending, a video whose
//! store stops answering — are cut off after a time without data, so neither can hold a
//! connection (and its memory) forever.

use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt};

use crate::routes::BoxError;

/// Ends `stream` with the error `stalled(idle)` when no item arrives for `idle`.
pub fn cut_off_when_stalled<E>(
    stream: impl Stream<Item = Result<Bytes, E>> + Send + Unpin,
    idle: Duration,
    stalled: fn(Duration) -> BoxError,
) -> impl Stream<Item = Result<Bytes, BoxError>> + Send
where
    E: Into<BoxError>,
{
    futures::stream::unfold(Some(stream), move |stream| async move {
        let mut stream = stream?;
        match tokio::time::timeout(idle, stream.next()).await {
            Ok(Some(item)) => Some((item.map_err(Into::into), Some(stream))),
            Ok(None) => None,
            Err(_) => Some((Err(stalled(idle)), None)),
        }
    })
}

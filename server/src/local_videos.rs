//! Local videos served from memory maps kept for the next request.
//!
//! A video file is mapped in windows of [`WINDOW`] bytes, each made resident once and kept:
//! the next response for the same bytes is a slice of the same mapping, with no system call,
//! no copy and no allocation before hyper writes it to the socket. Every window — cached, or
//! held by a response still writing it — holds its share of the process's read budget, so the
//! mapped memory of all connections together never exceeds `--read-budget-mib`. When a new
//! window finds the budget spent, the cache lets go of its windows (those still being written
//! are unmapped when their responses finish) and the new one waits for its share.
//!
//! A video's file never changes once its record exists (an id names one upload), so a cached
//! window is never stale.

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::ops::Range;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::stream::{self, BoxStream, StreamExt};
use tokio::sync::OnceCell;

use crate::mapped::MappedPiece;
use crate::read_budget::ReadBudget;

/// Bytes per mapped window (and at most per piece of a response).
pub const WINDOW: u64 = 1 << 20;
/// Pieces of one response made ready ahead of the network.
const READS_AHEAD: usize = 2;

type WindowKey = (Arc<std::path::Path>, u64);

#[derive(Clone)]
pub struct LocalVideos {
    inner: Arc<Inner>,
}

struct Inner {
    /// A window's cell is filled by the first response that needs it; responses that need it
    /// meanwhile wait for that mapping instead of each making their own.
    windows: Mutex<HashMap<WindowKey, Arc<OnceCell<Bytes>>>>,
    budget: ReadBudget,
}

impl LocalVideos {
    pub fn new(budget: ReadBudget) -> Self {
        Self {
            inner: Arc::new(Inner {
                windows: Mutex::new(HashMap::new()),
                budget,
            }),
        }
    }

    /// The bytes of `range` of the file at `path`, in pieces that end at window boundaries.
    pub fn pieces(
        &self,
        path: &std::path::Path,
        range: Range<u64>,
    ) -> BoxStream<'static, io::Result<Bytes>> {
        let path: Arc<std::path::Path> = path.into();
        let inner = self.inner.clone();
        let starts = std::iter::successors(Some(range.start), move |start| {
            let next = (start / WINDOW + 1) * WINDOW;
            (next < range.end).then_some(next)
        });
        let end = range.end;
        stream::iter(starts)
            .map(move |start| {
                let (inner, path) = (inner.clone(), path.clone());
                let piece_end = ((start / WINDOW + 1) * WINDOW).min(end);
                async move { inner.piece(path, start..piece_end).await }
            })
            .buffered(READS_AHEAD)
            .boxed()
    }
}

impl Inner {
    /// `range`, which lies within one window, from the cache or a new mapping.
    async fn piece(&self, path: Arc<std::path::Path>, range: Range<u64>) -> io::Result<Bytes> {
        let index = range.start / WINDOW;
        let in_window =
            (range.start - index * WINDOW) as usize..(range.end - index * WINDOW) as usize;
        let key = (path, index);
        let cell = self
            .windows
            .lock()
            .expect("window cache")
            .entry(key.clone())
            .or_default()
            .clone();
        let window = cell
            .get_or_try_init(|| self.map_window(&key, range.end))
            .await?
            .clone();
        if window.len() < in_window.end {
            return Err(short_file(&key.0, range.end));
        }
        // The cache may have let go of the cell while it was being filled (the budget was
        // spent): the window just mapped is the one to keep.
        self.windows
            .lock()
            .expect("window cache")
            .entry(key)
            .or_insert(cell);
        Ok(window.slice(in_window))
    }

    /// Maps window `key` of its file, which must hold at least `needed` bytes.
    async fn map_window(&self, key: &WindowKey, needed: u64) -> io::Result<Bytes> {
        let (path, index) = key;
        let file = File::open(path)?;
        let start = index * WINDOW;
        let end = (start + WINDOW).min(file.metadata()?.len());
        if end < needed {
            return Err(short_file(path, needed));
        }
        let reservation = match self.budget.try_reserve(end - start) {
            Some(reservation) => reservation,
            None => {
                // Spent: the windows the cache holds go first (not those being mapped, which
                // other responses wait for), then wait for responses to finish.
                self.windows
                    .lock()
                    .expect("window cache")
                    .retain(|_, cell| !cell.initialized());
                self.budget.reserve(end - start).await
            }
        };
        let window = MappedPiece::map(&file, start..end)?;
        let window = if window.is_resident() {
            window.populate()?;
            window
        } else {
            // Pages to read from disk: fault them in on a blocking thread, not the event loop.
            tokio::task::spawn_blocking(move || window.populate().map(|()| window))
                .await
                .map_err(io::Error::other)??
        };
        Ok(reservation.hold(window))
    }
}

fn short_file(path: &std::path::Path, needed: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        format!("{} ends before byte {needed}", path.display()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::TryStreamExt;

    fn video(len: usize) -> (tempfile::TempDir, std::path::PathBuf, Vec<u8>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("video.mp4");
        let bytes: Vec<u8> = (0..len).map(|i| (i * 7 % 256) as u8).collect();
        std::fs::write(&path, &bytes).unwrap();
        (dir, path, bytes)
    }

    async fn read(videos: &LocalVideos, path: &std::path::Path, range: Range<u64>) -> Vec<Bytes> {
        videos.pieces(path, range).try_collect().await.unwrap()
    }

    #[tokio::test]
    async fn pieces_end_at_window_boundaries_and_hold_the_range() {
        let (_dir, path, bytes) = video(3 * WINDOW as usize + 100);
        let videos = LocalVideos::new(ReadBudget::new(8 << 20));
        let range = WINDOW - 10..3 * WINDOW + 50;
        let pieces = read(&videos, &path, range.clone()).await;
        let lens: Vec<usize> = pieces.iter().map(Bytes::len).collect();
        assert_eq!(lens, [10, WINDOW as usize, WINDOW as usize, 50]);
        assert_eq!(
            pieces.concat(),
            &bytes[range.start as usize..range.end as usize]
        );
    }

    #[tokio::test]
    async fn mapped_memory_stays_within_the_budget() {
        let (_dir, path, bytes) = video(4 * WINDOW as usize);
        let budget = ReadBudget::new(2 * WINDOW);
        let videos = LocalVideos::new(budget.clone());
        for _ in 0..3 {
            // As hyper does: each piece is let go once written.
            let mut pieces = videos.pieces(&path, 0..4 * WINDOW);
            let mut read = Vec::new();
            while let Some(piece) = pieces.try_next().await.unwrap() {
                assert!(budget.in_use() <= 2 * WINDOW, "{} mapped", budget.in_use());
                read.extend_from_slice(&piece);
            }
            assert_eq!(read, bytes);
        }
        assert!(budget.in_use() > 0, "windows are kept for the next request");
    }

    #[tokio::test]
    async fn responses_that_need_a_window_at_once_share_one_mapping() {
        let (_dir, path, bytes) = video(WINDOW as usize);
        let budget = ReadBudget::new(64 << 20);
        let videos = LocalVideos::new(budget.clone());
        // The budget is spent while 50 responses ask for the window, so they all miss at once.
        let spent = budget.reserve(64 << 20).await;
        let reads: Vec<_> = (0..50)
            .map(|_| {
                let (videos, path) = (videos.clone(), path.clone());
                tokio::spawn(async move { read(&videos, &path, 0..WINDOW).await })
            })
            .collect();
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        drop(spent);
        let mut all = Vec::new();
        for read in reads {
            all.push(read.await.unwrap());
        }
        assert_eq!(
            budget.in_use(),
            WINDOW,
            "one window mapped, not one per response"
        );
        for pieces in all {
            assert_eq!(pieces.concat(), bytes);
        }
    }

    #[tokio::test]
    async fn a_file_shorter_than_its_range_is_an_error_not_a_fault() {
        let (_dir, path, _) = video(1000);
        let videos = LocalVideos::new(ReadBudget::new(8 << 20));
        let result: io::Result<Vec<Bytes>> = videos.pieces(&path, 0..2000).try_collect().await;
        assert_eq!(result.unwrap_err().kind(), io::ErrorKind::UnexpectedEof);
    }
}

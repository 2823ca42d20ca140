//! Pieces of a local video file as read-only memory maps of the page cache.
//!
//! Reading a piece into a buffer of our own costs an allocation, a copy of every byte, and a
//! trip to a blocking thread; under 1,000 connections those were a third of the server's time
//! and most of its memory (glibc keeps the freed buffers of each thread's arena). A mapped
//! piece is the page cache itself: hyper writes it to the socket from there, and unmapping it
//! (when the last `Bytes` of it is dropped) gives the pages back. A piece that is not yet in
//! the page cache is faulted in on a blocking thread, so a cold disk never stalls the event loop.
//!
//! A mapping of bytes past the end of a file faults (SIGBUS), so a piece is mapped only after
//! the file is checked to hold it. Videos are written once, by rename, and never changed in
//! place; a file truncated in place by someone else while it is served can still fault.

use std::fs::File;
use std::io;
use std::ops::Range;
use std::os::fd::AsRawFd;
use std::ptr::NonNull;

/// Part of a file mapped into memory; unmapped on drop.
pub struct MappedPiece {
    /// Start of the mapping, aligned to a page.
    map: NonNull<libc::c_void>,
    map_len: usize,
    /// Where the piece starts within the mapping (the file offset's distance past the page).
    skip: usize,
}

// SAFETY: the mapping is read-only and owned by this value alone; reading it from any thread
// is as safe as reading a `&[u8]`.
unsafe impl Send for MappedPiece {}
unsafe impl Sync for MappedPiece {}

fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(size).unwrap_or(4096).max(1)
}

impl MappedPiece {
    /// Maps `range` of `file`. Fails, rather than mapping, when the file is shorter than the
    /// range (a fault waiting to happen) or the range is empty.
    pub fn map(file: &File, range: Range<u64>) -> io::Result<Self> {
        let file_len = file.metadata()?.len();
        if range.is_empty() || range.end > file_len {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "bytes {}..{} are not in the file of {file_len} bytes",
                    range.start, range.end
                ),
            ));
        }
        let start = range.start - range.start % page_size();
        let skip = (range.start - start) as usize;
        let map_len = usize::try_from(range.end - start)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "piece too large"))?;
        let offset = libc::off_t::try_from(start)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "offset too large"))?;
        // SAFETY: a fresh read-only shared mapping of an open file, at a page-aligned offset,
        // of bytes the file holds; nothing else refers to the address range it returns.
        let address = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                map_len,
                libc::PROT_READ,
                libc::MAP_SHARED,
                file.as_raw_fd(),
                offset,
            )
        };
        if address == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let map = NonNull::new(address).ok_or_else(|| io::Error::other("mmap returned null"))?;
        Ok(Self { map, map_len, skip })
    }

    /// True when every page of the piece is in the page cache, so touching it needs no disk.
    pub fn is_resident(&self) -> bool {
        let pages = self.map_len.div_ceil(page_size() as usize);
        let mut resident = vec![0u8; pages];
        // SAFETY: the range is our own mapping, and `resident` has one byte per page of it.
        let status =
            unsafe { libc::mincore(self.map.as_ptr(), self.map_len, resident.as_mut_ptr()) };
        status == 0 && resident.iter().all(|page| page & 1 == 1)
    }

    /// Faults every page in now (reading from disk what is not cached), so that writing the
    /// piece to a socket later never waits for the disk.
    pub fn populate(&self) -> io::Result<()> {
        // SAFETY: advice on our own mapping; MADV_POPULATE_READ only reads it.
        let status =
            unsafe { libc::madvise(self.map.as_ptr(), self.map_len, libc::MADV_POPULATE_READ) };
        if status == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }
}

impl AsRef<[u8]> for MappedPiece {
    fn as_ref(&self) -> &[u8] {
        // SAFETY: the mapping is readable for `map_len` bytes and lives as long as `self`.
        let all =
            unsafe { std::slice::from_raw_parts(self.map.as_ptr().cast::<u8>(), self.map_len) };
        &all[self.skip..]
    }
}

impl Drop for MappedPiece {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping made in `map`, which no slice outlives (every
        // `Bytes` of it holds this value).
        unsafe {
            libc::munmap(self.map.as_ptr(), self.map_len);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_of(bytes: &[u8]) -> File {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(bytes).unwrap();
        file
    }

    #[test]
    fn a_piece_is_the_bytes_of_its_range_at_any_offset() {
        let bytes: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
        let file = file_of(&bytes);
        for range in [0..1, 0..20_000, 4095..4097, 5000..12_345, 19_999..20_000] {
            let piece = MappedPiece::map(&file, range.clone()).unwrap();
            piece.populate().unwrap();
            assert!(piece.is_resident());
            assert_eq!(
                piece.as_ref(),
                &bytes[range.start as usize..range.end as usize]
            );
        }
    }

    #[test]
    fn a_range_past_the_end_of_the_file_is_refused_not_mapped() {
        let file = file_of(&[1; 100]);
        let error = MappedPiece::map(&file, 50..101).err().unwrap();
        assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof);
        assert!(MappedPiece::map(&file, 100..100).is_err());
    }
}

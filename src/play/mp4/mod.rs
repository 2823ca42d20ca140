//! Progressive MP4: the box walk as bytes arrive ([`walk`]) and the offset table built from
//! `moov` ([`index`]).

pub mod index;
pub mod synthetic;
pub mod walk;

pub use index::{MediaIndex, SeekPoint};
pub use walk::{BoxWalker, Found};

/// Default bound on `moov` (`--max-moov-bytes`): a 2-hour file's tables take a few MiB.
pub const DEFAULT_MAX_MOOV_BYTES: u64 = 64 << 20;

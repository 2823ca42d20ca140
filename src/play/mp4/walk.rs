//! The top-level box walk of an MP4 as its bytes arrive: which boxes come where, and the bytes
//! of `moov` (and only `moov`: media data is counted and dropped, never kept).
//!
//! A browser's `<video>` reads a progressive MP4 the same way: box headers one after another
//! until it holds `moov`; an `mdat` met first means the file is not "faststart" and `moov` must
//! be fetched from after it.

use crate::play::MediaError;

/// Top-level box types of ISO BMFF (ISO/IEC 14496-12) and QuickTime files. Anything else at
/// the top level means the bytes are not an MP4 (an HTML error page, a text file, …).
const TOP_LEVEL: [&[u8; 4]; 17] = [
    b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"uuid", b"pdin", b"meta", b"moof",
    b"mfra", b"styp", b"sidx", b"ssix", b"prft", b"udta", b"pnot",
];

/// What the walk found, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// The whole `moov` box, header included, that began at `offset`.
    Moov { offset: u64, bytes: Vec<u8> },
    /// An `mdat` box: its header began at `offset`, its media data at `data`; `end` is where
    /// the next box begins (`None`: the box runs to the end of the file, size 0).
    Mdat {
        offset: u64,
        data: u64,
        end: Option<u64>,
    },
}

enum State {
    /// Collecting the next box header (8 bytes, 16 with a 64-bit size).
    Header,
    /// Inside a box that is not kept: bytes left to skip (`None`: to the end of the file).
    Skip(Option<u64>),
    /// Inside `moov`: its bytes so far and how many are left.
    Moov { bytes: Vec<u8>, left: u64 },
}

/// Walks the top-level boxes of a byte stream that starts at a box boundary.
pub struct BoxWalker {
    /// File offset of the next byte fed.
    offset: u64,
    header: Vec<u8>,
    header_offset: u64,
    state: State,
    max_moov_bytes: u64,
    boxes_seen: u64,
}

impl BoxWalker {
    /// A walk starting at file offset `offset` (0 for the start of the file).
    pub fn new(offset: u64, max_moov_bytes: u64) -> Self {
        Self {
            offset,
            header: Vec::with_capacity(16),
            header_offset: offset,
            state: State::Header,
            max_moov_bytes,
            boxes_seen: 0,
        }
    }

    /// File offset of the next byte to feed.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Feeds the next bytes of the file; returns what became known.
    pub fn feed(&mut self, mut chunk: &[u8]) -> Result<Vec<Found>, MediaError> {
        let mut found = Vec::new();
        while !chunk.is_empty() {
            let used = match &mut self.state {
                State::Header => self.read_header(chunk, &mut found)?,
                State::Skip(None) => chunk.len(),
                State::Skip(Some(left)) => {
                    let used = (*left).min(chunk.len() as u64) as usize;
                    *left -= used as u64;
                    if *left == 0 {
                        self.state = State::Header;
                    }
                    used
                }
                State::Moov { bytes, left } => {
                    let used = (*left).min(chunk.len() as u64) as usize;
                    bytes.extend_from_slice(&chunk[..used]);
                    *left -= used as u64;
                    if *left == 0 {
                        let bytes = std::mem::take(bytes);
                        found.push(Found::Moov {
                            offset: self.header_offset,
                            bytes,
                        });
                        self.state = State::Header;
                    }
                    used
                }
            };
            self.offset += used as u64;
            chunk = &chunk[used..];
        }
        Ok(found)
    }

    /// Consumes header bytes; once the header is whole, decides what to do with the box.
    fn read_header(&mut self, chunk: &[u8], found: &mut Vec<Found>) -> Result<usize, MediaError> {
        if self.header.is_empty() {
            self.header_offset = self.offset;
        }
        let wanted = if self.header.len() >= 8 && size32(&self.header) == 1 {
            16
        } else {
            8
        };
        let used = (wanted - self.header.len()).min(chunk.len());
        self.header.extend_from_slice(&chunk[..used]);
        if self.header.len() < wanted || (wanted == 8 && size32(&self.header) == 1) {
            return Ok(used);
        }
        let kind: [u8; 4] = self.header[4..8].try_into().unwrap_or_default();
        if !TOP_LEVEL.contains(&&kind) {
            return Err(MediaError::NotMp4(format!(
                "unexpected top-level box {:?} at byte {}",
                String::from_utf8_lossy(&kind),
                self.header_offset
            )));
        }
        if self.boxes_seen == 0 && self.header_offset == 0 && &kind != b"ftyp" {
            return Err(MediaError::NotMp4(
                "the file does not begin with ftyp".into(),
            ));
        }
        self.boxes_seen += 1;
        let header_len = self.header.len() as u64;
        let size = match size32(&self.header) {
            0 => None,
            1 => Some(u64::from_be_bytes(
                self.header[8..16].try_into().unwrap_or_default(),
            )),
            size => Some(u64::from(size)),
        };
        if size.is_some_and(|size| size < header_len) {
            return Err(MediaError::NotMp4(format!(
                "box {:?} at byte {} is shorter than its header",
                String::from_utf8_lossy(&kind),
                self.header_offset
            )));
        }
        let body = size.map(|size| size - header_len);
        self.state = match (&kind, body) {
            (b"moov", None) => return Err(MediaError::NotMp4("moov without a size".into())),
            (b"moov", Some(body)) => {
                let size = body + header_len;
                if size > self.max_moov_bytes {
                    return Err(MediaError::MoovTooLarge {
                        size,
                        max: self.max_moov_bytes,
                    });
                }
                let mut bytes = Vec::with_capacity(size as usize);
                bytes.extend_from_slice(&self.header);
                State::Moov { bytes, left: body }
            }
            _ => {
                if &kind == b"mdat" {
                    found.push(Found::Mdat {
                        offset: self.header_offset,
                        data: self.header_offset + header_len,
                        end: size.map(|size| self.header_offset + size),
                    });
                }
                State::Skip(body)
            }
        };
        self.header.clear();
        if matches!(self.state, State::Moov { left: 0, .. }) {
            // An empty moov: report it now (the parser will reject it).
            if let State::Moov { bytes, .. } = std::mem::replace(&mut self.state, State::Header) {
                found.push(Found::Moov {
                    offset: self.header_offset,
                    bytes,
                });
            }
        } else if matches!(self.state, State::Skip(Some(0))) {
            self.state = State::Header;
        }
        Ok(used)
    }
}

fn size32(header: &[u8]) -> u32 {
    u32::from_be_bytes(header[..4].try_into().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn media(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/assets/media/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    /// Feeds `bytes` in chunks of `step` and collects everything found.
    fn walk(bytes: &[u8], step: usize) -> Result<Vec<Found>, MediaError> {
        let mut walker = BoxWalker::new(0, 64 << 20);
        let mut all = Vec::new();
        for chunk in bytes.chunks(step) {
            all.extend(walker.feed(chunk)?);
        }
        Ok(all)
    }

    #[test]
    fn faststart_file_yields_moov_then_mdat_whatever_the_chunking() {
        let file = media("clip.mp4");
        for step in [1, 7, 4096, file.len()] {
            let found = walk(&file, step).unwrap();
            let Found::Moov { offset, bytes } = &found[0] else {
                panic!("{found:?}")
            };
            assert_eq!(*offset, 32);
            assert_eq!(&bytes[4..8], b"moov");
            assert_eq!(bytes.len() as u32, size32(bytes));
            assert_eq!(bytes[..], file[32..32 + bytes.len()]);
            assert!(
                matches!(found[1], Found::Mdat { end: Some(end), .. } if end == file.len() as u64)
            );
        }
    }

    #[test]
    fn non_faststart_file_yields_mdat_first_with_the_offset_of_what_follows() {
        let file = media("clip-tail.mp4");
        let found = walk(&file, 1000).unwrap();
        let Found::Mdat {
            offset,
            data,
            end: Some(end),
        } = found[0]
        else {
            panic!("{found:?}")
        };
        assert_eq!(offset, 40);
        assert_eq!(data, 48);
        assert_eq!(&file[end as usize + 4..end as usize + 8], b"moov");
        // A walk that starts at the tail finds moov there.
        let mut tail = BoxWalker::new(end, 64 << 20);
        let found = tail.feed(&file[end as usize..]).unwrap();
        assert!(matches!(&found[0], Found::Moov { offset, .. } if *offset == end));
    }

    #[test]
    fn html_is_not_an_mp4() {
        let error = walk(b"<!DOCTYPE html><html><body>Not found</body></html>", 5).unwrap_err();
        assert!(matches!(error, MediaError::NotMp4(_)), "{error}");
    }

    #[test]
    fn moov_larger_than_the_bound_is_refused_before_it_is_read() {
        let file = media("clip.mp4");
        let mut walker = BoxWalker::new(0, 1000);
        let error = walker.feed(&file[..100]).unwrap_err();
        assert!(
            matches!(
                error,
                MediaError::MoovTooLarge {
                    size: 26133,
                    max: 1000
                }
            ),
            "{error}"
        );
    }
}

//! The server's fuzz targets replayed on their committed inputs (seed corpora and the inputs
//! of past findings), so every `cargo test` checks them without a nightly toolchain.

use cdnprobe_server::fuzzing::{range_header, replay_corpus, upload_request};

#[test]
fn range_header_corpus_replays_clean() {
    assert!(replay_corpus("range_header", range_header) > 0);
}

#[test]
fn upload_request_corpus_replays_clean() {
    assert!(
        replay_corpus("upload_request", |data| {
            upload_request(data);
        }) > 0
    );
}

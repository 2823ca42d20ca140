//! The probe's and report's fuzz targets replayed on their committed inputs (seed corpora and
//! the inputs of past findings), so every `cargo test` checks them without a nightly toolchain.

use cdnprobe::fuzzing::{
    cache_headers, hls_playlist, mp4_boxes, probe_config, sample_csv, sample_parquet,
};
use cdnprobe_server::fuzzing::replay_corpus;

#[test]
fn sample_csv_corpus_replays_clean() {
    assert!(replay_corpus("sample_csv", sample_csv) > 0);
}

#[test]
fn cache_headers_corpus_replays_clean() {
    assert!(replay_corpus("cache_headers", cache_headers) > 0);
}

#[test]
fn probe_config_corpus_replays_clean() {
    assert!(replay_corpus("probe_config", probe_config) > 0);
}

#[test]
fn sample_parquet_corpus_replays_clean() {
    assert!(replay_corpus("sample_parquet", sample_parquet) > 0);
}

#[test]
fn mp4_boxes_corpus_replays_clean() {
    assert!(replay_corpus("mp4_boxes", mp4_boxes) > 0);
}

#[test]
fn hls_playlist_corpus_replays_clean() {
    assert!(replay_corpus("hls_playlist", hls_playlist) > 0);
}

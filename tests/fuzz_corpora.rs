//! The probe's and report's fuzz targets replayed on their committed inputs (seed corpora and
//! the inputs of past findings), so every `cargo test` checks them without a nightly toolchain.

use cdnprobe::fuzzing::{cache_headers, probe_config, sample_csv};
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

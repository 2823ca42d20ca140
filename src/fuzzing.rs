//! The logic of the probe's and report's fuzz targets (`fuzz/fuzz_targets/`), kept here so that
//! a plain `cargo test` replays the committed corpora (`fuzz/corpus/TARGET/`) on a stable
//! toolchain. Each function panics when an input breaks a property the tool promises.
//! What `play` does with a server's bytes (MP4 boxes, HLS playlists) is in [`media`].

mod media;

pub use media::{hls_playlist, mp4_boxes};

use http::{HeaderMap, HeaderName, HeaderValue};

/// Bytes as a sample CSV file read by `report` and `check`: every row is either handed on or
/// the file is refused with one line, `file:line: what is wrong`.
pub fn sample_csv(data: &[u8]) {
    sample_file(data, "samples.csv");
}

/// Bytes as a sample Parquet file read by `report` and `check`: the parquet crate decodes it,
/// and our code turns each typed value into the sample's fields (`input/parquet.rs`,
/// `input/columns.rs`). Every row is handed on or the file is refused with one line naming it.
pub fn sample_parquet(data: &[u8]) {
    contain_parquet_crate_panics();
    sample_file(data, "samples.parquet");
}

/// Our reader contains panics of the parquet crate and of the arrow crates it calls (see
/// `input/parquet.rs`; arrow-ipc panics on an embedded schema with a field of type NONE, and
/// the metadata decoder on a length that overflows a `Vec`'s capacity).
/// libFuzzer's panic hook aborts at once, before any unwinding, so a panic raised inside those
/// crates' own source is let unwind to our reader; any other panic still goes to the previous
/// hook.
fn contain_parquet_crate_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // Where it was raised, or (an allocation failure raised in `alloc` on the crate's
            // behalf) any frame of the crates on the stack.
            let of_the_crates = |file: &str| {
                file.contains("registry")
                    && (file.contains("/parquet-") || file.contains("/arrow-"))
            };
            let in_parquet = info.location().is_some_and(|l| of_the_crates(l.file()))
                || of_the_crates(&std::backtrace::Backtrace::force_capture().to_string());
            if !in_parquet {
                previous(info);
            }
        }));
    });
}

/// `data` as a file called `name` (its extension chooses the reader) read as `report` reads it.
fn sample_file(data: &[u8], name: &str) {
    thread_local! {
        static DIR: tempfile::TempDir = tempfile::tempdir().expect("a temporary directory");
    }
    let path = DIR.with(|dir| dir.path().join(name));
    std::fs::write(&path, data).expect("writing the input");
    let mut handed_on = 0u64;
    let reading = crate::input::Reading::default();
    let read =
        crate::input::for_each_sample(std::slice::from_ref(&path), &reading, |_| handed_on += 1);
    match read {
        Ok(totals) => assert_eq!(
            totals.rows, handed_on,
            "rows counted and rows handed on differ"
        ),
        Err(error) => {
            let message = error.to_string();
            assert!(!message.contains('\n'), "a multi-line error: {message:?}");
            let location = format!("{}:", path.display());
            assert!(
                message.starts_with(&location),
                "no file name in {message:?}"
            );
        }
    }
}

/// Lines of `Name: value` as a response's headers: the cache status and the POP are read
/// without panicking, and the POP is taken from a header's value, never made up.
pub fn cache_headers(data: &[u8]) {
    let mut headers = HeaderMap::new();
    for line in data.split(|b| *b == b'\n') {
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let (name, value) = (&line[..colon], line[colon + 1..].trim_ascii());
        if let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(name), HeaderValue::from_bytes(value))
        {
            headers.append(name, value);
        }
    }
    let _ = crate::probe::cache::cache_status(&headers);
    let pop = crate::probe::cache::pop(&headers);
    if !pop.is_empty() {
        let from_a_header = headers
            .values()
            .filter_map(|value| value.to_str().ok())
            .any(|value| value.contains(pop.as_str()));
        assert!(from_a_header, "POP {pop:?} is in no header");
    }
}

/// Bytes as a `--config` TOML file: parsed, or refused with a line of the file and a message
/// of one line. The text is also tried as a `--timeout` / `--interval` value.
pub fn probe_config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(message) = crate::schedule::config::parse_duration(text) {
        assert!(!message.contains('\n'), "a multi-line error: {message:?}");
    }
    if let Err((line, message)) = crate::schedule::config::ConfigFile::parse(text) {
        let lines = text.matches('\n').count() + 1;
        assert!(
            (1..=lines).contains(&line),
            "line {line} of {lines}: {message}"
        );
        assert!(!message.contains('\n'), "a multi-line error: {message:?}");
    }
}

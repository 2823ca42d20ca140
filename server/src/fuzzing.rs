//! The logic of the server's fuzz targets (`fuzz/fuzz_targets/`), kept here so that a plain
//! `cargo test` replays the committed corpora (`fuzz/corpus/TARGET/`) on a stable toolchain.
//! Each function panics when an input breaks a property the server promises.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use clap::Parser;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::stream::{RangeRequest, parse_range};
use crate::{App, Args};

/// Runs `target` on every input committed for fuzz target `name`: its seed corpus
/// (`fuzz/corpus/NAME/`) and the inputs of findings fixed since (`fuzz/regressions/NAME/`).
/// Returns how many ran; `cargo test` calls this for every target.
pub fn replay_corpus(name: &str, target: impl Fn(&[u8])) -> usize {
    let fuzz = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut ran = 0;
    for dir in [
        fuzz.join("corpus").join(name),
        fuzz.join("regressions").join(name),
    ] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut inputs: Vec<_> = entries
            .filter_map(|entry| Some(entry.ok()?.path()))
            .collect();
        inputs.sort();
        for input in inputs {
            let data = std::fs::read(&input).expect("reading a corpus file");
            eprintln!("replaying {}", input.display());
            target(&data);
            ran += 1;
        }
    }
    ran
}

/// The Range header against representations of several lengths: a part is always inside the
/// representation and never empty.
pub fn range_header(data: &[u8]) {
    let Ok(header) = std::str::from_utf8(data) else {
        return;
    };
    for len in [0, 1, 100, 1 << 20, (5 << 30) + 7, u64::MAX] {
        match parse_range(header, len) {
            RangeRequest::Part(range) => {
                assert!(
                    range.start < range.end,
                    "{header:?} on {len}: empty {range:?}"
                );
                assert!(
                    range.end <= len,
                    "{header:?} on {len}: {range:?} past the end"
                );
            }
            RangeRequest::Whole | RangeRequest::Unsatisfiable => {}
        }
    }
}

/// What every fuzzed upload request runs against: one server on a temporary data directory,
/// on a current-thread runtime.
struct Harness {
    runtime: tokio::runtime::Runtime,
    app: Arc<App>,
    dir: tempfile::TempDir,
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let dir = tempfile::tempdir().expect("a temporary directory");
        let data_dir = dir.path().to_str().expect("a UTF-8 path");
        // Small limits, so inputs of a few KiB reach every refusal.
        let args = Args::parse_from([
            "cdnprobe-server",
            "--data-dir",
            data_dir,
            "--max-upload-bytes",
            "65536",
            "--body-read-timeout",
            "2",
        ]);
        let app = runtime
            .block_on(async { crate::open_app(args) })
            .expect("a server");
        Harness {
            runtime,
            app: Arc::new(app),
            dir,
        }
    })
}

/// Raw bytes as one client's whole connection to the server, in-process: the HTTP parser,
/// the routes, the multipart form and the upload with its storage. The server must answer
/// within a few seconds with a status of the API's (never 5xx, never a panic), and a refused
/// request must leave nothing stored. Returns the server's answer.
pub fn upload_request(data: &[u8]) -> String {
    let harness = harness();
    let videos = harness.dir.path().join("videos");
    let (answer, stored) = harness.runtime.block_on(async {
        let answer = exchange(harness.app.clone(), data).await;
        // An upload cut short is aborted in the background: give that a moment, then any
        // staged file left is a finding too.
        let mut stored = files_in(&videos);
        for _ in 0..500 {
            if !stored.iter().any(|name| name.contains('#')) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
            stored = files_in(&videos);
        }
        (answer, stored)
    });
    // The server answers in the request's version: HTTP/1.0 requests get HTTP/1.0 answers.
    let statuses: Vec<&str> = answer
        .match_indices("HTTP/1.")
        .filter_map(|(at, _)| answer.get(at + 9..))
        .collect();
    let created = statuses.iter().filter(|s| s.starts_with("201 ")).count();
    for status in statuses {
        let code = status.get(..3).unwrap_or("");
        assert!(!code.starts_with('5'), "answered {code}: {answer:?}");
    }
    // Each upload stored is a video and its record; nothing else, nothing half-written.
    assert_eq!(
        stored.len(),
        2 * created,
        "stored {stored:?} after {answer:?}"
    );
    let _ = std::fs::remove_dir_all(&videos);
    answer
}

fn files_in(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|entry| Some(entry.ok()?.file_name().to_string_lossy().into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

async fn exchange(app: Arc<App>, data: &[u8]) -> String {
    let (mut client, server) = tokio::io::duplex(64 << 10);
    let http = crate::http_builder(&app.args);
    let connection = tokio::spawn(async move {
        let _ = http
            .serve_connection(TokioIo::new(server), crate::service(app))
            .await;
    });
    let request = data.to_vec();
    let (mut reader, mut writer) = tokio::io::split(&mut client);
    let send = async {
        let _ = writer.write_all(&request).await;
        let _ = writer.shutdown().await;
    };
    let mut answer = Vec::new();
    let receive = reader.read_to_end(&mut answer);
    let both = async { tokio::join!(send, receive) };
    let ((), received) = tokio::time::timeout(Duration::from_secs(10), both)
        .await
        .expect("the server answers and closes within 10 s");
    // Reading from the in-memory pipe fails only if the server side broke it.
    received.expect("reading the answer");
    let _ = connection.await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_valid_upload_is_stored_and_counted() {
        let sample = include_bytes!("../../assets/sample.mp4");
        let boundary = "b0undary";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.mp4\"\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(&sample[..]);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let mut request = format!(
            "POST /api/v1/videos/upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        request.extend_from_slice(&body);
        let answer = super::upload_request(&request);
        assert!(answer.starts_with("HTTP/1.1 201 "), "{answer}");
        // The closing boundary broken, the length unchanged: a malformed form.
        let at = request.len() - 6;
        request[at] = b'X';
        let answer = super::upload_request(&request);
        assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
    }
}

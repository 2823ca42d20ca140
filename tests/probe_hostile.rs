//! The probe pointed at hostile servers (raw TCP on loopback, written here byte by byte): a head
//! that never ends, a body that never ends, 10 GB behind `--max-bytes`, a 1 MB head, a
//! Content-Length of 2^64−1. Each run is the real `cdnprobe` binary, so its peak RSS is its own
//! (`wait4`): memory and time stay bounded and the sample is one classified row.

mod support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use cdnprobe::sample::{ErrorClass, Sample};
use support::cdnprobe_measured;

/// Far above the probe's own needs (a few MiB of buffers), far below what an unbounded read of
/// any of these servers would take.
const RSS_BOUND_KIB: i64 = 64 * 1024;
/// `--timeout` of every run, as a bare number of seconds.
const TIMEOUT_S: u64 = 3;

/// Serves every connection on 127.0.0.1 with `respond` (given the socket after the request
/// head was read) on a thread of its own; returns the port.
fn hostile(respond: fn(&mut TcpStream)) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for tcp in listener.incoming() {
            let Ok(mut tcp) = tcp else { return };
            std::thread::spawn(move || {
                read_head(&mut tcp);
                respond(&mut tcp);
            });
        }
    });
    port
}

fn read_head(tcp: &mut TcpStream) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && tcp.read(&mut byte).is_ok_and(|n| n == 1) {
        head.push(byte[0]);
    }
}

/// Writes `chunk` until the probe goes away.
fn write_forever(tcp: &mut TcpStream, chunk: &[u8]) {
    while tcp.write_all(chunk).is_ok() {}
}

struct Run {
    rows: Vec<Sample>,
    peak_rss_kib: i64,
    elapsed: Duration,
    success: bool,
}

/// `cdnprobe run --timeout 3 --out FILE ARGS…` as a child process.
fn probe(dir: &Path, args: &[&str]) -> Run {
    let out = dir.join("samples.csv");
    let started = Instant::now();
    let timeout = TIMEOUT_S.to_string();
    let mut argv = vec!["run", "--timeout", &timeout, "--region", "lab"];
    argv.extend(["--out", out.to_str().expect("a UTF-8 path")]);
    argv.extend_from_slice(args);
    let finished = cdnprobe_measured(argv);
    let mut reader = csv::Reader::from_path(&out).expect("a CSV was written");
    Run {
        rows: reader.deserialize().map(|row| row.unwrap()).collect(),
        peak_rss_kib: finished.peak_rss_kib,
        elapsed: started.elapsed(),
        success: finished.success,
    }
}

/// One sample of `http://127.0.0.1:PORT/v.mp4` with `extra` flags; checks the bounds.
fn one_sample(port: u16, extra: &[&str]) -> Sample {
    let dir = tempfile::tempdir().unwrap();
    let target = format!("t=http://127.0.0.1:{port}/v.mp4");
    let mut args = vec!["--samples", "1", "--target", &target];
    args.extend_from_slice(extra);
    let mut run = probe(dir.path(), &args);
    assert!(
        run.peak_rss_kib < RSS_BOUND_KIB,
        "peak RSS {} KiB",
        run.peak_rss_kib
    );
    // The timeout plus generous room for a loaded machine to start and end the process.
    assert!(
        run.elapsed < Duration::from_secs(TIMEOUT_S + 5),
        "{:?}",
        run.elapsed
    );
    assert_eq!(run.rows.len(), 1, "{:?}", run.rows);
    run.rows.remove(0)
}

#[test]
fn headers_without_end_are_a_protocol_error_before_the_timeout() {
    let port = hostile(|tcp| {
        let _ = tcp.write_all(b"HTTP/1.1 200 OK\r\n");
        write_forever(
            tcp,
            format!("X-Filler: {}\r\n", "a".repeat(1000)).as_bytes(),
        );
    });
    let s = one_sample(port, &[]);
    assert_eq!(s.error, Some(ErrorClass::Protocol), "{s:?}");
    assert_eq!(s.status, None);
    // Refused once the head passed the read buffer's bound, not when the timeout struck.
    assert!(s.total_ms.unwrap() < (TIMEOUT_S * 1000) as f64, "{s:?}");
}

#[test]
fn a_body_without_end_is_a_timeout_that_keeps_its_bytes() {
    let port = hostile(|tcp| {
        let _ = tcp.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
        write_forever(tcp, &[0u8; 64 << 10]);
    });
    let s = one_sample(port, &[]);
    assert_eq!(s.error, Some(ErrorClass::Timeout), "{s:?}");
    assert_eq!(s.status, Some(200));
    assert!(s.bytes > 0 && s.ttfb_ms.is_some(), "{s:?}");
}

#[test]
fn ten_gigabytes_stop_at_max_bytes() {
    let port = hostile(|tcp| {
        let _ = tcp.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 10737418240\r\n\r\n");
        write_forever(tcp, &[0u8; 64 << 10]);
    });
    let s = one_sample(port, &["--max-bytes", "1048576"]);
    assert_eq!(s.error, None, "{s:?}");
    assert_eq!(s.status, Some(200));
    // Stopped at the first frame past the bound: hyper's frames are at most its 2 MiB buffer.
    assert!((1 << 20..=3 << 20).contains(&s.bytes), "{s:?}");
}

#[test]
fn a_one_megabyte_head_is_read_within_the_buffer_bound() {
    let port = hostile(|tcp| {
        let big = "b".repeat(1 << 20);
        let response = format!("HTTP/1.1 200 OK\r\nX-Big: {big}\r\nContent-Length: 5\r\n\r\nhello");
        let _ = tcp.write_all(response.as_bytes());
    });
    let s = one_sample(port, &[]);
    assert_eq!((s.error, s.status, s.bytes), (None, Some(200), 5), "{s:?}");
}

#[test]
fn a_content_length_of_two_to_the_64_minus_one_is_a_protocol_error() {
    let port = hostile(|tcp| {
        let _ = tcp.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\n");
        write_forever(tcp, &[0u8; 64 << 10]);
    });
    let s = one_sample(port, &[]);
    assert_eq!(s.error, Some(ErrorClass::Protocol), "{s:?}");
    assert_eq!(s.bytes, 0);
}

fn hello(tcp: &mut TcpStream) {
    let _ =
        tcp.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
}

#[test]
fn bare_numbers_are_seconds_for_interval_and_timeout() {
    let port = hostile(hello);
    let dir = tempfile::tempdir().unwrap();
    let target = format!("t=http://127.0.0.1:{port}/v.mp4");
    let run = probe(
        dir.path(),
        &["--samples", "2", "--interval", "1", "--target", &target],
    );
    assert!(run.success);
    let started: Vec<_> = run
        .rows
        .iter()
        .map(|s| chrono::DateTime::parse_from_rfc3339(&s.started_at).unwrap())
        .collect();
    let gap = (started[1] - started[0]).num_milliseconds();
    // One second, not one millisecond (or a refusal): well above scheduler noise either way.
    assert!((900..5000).contains(&gap), "{gap} ms between rounds");
}

#[test]
fn a_thousand_targets_in_one_config_file_each_get_their_row() {
    let port = hostile(hello);
    let dir = tempfile::tempdir().unwrap();
    let mut config = String::from("samples = 1\ntimeout = 5\n");
    for n in 0..1000 {
        config.push_str(&format!(
            "[[target]]\nlabel = \"t{n}\"\nurl = \"http://127.0.0.1:{port}/v{n}.mp4\"\n"
        ));
    }
    let config_path = dir.path().join("probe.toml");
    std::fs::write(&config_path, config).unwrap();
    let run = probe(dir.path(), &["--config", config_path.to_str().unwrap()]);
    assert!(run.success);
    // The run keeps a summary per target (HdrHistograms of its phases, ~110 KiB each): memory
    // grows with the number of targets, never with the samples or bodies.
    let bound = RSS_BOUND_KIB + 160 * 1000;
    assert!(run.peak_rss_kib < bound, "{} KiB", run.peak_rss_kib);
    let mut labels: Vec<_> = run.rows.iter().map(|s| s.target.clone()).collect();
    labels.sort();
    labels.dedup();
    assert_eq!(labels.len(), 1000);
    assert!(run.rows.iter().all(|s| s.error.is_none() && s.bytes == 5));
}

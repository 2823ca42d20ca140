//! Ctrl-C during `cdnprobe demo` stops the lab and leaves no temporary files behind.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn ctrl_c_mid_demo_exits_130_and_removes_the_temporary_directory() {
    let scratch = tempfile::tempdir().unwrap();
    let out = scratch.path().join("report");
    let tmp = scratch.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let stderr = scratch.path().join("stderr.txt");
    let mut demo = Command::new(env!("CARGO_BIN_EXE_cdnprobe"))
        .args(["demo", "--samples", "1000", "--out"])
        .arg(&out)
        .env("TMPDIR", &tmp)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap();

    // Wait until the probe is running through the lab, then interrupt it.
    let mut stdout = BufReader::new(demo.stdout.take().unwrap());
    let mut line = String::new();
    while !line.starts_with("auckland: probing") {
        line.clear();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "the demo ended before probing"
        );
    }
    assert_eq!(
        std::fs::read_dir(&tmp).unwrap().count(),
        1,
        "the lab's scratch directory"
    );
    // Interrupt once samples are being written.
    let csv = out.join("samples/auckland.csv");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::fs::read_to_string(&csv).map_or(0, |rows| rows.lines().count()) < 3 {
        let said = || std::fs::read_to_string(&stderr).unwrap();
        assert!(
            demo.try_wait().unwrap().is_none(),
            "the demo ended early: {}",
            said()
        );
        assert!(Instant::now() < deadline, "no samples written: {}", said());
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: sending a signal to our own child process by its id.
    assert_eq!(
        unsafe { libc::kill(demo.id() as libc::pid_t, libc::SIGINT) },
        0
    );

    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = demo.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the demo did not stop after Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let said = std::fs::read_to_string(&stderr).unwrap();
    assert_eq!(status.code(), Some(130), "stderr: {said}");
    let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

//! Ctrl-C during `cdnprobe demo` stops the lab and leaves no temporary file, namespace, TUN
//! device or process behind, on either lab.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Every network namespace inode some process on the machine is in or holds open.
fn namespaces_in_use() -> BTreeSet<u64> {
    let mut inodes = BTreeSet::new();
    for process in std::fs::read_dir("/proc").unwrap().flatten() {
        let ns = process.path().join("ns/net");
        let fds = std::fs::read_dir(process.path().join("fd"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|fd| fd.path());
        for link in std::iter::once(ns).chain(fds) {
            if let Ok(target) = std::fs::read_link(link) {
                let target = target.to_string_lossy().into_owned();
                if let Some(inode) = target
                    .strip_prefix("net:[")
                    .and_then(|rest| rest.strip_suffix(']'))
                {
                    inodes.insert(inode.parse().unwrap());
                }
            }
        }
    }
    inodes
}

/// Runs the demo on `lab`, interrupts it once samples are being written, and returns the
/// namespaces it said its hosts were in.
fn interrupt_demo(lab: &str) -> Vec<u64> {
    let scratch = tempfile::tempdir().unwrap();
    let out = scratch.path().join("report");
    let tmp = scratch.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let stderr = scratch.path().join("stderr.txt");
    let mut demo = Command::new(env!("CARGO_BIN_EXE_cdnprobe"))
        .args(["demo", "--samples", "1000", "--lab", lab, "--out"])
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
            "the demo ended before probing: {}",
            std::fs::read_to_string(&stderr).unwrap()
        );
    }
    line.clear();
    stdout.read_line(&mut line).unwrap();
    let namespaces: Vec<u64> = line
        .split("net:[")
        .skip(1)
        .map(|rest| rest.split(']').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(
        std::fs::read_dir(&tmp).unwrap().count(),
        1,
        "the lab's scratch directory"
    );
    let csv = out.join("samples/auckland.csv");
    let deadline = Instant::now() + Duration::from_secs(30);
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
    namespaces
}

#[test]
fn ctrl_c_on_the_relay_lab_exits_130_and_removes_the_temporary_directory() {
    let namespaces = interrupt_demo("relay");
    assert!(namespaces.is_empty());
}

#[test]
fn ctrl_c_on_the_namespace_lab_leaves_no_namespace_device_or_process() {
    let namespaces = interrupt_demo("netns");
    assert_eq!(namespaces.len(), 3, "client, origin and edge");
    // The namespaces (and the TUN devices and any process inside them) are gone once nothing
    // is in them or holds them open; the kernel frees them at once.
    let in_use = namespaces_in_use();
    let survivors: Vec<_> = namespaces.iter().filter(|n| in_use.contains(n)).collect();
    assert!(
        survivors.is_empty(),
        "namespaces still in use: {survivors:?}"
    );
    // Nothing was made in the host's namespace.
    let host_devices = std::fs::read_dir("/sys/class/net").unwrap();
    assert!(
        host_devices
            .flatten()
            .all(|device| device.file_name() != "lab0"),
        "a lab TUN device in the host namespace"
    );
}

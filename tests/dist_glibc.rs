//! The portable binary's promise, glibc ≥ 2.17, is checked by `scripts/check-glibc.sh` (run by
//! `scripts/dist.sh`). These tests show the check can fail and pass, and check `dist/cdnprobe`
//! itself when `scripts/dist.sh` has built it (`cargo test --test dist_glibc -- --ignored`).

use std::path::Path;
use std::process::{Command, Output};

fn check(binary: &Path, max: &str) -> Output {
    Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/check-glibc.sh"))
        .arg(binary)
        .arg(max)
        .output()
        .expect("the check runs")
}

#[test]
fn a_binary_built_against_this_machine_s_glibc_fails_the_2_17_check() {
    // Built on Debian 12 (glibc 2.36) without zig: it needs symbols newer than 2.17.
    let output = check(Path::new(env!("CARGO_BIN_EXE_cdnprobe")), "2.17");
    let told = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{told}");
    assert!(
        told.contains("needs GLIBC_2.") && told.contains("newer than 2.17"),
        "{told}"
    );
}

#[test]
fn the_check_passes_when_the_limit_is_above_every_needed_version() {
    let output = check(Path::new(env!("CARGO_BIN_EXE_cdnprobe")), "99.0");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
#[ignore = "needs dist/cdnprobe from scripts/dist.sh (a release build with zig, minutes)"]
fn the_portable_binary_needs_at_most_glibc_2_17_and_names_its_commit() {
    let binary = Path::new(env!("CARGO_MANIFEST_DIR")).join("dist/cdnprobe");
    let output = check(&binary, "2.17");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let version = Command::new(&binary).arg("--version").output().unwrap();
    let version = String::from_utf8(version.stdout).unwrap();
    assert!(
        version.starts_with(&format!("cdnprobe {} (", env!("CARGO_PKG_VERSION"))),
        "{version}"
    );
}

#[test]
fn version_names_the_version_and_the_commit() {
    let output = Command::new(env!("CARGO_BIN_EXE_cdnprobe"))
        .arg("--version")
        .output()
        .unwrap();
    let version = String::from_utf8(output.stdout).unwrap();
    let commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .unwrap();
    let commit = String::from_utf8(commit.stdout).unwrap();
    assert_eq!(
        version.trim(),
        format!("cdnprobe {} ({})", env!("CARGO_PKG_VERSION"), commit.trim())
    );
}

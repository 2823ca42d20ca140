#!/usr/bin/env bash
# Runs every test of cdnprobe on a fresh Debian machine with a Rust toolchain, installing what the
# tests need first. This is the README's test command, and what CI (.ci/run) calls.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s\n' "$*" >&2; }
# shellcheck source=scripts/lib/install.sh
. scripts/lib/install.sh

# A real S3-compatible server for the storage tests: moto's server mode, from PyPI.
if ! command -v moto_server >/dev/null 2>&1; then
  log "installing moto[server] (S3-compatible test server)"
  python3 -m pip install --quiet 'moto[server]>=5,<6'
fi

# Real third-party peers the tests talk to over loopback: nginx serves the HLS test ladders,
# Prometheus (and promtool) scrapes the exporter and checks the example rules, Caddy serves h3.
apt_install nginx prometheus caddy

log "format and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

log "tests (real servers over loopback)"
cargo test --workspace --locked

log "benchmarks compile"
cargo bench --workspace --locked --no-run

log "comparison benchmark script (smoke: tiny files, figures mean nothing)"
benches/compare.sh --smoke

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

# Query engines that read what the store tests write: DuckDB (Hive-partitioned Parquet) and
# pyarrow (Parquet straight from the S3-compatible server).
pip_install pyarrow 'pyarrow>=15'
pip_install duckdb 'duckdb>=1.1'

# Real third-party peers the tests talk to over loopback: nginx serves the HLS test ladders,
# Prometheus (and promtool) scrapes the exporter and checks the example rules, Caddy serves h3.
# The namespace lab needs `ip` (iproute2) and /dev/net/tun, and root (CI runs as root).
# curl signs requests to moto in the store tests (--aws-sigv4).
apt_install nginx prometheus caddy iproute2 curl

log "format and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

log "Prometheus example config and rules (promtool)"
promtool check config examples/prometheus/prometheus.yml
promtool check rules examples/prometheus/cdnprobe.rules.yml examples/prometheus/cdnprobe.alerts.yml
promtool test rules examples/prometheus/cdnprobe.rules.test.yml

log "many-regions examples (actionlint, kubernetes-validate, yamllint)"
scripts/check-examples.sh

log "tests (real servers over loopback)"
cargo test --workspace --locked --no-fail-fast

# The benchmarks are type-checked by the clippy step above (--all-targets); building them would be
# a second, optimised build of every dependency (half of a cold CI run), so they are built only
# when a benchmark script runs.

log "comparison benchmark script (smoke: tiny files, figures mean nothing)"
benches/compare.sh --smoke

log "server load script (smoke: a short wrk run and soak, figures mean nothing)"
benches/load.sh --smoke

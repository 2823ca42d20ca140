#!/usr/bin/env bash
# Builds the portable binary: dist/cdnprobe, for x86-64 Linux with glibc 2.17 or newer (CentOS 7,
# Amazon Linux 2, Ubuntu 14.04 and everything since), with `cargo zigbuild` (zig as the linker,
# against glibc 2.17's symbols). Then checks the binary's needed GLIBC_ versions are ≤ 2.17.
#
#   scripts/dist.sh            build (release, niced: ~5 min on 2 quiet cores) and check
#   scripts/dist.sh --check    only check an existing dist/cdnprobe
#
# Installs cargo-zigbuild and zig from PyPI (`cargo-zigbuild`, `ziglang`) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
GLIBC=2.17
TARGET=x86_64-unknown-linux-gnu

if [ "${1:-}" != --check ]; then
  command -v cargo-zigbuild >/dev/null 2>&1 || python3 -m pip install --quiet 'cargo-zigbuild>=0.19,<1'
  # cargo-zigbuild runs `python3 -m ziglang` when no `zig` is on PATH.
  command -v zig >/dev/null 2>&1 || python3 -c 'import ziglang' 2>/dev/null ||
    python3 -m pip install --quiet 'ziglang>=0.13,<1'
  nice -n 10 cargo zigbuild --release --locked --bin cdnprobe --target "$TARGET.$GLIBC"
  mkdir -p dist
  cp "target/$TARGET/release/cdnprobe" dist/cdnprobe
fi
scripts/check-glibc.sh dist/cdnprobe "$GLIBC"
dist/cdnprobe --version

#!/usr/bin/env bash
# Runs every fuzz target (fuzz/fuzz_targets/) for SECONDS each, one after another, on one core
# at low priority. New inputs go to target/fuzz/corpus/TARGET (the committed seeds in
# fuzz/corpus/TARGET are only read); crashes, hangs and leaks to target/fuzz/artifacts/TARGET.
#
#   scripts/fuzz.sh SECONDS [TARGET...]     e.g. scripts/fuzz.sh 600, scripts/fuzz.sh 60 range_header
#
# Safe Rust needs no AddressSanitizer (panics, hangs and memory blow-ups are what is looked
# for), so targets build without one: faster to build and several times more runs a second.
# Needs cargo-fuzz (`cargo install cargo-fuzz`); RUSTC_BOOTSTRAP=1 lets it use libFuzzer's
# nightly flags on the stable toolchain. A finding: copy the artifact into
# fuzz/regressions/TARGET/, fix it, and `cargo test` replays it from then on.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:?usage: scripts/fuzz.sh SECONDS [TARGET...]}
shift
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
export RUSTC_BOOTSTRAP=1
targets=("$@")
if ((${#targets[@]} == 0)); then
  mapfile -t targets < <(cd fuzz && cargo fuzz list)
fi

status=0
for target in "${targets[@]}"; do
  work=target/fuzz/corpus/$target
  artifacts=target/fuzz/artifacts/$target
  mkdir -p "$work" "$artifacts"
  printf '\n== fuzzing %s for %s s\n' "$target" "$seconds" >&2
  # -timeout: an input taking longer is a hang; -rss_limit_mb: one using more is a leak or an
  # unbounded allocation. Both are findings.
  if ! (cd fuzz && nice -n 19 cargo fuzz run --sanitizer none --target-dir ../target/fuzz/build "$target" \
    "../$work" "corpus/$target" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -artifact_prefix="../$artifacts/" -print_final_stats=1); then
    echo "fuzz.sh: $target found something: see $artifacts" >&2
    status=1
  fi
done
exit $status

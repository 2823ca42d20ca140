#!/usr/bin/env bash
# HTTP/3 beside HTTP/2 (issue 12's performance targets), over loopback, from one server: the lab
# fixture (examples/bench_fixture.rs) serving the same responses over TCP (h2) and UDP (h3) on
# one port.
#
#   benches/h3.sh                 full run: writes reports/bench/h3.md and h3-runs.csv
#   benches/h3.sh --smoke         tiny sizes, checks the script works (a temporary directory)
#   benches/h3.sh --out DIR       write elsewhere
#   benches/h3.sh --profile dev   measure the dev build (default: release)
#
# 1. Throughput: BIG bytes fetched by `cdnprobe run` over h2 and over h3, alternated (h2 h3 h2 h3
#    …); each row's throughput_mbps (body bytes over download_ms). Target: h3 ≥ 0.5 × h2.
# 2. Phase agreement: the fixture delays the handshake, the response head and the body by known
#    amounts; |measured − injected| per phase over h3. Target: median ≤ 1 ms.
# 3. Memory: SMALL_SAMPLES h3 samples (a fresh QUIC connection each) in one run; the peak
#    resident set (GNU time). Target: ≤ 32 MiB.
set -euo pipefail
cd "$(dirname "$0")/.."

MODE=full OUT="" PROFILE=release
while (($#)); do
  case "$1" in
    --smoke) MODE=smoke PROFILE=dev ;;
    --out) OUT=${2:?--out needs a directory} && shift ;;
    --profile) PROFILE=${2:?--profile needs release or dev} && shift ;;
    -h | --help) sed -n '2,16p' "$0" && exit 0 ;;
    *) echo "h3.sh: unknown argument '$1' (try --help)" >&2 && exit 2 ;;
  esac
  shift
done
if [[ $MODE == full ]]; then
  BIG=$((256 << 20)) PAIRS=5 PHASE_SAMPLES=100 SMALL_SAMPLES=10000
  OUT=${OUT:-reports/bench}
else
  BIG=$((4 << 20)) PAIRS=2 PHASE_SAMPLES=5 SMALL_SAMPLES=20
fi
TLS_MS=30 HEAD_MS=50 BODY=$((64 << 10)) CHUNK=$((16 << 10)) CHUNK_MS=20
DOWNLOAD_MS=$(((BODY / CHUNK - 1) * CHUNK_MS))

fail() { printf 'h3.sh: %s\n' "$*" >&2 && exit 1; }
command -v /usr/bin/time >/dev/null || fail "GNU time is needed (apt-get install time)"
WORK=$(mktemp -d)
finish() {
  [[ -z ${FIXTURE_PID:-} ]] || kill "$FIXTURE_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap finish EXIT

if [[ $PROFILE == release ]]; then
  cargo build --release --locked --quiet --bin cdnprobe --example bench_fixture
  BIN=target/release
else
  cargo build --locked --quiet --bin cdnprobe --example bench_fixture
  BIN=target/debug
fi
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# Starts the fixture (h2 and h3 on one port) with the given arguments, after stopping the last
# one; sets URL and rewrites $WORK/ca.pem.
FIXTURE_PID=""
fixture() {
  [[ -z $FIXTURE_PID ]] || kill "$FIXTURE_PID"
  local url_file=$WORK/fixture.url
  rm -f "$url_file"
  "$BIN/examples/bench_fixture" --ca-pem "$WORK/ca.pem" --http3 yes "$@" >"$url_file" 2>>"$WORK/fixture.log" &
  FIXTURE_PID=$!
  local tries=0
  until [[ -s $url_file ]]; do
    ((++tries < 200)) || fail "the fixture did not start: $(cat "$WORK/fixture.log")"
    sleep 0.05
  done
  URL=$(head -1 "$url_file")
}

# The fixture's CPU time so far (user + system), in clock ticks.
server_cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$FIXTURE_PID/stat"; }

# The values of column $1 in the sample CSV $2, one per line, failing on any failed sample.
column() {
  awk -F, -v want="$1" 'NR == 1 { for (i = 1; i <= NF; i++) at[$i] = i; next }
    $at["error"] != "" || $at["status"] !~ /^2/ { print "failed sample: " $0 > "/dev/stderr"; exit 1 }
    { print $at[want] }' "$2"
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "comparison,pair,protocol,metric,value" >"$WORK/runs.csv"
# 1. Throughput, alternated.
fixture --bytes "$BIG"
for pair in $(seq 0 "$PAIRS"); do
  for protocol in h2 h3; do
    flag=--http2 && [[ $protocol == h3 ]] && flag=--http3
    rm -f "$WORK/big.csv"
    server_before=$(server_cpu_ticks)
    /usr/bin/time -f '%U %S' -o "$WORK/cpu.txt" \
      "$BIN/cdnprobe" run --cacert "$WORK/ca.pem" --region loopback --target "big=$URL" \
      --samples 1 "$flag" --out "$WORK/big.csv" 2>>"$WORK/probe.log"
    server_ticks=$(($(server_cpu_ticks) - server_before))
    [[ $(column bytes "$WORK/big.csv") == "$BIG" ]] || fail "$protocol: not $BIG bytes"
    # Pair 0 warms up and is not recorded.
    ((pair == 0)) && continue
    echo "throughput,$pair,$protocol,throughput_mbps,$(column throughput_mbps "$WORK/big.csv")" >>"$WORK/runs.csv"
    # The probe's own CPU (user + system) per GiB received: where the time goes.
    echo "throughput,$pair,$protocol,cpu_s_per_gib,$(awk -v b="$BIG" '{ printf "%.2f", ($1 + $2) / (b / 2^30) }' "$WORK/cpu.txt")" >>"$WORK/runs.csv"
    echo "throughput,$pair,$protocol,server_cpu_s_per_gib,$(awk -v t="$server_ticks" -v hz="$(getconf CLK_TCK)" -v b="$BIG" 'BEGIN { printf "%.2f", t / hz / (b / 2^30) }')" >>"$WORK/runs.csv"
  done
done

# 2. Phase agreement over h3.
fixture --tls-delay-ms "$TLS_MS" --head-delay-ms "$HEAD_MS" --bytes "$BODY" --chunk "$CHUNK" --chunk-delay-ms "$CHUNK_MS"
"$BIN/cdnprobe" run --cacert "$WORK/ca.pem" --region loopback --target "phases=$URL" \
  --samples "$PHASE_SAMPLES" --http3 --out "$WORK/phases.csv" 2>>"$WORK/probe.log"
for phase in connect:0 tls:$TLS_MS ttfb:$HEAD_MS download:$DOWNLOAD_MS; do
  column "${phase%%:*}_ms" "$WORK/phases.csv" | awk -v p="${phase%%:*}" -v truth="${phase#*:}" \
    '{ e = $1 - truth; printf "phases,%d,h3,%s_error_ms,%.3f\n", NR, p, (e < 0 ? -e : e) }' >>"$WORK/runs.csv"
done

# 3. Peak RSS over many h3 samples.
fixture --bytes 65536
/usr/bin/time -f '%M' -o "$WORK/rss.txt" \
  "$BIN/cdnprobe" run --cacert "$WORK/ca.pem" --region loopback --target "many=$URL" \
  --samples "$SMALL_SAMPLES" --http3 --out "$WORK/many.csv" 2>>"$WORK/probe.log"
[[ $(column bytes "$WORK/many.csv" | wc -l) == "$SMALL_SAMPLES" ]] || fail "not every sample succeeded"
echo "memory,1,h3,peak_rss_kib,$(cat "$WORK/rss.txt")" >>"$WORK/runs.csv"
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# The report: medians against the targets.
of() { awk -F, -v c="$1" -v p="$2" -v m="$3" '$1 == c && $3 == p && $4 == m { print $5 }' "$WORK/runs.csv"; }
verdict() { awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN { ok = (op == "≥") ? v >= t : v <= t; print ok ? "yes" : "**no**" }'; }
h2=$(of throughput h2 throughput_mbps | median)
h3=$(of throughput h3 throughput_mbps | median)
ratios=$(paste -d' ' <(of throughput h3 throughput_mbps) <(of throughput h2 throughput_mbps) | awk '{ printf "%.3f\n", $1 / $2 }')
ratio=$(median <<<"$ratios")
rss_mib=$(awk '{ printf "%.1f", $1 / 1024 }' "$WORK/rss.txt")
[[ -n $OUT ]] || OUT=$WORK/out
mkdir -p "$OUT"
{
  echo "# HTTP/3 beside HTTP/2 (benches/h3.sh, $MODE, $PROFILE build)"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, load average before $LOAD_BEFORE, after $LOAD_AFTER;"
  echo "$(rustc --version), cdnprobe $(git describe --always --dirty 2>/dev/null || echo unknown)."
  echo
  echo "| measure | value | target | met |"
  echo "|---|---:|---|---|"
  echo "| 1. h2 throughput, $BIG bytes (median of $PAIRS) | $h2 Mbit/s | | |"
  echo "| 1. h3 throughput, $BIG bytes (median of $PAIRS) | $h3 Mbit/s | | |"
  echo "| 1. probe CPU per GiB, h2 (median) | $(of throughput h2 cpu_s_per_gib | median) s | | |"
  echo "| 1. probe CPU per GiB, h3 (median) | $(of throughput h3 cpu_s_per_gib | median) s | | |"
  echo "| 1. server (fixture) CPU per GiB, h2 (median) | $(of throughput h2 server_cpu_s_per_gib | median) s | | |"
  echo "| 1. server (fixture) CPU per GiB, h3 (median) | $(of throughput h3 server_cpu_s_per_gib | median) s | | |"
  echo "| 1. h3 / h2 (median of pair ratios: $(echo "$ratios" | paste -sd' ')) | $ratio | ≥ 0.5 | $(verdict "$ratio" ≥ 0.5) |"
  for phase in connect tls ttfb download; do
    error=$(of phases h3 "${phase}_error_ms" | median)
    echo "| 2. h3 $phase error, median of $PHASE_SAMPLES | $error ms | ≤ 1 ms | $(verdict "$error" ≤ 1) |"
  done
  echo "| 3. peak RSS, $SMALL_SAMPLES h3 samples | $rss_mib MiB | ≤ 32 MiB | $(verdict "$rss_mib" ≤ 32) |"
  echo
  echo "Injected: handshake $TLS_MS ms (server datagrams after its first held back), head $HEAD_MS ms,"
  echo "body $BODY bytes in $CHUNK-byte frames $CHUNK_MS ms apart (download $DOWNLOAD_MS ms); connect 0."
} >"$OUT/h3.md"
cp "$WORK/runs.csv" "$OUT/h3-runs.csv"
cat "$OUT/h3.md"

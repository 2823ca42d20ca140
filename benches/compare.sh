#!/usr/bin/env bash
# Side-by-side comparison of cdnprobe with curl and of cdnprobe-server with nginx, over loopback.
#
#   benches/compare.sh            full run (~10 min): writes reports/bench/
#   benches/compare.sh --smoke    every comparison, very briefly, tiny files (~1 min): checks the
#                                 script works; writes to a temporary directory unless --out
#   benches/compare.sh --out DIR  write the report somewhere else
#   benches/compare.sh --only 1,3 run only these comparisons (numbers as in the report; `hot`
#                                 is the criterion microbenchmarks, full mode only)
#
# Installs nginx, wrk, curl and GNU time with apt-get when missing. Builds release binaries
# (the smoke run: dev ones).
# Pairs run alternately (A B A B …) on the same files; each pair gives one ratio, and the report
# shows the medians and every pair's ratio. Peak memory is the kernel's high-water mark (VmHWM)
# of the measured process, CPU time is user + system from GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

MODE=full
OUT=""
ONLY=1,2,3,4,5,6,7,hot
while (($#)); do
  case "$1" in
    --smoke) MODE=smoke ;;
    --out)
      OUT=${2:?--out needs a directory}
      shift
      ;;
    --only)
      ONLY=${2:?--only needs a list such as 1,3}
      shift
      ;;
    -h | --help)
      sed -n '2,15p' "$0"
      exit 0
      ;;
    *)
      echo "compare.sh: unknown argument '$1' (try --help)" >&2
      exit 2
      ;;
  esac
  shift
done

if [[ $MODE == full ]]; then
  BIG_BYTES=$((1 << 30))    # comparisons 1, 4, 6
  MID_BYTES=$((256 << 10))  # comparison 5
  PAIRS=5
  SMALL_SAMPLES=10000       # comparison 3
  CURL_PROCESS_SAMPLES=1000 # comparison 3, one curl process per sample (context only)
  PHASE_SAMPLES=40          # comparison 2, per tool per pair
  WRK_SECONDS=5
  REPORT_ROWS=1000000       # comparison 7
  OUT=${OUT:-reports/bench}
else
  BIG_BYTES=$((8 << 20))
  MID_BYTES=$((256 << 10))
  PAIRS=2
  SMALL_SAMPLES=100
  CURL_PROCESS_SAMPLES=10
  PHASE_SAMPLES=3
  WRK_SECONDS=1
  REPORT_ROWS=2000
fi
WRK_CONNECTIONS=64
# Comparison 2: the delays the fixture injects (the truth each tool is judged against).
TLS_DELAY_MS=30
HEAD_DELAY_MS=50
BODY_BYTES=$((64 << 10))
BODY_CHUNK=$((16 << 10))
CHUNK_DELAY_MS=20
# The first frame leaves with the head; each later one waits CHUNK_DELAY_MS.
DOWNLOAD_TRUTH_MS=$(((BODY_BYTES / BODY_CHUNK - 1) * CHUNK_DELAY_MS))

log() { printf '\n== %s\n' "$*" >&2; }
die() {
  printf 'compare.sh: %s\n' "$*" >&2
  exit 1
}

# --- tools ---------------------------------------------------------------------------------------
install_missing_tools() {
  local missing=()
  command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx)
  command -v wrk >/dev/null || missing+=(wrk)
  command -v curl >/dev/null || missing+=(curl)
  [[ -x /usr/bin/time ]] || missing+=(time)
  if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    local sudo=()
    ((EUID == 0)) || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  NGINX=$(command -v nginx || echo /usr/sbin/nginx)
}

# Release builds for the measurements; the smoke run only checks the script, so it reuses the
# dev build the tests already made (dependencies are optimised there too).
build() {
  local profile=release dir=release
  [[ $MODE == full ]] || profile=dev dir=debug
  log "building ($profile)"
  cargo build --profile "$profile" --locked --quiet --workspace \
    --bin cdnprobe --bin cdnprobe-server \
    --example bench_fixture --example bench_summary
  if selected 7; then
    cargo build --profile "$profile" --locked --quiet --example report_synthetic_samples
  fi
  BIN=$ROOT/target/$dir
  PROBE=$BIN/cdnprobe
  SERVER=$BIN/cdnprobe-server
}

# --- bookkeeping ---------------------------------------------------------------------------------
WORK=$(mktemp -d -t cdnprobe-bench.XXXXXX)
chmod 755 "$WORK" # nginx's worker may run as another user
STARTED=()

cleanup() {
  local status=$? pid
  for pid in "${STARTED[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${STARTED[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  if ((status == 0)); then
    rm -rf "$WORK"
  else
    # Keep the logs and measurements for a look; drop the big files.
    rm -rf "$WORK/files" "$WORK/server-data"
    echo "compare.sh: failed; logs kept in $WORK" >&2
  fi
}
trap cleanup EXIT

RUNS=$WORK/runs.csv
PHASES=$WORK/phases.csv
ENVIRONMENT=$WORK/environment.csv
echo "comparison,pair,tool,metric,value" >"$RUNS"
echo "tool,pair,sample,phase,measured_ms,injected_ms" >"$PHASES"
echo "key,value" >"$ENVIRONMENT"

record() {
  [[ -n $5 ]] || die "no $4 measured for $3 in $1, pair $2"
  echo "$1,$2,$3,$4,$5" >>"$RUNS"
}
environment() { printf '%s,"%s"\n' "$1" "${2//\"/\"\"}" >>"$ENVIRONMENT"; }

now_ns() { date +%s%N; }
# Bytes over nanoseconds, as MB/s (10^6 bytes per second).
mb_per_s() { awk -v b="$1" -v ns="$2" 'BEGIN { printf "%.1f", b / (ns / 1e9) / 1e6 }'; }

# A loopback port nobody listens on, below the kernel's ephemeral range (32768 and up), where
# outgoing connections could hold it without listening.
free_port() {
  local port
  while :; do
    port=$((10000 + RANDOM % 22000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
}

wait_for_port() {
  local port=$1 tries=0
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    ((++tries < 200)) || die "nothing listens on 127.0.0.1:$port after 10 s"
    sleep 0.05
  done
}

# Peak resident memory of a running process, KiB (the kernel's high-water mark).
peak_rss_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }

stop() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# Runs a command under GNU time; leaves "wall_s user_s sys_s maxrss_kib" in $WORK/time.txt.
timed() { /usr/bin/time -f '%e %U %S %M' -o "$WORK/time.txt" "$@"; }
cpu_seconds() { awk '{ print $2 + $3 }' "$WORK/time.txt"; }
max_rss_kib() { awk '{ print $4 }' "$WORK/time.txt"; }

# --- files ---------------------------------------------------------------------------------------
# A real MP4 head (the server accepts only video, judged by its bytes) padded with random bytes.
make_video() {
  local size=$1 path=$2 head
  head=$(stat -c %s assets/sample.mp4)
  {
    cat assets/sample.mp4
    head -c $((size - head)) /dev/urandom
  } >"$path"
}

make_files() {
  log "generating files under $WORK/files"
  mkdir -p "$WORK/files"
  make_video "$BIG_BYTES" "$WORK/files/big.mp4"
  make_video "$MID_BYTES" "$WORK/files/mid.mp4"
  cp assets/sample.mp4 "$WORK/files/small.mp4"
  if selected 7; then
    "$BIN/examples/report_synthetic_samples" "$REPORT_ROWS" "$WORK/files/rows.csv"
  fi
}

# --- servers -------------------------------------------------------------------------------------
# nginx with $1 worker processes and sendfile, serving the generated files at / and
# cdnprobe-server's stored videos at /videos/ (the very files cdnprobe-server streams).
# Sets NGINX_PORT.
start_nginx() {
  local workers=$1 dir=$WORK/nginx-$1 user=""
  NGINX_PORT=$(free_port)
  mkdir -p "$dir"
  ((EUID == 0)) && user="user root root;"
  cat >"$dir/nginx.conf" <<EOF
$user
worker_processes $workers;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_requests 1000000;
  types { video/mp4 mp4; text/csv csv; }
  client_body_temp_path $dir/client_body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $WORK/files;
    location /videos/ { root $SERVER_DATA; }
  }
}
EOF
  "$NGINX" -e "$dir/error.log" -p "$dir" -c "$dir/nginx.conf" &
  STARTED+=("$!")
  wait_for_port "$NGINX_PORT"
}

# cdnprobe-server on a fresh port with the data directory $1.
start_server() {
  SERVER_PORT=$(free_port)
  "$SERVER" --listen "127.0.0.1:$SERVER_PORT" --data-dir "$1" 2>>"$WORK/server.log" &
  SERVER_PID=$!
  STARTED+=("$SERVER_PID")
  wait_for_port "$SERVER_PORT"
}

# Uploads $1 to the running cdnprobe-server; prints the new video's id.
upload() {
  local answer=$WORK/upload.json code
  code=$(curl -sS -o "$answer" -w '%{http_code}' \
    -F "file=@$1;type=video/mp4" "http://127.0.0.1:$SERVER_PORT/api/v1/videos/upload")
  [[ $code == 201 ]] || die "upload of $1 answered $code: $(cat "$answer")"
  sed -n 's/.*"id": *"\([^"]*\)".*/\1/p' "$answer"
}

# --- the tools under test ------------------------------------------------------------------------
# curl downloads $1 to /dev/null; checks the status and size; prints wall-clock ns.
curl_download() {
  local start end got
  start=$(now_ns)
  got=$(curl -sS -o /dev/null -w '%{http_code} %{size_download}' "$1")
  end=$(now_ns)
  [[ $got == "200 $2" ]] || die "curl $1: expected '200 $2', got '$got'"
  echo $((end - start))
}

# cdnprobe run, $2 samples of $1 into $3 (extra arguments follow); fails unless every sample
# succeeded. `probe_run timed …` runs it under GNU time.
probe_run() {
  local runner=()
  if [[ $1 == timed ]]; then
    runner=(timed)
    shift
  fi
  local url=$1 samples=$2 csv=$3
  shift 3
  "${runner[@]}" "$PROBE" run --target "bench=$url" --samples "$samples" --region loopback --out "$csv" "$@" \
    2>>"$WORK/probe.log"
  local ok
  # By name: columns are appended after `error` as the schema grows.
  ok=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "error") e = i; next }
    $7 == 200 && $e == "" { n++ } END { print n + 0 }' "$csv")
  ((ok == samples)) || die "cdnprobe run $url: $ok of $samples samples succeeded (see $csv)"
}

probe_download() {
  local start end csv=$WORK/probe-download.csv
  rm -f "$csv"
  start=$(now_ns)
  probe_run "$1" 1 "$csv"
  end=$(now_ns)
  local bytes
  bytes=$(awk -F, 'NR == 2 { print $9 }' "$csv")
  [[ $bytes == "$2" ]] || die "cdnprobe run $1: $bytes bytes, expected $2"
  echo $((end - start))
}

# --- the comparisons -----------------------------------------------------------------------------
# 6. cdnprobe-server, 1 GiB upload: a fresh server per upload, so its high-water mark is the
#    upload's. The last server keeps running and serves comparisons 4 and 5.
compare_upload() {
  log "6. cdnprobe-server: $BIG_BYTES-byte upload, $PAIRS runs"
  local run ns
  for run in $(seq 1 "$PAIRS"); do
    ((run == 1)) || {
      stop "$SERVER_PID"
      rm -rf "$SERVER_DATA"
      start_server "$SERVER_DATA"
    }
    local start end
    start=$(now_ns)
    BIG_ID=$(upload "$WORK/files/big.mp4")
    end=$(now_ns)
    ns=$((end - start))
    record upload_1g "$run" cdnprobe-server throughput_mb_s "$(mb_per_s "$BIG_BYTES" "$ns")"
    record upload_1g "$run" cdnprobe-server peak_rss_kib "$(peak_rss_kib "$SERVER_PID")"
  done
  MID_ID=$(upload "$WORK/files/mid.mp4")
  BIG_STORED=$(stored_video "$BIG_ID")
  MID_STORED=$(stored_video "$MID_ID")
  cmp -s "$SERVER_DATA/videos/$BIG_STORED" "$WORK/files/big.mp4" ||
    die "the stored upload differs from the file sent"
}

# The file name under $SERVER_DATA/videos/ of the video with id $1 (its record is $1.json).
stored_video() {
  local path
  for path in "$SERVER_DATA/videos/$1".*; do
    [[ $path == *.json ]] || {
      basename "$path"
      return
    }
  done
  die "cdnprobe-server stored no video for id $1 under $SERVER_DATA/videos"
}

# Downloads $BIG_BYTES alternately with two fetchers (A B A B, $PAIRS pairs, after one untimed
# fetch each to warm the page cache) and records each one's throughput.
# Usage: alternate_downloads COMPARISON LABEL_A FETCH_A URL_A LABEL_B FETCH_B URL_B
alternate_downloads() {
  local comparison=$1 label_a=$2 fetch_a=$3 url_a=$4 label_b=$5 fetch_b=$6 url_b=$7
  "$fetch_a" "$url_a" "$BIG_BYTES" >/dev/null
  "$fetch_b" "$url_b" "$BIG_BYTES" >/dev/null
  local pair ns
  for pair in $(seq 1 "$PAIRS"); do
    ns=$("$fetch_a" "$url_a" "$BIG_BYTES")
    record "$comparison" "$pair" "$label_a" throughput_mb_s "$(mb_per_s "$BIG_BYTES" "$ns")"
    ns=$("$fetch_b" "$url_b" "$BIG_BYTES")
    record "$comparison" "$pair" "$label_b" throughput_mb_s "$(mb_per_s "$BIG_BYTES" "$ns")"
  done
}

# 4. cdnprobe-server vs nginx (sendfile), the same stored 1 GiB file, downloaded by curl.
compare_serving() {
  log "4. nginx vs cdnprobe-server: $BIG_BYTES bytes to curl, $PAIRS pairs"
  local nginx_url=http://127.0.0.1:$NGINX_PORT/videos/$BIG_STORED
  local server_url=http://127.0.0.1:$SERVER_PORT/api/v1/videos/$BIG_ID
  alternate_downloads serve_1g nginx curl_download "$nginx_url" cdnprobe-server curl_download "$server_url"
}

# wrk on $1; records requests/s and fails on any error or non-2xx answer.
wrk_run() {
  local pair=$1 tool=$2 url=$3 out=$WORK/wrk.txt
  wrk -t1 -c"$WRK_CONNECTIONS" -d"${WRK_SECONDS}s" "$url" >"$out"
  if grep -qE 'Non-2xx|Socket errors' "$out"; then
    die "wrk $url: errors: $(grep -E 'Non-2xx|Socket errors' "$out")"
  fi
  record wrk_256k "$pair" "$tool" requests_per_s "$(awk '/^Requests\/sec:/ { print $2 }' "$out")"
}

# 5. cdnprobe-server vs nginx, 256 KiB GETs, 64 connections, wrk. cdnprobe-server has a worker
#    thread per core, so nginx with as many workers runs too, for context.
compare_requests() {
  log "5. nginx vs cdnprobe-server: $MID_BYTES-byte GETs, $WRK_CONNECTIONS connections, wrk ${WRK_SECONDS}s, $PAIRS pairs"
  local nginx_url=http://127.0.0.1:$NGINX_PORT/videos/$MID_STORED
  local server_url=http://127.0.0.1:$SERVER_PORT/api/v1/videos/$MID_ID
  local one_worker_port=$NGINX_PORT
  start_nginx "$(nproc)"
  local nginx_cores_url=http://127.0.0.1:$NGINX_PORT/videos/$MID_STORED
  NGINX_PORT=$one_worker_port
  local pair
  for pair in $(seq 1 "$PAIRS"); do
    wrk_run "$pair" nginx "$nginx_url"
    wrk_run "$pair" cdnprobe-server "$server_url"
    wrk_run "$pair" nginx-worker-per-core "$nginx_cores_url"
  done
}

# 1. cdnprobe vs curl, 1 GiB from nginx: wall-clock throughput of each whole process.
compare_download() {
  log "1. curl vs cdnprobe: $BIG_BYTES bytes from nginx, $PAIRS pairs"
  local url=http://127.0.0.1:$NGINX_PORT/big.mp4
  alternate_downloads download_1g curl curl_download "$url" cdnprobe probe_download "$url"
}

# 3. cdnprobe vs curl, many samples of a small object (a fresh connection each, as cdnprobe does
#    by default). curl gets the same in one process: every URL once, `Connection: close`.
compare_many_samples() {
  log "3. curl vs cdnprobe: $SMALL_SAMPLES samples of a $(stat -c %s "$WORK/files/small.mp4")-byte object, $PAIRS pairs"
  local url=http://127.0.0.1:$NGINX_PORT/small.mp4 config=$WORK/curl-urls.txt
  local size
  size=$(stat -c %s "$WORK/files/small.mp4")
  for _ in $(seq 1 "$SMALL_SAMPLES"); do
    printf 'url = "%s"\noutput = "/dev/null"\n' "$url"
  done >"$config"
  local pair ok csv=$WORK/probe-many.csv
  for pair in $(seq 1 "$PAIRS"); do
    timed curl -sS -H 'Connection: close' -w '%{http_code} %{size_download}\n' -K "$config" \
      >"$WORK/curl-many.txt"
    ok=$(grep -c "^200 $size\$" "$WORK/curl-many.txt" || true)
    ((ok == SMALL_SAMPLES)) || die "curl: $ok of $SMALL_SAMPLES samples succeeded"
    record many_samples "$pair" curl cpu_us_per_sample \
      "$(awk -v s="$(cpu_seconds)" -v n="$SMALL_SAMPLES" 'BEGIN { printf "%.1f", s / n * 1e6 }')"
    record many_samples "$pair" curl peak_rss_kib "$(max_rss_kib)"

    rm -f "$csv"
    probe_run timed "$url" "$SMALL_SAMPLES" "$csv"
    record many_samples "$pair" cdnprobe cpu_us_per_sample \
      "$(awk -v s="$(cpu_seconds)" -v n="$SMALL_SAMPLES" 'BEGIN { printf "%.1f", s / n * 1e6 }')"
    record many_samples "$pair" cdnprobe peak_rss_kib "$(max_rss_kib)"
  done
  # How most people script curl: one process per sample. Process start-up dominates; context.
  timed bash -c 'for _ in $(seq 1 "$1"); do curl -sS -o /dev/null "$2" || exit 1; done' \
    _ "$CURL_PROCESS_SAMPLES" "$url"
  record many_samples 1 curl-process-per-sample cpu_us_per_sample \
    "$(awk -v s="$(cpu_seconds)" -v n="$CURL_PROCESS_SAMPLES" 'BEGIN { printf "%.1f", s / n * 1e6 }')"
}

# 2. Phase agreement on the fixture that injects known delays: TLS handshake, response head,
#    throttled body. Each tool's phases against the injected truth.
compare_phases() {
  log "2. curl vs cdnprobe: phase agreement, $PHASE_SAMPLES samples per tool, $PAIRS pairs"
  local ca=$WORK/fixture-ca.pem
  "$BIN/examples/bench_fixture" --ca-pem "$ca" --tls-delay-ms "$TLS_DELAY_MS" \
    --head-delay-ms "$HEAD_DELAY_MS" --bytes "$BODY_BYTES" --chunk "$BODY_CHUNK" \
    --chunk-delay-ms "$CHUNK_DELAY_MS" >"$WORK/fixture.url" 2>>"$WORK/fixture.log" &
  STARTED+=("$!")
  local tries=0
  until [[ -s $WORK/fixture.url ]]; do
    ((++tries < 200)) || die "the fixture did not start: $(cat "$WORK/fixture.log")"
    sleep 0.05
  done
  local url
  url=$(head -1 "$WORK/fixture.url")
  local truth="connect=0 tls=$TLS_DELAY_MS ttfb=$HEAD_DELAY_MS download=$DOWNLOAD_TRUTH_MS"
  truth+=" total=$((TLS_DELAY_MS + HEAD_DELAY_MS + DOWNLOAD_TRUTH_MS))"

  local pair sample csv=$WORK/probe-phases.csv
  for pair in $(seq 1 "$PAIRS"); do
    for sample in $(seq 1 "$PHASE_SAMPLES"); do
      curl -sS -o /dev/null --cacert "$ca" \
        -w '%{http_code} %{size_download} %{time_namelookup} %{time_connect} %{time_appconnect} %{time_starttransfer} %{time_total}\n' \
        "$url"
    done >"$WORK/curl-phases.txt"
    # curl's timestamps are cumulative from the start: derive the same disjoint phases.
    awk -v pair="$pair" -v size="$BODY_BYTES" -v truth="$truth" '
      BEGIN { n = split(truth, t, " "); for (i = 1; i <= n; i++) { split(t[i], kv, "="); injected[kv[1]] = kv[2] } }
      $1 != 200 || $2 != size { print "curl sample " NR ": " $0 > "/dev/stderr"; exit 1 }
      {
        ms["connect"] = ($4 - $3) * 1000; ms["tls"] = ($5 - $4) * 1000
        ms["ttfb"] = ($6 - $5) * 1000; ms["download"] = ($7 - $6) * 1000; ms["total"] = $7 * 1000
        for (p in ms) printf "curl,%d,%d,%s,%.3f,%s\n", pair, NR, p, ms[p], injected[p]
      }' "$WORK/curl-phases.txt" >>"$PHASES"

    rm -f "$csv"
    probe_run "$url" "$PHASE_SAMPLES" "$csv" --cacert "$ca"
    awk -F, -v pair="$pair" -v truth="$truth" '
      BEGIN { n = split(truth, t, " "); for (i = 1; i <= n; i++) { split(t[i], kv, "="); injected[kv[1]] = kv[2] } }
      NR > 1 {
        ms["connect"] = $11; ms["tls"] = $12; ms["ttfb"] = $13; ms["download"] = $14; ms["total"] = $15
        for (p in ms) printf "cdnprobe,%d,%d,%s,%s,%s\n", pair, NR - 1, p, ms[p], injected[p]
      }' "$csv" >>"$PHASES"
  done
}

# 7. cdnprobe report over REPORT_ROWS rows.
compare_report() {
  log "7. cdnprobe report: $REPORT_ROWS rows, $PAIRS runs"
  local run start end
  for run in $(seq 1 "$PAIRS"); do
    rm -rf "$WORK/report"
    start=$(now_ns)
    timed "$PROBE" report "$WORK/files/rows.csv" --out "$WORK/report" >/dev/null 2>>"$WORK/report.log"
    end=$(now_ns)
    record report_1m "$run" cdnprobe wall_s "$(awk -v ns=$((end - start)) 'BEGIN { printf "%.3f", ns / 1e9 }')"
    record report_1m "$run" cdnprobe peak_rss_kib "$(max_rss_kib)"
  done
}

# The criterion microbenchmarks (benches/hot_paths.rs), briefly, into their own directory so
# the report lists exactly this run's. Full mode only; the smoke run checks they compile.
run_microbenchmarks() {
  log "hot paths: criterion microbenchmarks"
  rm -rf "$WORK/criterion"
  CRITERION_HOME=$WORK/criterion cargo bench --locked --quiet --bench hot_paths -- \
    --noplot --warm-up-time 1 --measurement-time 3 >"$WORK/criterion.log" 2>&1 ||
    die "cargo bench failed: $(tail -5 "$WORK/criterion.log")"
}

describe_machine() {
  environment mode "$MODE"
  environment date "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  environment cores "$(nproc)"
  environment cpu "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
  environment memory "$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
  environment kernel "$(uname -r)"
  environment nginx "$("$NGINX" -v 2>&1 | sed 's/^nginx version: //')"
  environment curl "$(curl --version | head -1)"
  environment wrk "$(wrk --version 2>&1 | head -1 | sed 's/ Copyright.*//' || true)"
  environment rustc "$(rustc --version)"
  environment cdnprobe "$(git describe --always --dirty 2>/dev/null || echo unknown)"
  environment big_bytes "$BIG_BYTES"
  environment mid_bytes "$MID_BYTES"
  environment small_bytes "$(stat -c %s "$WORK/files/small.mp4")"
  environment pairs "$PAIRS"
  environment small_samples "$SMALL_SAMPLES"
  environment curl_process_samples "$CURL_PROCESS_SAMPLES"
  environment phase_samples "$PHASE_SAMPLES"
  environment wrk_seconds "$WRK_SECONDS"
  environment wrk_connections "$WRK_CONNECTIONS"
  environment report_rows "$REPORT_ROWS"
  environment injected "tls $TLS_DELAY_MS ms, head $HEAD_DELAY_MS ms, body $BODY_BYTES bytes in $BODY_CHUNK-byte frames $CHUNK_DELAY_MS ms apart"
}

selected() { [[ ,$ONLY, == *,$1,* ]]; }

main() {
  install_missing_tools
  build
  make_files
  describe_machine
  environment comparisons "$ONLY"
  environment load_before "$(cut -d' ' -f1-3 /proc/loadavg)"
  SERVER_DATA=$WORK/server-data
  start_nginx 1
  # 4 and 5 serve what 6 uploaded.
  if selected 4 || selected 5 || selected 6; then
    start_server "$SERVER_DATA"
    compare_upload
  fi
  if selected 4; then compare_serving; fi
  if selected 5; then compare_requests; fi
  if selected 1; then compare_download; fi
  if selected 3; then compare_many_samples; fi
  if selected 2; then compare_phases; fi
  if selected 7; then compare_report; fi

  environment load_after "$(cut -d' ' -f1-3 /proc/loadavg)"
  [[ -n $OUT ]] || OUT=$WORK/out
  mkdir -p "$OUT"
  local criterion=()
  if [[ $MODE == full ]] && selected hot; then
    run_microbenchmarks
    criterion=(--criterion "$WORK/criterion")
  fi
  "$BIN/examples/bench_summary" --runs "$RUNS" --phases "$PHASES" \
    --environment "$ENVIRONMENT" --out "$OUT" "${criterion[@]}"
  # Every comparison that ran must have figures in the report.
  local n
  for n in 1 2 3 4 5 6 7; do
    if selected "$n" && ! grep -q "^| $n\. " "$OUT/report.md"; then
      die "comparison $n has no figures in $OUT/report.md"
    fi
  done
  log "report written to $OUT"
  [[ $MODE == full ]] || sed -n '1,200p' "$OUT/report.md"
}

main

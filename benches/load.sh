#!/usr/bin/env bash
# Load and soak of cdnprobe-server next to nginx, over loopback (issue 16).
#
#   benches/load.sh            full run (~15 min): writes reports/bench/load.md
#   benches/load.sh --smoke    the same steps, very briefly (~1 min), into a temporary directory:
#                              checks the script works (CI)
#   benches/load.sh --out DIR  write the report somewhere else
#
# 1. wrk -t2 -c1000 on one 256 KiB video, nginx (one worker, sendfile) and cdnprobe-server
#    alternated (A B A B …) in one run: requests/s, p50 and p99 latency, CPU time per request
#    (utime + stime of the serving process: the figure other load on the machine changes
#    least) and peak RSS of each run (the kernel's high-water mark, reset before each run
#    through /proc/PID/clear_refs).
# 2. A soak of cdnprobe-server: GET and Range from wrk (a Lua script picks one per request),
#    an upload and 5 HEADs every second from curl, with RSS and open fds sampled every few
#    seconds. Passes only if no request failed and (full mode) RSS and fds stayed flat: the
#    highest of the second half at most 5 % (RSS, at least 4 MiB) or 16 fds above the first half's.
# Installs nginx, wrk and curl with apt-get when missing (scripts/lib/install.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
source scripts/lib/install.sh

MODE=full
OUT=""
while (($#)); do
  case "$1" in
    --smoke) MODE=smoke ;;
    --out) OUT=${2:?--out needs a directory} && shift ;;
    -h | --help) sed -n '2,18p' "$0" && exit 0 ;;
    *) echo "load.sh: unknown argument '$1' (try --help)" >&2 && exit 2 ;;
  esac
  shift
done

VIDEO_BYTES=$((256 << 10))
if [[ $MODE == full ]]; then
  CONNECTIONS=1000
  WRK_SECONDS=20
  PAIRS=3
  SOAK_SECONDS=600
  SOAK_CONNECTIONS=200
  SAMPLE_EVERY=10
  OUT=${OUT:-reports/bench}
else
  CONNECTIONS=100
  WRK_SECONDS=2
  PAIRS=1
  SOAK_SECONDS=15
  SOAK_CONNECTIONS=20
  SAMPLE_EVERY=3
fi

log() { printf '\n== %s\n' "$*" >&2; }
die() {
  printf 'load.sh: %s\n' "$*" >&2
  exit 1
}

WORK=$(mktemp -d -t cdnprobe-load.XXXXXX)
chmod 755 "$WORK" # nginx's worker may run as another user
OUT=${OUT:-$WORK/report}
STARTED=()
cleanup() {
  local status=$? pid
  for pid in "${STARTED[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${STARTED[@]}"; do wait "$pid" 2>/dev/null || true; done
  if ((status == 0)) && [[ $MODE == full ]]; then
    rm -rf "$WORK"
  else
    echo "load.sh: logs and measurements in $WORK" >&2
  fi
}
trap cleanup EXIT

# A loopback port nobody listens on, below the ephemeral range.
free_port() {
  local port
  while :; do
    port=$((10000 + RANDOM % 22000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || {
      echo "$port"
      return
    }
  done
}
wait_for_port() {
  local tries=0
  until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
    ((++tries < 200)) || die "nothing listens on 127.0.0.1:$1 after 10 s"
    sleep 0.05
  done
}
# utime + stime of a process, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
status_kib() { awk -v key="$2:" '$1 == key { print $2 }' "/proc/$1/status"; }
# Forgets a process's high-water mark, so the next VmHWM is that of what follows.
reset_peak() { echo 5 >"/proc/$1/clear_refs"; }
fds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }

# --- setup ---------------------------------------------------------------------------------------
apt_install nginx wrk curl
UPTIME_BEFORE=$(uptime)
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
# Each side holds $CONNECTIONS sockets plus its files.
ulimit -n "$(ulimit -Hn)"

profile=release dir=release
[[ $MODE == full ]] || profile=dev dir=debug
log "building cdnprobe-server ($profile)"
cargo build --profile "$profile" --locked --quiet -p cdnprobe-server
SERVER=$ROOT/target/$dir/cdnprobe-server

mkdir -p "$WORK/files" "$WORK/data"
# A real MP4 head (the server takes only video, judged by its bytes) padded with random bytes.
{
  cat assets/sample.mp4
  head -c $((VIDEO_BYTES - $(stat -c %s assets/sample.mp4))) /dev/urandom
} >"$WORK/files/video.mp4"

SERVER_PORT=$(free_port)
"$SERVER" --listen "127.0.0.1:$SERVER_PORT" --data-dir "$WORK/data" 2>>"$WORK/server.log" &
SERVER_PID=$!
STARTED+=("$SERVER_PID")
wait_for_port "$SERVER_PORT"
UPLOAD_URL=http://127.0.0.1:$SERVER_PORT/api/v1/videos/upload
answer=$(curl -sS -F "file=@$WORK/files/video.mp4;type=video/mp4" "$UPLOAD_URL")
ID=$(sed -n 's/.*"id": *"\([^"]*\)".*/\1/p' <<<"$answer")
[[ -n $ID ]] || die "upload refused: $answer"
STORED=$ID.mp4 # the video; $ID.json beside it is its record
SERVER_URL=http://127.0.0.1:$SERVER_PORT/api/v1/videos/$ID

NGINX_PORT=$(free_port)
user=""
((EUID == 0)) && user="user root root;"
cat >"$WORK/nginx.conf" <<EOF
$user
worker_processes 1;
worker_rlimit_nofile 65536;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections $((CONNECTIONS + 64)); }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_requests 1000000;
  types { video/mp4 mp4; }
  client_body_temp_path $WORK/nginx-body;
  proxy_temp_path $WORK/nginx-proxy;
  fastcgi_temp_path $WORK/nginx-fastcgi;
  uwsgi_temp_path $WORK/nginx-uwsgi;
  scgi_temp_path $WORK/nginx-scgi;
  server {
    listen 127.0.0.1:$NGINX_PORT backlog=4096;
    location /videos/ { root $WORK/data; }
  }
}
EOF
"$NGINX" -e "$WORK/nginx-error.log" -p "$WORK" -c "$WORK/nginx.conf" &
STARTED+=("$!")
wait_for_port "$NGINX_PORT"
NGINX_WORKER=$(pgrep -P "$(cat "$WORK/nginx.pid")" | head -1)
NGINX_URL=http://127.0.0.1:$NGINX_PORT/videos/$STORED
[[ $(curl -sS "$NGINX_URL" | cmp - "$WORK/files/video.mp4" && echo same) == same ]] ||
  die "nginx does not serve the stored video"

# --- 1. wrk -c$CONNECTIONS -------------------------------------------------------------------------
RUNS=$WORK/runs.csv
echo "pair,server,requests_per_s,p50_ms,p99_ms,cpu_us_per_request,peak_rss_kib,errors" >"$RUNS"
# wrk's latency as milliseconds ("385.12ms", "1.20s", "950.00us").
to_ms() { awk '{ v = $1 + 0; if ($1 ~ /us$/) v /= 1000; else if ($1 ~ /[^m]s$/) v *= 1000; printf "%.1f", v }'; }
wrk_run() {
  local pair=$1 name=$2 pid=$3 url=$4 out=$WORK/wrk-$1-$2.txt
  reset_peak "$pid"
  local ticks=$(cpu_ticks "$pid")
  wrk -t2 -c"$CONNECTIONS" -d"${WRK_SECONDS}s" --timeout 10s --latency "$url" >"$out"
  ticks=$(($(cpu_ticks "$pid") - ticks))
  local rps p50 p99 errors requests cpu_us
  rps=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
  p50=$(awk '$1 == "50%" { print $2 }' "$out" | to_ms)
  p99=$(awk '$1 == "99%" { print $2 }' "$out" | to_ms)
  requests=$(awk '/ requests in / { print $1 }' "$out")
  cpu_us=$(awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" -v n="$requests" 'BEGIN { printf "%.0f", t * 1e6 / hz / n }')
  errors=$(awk '/Non-2xx|Socket errors/ { print }' "$out" | tr '\n' ' ')
  echo "$pair,$name,$rps,$p50,$p99,$cpu_us,$(status_kib "$pid" VmHWM),\"$errors\"" >>"$RUNS"
}
log "1. wrk -t2 -c$CONNECTIONS ${WRK_SECONDS}s on a $VIDEO_BYTES-byte video, $PAIRS pairs"
for ((pair = 1; pair <= PAIRS; pair++)); do
  wrk_run "$pair" nginx "$NGINX_WORKER" "$NGINX_URL"
  wrk_run "$pair" cdnprobe-server "$SERVER_PID" "$SERVER_URL"
done

# --- 2. soak ---------------------------------------------------------------------------------------
cat >"$WORK/mixed.lua" <<'EOF'
-- One request in three each: GET, a Range from the start, a Range past the middle. HEADs go
-- from curl: wrk's parser would wait for a HEAD answer's body (its Content-Length) forever.
local n = 0
request = function()
  n = n + 1
  local pick = n % 3
  if pick == 1 then return wrk.format("GET", nil, { Range = "bytes=0-65535" }) end
  if pick == 2 then return wrk.format("GET", nil, { Range = "bytes=131072-" }) end
  return wrk.format("GET")
end
EOF
SOAK=$WORK/soak.csv
echo "second,rss_kib,fds,uploads" >"$SOAK"
log "2. soak: ${SOAK_SECONDS}s of GET/HEAD/Range ($SOAK_CONNECTIONS connections) and uploads"
reset_peak "$SERVER_PID"
wrk -t1 -c"$SOAK_CONNECTIONS" -d"${SOAK_SECONDS}s" --timeout 10s -s "$WORK/mixed.lua" "$SERVER_URL" \
  >"$WORK/soak-wrk.txt" &
WRK_PID=$!
uploads=0 failed_uploads=0 heads=0 failed_heads=0 started=$SECONDS next_sample=0
while kill -0 "$WRK_PID" 2>/dev/null; do
  code=$(curl -sS -o /dev/null -w '%{http_code}' -F "file=@$WORK/files/video.mp4;type=video/mp4" \
    "$UPLOAD_URL" || echo 000)
  if [[ $code == 201 ]]; then ((++uploads)); else ((++failed_uploads)); fi
  for _ in 1 2 3 4 5; do
    code=$(curl -sS -o /dev/null -w '%{http_code}' --head "$SERVER_URL" || echo 000)
    if [[ $code == 200 ]]; then ((++heads)); else ((++failed_heads)); fi
  done
  if ((SECONDS - started >= next_sample)); then
    echo "$((SECONDS - started)),$(status_kib "$SERVER_PID" VmRSS),$(fds "$SERVER_PID"),$uploads" >>"$SOAK"
    next_sample=$((next_sample + SAMPLE_EVERY))
  fi
  sleep 1
done
wait "$WRK_PID"
echo "$((SECONDS - started)),$(status_kib "$SERVER_PID" VmRSS),$(fds "$SERVER_PID"),$uploads" >>"$SOAK"
SOAK_PEAK=$(status_kib "$SERVER_PID" VmHWM)
soak_errors=$(awk '/Non-2xx|Socket errors/ { print }' "$WORK/soak-wrk.txt" | tr '\n' ' ')
# Flat: the second half's highest sample against the first half's.
halves() { awk -F, -v c="$1" 'NR > 1 { v[++n] = $c } END { for (i = 1; i <= n; i++) if (i <= n / 2) { if (v[i] > a) a = v[i] } else if (v[i] > b) b = v[i]; print a, b }' "$SOAK"; }
read -r RSS_FIRST RSS_SECOND < <(halves 2)
read -r FDS_FIRST FDS_SECOND < <(halves 3)
RSS_FLAT=$(awk -v a="$RSS_FIRST" -v b="$RSS_SECOND" 'BEGIN { m = a * 0.05; if (m < 4096) m = 4096; print (b <= a + m) ? "flat" : "growing" }')
FDS_FLAT=$( ((FDS_SECOND <= FDS_FIRST + 16)) && echo flat || echo growing)

# --- report --------------------------------------------------------------------------------------
mkdir -p "$OUT"
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
column_of() { awk -F, -v s="$1" -v c="$2" 'NR > 1 && $2 == s { print $c }' "$RUNS" | median; }
{
  echo "# cdnprobe-server under load, next to nginx"
  echo
  echo "Written by \`benches/load.sh\` ($MODE mode) on $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores;"
  echo "\`uptime\` before the runs: \`$UPTIME_BEFORE\`; after: \`$(uptime)\`."
  echo "The machine is shared with other work: figures are of that moment, not of the hardware."
  echo "What the figures mean, and how the server got to them: [load-analysis.md](load-analysis.md)."
  echo
  echo "## 1. \`wrk -t2 -c$CONNECTIONS -d${WRK_SECONDS}s --latency\`, one $VIDEO_BYTES-byte video, $PAIRS alternated pairs"
  echo
  echo "nginx: one worker, sendfile, serving the file cdnprobe-server stored. Peak RSS: VmHWM of"
  echo "the nginx worker / the server process, reset before each run. Medians over the pairs:"
  echo
  echo "| server | requests/s | p50 latency (ms) | p99 latency (ms) | CPU µs per request | peak RSS (KiB) |"
  echo "|---|---|---|---|---|---|"
  for name in nginx cdnprobe-server; do
    echo "| $name | $(column_of "$name" 3) | $(column_of "$name" 4) | $(column_of "$name" 5) | $(column_of "$name" 6) | $(column_of "$name" 7) |"
  done
  echo
  echo "Every run:"
  echo
  echo '```'
  cat "$RUNS"
  echo '```'
  echo
  echo "## 2. Soak: ${SOAK_SECONDS}s of GET / Range (wrk, $SOAK_CONNECTIONS connections), an upload and 5 HEADs a second (curl)"
  echo
  echo "wrk: $(awk '/requests in/ { print $1, "requests" } /^Requests\/sec:/ { print $2, "req/s" }' "$WORK/soak-wrk.txt" | tr '\n' ' ');"
  echo "errors: ${soak_errors:-none}; uploads: $uploads answered 201, $failed_uploads not; HEADs: $heads answered 200, $failed_heads not."
  echo "Peak RSS over the soak: $SOAK_PEAK KiB. Highest RSS in the first half $RSS_FIRST KiB, in the"
  echo "second $RSS_SECOND KiB: **$RSS_FLAT**; open fds $FDS_FIRST then $FDS_SECOND: **$FDS_FLAT**."
  echo "RSS and open fds of the server, sampled:"
  echo
  echo '```'
  cat "$SOAK"
  echo '```'
} >"$OUT/load.md"
log "report: $OUT/load.md"
[[ -z $soak_errors ]] || die "the soak had failed requests: $soak_errors"
((failed_uploads == 0 && failed_heads == 0)) ||
  die "$failed_uploads uploads and $failed_heads HEADs failed during the soak"
if [[ $MODE == full ]]; then
  [[ $RSS_FLAT == flat && $FDS_FLAT == flat ]] ||
    die "the soak was not flat: RSS $RSS_FIRST then $RSS_SECOND KiB, fds $FDS_FIRST then $FDS_SECOND"
fi

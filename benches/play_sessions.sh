#!/usr/bin/env bash
# 1,000 HLS playback sessions of a 30-segment VOD on loopback (nginx serving the committed TS
# ladder, a 60 s playlist cycling its segments): RSS of the probe sampled every second (flat =
# no per-session growth) and CPU per session. Usage: benches/play_sessions.sh [BINARY] [SESSIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/install.sh
source scripts/lib/install.sh
apt_install nginx
bin=${1:-target/release/cdnprobe}
sessions=${2:-1000}
dir=$(mktemp -d)
trap 'kill "$(cat "$dir/nginx.pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$dir"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ln -s "$PWD/assets/media" "$dir/media"
{
  printf '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:VOD\n'
  for i in $(seq 0 29); do printf '#EXTINF:2.0,\nmedia/hls-ts/v2_%03d.ts\n' $((i % 12)); done
  printf '#EXT-X-ENDLIST\n'
} > "$dir/vod30.m3u8"
cat > "$dir/nginx.conf" <<CONF
daemon on; worker_processes 1; error_log $dir/error.log; pid $dir/nginx.pid;
events { worker_connections 1024; }
http { access_log off; client_body_temp_path $dir; proxy_temp_path $dir; fastcgi_temp_path $dir;
  uwsgi_temp_path $dir; scgi_temp_path $dir; keepalive_requests 100000;
  types { application/vnd.apple.mpegurl m3u8; video/mp2t ts; }
  server { listen 127.0.0.1:$port; root $dir; } }
CONF
/usr/sbin/nginx -c "$dir/nginx.conf" -p "$dir"
sleep 0.5
# Whole media watched at 10 000× with a buffer cap above the media: every segment is fetched,
# and the session's wall time is its downloads.
/usr/bin/time -f "%U %S %M" -o "$dir/time" "$bin" play --target "vod=http://127.0.0.1:$port/vod30.m3u8" \
  --samples "$sessions" --watch 60s --max-buffer 120s --playback-rate 10000 --region bench \
  --out "$dir/play.csv" 2>/dev/null &
timer=$!
sleep 0.2
pid=$(pgrep -P "$timer")
echo "second,rss_kib"
t=0
while kill -0 "$pid" 2>/dev/null; do
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
  [ -n "$rss" ] && echo "$t,$rss"
  sleep 1; t=$((t + 1))
done
wait "$timer" || true
read -r user sys peak < "$dir/time"
rows=$(($(wc -l < "$dir/play.csv") - 1))
failed=$(awk -F, 'NR > 1 && $26 != "" {n++} END {print n + 0}' "$dir/play.csv")
requests=$(awk -F, 'NR > 1 {n += $8} END {print n + 0}' "$dir/play.csv")
echo "# sessions $rows (failed $failed, $requests requests) in ${t} s; CPU user ${user} s + sys ${sys} s"
echo "# CPU per session: $(python3 -c "print(f'{($user + $sys) / max($rows, 1) * 1e3:.2f} ms')"); peak RSS ${peak} KiB"

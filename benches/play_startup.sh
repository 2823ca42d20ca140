#!/usr/bin/env bash
# Startup overhead of the player model: on loopback (nginx serving assets/media/clip.mp4), the
# startup_ms of `cdnprobe play` (2 s startup buffer) against the total_ms of `cdnprobe run
# --range 0-N` for the same bytes, alternated in pairs; prints both medians and the median of
# the pairwise difference. N = the first byte offset at which both tracks hold 2 s of media, from
# FFmpeg's demuxer (ffprobe), independent of cdnprobe's own table (it may differ by one sample).
# Usage: benches/play_startup.sh [BINARY] [PAIRS]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/install.sh
source scripts/lib/install.sh
apt_install nginx ffmpeg  # nginx serves the media; ffprobe finds the byte range
bin=${1:-target/release/cdnprobe}
pairs=${2:-30}
dir=$(mktemp -d)
trap 'kill "$(cat "$dir/nginx.pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$dir"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$dir/nginx.conf" <<CONF
daemon on; worker_processes 1; error_log $dir/error.log; pid $dir/nginx.pid;
events { worker_connections 64; }
http { access_log off; client_body_temp_path $dir; proxy_temp_path $dir; fastcgi_temp_path $dir;
  uwsgi_temp_path $dir; scgi_temp_path $dir; types { video/mp4 mp4; }
  server { listen 127.0.0.1:$port; root $PWD/assets/media; } }
CONF
/usr/sbin/nginx -c "$dir/nginx.conf" -p "$dir"
sleep 0.5
n=$(ffprobe -v error -show_entries packet=stream_index,dts_time,duration_time,pos,size -of csv=p=0 \
    assets/media/clip.mp4 | python3 -c '
import sys
rows = [l.strip().split(",") for l in sys.stdin if l.strip()]
packets = sorted((int(r[3]), int(r[4]), int(r[0]), float(r[1]), float(r[2])) for r in rows)
first, cover = {}, {}
for pos, size, stream, dts, dur in packets:
    first.setdefault(stream, dts)
    cover[stream] = max(cover.get(stream, 0.0), dts + dur - first[stream])
    if len(cover) == 2 and all(v >= 2.0 - 1e-9 for v in cover.values()):
        print(pos + size); break')
url="http://127.0.0.1:$port/clip.mp4"
for _ in $(seq "$pairs"); do
  "$bin" play --target "a=$url" --samples 1 --startup-buffer 2s --max-buffer 2s --watch 100ms \
    --out "$dir/play.csv" 2>/dev/null
  "$bin" run --target "a=$url" --samples 1 --range "0-$((n - 1))" --out "$dir/run.csv" 2>/dev/null
done
python3 - "$dir/play.csv" "$dir/run.csv" "$n" <<'PY'
import csv, statistics, sys
play = [float(r["startup_ms"]) for r in csv.DictReader(open(sys.argv[1]))]
run = [float(r["total_ms"]) for r in csv.DictReader(open(sys.argv[2]))]
diff = [p - r for p, r in zip(play, run)]
print(f"bytes 0-{int(sys.argv[3]) - 1}, {len(diff)} pairs: play startup_ms median {statistics.median(play):.3f}, "
      f"run --range total_ms median {statistics.median(run):.3f}, "
      f"median of (startup − total) {statistics.median(diff):.3f} ms")
PY

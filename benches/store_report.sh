#!/usr/bin/env bash
# `cdnprobe report` over a bucket: 1,000 objects holding 1,000,000 rows in moto_server on
# loopback, as CSV and as Parquet; wall time, peak RSS, and Parquet's size against the CSV's.
# Beside each report, curl fetches the same objects (16 at a time, as `report --fetches 16`):
# the time the store itself takes to serve them, which no change to the report can remove.
#
#   benches/store_report.sh [--objects N] [--rows-per-object M] [--out DIR]
#
# Uses $CDNPROBE (default: target/release/cdnprobe, built when missing; scripts/dist.sh's
# dist/cdnprobe works too). Writes DIR/store.csv and DIR/store.md (default reports/bench).
# The objects are written by `cdnprobe push`, the command a region uses, into the run layout.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OBJECTS=1000
PER_OBJECT=1000
OUT=reports/bench
while [ $# -gt 0 ]; do
  case $1 in
    --objects) OBJECTS=$2; shift 2 ;;
    --rows-per-object) PER_OBJECT=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
CDNPROBE=${CDNPROBE:-target/release/cdnprobe}
[ -x "$CDNPROBE" ] || cargo build --release --bin cdnprobe
command -v moto_server >/dev/null || python3 -m pip install --quiet 'moto[server]>=5,<6'
[ -x /usr/bin/time ] || apt-get install -y -qq time >/dev/null

WORK=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
moto_server -H 127.0.0.1 -p "$PORT" >/dev/null 2>&1 &
MOTO=$!
trap 'kill $MOTO 2>/dev/null; rm -rf "$WORK"' EXIT
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1
export AWS_ENDPOINT_URL=http://127.0.0.1:$PORT
for _ in $(seq 100); do curl -s -o /dev/null "$AWS_ENDPOINT_URL/" && break; sleep 0.2; done
curl -s -X PUT "$AWS_ENDPOINT_URL/bench" >/dev/null

echo "== $OBJECTS objects × $PER_OBJECT rows: writing spools" >&2
ROWS=$((OBJECTS * PER_OBJECT))
cargo run --quiet --example report_synthetic_samples -- "$ROWS" "$WORK/all.csv"
# One spool per run, named as a run names it. A run probes from one region, so each spool holds
# one region's rows (in order, each with the header) and `push` lands it as one object.
python3 - "$WORK" "$OBJECTS" "$PER_OBJECT" <<'PY'
import csv, os, sys
work, objects, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
by_region = {}
with open(os.path.join(work, "all.csv"), newline="") as f:
    header = f.readline()
    for line in f:
        by_region.setdefault(next(csv.reader([line]))[1], []).append(line)
chunks = [rows[at:at + per] for rows in by_region.values() for at in range(0, len(rows), per)]
assert len(chunks) == objects and all(len(c) == per for c in chunks), "rows do not split evenly"
for fmt in ("csv", "parquet"):
    os.makedirs(os.path.join(work, fmt), exist_ok=True)
for i, lines in enumerate(chunks):
    name = f"20261201T{i // 3600 % 24:02d}{i // 60 % 60:02d}{i % 60:02d}Z-bench-{i:016x}.samples.csv"
    for fmt in ("csv", "parquet"):
        with open(os.path.join(work, fmt, name), "w") as out:
            out.write(header)
            out.writelines(lines)
PY
for fmt in csv parquet; do
  for spool in "$WORK/$fmt"/*.samples.csv; do
    "$CDNPROBE" push "$spool" "s3://bench/$fmt" --format "$fmt" >/dev/null
  done
done
[ "$(curl -s "$AWS_ENDPOINT_URL/bench?list-type=2&prefix=csv/&max-keys=100000" | grep -o '<Key>' | wc -l)" = "$OBJECTS" ]
size() { curl -s "$AWS_ENDPOINT_URL/bench?list-type=2&prefix=$1/&max-keys=100000" | grep -o '<Size>[0-9]*</Size>' | tr -dc '0-9\n' | awk '{s+=$1} END {print s}'; }
CSV_BYTES=$(size csv)
PARQUET_BYTES=$(size parquet)

# A curl config fetching every object of a prefix to /dev/null (signed: moto refuses anonymous
# reads).
urls() {
  curl -s "$AWS_ENDPOINT_URL/bench?list-type=2&prefix=$1/&max-keys=100000" | grep -o '<Key>[^<]*</Key>' |
    sed 's|<Key>\(.*\)</Key>|url = "'"$AWS_ENDPOINT_URL"'/bench/\1"\noutput = /dev/null|'
}

mkdir -p "$OUT"
printf 'format,objects,rows,wall_s,peak_rss_mib,bytes,load_before,curl_fetch_s\n' >"$WORK/store.csv"
for fmt in csv parquet; do
  urls "$fmt" >"$WORK/urls"
  [ "$(grep -c '^url' "$WORK/urls")" = "$OBJECTS" ]
  /usr/bin/time -f '%e' -o "$WORK/fetch" curl -sf --aws-sigv4 "aws:amz:$AWS_REGION:s3" \
    --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" --parallel --parallel-max 16 -K "$WORK/urls" 2>/dev/null
  load=$(cut -d' ' -f1 /proc/loadavg)
  /usr/bin/time -f '%e %M' -o "$WORK/time" "$CDNPROBE" report "s3://bench/$fmt" --out "$WORK/report-$fmt" >/dev/null
  read -r wall rss_kib <"$WORK/time"
  bytes=$([ "$fmt" = csv ] && echo "$CSV_BYTES" || echo "$PARQUET_BYTES")
  printf '%s,%s,%s,%s,%.1f,%s,%s,%s\n' "$fmt" "$OBJECTS" "$ROWS" "$wall" "$(echo "$rss_kib/1024" | bc -l)" "$bytes" "$load" "$(cat "$WORK/fetch")" >>"$WORK/store.csv"
done
cmp "$WORK/report-csv/summary.csv" "$WORK/report-parquet/summary.csv"
cp "$WORK/store.csv" "$OUT/store.csv"
ratio=$(echo "scale=4; $PARQUET_BYTES / $CSV_BYTES" | bc)
{
  echo "# report over a bucket (moto_server on loopback)"
  echo
  echo "\`benches/store_report.sh --objects $OBJECTS --rows-per-object $PER_OBJECT\`, $(date -u +%FT%TZ), $(nproc) cores, binary \`$("$CDNPROBE" --version)\`."
  echo
  echo "| format | objects | rows | wall s | peak RSS MiB | bytes in the bucket | load before | curl fetch s |"
  echo "|---|---|---|---|---|---|---|---|"
  tail -n +2 "$WORK/store.csv" | tr ',' '|' | sed 's/^/|/; s/$/|/'
  echo
  echo "Targets: ≤ 10 s and ≤ 256 MiB for the report; Parquet ≤ 25 % of the CSV's bytes."
  echo "curl fetch s: curl fetching the same objects, 16 at a time, just before the report (the store's share)."
  echo "Parquet / CSV bytes: $ratio. summary.csv from the CSV objects and from the Parquet objects: identical."
} >"$OUT/store.md"
cat "$OUT/store.md"

#!/bin/sh
# Makes the playback test media under assets/media/ with Debian's ffmpeg (apt-get install -y
# ffmpeg). Run once from the repository root; the output is committed, so tests never need
# ffmpeg. Constant bitrates (x264 CBR with filler, `nal-hrd=cbr`) keep every second of media the
# same size, so a test can pick a link rate just below or above the media's bitrate.
#
#   clip.mp4          30 s, 320x240 25 fps H.264 128 kbit/s + AAC mono 32 kbit/s, moov first
#   clip-tail.mp4     the same streams, moov after mdat (no faststart): `-c copy`, no +faststart
#   hls-ts/           24 s ladder: 3 variants (128/64/32 kbit/s video + 32 kbit/s audio), 2 s
#                     MPEG-TS segments, master.m3u8 → v0.m3u8 v1.m3u8 v2.m3u8
#   hls-fmp4/         the same ladder as fMP4 segments with an init segment (EXT-X-MAP)
set -eu
out=${1:-assets/media}
rm -rf "$out"
mkdir -p "$out/hls-ts" "$out/hls-fmp4"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ff() { ffmpeg -hide_banner -loglevel error -y "$@"; }

# Source: a test pattern and a tone, 30 s. Keyframe every 2 s (50 frames), no scene cuts, so
# every HLS segment starts on a keyframe and the MP4's sync samples are 2 s apart.
x264="-c:v libx264 -pix_fmt yuv420p -preset veryfast -g 50 -keyint_min 50 -sc_threshold 0"
cbr() { echo "-b:v $1 -minrate $1 -maxrate $1 -bufsize $1 -x264-params nal-hrd=cbr:force-cfr=1"; }
ff -f lavfi -i testsrc=size=320x240:rate=25 -f lavfi -i sine=frequency=440:sample_rate=44100 \
   -t 30 $x264 $(cbr 128k) -c:a aac -ac 1 -b:a 32k -movflags +faststart "$out/clip.mp4"
ff -i "$out/clip.mp4" -c copy "$out/clip-tail.mp4"

# The ladder: one source split three ways, scaled, each at its own constant bitrate.
ladder() { # $1 = directory, $2.. = extra -f hls options
  dir=$1; shift
  ff -f lavfi -i testsrc=size=320x240:rate=25 -f lavfi -i sine=frequency=440:sample_rate=44100 -t 24 \
     -filter_complex "[0:v]split=3[a][b][c];[b]scale=240:180[bs];[c]scale=160:120[cs]" \
     -map "[a]" -map 1:a -map "[bs]" -map 1:a -map "[cs]" -map 1:a \
     $x264 -c:a aac -ac 1 -b:a 32k \
     -b:v:0 128k -maxrate:v:0 128k -bufsize:v:0 128k \
     -b:v:1 64k -maxrate:v:1 64k -bufsize:v:1 64k \
     -b:v:2 32k -maxrate:v:2 32k -bufsize:v:2 32k \
     -x264-params nal-hrd=cbr:force-cfr=1 \
     -f hls -hls_time 2 -hls_playlist_type vod "$@" \
     -master_pl_name master.m3u8 -var_stream_map "v:0,a:0 v:1,a:1 v:2,a:2" \
     "$dir/v%v.m3u8"
}
ladder "$out/hls-ts" -hls_segment_filename "$out/hls-ts/v%v_%03d.ts"
ladder "$out/hls-fmp4" -hls_segment_type fmp4 -hls_fmp4_init_filename "init.mp4" \
  -hls_segment_filename "$out/hls-fmp4/v%v_%03d.m4s"
du -sh "$out"

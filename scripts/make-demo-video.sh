#!/bin/sh
# Makes assets/demo.mp4, the video `cdnprobe demo` uploads, with Debian's ffmpeg
# (apt-get install -y ffmpeg). Run once from the repository root; the output is committed, so
# neither the demo nor the tests need ffmpeg.
#
# 20 s of a 640x360 25 fps test pattern, H.264 at a constant 1.5 Mbit/s (x264 CBR with filler,
# `nal-hrd=cbr`, so the size does not depend on how well the pattern compresses) and AAC at
# 64 kbit/s, `moov` first (faststart) as a site serving progressive video would. About 3.9 MB:
# at 50 Mbit/s and a round trip of 127–327 ms, TCP needs several round trips of slow start to
# move it, so the transfer dominates the fetch, as in the original project's figures.
set -eu
out=${1:-assets/demo.mp4}
ffmpeg -hide_banner -loglevel error -y \
  -f lavfi -i testsrc2=size=640x360:rate=25 \
  -f lavfi -i sine=frequency=440:sample_rate=48000 -t 20 \
  -c:v libx264 -pix_fmt yuv420p -preset veryfast -g 50 -keyint_min 50 -sc_threshold 0 \
  -b:v 1500k -minrate 1500k -maxrate 1500k -bufsize 1500k -x264-params nal-hrd=cbr:force-cfr=1 \
  -c:a aac -b:a 64k -movflags +faststart "$out"
ls -l "$out"

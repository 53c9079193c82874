#!/usr/bin/env bash
# Load benchmark of the stream surface (app/stream/load_test.go): N viewers of one 8 Mbit/s
# channel through the whole server (check, lease, relay) on loopback, then the same viewers
# through a private nginx proxying the same source, in the same run.
#
#   bench/stream.sh                  # 500 viewers, 20 s window
#   VIEWERS=100 WINDOW=10s bench/stream.sh
#
# Needs ffmpeg (to make the 8 Mbit/s clip) and nginx (apt-get install -y ffmpeg nginx-light);
# without nginx the comparison is skipped. PostgreSQL as for the tests (TEST_DATABASE_URL or
# the local server binaries).
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
clip="$work/clip8m.ts"
# 10 s of 1280x720 at a constant 8 Mbit/s (x264 CBR with filler), AAC audio, GOP 2 s.
ffmpeg -hide_banner -loglevel error -y \
  -f lavfi -i testsrc2=size=1280x720:rate=25 -f lavfi -i sine=frequency=1000:sample_rate=48000 -t 10 \
  -c:v libx264 -preset ultrafast -g 50 -bf 0 -b:v 7800k -minrate 7800k -maxrate 7800k -bufsize 2000k \
  -x264-params nal-hrd=cbr:force-cfr=1 -c:a aac -b:a 128k -muxrate 8000000 -f mpegts "$clip"

nginx_bin=$(command -v nginx || true)
[ -x /usr/sbin/nginx ] && nginx_bin=/usr/sbin/nginx
export XTREAMD_BENCH=1 XTREAMD_BENCH_CLIP="$clip" XTREAMD_BENCH_NGINX="${nginx_bin}"
export XTREAMD_BENCH_VIEWERS="${VIEWERS:-500}" XTREAMD_BENCH_WINDOW="${WINDOW:-20s}"
go test ./app/stream/ -run '^TestBenchLoad$' -count=1 -v -timeout 30m 2>&1 |
  grep -E 'source:|RELAY|NGINX|RATIO|TTFB|^(--- |ok|FAIL|panic)'

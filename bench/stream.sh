#!/usr/bin/env bash
# Load benchmark of live TS delivery (app/stream/load_test.go): N viewers of one 8 Mbit/s
# channel, served in turn, in one run, by
#   source  the paced source serving the viewers itself,
#   relay   this tree's server (check, lease, relay; its own PostgreSQL), pulling the source once,
#   base    the same harness over the server of BASE (default 82532d2, built from a
#           `git worktree add` of it with app/stream/benchserve_test.go copied in),
#   nginx   a private nginx proxy_pass to the source (proxy_buffering off, 64 KB buffers).
# Each is its own process; CPU time is read from /proc over the counting window only, and the
# viewers run in one more process on the same machine. Also measured: the first byte of a cold
# channel beside the source's first keyframe, and of a running channel.
#
#   bench/stream.sh                  # 500 viewers, 20 s window
#   bench/stream.sh 2000             # the 2,000-viewer mode (16 Gbit/s offered)
#   RUNS=3 WINDOW=10s TARGETS=relay,source bench/stream.sh 500
#   PROFILE=/tmp/prof bench/stream.sh 500   # also CPU profiles of relay and base (pprof files)
#   COLD=20 bench/stream.sh 500             # 20 cold channels instead of 5
#
# Needs ffmpeg (to make the 8 Mbit/s clip) and nginx (apt-get install -y ffmpeg nginx-light);
# without nginx that target is skipped. PostgreSQL as for the tests (TEST_DATABASE_URL or the
# local server binaries).
set -euo pipefail
cd "$(dirname "$0")/.."
viewers="${1:-${VIEWERS:-500}}"
base="${BASE:-82532d2}"
runs="${RUNS:-1}"

work=$(mktemp -d)
basewt="$work/base"
cleanup() {
  git worktree remove --force "$basewt" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

clip="$work/clip8m.ts"
# 10 s of 1280x720 at a constant 8 Mbit/s (x264 CBR with filler), AAC audio, GOP 2 s.
ffmpeg -hide_banner -loglevel error -y \
  -f lavfi -i testsrc2=size=1280x720:rate=25 -f lavfi -i sine=frequency=1000:sample_rate=48000 -t 10 \
  -c:v libx264 -preset ultrafast -g 50 -bf 0 -b:v 7800k -minrate 7800k -maxrate 7800k -bufsize 2000k \
  -x264-params nal-hrd=cbr:force-cfr=1 -c:a aac -b:a 128k -muxrate 8000000 -f mpegts "$clip"

go test -c -o "$work/stream.test" ./app/stream/
base_bin=""
if [ "$base" != "none" ] && git worktree add --detach "$basewt" "$base" >/dev/null 2>&1; then
  cp app/stream/benchserve_test.go "$basewt/app/stream/"
  (cd "$basewt" && go test -c -o "$work/base.test" ./app/stream/)
  base_bin="$work/base.test"
else
  echo "base $base not built: base skipped" >&2
fi

nginx_bin=$(command -v nginx || true)
[ -x /usr/sbin/nginx ] && nginx_bin=/usr/sbin/nginx
[ -n "${PROFILE:-}" ] && mkdir -p "$PROFILE"
export XTREAMD_BENCH=1 XTREAMD_BENCH_CLIP="$clip" XTREAMD_BENCH_NGINX="$nginx_bin" \
  XTREAMD_BENCH_VIEWERS="$viewers" XTREAMD_BENCH_WINDOW="${WINDOW:-20s}" \
  XTREAMD_BENCH_TARGETS="${TARGETS:-source,relay,base,nginx}" \
  XTREAMD_BENCH_BASE_BIN="$base_bin" XTREAMD_BENCH_BASE_DIR="$basewt/app/stream" \
  XTREAMD_BENCH_PROFILE="${PROFILE:-}" XTREAMD_BENCH_COLD="${COLD:-5}"
for run in $(seq 1 "$runs"); do
  echo "== run $run of $runs: $viewers viewers, base $base"
  (cd app/stream && "$work/stream.test" -test.run '^TestBenchLoad$' -test.count=1 -test.v -test.timeout 2h 2>&1) |
    grep --line-buffered -E 'TARGET|RATIO|COLD|TTFB|^(--- |ok|FAIL|panic)' || true
done
if [ -n "${PROFILE:-}" ]; then
  cp "$work/stream.test" "$PROFILE/stream.test"
  [ -n "$base_bin" ] && cp "$base_bin" "$PROFILE/base.test"
  echo "profiles in $PROFILE (go tool pprof -top $PROFILE/stream.test $PROFILE/relay-$viewers.pprof)"
fi

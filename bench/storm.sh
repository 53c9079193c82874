#!/usr/bin/env bash
# Reconnect storm after a restart (app/stream/storm_test.go): N lines with distinct argon2id
# hashes (production cost) log in on `xtreamd serve`, one of them watching the channel; the
# instance is restarted and all N open the live 8 Mbit/s channel within SPREAD, each from its
# own loopback address, retrying a 503 after 1 s as a player would; then the same N join the
# running channel again (warm joins). Both with the shared verified-credential records
# (default) and without them (--credential-record-ttl 0: the behaviour before them), each on a
# freshly started instance, in the same run.
#
#   bench/storm.sh                          # 1000 lines over 2 s
#   LINES=300 SPREAD=1s bench/storm.sh
#   PGSAMPLE=1 bench/storm.sh               # also what PostgreSQL was busy on in each phase
#   WATCHED=0 bench/storm.sh                # nobody watching at the stop: the channel starts cold
#   UPSTREAM_DELAY=1s bench/storm.sh        # the source answers each connection after 1 s (remote)
#   LINES=50 CHANNELS=50 bench/storm.sh     # the long tail: 50 channels, one viewer each
#
# Needs ffmpeg (for the 8 Mbit/s clip; without it the test clip is paced at 8 Mbit/s) and the
# local PostgreSQL server binaries (the benchmark runs a durable cluster of its own).
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/xtreamd" ./cmd/xtreamd
clip=""
if command -v ffmpeg >/dev/null; then
  clip="$work/clip8m.ts"
  # 10 s of 1280x720 at a constant 8 Mbit/s (x264 CBR with filler), AAC audio, GOP 2 s.
  ffmpeg -hide_banner -loglevel error -y \
    -f lavfi -i testsrc2=size=1280x720:rate=25 -f lavfi -i sine=frequency=1000:sample_rate=48000 -t 10 \
    -c:v libx264 -preset ultrafast -g 50 -bf 0 -b:v 7800k -minrate 7800k -maxrate 7800k -bufsize 2000k \
    -x264-params nal-hrd=cbr:force-cfr=1 -c:a aac -b:a 128k -muxrate 8000000 -f mpegts "$clip"
fi
export XTREAMD_BENCH_STORM=1 XTREAMD_BENCH_XTREAMD="$work/xtreamd" XTREAMD_BENCH_CLIP="$clip"
export XTREAMD_STORM_PGSAMPLE="${PGSAMPLE:-0}" XTREAMD_STORM_WATCHED="${WATCHED:-1}"
export XTREAMD_STORM_UPSTREAM_DELAY="${UPSTREAM_DELAY:-0s}" XTREAMD_STORM_CHANNELS="${CHANNELS:-1}"
export XTREAMD_STORM_LINES="${LINES:-1000}" XTREAMD_STORM_SPREAD="${SPREAD:-2s}" XTREAMD_STORM_HOLD="${HOLD:-3s}"
go test ./app/stream/ -run '^TestBenchStorm$' -count=1 -v -timeout 60m 2>&1 |
  grep -E 'setup:|before the restart|storm after|warm joins|instance:|^(--- |ok|FAIL|panic)'

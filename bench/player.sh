#!/usr/bin/env bash
# bench/player.sh — the player API under wrk, side by side with a bare Fiber handler.
#
# Serves the benchmark fixture of app/player (a line entitled to 10,000 live channels, rate
# limit off) from the production server four times — info-level access log to a file
# through logx.Writer (as xtreamd serve writes stderr), the same through plain slog writing
# each line itself (the access log before the Writer: "slog-file"), to a discarding writer,
# and off (warn level) — plus a bare Fiber app answering the same login bytes, all on
# loopback, then runs:
#
#   1. login (player_api.php, no action): each xtreamd vs bare, wrk -t1 -c32 -d10s each,
#      taking turns for ROUNDS rounds (default 3) in one run, and prints each ratio to bare;
#   2. get_live_streams of the 10,000 channels: wrk -t1 -c4 -d10s --latency.
#
# Needs wrk (apt-get install -y wrk) and the local PostgreSQL binaries the tests use.
# Usage: [ROUNDS=n] bench/player.sh [duration]   (default 10s per target and round)
set -euo pipefail

cd "$(dirname "$0")/.."
dur="${1:-10s}"
command -v wrk >/dev/null || { echo "wrk not found: apt-get install -y wrk" >&2; exit 1; }

tmp="$(mktemp -d)"
ours=127.0.0.1:18461
bare=127.0.0.1:18462
log_off=127.0.0.1:18463
log_file=127.0.0.1:18464
slog_file=127.0.0.1:18465
go test -c -o "$tmp/player.test" ./app/player/

# The server process ends by itself once the stop file exists, so its PostgreSQL cluster is
# torn down cleanly.
(
	cd app/player
	XTREAMD_BENCH_LISTEN="$ours" XTREAMD_BENCH_BARE_LISTEN="$bare" \
		XTREAMD_BENCH_LOG_OFF_LISTEN="$log_off" XTREAMD_BENCH_LOG_FILE_LISTEN="$log_file" \
		XTREAMD_BENCH_SLOG_FILE_LISTEN="$slog_file" XTREAMD_BENCH_STOP_FILE="$tmp/stop" \
		exec "$tmp/player.test" -test.run '^TestServeForBench$' -test.v
) >"$tmp/serve.log" 2>&1 &
server_pid=$!
stop() {
	touch "$tmp/stop"
	wait "$server_pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap stop EXIT

for _ in $(seq 1 300); do
	grep -q '^ready ' "$tmp/serve.log" && break
	kill -0 "$server_pid" 2>/dev/null || { cat "$tmp/serve.log" >&2; exit 1; }
	sleep 0.5
done
ready="$(grep '^ready ' "$tmp/serve.log")" || { echo "fixture did not come up" >&2; cat "$tmp/serve.log" >&2; exit 1; }
login="$(sed -E 's/.*login=([^ ]+).*/\1/' <<<"$ready")"
list="$(sed -E 's/.*list=([^ ]+).*/\1/' <<<"$ready")"

rps() { awk '/Requests\/sec/ {print $2}'; }

# The machine is shared: the four targets take turns, $rounds rounds, and each ratio uses
# the sums, so a burst of load elsewhere hits every target alike.
rounds="${ROUNDS:-3}"
declare -A rps_of=([slog-file]=0 [file]=0 [discard]=0 [off]=0 [bare]=0)
for round in $(seq 1 "$rounds"); do
	for target in "slog-file $slog_file" "file $log_file" "discard $ours" "off $log_off" "bare $bare"; do
		read -r name addr <<<"$target"
		echo "== login round $round: $name (wrk -t1 -c32 -d$dur)"
		out="$(wrk -t1 -c32 -d"$dur" "http://$addr$login")"
		echo "$out"
		rps_of[$name]="$(awk -v a="${rps_of[$name]}" -v b="$(rps <<<"$out")" 'BEGIN { print a + b / 1 }')"
	done
done
echo "== get_live_streams, 10,000 channels (wrk -t1 -c4 -d$dur --latency)"
wrk -t1 -c4 -d"$dur" --latency "http://$ours$list"

for name in slog-file file discard off; do
	awk -v n="$name" -v o="${rps_of[$name]}" -v b="${rps_of[bare]}" \
		-v r="$rounds" 'BEGIN { printf "login, access log %-7s: xtreamd %.0f req/s, bare %.0f req/s (mean of %d rounds), ratio %.2f\n", n, o / r, b / r, r, o / b }'
done

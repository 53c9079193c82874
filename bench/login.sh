#!/usr/bin/env bash
# bench/login.sh — login through player_api.php on `xtreamd serve` as a user runs it (its
# private PostgreSQL, the demo line, stderr — the access log — redirected to a file), side by
# side with a bare Fiber handler answering the same bytes (bench/bare), both in their own
# process on loopback. wrk (-t1 -c32) takes turns between the two for ROUNDS rounds; each
# ratio uses the sums, and the server CPU per request comes from /proc (user + system).
# Then the same with the access log off (--log-level warn), on a restarted instance. Two floors
# (bench/bare's log and observe) and a yardstick (bench/bare work=2000: 2 µs of busy work per
# request) take their turns in the same rounds. Each run also reports the share of the machine
# the hypervisor gave to other guests (steal); the per-round ratios are summarized over every
# round and over the quiet ones (steal ≤ QUIET_STEAL percent, default 1, in each of its runs).
#
# The per-client rate limit (default 20 requests/s per address) is set to 0 through the admin
# API first: wrk is one address.
#
# Needs wrk (apt-get install -y wrk), curl and the local PostgreSQL server binaries.
# Usage: [ROUNDS=n] [QUIET_STEAL=percent] bench/login.sh [duration]   (default 10s per target and round)
set -euo pipefail
cd "$(dirname "$0")/.."
dur="${1:-10s}"
rounds="${ROUNDS:-3}"
for tool in wrk curl; do
	command -v "$tool" >/dev/null || { echo "$tool not found: apt-get install -y $tool" >&2; exit 1; }
done

work="$(mktemp -d)"
chmod 755 "$work" # as root, the private cluster runs as the postgres user, which must enter it
ours=127.0.0.1:18471
bare=127.0.0.1:18472
floor_observe=127.0.0.1:18473
floor_log=127.0.0.1:18474
yardstick=127.0.0.1:18475
login="/player_api.php?username=demo&password=demo"
for a in "$ours" "$bare" "$floor_observe" "$floor_log" "$yardstick"; do # another server there would be measured instead
	if curl -s -o /dev/null --max-time 1 "http://$a/"; then echo "$a is already in use: stop what listens there" >&2; exit 1; fi
done
go build -o "$work/xtreamd" ./cmd/xtreamd
go build -o "$work/bare" ./bench/bare
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

start_xtreamd() { # $1: log level
	"$work/xtreamd" serve --demo --listen "$ours" --data-dir "$work/data" --log-level "$1" 2>"$work/serve-$1.log" &
	xtreamd_pid=$!
	pids+=("$xtreamd_pid")
	for _ in $(seq 1 240); do
		curl -sf "http://$ours/readyz" >/dev/null && return
		kill -0 "$xtreamd_pid" 2>/dev/null || { cat "$work/serve-$1.log" >&2; exit 1; }
		sleep 0.5
	done
	echo "xtreamd did not become ready" >&2
	exit 1
}
stop_xtreamd() {
	kill "$xtreamd_pid"
	wait "$xtreamd_pid" 2>/dev/null || true
}

start_xtreamd info
token="$(curl -sf "http://$ours/api/v1/auth/login" -H 'Content-Type: application/json' \
	-d '{"username":"admin","password":"admin"}' | sed -E 's/.*"access_token":"([^"]+)".*/\1/')"
curl -sf -X PATCH "http://$ours/api/v1/settings" -H "Authorization: Bearer $token" \
	-H 'Content-Type: application/json' -d '{"rate_limit_per_second":0}' >/dev/null
for _ in $(seq 1 50); do # the setting reaches the check within a second (NOTIFY)
	ok=1
	for _ in $(seq 1 60); do
		[ "$(curl -s -o /dev/null -w '%{http_code}' "http://$ours$login")" = 200 ] || { ok=0; break; }
	done
	[ "$ok" = 1 ] && break
	sleep 0.2
done
curl -sf "http://$ours$login" >"$work/login.json"
"$work/bare" "$bare" "$work/login.json" &
bare_pid=$!
pids+=("$bare_pid")
# The same bytes: both answers carry the same header names, but for xtreamd's request id.
header_names() { curl -sf -D - -o /dev/null "http://$1$login" | tr -d '\r' | sed -n 's/^\([A-Za-z-]*\):.*/\1/p' |
	grep -vix 'x-request-id' | tr 'A-Z' 'a-z' | sort | tr '\n' ' '; }
for _ in $(seq 1 20); do curl -sf "http://$bare$login" >/dev/null && break; sleep 0.1; done
[ "$(header_names "$ours")" = "$(header_names "$bare")" ] ||
	{ echo "header names differ: xtreamd [$(header_names "$ours")], bare [$(header_names "$bare")]" >&2; exit 1; }
"$work/bare" "$floor_observe" "$work/login.json" observe 2>"$work/floor-observe.log" &
floor_observe_pid=$!
pids+=("$floor_observe_pid")
"$work/bare" "$floor_log" "$work/login.json" log 2>"$work/floor-log.log" &
floor_log_pid=$!
pids+=("$floor_log_pid")
# The yardstick: the bare handler doing 2 µs of busy work per request, to read the ratios
# against: what that much handler work costs in throughput on this machine under this load.
"$work/bare" "$yardstick" "$work/login.json" work=2000 &
yardstick_pid=$!
pids+=("$yardstick_pid")
sleep 0.5

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # user + system, in clock ticks
hz="$(getconf CLK_TCK)"

# cpu_times: the machine's total and stolen CPU time so far, in clock ticks (/proc/stat's cpu
# line; steal is the 8th value: time the hypervisor gave this VM's virtual CPUs to others).
cpu_times() { awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t, $9; exit }' /proc/stat; }

# run NAME ADDR PID: one wrk run; prints "rps cpu_us_per_request steal_percent"
run() {
	local t0 t1 out rps m0 m1
	m0="$(cpu_times)"
	t0="$(ticks "$3")"
	out="$(wrk -t1 -c32 -d"$dur" "http://$2$login")"
	t1="$(ticks "$3")"
	m1="$(cpu_times)"
	rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")"
	grep -q 'Non-2xx' <<<"$out" && { echo "$1: answers other than 200:" >&2; echo "$out" >&2; exit 1; }
	awk -v r="$rps" -v a="$t0" -v b="$t1" -v hz="$hz" -v d="${dur%s}" -v m0="$m0" -v m1="$m1" \
		'BEGIN { split(m0, x, " "); split(m1, y, " ")
		printf "%s %.2f %.1f\n", r, (b - a) / hz * 1e6 / (r * d), (y[2] - x[2]) * 100 / (y[1] - x[1] + 1e-9) }'
}

# A round is quiet when no run in it lost more than this share of the machine to steal: the
# neighbours' load, measured apart from the result and the same for every target.
quiet_steal="${QUIET_STEAL:-1.0}"

# add A B: prints A + B
add() { awk -v a="$1" -v b="$2" 'BEGIN { print a + b }'; }

# The targets in the order each round takes them: name, address, pid (xtreamd's is read at
# each round: it is restarted between the two halves).
targets=(xtreamd floor-observe floor-log yardstick bare)
declare -A addr=([xtreamd]="$ours" [floor-observe]="$floor_observe" [floor-log]="$floor_log" [yardstick]="$yardstick" [bare]="$bare")
declare -A pid=([floor-observe]="$floor_observe_pid" [floor-log]="$floor_log_pid" [yardstick]="$yardstick_pid" [bare]="$bare_pid")

compare() { # $1: label
	local -A rps=() cpu=() this=()
	local t line r c st worst ratios="" quiet=""
	pid[xtreamd]="$xtreamd_pid"
	for round in $(seq 1 "$rounds"); do
		worst=0
		for t in "${targets[@]}"; do
			line="$(run "$t" "${addr[$t]}" "${pid[$t]}")"
			printf '== %s, round %s: %-13s %s\n' "$1" "$round" "$t" "$line"
			read -r r c st <<<"$line"
			this[$t]="$r"
			rps[$t]="$(add "${rps[$t]:-0}" "$r")"
			cpu[$t]="$(add "${cpu[$t]:-0}" "$c")"
			worst="$(awk -v a="$worst" -v b="$st" 'BEGIN { print (b > a ? b : a) }')"
		done
		r="$(awk -v o="${this[xtreamd]}" -v b="${this[bare]}" 'BEGIN { printf "%.3f", o / b }')"
		ratios+="$r "
		awk -v w="$worst" -v q="$quiet_steal" 'BEGIN { exit !(w <= q) }' && quiet+="$r "
	done
	echo "(each line: req/s, server CPU µs per request, % of the machine stolen by the hypervisor)"
	awk -v n="$1" -v o="${rps[xtreamd]}" -v fo="${rps[floor-observe]}" -v fl="${rps[floor-log]}" -v b="${rps[bare]}" \
		-v oc="${cpu[xtreamd]}" -v foc="${cpu[floor-observe]}" -v flc="${cpu[floor-log]}" -v bc="${cpu[bare]}" -v r="$rounds" \
		-v y="${rps[yardstick]}" -v yc="${cpu[yardstick]}" 'BEGIN {
		printf "login, %s: xtreamd %.0f req/s (%.2f µs CPU each), bare %.0f req/s (%.2f µs), ratio %.3f (mean of %d rounds)\n",
			n, o / r, oc / r, b / r, bc / r, o / b, r
		printf "  same rounds, floor-log (bare + request id + access line to a file): %.0f req/s (%.2f µs), ratio to bare %.3f\n",
			fl / r, flc / r, fl / b
		printf "  same rounds, floor-observe (floor-log + HTTP metrics): %.0f req/s (%.2f µs), ratio to bare %.3f; xtreamd to it %.3f\n",
			fo / r, foc / r, fo / b, o / fo
		printf "  same rounds, yardstick (bare + 2 µs of busy work per request): %.0f req/s (%.2f µs), ratio to bare %.3f\n",
			y / r, yc / r, y / b }'
	# One slow round (another tenant on the cores) moves the mean of sums; the median of the
	# rounds' own ratios does not. Both are printed, with the spread, whatever they say.
	spread "$1, ratio of each round (xtreamd / bare, same round)" "$rounds rounds" "$ratios"
	# The same over the quiet rounds only, so a reader can tell a result from a neighbour.
	spread "$1, quiet rounds (steal ≤ $quiet_steal% in every run)" "of $rounds rounds" "$quiet"
}

# spread LABEL OVER VALUES: prints the median, min and max of the space-separated VALUES.
spread() {
	tr ' ' '\n' <<<"$3" | { grep . || true; } | sort -n | awk -v n="$1" -v over="$2" '{ v[NR] = $1 } END {
		if (NR == 0) { printf "  %s: none (%s)\n", n, over; exit }
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "  %s: median %.3f, min %.3f, max %.3f over %d (%s)\n", n, m, v[1], v[NR], NR, over }'
}

compare "access log to a file (default info level)"
stop_xtreamd
start_xtreamd warn
curl -sf "http://$ours$login" >/dev/null
compare "access log off (warn level)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

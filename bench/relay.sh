#!/usr/bin/env bash
# Runs the relay benchmarks (internal/relay/bench_test.go) on this machine and prints the figures.
#   BenchmarkHubFanout          500 viewers of one in-memory stream, each copying into its own write buffer
#   BenchmarkInspectPacket*     per-188-byte-packet inspection: ours (RAI / NAL scan) vs go-astits per packet
#   BenchmarkIngestWrite        the writer path alone (copy into the ring, sync check, inspect, publish)
#   BenchmarkLoopbackEndToEnd   unpaced TS upstream → hub → 50 viewers, all over loopback HTTP
# Everything runs on loopback / in memory; on a shared 2-core box run it when the others are idle.
set -euo pipefail
cd "$(dirname "$0")/.."
go test -run '^$' -bench 'Inspect|IngestWrite' -benchtime 2s ./internal/relay/
go test -run '^$' -bench 'HubFanout' -benchtime 3000x -count 3 ./internal/relay/
go test -run '^$' -bench 'LoopbackEndToEnd' -benchtime 300x ./internal/relay/

#!/usr/bin/env bash
# cli_latency.sh: wall time of one-shot `kad put` and `kad get` commands
# against a local overlay of real `kad node` processes on 127.0.0.1. Each
# command is a whole process: start, join through one node as a read-only
# client, the lookup, the stores or the quorum of replicas, exit.
#
#   bash bench/cli_latency.sh [NODES=20] [OPS=50]
#
# Prints min / p50 / p90 / max in milliseconds for put and for get, each
# through a random node of the overlay.
set -euo pipefail
cd "$(dirname "$0")/.."
NODES=${1:-20}
OPS=${2:-50}
# shellcheck source=scripts/overlay_lib.sh
source scripts/overlay_lib.sh

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# Prints min/p50/p90/max of the numbers in file $2, labelled $1.
summarize() {
  sort -n "$2" | awk -v label="$1" '{ v[NR] = $1 }
    END { printf "%-4s n=%d  min %d ms  p50 %d ms  p90 %d ms  max %d ms\n",
          label, NR, v[1], v[int((NR + 1) * 0.5)], v[int((NR + 1) * 0.9)], v[NR] }'
}

echo "starting $NODES nodes..." >&2
start_overlay "$NODES"
for ((op = 0; op < OPS; op++)); do
  through=$(address_of $((RANDOM % NODES + 1)))
  start=$(now_ms)
  "$KAD" put "bench-$op" "value-$op" --bootstrap "$through" >/dev/null
  echo $(($(now_ms) - start)) >>"$workdir/put.ms"
done
for ((op = 0; op < OPS; op++)); do
  through=$(address_of $((RANDOM % NODES + 1)))
  start=$(now_ms)
  value=$("$KAD" get "bench-$op" --bootstrap "$through")
  echo $(($(now_ms) - start)) >>"$workdir/get.ms"
  [ "$value" = "value-$op" ] || { echo "get bench-$op returned '$value'" >&2; exit 1; }
done
echo "kad CLI on a $NODES-node loopback overlay ($(nproc) cores):"
summarize put "$workdir/put.ms"
summarize get "$workdir/get.ms"

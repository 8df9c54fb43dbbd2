#!/usr/bin/env bash
# store_flood.sh: starts one `kad node` on 127.0.0.1 (port chosen by the
# OS), in memory or on a fresh data dir, runs kad_store_flood against it
# (bench/store_flood.cc: stores/s, ping latency meanwhile), stops it.
#
#   bash bench/store_flood.sh [dir|memory] [STORES=50000] [WINDOW=256] [NODE FLAGS...]
#
# KAD and FLOOD name the binaries (default: build/cli/kad and
# build/bench/kad_store_flood). Prints the tool's JSON line.
set -euo pipefail
cd "$(dirname "$0")/.."
KAD=${KAD:-build/cli/kad}
FLOOD=${FLOOD:-build/bench/kad_store_flood}
MODE=${1:-dir}
STORES=${2:-50000}
WINDOW=${3:-256}
shift $(($# < 3 ? $# : 3))
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$work"' EXIT
data=()
[ "$MODE" = dir ] && data=(--data-dir "$work/data")
"$KAD" node --listen 127.0.0.1:0 "${data[@]}" --log-level warn "$@" \
  >"$work/out" 2>"$work/err" &
pid=$!
for _ in $(seq 200); do
  grep -qs '^listening' "$work/out" && break
  sleep 0.05
done
address=$(awk '/^listening/ {print $2}' "$work/out")
[ -n "$address" ] || { cat "$work/err" >&2; exit 1; }
"$FLOOD" "$address" "$STORES" "$WINDOW"

#!/usr/bin/env bash
# demo.sh: a 20-node kad overlay on this machine, end to end.
#
# Starts 20 `kad node` processes on 127.0.0.1 (the first alone, the others
# joining through it), stores a value through node 3, reads it back through
# node 17, kills 5 arbitrary nodes and reads it again, then shows a get of
# a missing key and its exit code. Every node is stopped on exit, however
# the script ends. Exits non-zero if a get does not return the value.
#
#   bash scripts/demo.sh                 # builds ./build if needed
#   KAD=/path/to/kad bash scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."

NODES=20
KEY=greeting
VALUE="hello from a 20-node kad overlay"

# shellcheck source=scripts/overlay_lib.sh
source scripts/overlay_lib.sh

# Prints a command line, runs it and prints its output (stderr passes
# through); leaves its stdout in $out and its exit code in $status.
run() {
  local shown=""
  for arg in "$@"; do
    case $arg in
      *[[:space:]]*) shown+=" '$arg'" ;;
      *) shown+=" $arg" ;;
    esac
  done
  echo "\$ kad$shown"
  set +e
  out=$("$KAD" "$@")
  status=$?
  set -e
  if [ -n "$out" ]; then echo "$out"; fi
}

# Exits with a message unless the last command exited 0 with $VALUE.
expect_value() {
  if [ "$status" -ne 0 ] || [ "$out" != "$1" ]; then
    echo "demo: get did not return the value (exit $status)" >&2
    exit 1
  fi
}

echo "== starting $NODES nodes on 127.0.0.1"
start_overlay "$NODES"
for ((i = 1; i <= NODES; i++)); do
  printf 'node %2d  %s  %s\n' "$i" "$(sed -n 's/^id //p' "$workdir/node$i.out")" \
    "$(address_of "$i")"
done

echo
echo "== put through node 3, get through node 17"
run put "$KEY" "$VALUE" --bootstrap "$(address_of 3)"
[ "$status" -eq 0 ] || { echo "demo: put failed" >&2; exit 1; }
run get "$KEY" --bootstrap "$(address_of 17)"
expect_value "$VALUE"

echo
victims=$(printf '%s\n' $(seq 1 $NODES) | grep -vx 17 | shuf -n 5 | sort -n | tr '\n' ' ')
echo "== killing 5 nodes: ${victims% }"
for i in $victims; do
  kill "${pids[$i]}"
  wait "${pids[$i]}" 2>/dev/null || true
  unset "pids[$i]"
done
run get "$KEY" --bootstrap "$(address_of 17)"
expect_value "$VALUE"
run get "$KEY" --json --bootstrap "$(address_of 17)"

echo
echo "== a key nobody stored"
run get no-such-key --bootstrap "$(address_of 17)"
echo "[exit $status]"
[ "$status" -eq 1 ] || { echo "demo: expected exit 1 for a missing key" >&2; exit 1; }

echo
echo "== wrong inputs get one clear line and a meaningful exit code"
head -c 1001 /dev/zero | tr '\0' x >"$workdir/big"
run put big --file "$workdir/big" --bootstrap "$(address_of 17)"
echo "[exit $status]"
[ "$status" -eq 2 ] || { echo "demo: expected exit 2 for an oversized value" >&2; exit 1; }
run get "$KEY" --bootstrap 127.0.0.1:notaport
echo "[exit $status]"
[ "$status" -eq 2 ] || { echo "demo: expected exit 2 for a bad address" >&2; exit 1; }
run get "$KEY" --bootstrap 127.0.0.1:9 --timeout 2s
echo "[exit $status]"
[ "$status" -eq 3 ] || { echo "demo: expected exit 3 for an unreachable node" >&2; exit 1; }

echo
echo "== stopping ${#pids[@]} nodes"
stop_nodes
echo "demo: ok"

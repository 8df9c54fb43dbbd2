# overlay_lib.sh: start and stop a local overlay of `kad node` processes.
# Sourced by scripts/demo.sh and bench/cli_latency.sh; not run directly.
#
# Sets KAD (the binary; built into ./build if unset), workdir (a scratch
# directory removed on exit) and pids (node number -> process id). Every
# node is stopped when the sourcing script exits, however it ends.
#
#   start_overlay N     starts node 1 alone and 2..N joining through it,
#                       and waits until every node has joined
#   address_of I        prints node I's bound address
#   stop_nodes          stops every node still running

if [ -z "${KAD:-}" ]; then
  KAD=build/cli/kad
  if [ -d build ]; then
    cmake --build build --target kad -j"$(nproc)" >/dev/null
  else
    bash scripts/setup.sh
  fi
fi
[ -x "$KAD" ] || { echo "overlay: no kad binary at $KAD" >&2; exit 1; }

workdir=$(mktemp -d "${TMPDIR:-/tmp}/kad-overlay.XXXXXX")
declare -A pids=()

stop_nodes() {
  for i in "${!pids[@]}"; do kill "${pids[$i]}" 2>/dev/null || true; done
  for i in "${!pids[@]}"; do wait "${pids[$i]}" 2>/dev/null || true; done
  pids=()
}
trap 'stop_nodes; rm -rf "$workdir"' EXIT
trap 'exit 130' INT TERM

# Starts node $1 with the remaining arguments; stdout and log go to files.
start_node() {
  local i=$1
  shift
  "$KAD" node --listen 127.0.0.1:0 "$@" \
    >"$workdir/node$i.out" 2>"$workdir/node$i.log" &
  pids[$i]=$!
}

# Waits up to 20 s for a line matching $2 in file $1.
wait_for() {
  local deadline=$((SECONDS + 20))
  until grep -q "$2" "$1" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      echo "overlay: timed out waiting for '$2' in $1:" >&2
      cat "$1" "${1%.out}.log" >&2 2>/dev/null || true
      exit 1
    fi
    sleep 0.05
  done
}

address_of() { sed -n 's/^listening //p' "$workdir/node$1.out"; }

# Starts node 1 alone and nodes 2..$1 joining through it; waits for all.
start_overlay() {
  local nodes=$1 i
  start_node 1
  wait_for "$workdir/node1.out" '^listening '
  local seed
  seed=$(address_of 1)
  for ((i = 2; i <= nodes; i++)); do start_node "$i" --bootstrap "$seed"; done
  for ((i = 2; i <= nodes; i++)); do
    wait_for "$workdir/node$i.out" '^listening '
    wait_for "$workdir/node$i.log" 'joined: '
  done
}

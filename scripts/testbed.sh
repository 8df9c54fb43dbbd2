#!/usr/bin/env bash
# A testbed of real hosts on one Linux machine: N network namespaces, each
# a "host" with its own address in its own /24 of 198.18.0.0/15 (RFC 2544's
# benchmarking range), all on one bridge, so kad's per-address and
# per-prefix limits (which exempt loopback) meet real, distinct sources.
#
#   bash scripts/testbed.sh [--hosts N] [--] COMMAND [ARGS...]
#
# builds the testbed, runs COMMAND in the root namespace, tears everything
# down and exits with COMMAND's status. COMMAND sees:
#   KAD_TESTBED_HOSTS      the hosts' namespace names, space-separated
#   KAD_TESTBED_ADDRESSES  their addresses, same order: host i (from 1) is
#                          198.18.i.10 for i <= 250, then 198.19.(i-250).10
#   KAD_TESTBED_BRIDGE     the namespace holding the bridge `br0`; host i's
#                          port on it is `h<i>`
# Run a program on host i with `ip netns exec <name> PROGRAM...`; cut host
# i off (a partition) with `ip -n "$KAD_TESTBED_BRIDGE" link set h<i> down`.
# With no COMMAND, an interactive shell.
#
# Layout: the bridge lives in its own namespace, and every veth pair has
# one end there (h<i>) and one in its host (eth0, 198.18.i.10/15: the whole
# range is one link, so hosts reach each other without routing). Nothing is
# created in the root namespace, no address outside 198.18.0.0/15 is
# configured and the bridge has no uplink: no traffic leaves the machine.
# Deleting the namespaces deletes the veths and the bridge with them.
#
# Cleanup: every name starts with kadtb-<pid>-. On exit, error, SIGINT or
# SIGTERM the script kills the processes left inside its namespaces (by
# pid, from `ip netns pids`) and deletes the namespaces. Namespaces of a
# testbed whose script died by SIGKILL are removed by the next run (their
# <pid> is no longer alive).
#
# Exits 77 (CTest's skip code here) when the testbed cannot be built: not
# root, or `ip netns` not permitted (an unprivileged container).
set -euo pipefail

hosts=6
while (($#)); do
  case "$1" in
    --hosts) hosts=$2; shift 2 ;;
    --) shift; break ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed 's/^# \{0,1\}//;$d'; exit 0 ;;
    *) break ;;
  esac
done
if ! [[ "$hosts" =~ ^[0-9]+$ ]] || ((hosts < 1 || hosts > 500)); then
  echo "testbed: --hosts takes 1 to 500" >&2
  exit 2
fi

skip() {
  echo "testbed: skipped: $*" >&2
  exit 77
}
[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces)"
command -v ip >/dev/null || skip "needs iproute2 (ip)"

prefix="kadtb-$$-"
bridge_ns="${prefix}br"
created=()   # Namespaces made by this run, deleted on exit.
child=""

# Kills what still runs inside namespace $1, then deletes it.
remove_namespace() {
  local ns=$1 pids
  pids=$(ip netns pids "$ns" 2>/dev/null || true)
  if [ -n "$pids" ]; then
    # shellcheck disable=SC2086  # A list of pids.
    kill -KILL $pids 2>/dev/null || true
  fi
  ip netns del "$ns" 2>/dev/null || true
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
    kill -TERM "$child" 2>/dev/null || true
    wait "$child" 2>/dev/null || true
  fi
  local ns
  for ns in "${created[@]}"; do remove_namespace "$ns"; done
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Leftovers of testbeds whose script was SIGKILLed.
while read -r ns _; do
  if [[ "$ns" =~ ^kadtb-([0-9]+)- ]] && ! kill -0 "${BASH_REMATCH[1]}" 2>/dev/null; then
    echo "testbed: removing stale namespace $ns" >&2
    remove_namespace "$ns"
  fi
done < <(ip netns list 2>/dev/null || true)

address_of() {
  local i=$1
  if ((i <= 250)); then echo "198.18.$i.10"; else echo "198.19.$((i - 250)).10"; fi
}

if ! ip netns add "$bridge_ns" 2>/dev/null; then
  skip "ip netns add is not permitted here"
fi
created+=("$bridge_ns")
ip -n "$bridge_ns" link add br0 type bridge
ip -n "$bridge_ns" link set br0 up

names=()
addresses=()
for ((i = 1; i <= hosts; i++)); do
  ns="${prefix}h$i"
  address=$(address_of "$i")
  ip netns add "$ns"
  created+=("$ns")
  ip -n "$bridge_ns" link add "h$i" type veth peer name eth0 netns "$ns"
  ip -n "$bridge_ns" link set "h$i" master br0 up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "$address/15" dev eth0
  ip -n "$ns" link set eth0 up
  names+=("$ns")
  addresses+=("$address")
done
echo "testbed: $hosts hosts (${addresses[0]} ... ${addresses[-1]}) on bridge" \
  "br0 in $bridge_ns" >&2

export KAD_TESTBED_HOSTS="${names[*]}"
export KAD_TESTBED_ADDRESSES="${addresses[*]}"
export KAD_TESTBED_BRIDGE="$bridge_ns"
if ((!$#)); then
  "${SHELL:-bash}"   # Interactive: in the foreground, with the terminal.
  exit
fi
# In the background so that SIGINT and SIGTERM reach the traps at once.
"$@" &
child=$!
wait "$child"

#!/usr/bin/env bash
# lookup_figure.sh: the lookup benchmark at 1,000 to 1,000,000 simulated
# nodes beside the flooding baseline, and the figure in the README.
#
# Runs `kad bench lookup --sim --json` with seed 1 at each size (protocol
# join up to 10,000 nodes, oracle join above: see README "Benchmarking
# lookups"), keeps the reports in bench/results/, and draws
# docs/lookup-latency.png with bench/plot.py (Debian's python3-matplotlib).
# Flooding searches are few at the large sizes: each costs about 6 x n
# datagrams.
#
#   bash scripts/lookup_figure.sh                 # all four sizes, ~10 min
#   SIZES="1000 10000" bash scripts/lookup_figure.sh
#   KAD=/path/to/kad bash scripts/lookup_figure.sh
#
# Peak memory: ~1.8 GB at 100,000 nodes, ~15 GB at 1,000,000.
set -euo pipefail
cd "$(dirname "$0")/.."

KAD=${KAD:-build/cli/kad}
SIZES=${SIZES:-1000 10000 100000 1000000}
OUT=bench/results
[[ -x $KAD ]] || { echo "lookup_figure: no $KAD; run scripts/setup.sh" >&2; exit 1; }
mkdir -p "$OUT"

# Flooding searches per size: enough for a mean, few enough to finish.
baseline_lookups() {
  case $1 in
    1000) echo 500 ;;
    10000) echo 200 ;;
    100000) echo 40 ;;
    *) echo 10 ;;
  esac
}

reports=()
for n in $SIZES; do
  lookups=$(( n < 10000 ? 2000 : 10000 ))
  report="$OUT/lookup-$n.json"
  echo "lookup_figure: $n nodes, $lookups lookups" >&2
  /usr/bin/time -f "lookup_figure: $n nodes took %e s, peak RSS %M KB" \
    "$KAD" bench lookup --sim --nodes "$n" --lookups "$lookups" --seed 1 \
    --baseline flooding --baseline-lookups "$(baseline_lookups "$n")" \
    --json > "$report"
  reports+=("$report")
done
/usr/bin/python3 bench/plot.py docs/lookup-latency.png "${reports[@]}"

#!/usr/bin/env bash
# adversary_figure.sh: gets under the drop attack at 10,000 simulated nodes
# with 1 to 8 disjoint lookup paths, and the figure in the README.
#
# Runs `kad bench lookup --sim --nodes 10000 --lookups 2000 --loss 0.01
# --seed 1 --join JOIN --adversary F --attack drop --disjoint-paths D
# --json` for every F and D below (F = 0: no adversaries), keeps the
# reports in bench/results/adversary-JOIN-drop-fF-dD.json, and draws
# docs/adversary-paths.png with `bench/plot.py --adversary` (Debian's
# python3-matplotlib). JOIN is oracle by default: a run takes about 20 s
# (a protocol join of 10,000 nodes takes about 100 s of CPU per run, and
# the attack hurts one path more there: see docs/BENCH.md).
#
#   bash scripts/adversary_figure.sh                       # 16 runs
#   JOIN=protocol FRACTIONS="0.2" PATHS="1 2" bash scripts/adversary_figure.sh
#   KAD=/path/to/kad bash scripts/adversary_figure.sh
#
# Peak memory: about 600 MB.
set -euo pipefail
cd "$(dirname "$0")/.."

KAD=${KAD:-build/cli/kad}
FRACTIONS=${FRACTIONS:-0 0.1 0.2 0.3}
PATHS=${PATHS:-1 2 4 8}
LOOKUPS=${LOOKUPS:-2000}
JOIN=${JOIN:-oracle}
OUT=bench/results
[[ -x $KAD ]] || { echo "adversary_figure: no $KAD; run scripts/setup.sh" >&2; exit 1; }
mkdir -p "$OUT"

reports=()
for f in $FRACTIONS; do
  for d in $PATHS; do
    report="$OUT/adversary-$JOIN-drop-f$f-d$d.json"
    attack=()
    [[ $f == 0 ]] || attack=(--adversary "$f" --attack drop)
    echo "adversary_figure: $JOIN join, F = $f, d = $d" >&2
    "$KAD" bench lookup --sim --nodes 10000 --lookups "$LOOKUPS" --seed 1 \
      --loss 0.01 --join "$JOIN" "${attack[@]}" --disjoint-paths "$d" \
      --json > "$report"
    reports+=("$report")
  done
done
/usr/bin/python3 bench/plot.py --adversary docs/adversary-paths.png "${reports[@]}"

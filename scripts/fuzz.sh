#!/usr/bin/env bash
# Fuzzes the datagram decoder (dht/wire_codec.h) with libFuzzer:
#   1. configures build-fuzz with clang++, ASan + UBSan and coverage
#      instrumentation for the whole tree (-fsanitize=fuzzer-no-link);
#   2. builds tests/fuzz/decode_fuzzer;
#   3. runs it for RUNS inputs (default 200000), starting from a scratch copy
#      of the golden seed corpus in tests/fuzz/corpus/ (never modified).
# Exits non-zero if the fuzzer finds a crash, a sanitizer error or a failed
# round trip; the reproducing input is left as build-fuzz/crash-* (replay it
# with build-fuzz/tests/fuzz/decode_fuzzer FILE).
#
#   bash scripts/fuzz.sh            # 200000 runs
#   bash scripts/fuzz.sh 5000000    # a longer run
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${1:-200000}
BUILD_DIR=build-fuzz

# Warnings are enforced by the gcc build (scripts/setup.sh); here they would
# only stop clang from building the fuzzer over a clang-specific warning.
cmake -S . -B "$BUILD_DIR" -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKAD_FUZZ=ON -DKAD_SANITIZE=ON \
  -DKAD_WERROR=OFF -DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)" --target decode_fuzzer

corpus="$BUILD_DIR/fuzz-corpus"
rm -rf "$corpus"
mkdir -p "$corpus"
cp tests/fuzz/corpus/* "$corpus/"

# -max_len above the 1,280-byte datagram limit so oversized input is tried.
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  "$BUILD_DIR/tests/fuzz/decode_fuzzer" -runs="$RUNS" -max_len=1400 \
  -artifact_prefix="$BUILD_DIR/" -print_final_stats=1 "$corpus"
echo "fuzz: decode_fuzzer ran $RUNS inputs without a failure" >&2

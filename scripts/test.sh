#!/usr/bin/env bash
# Sets everything up and runs the whole test suite, as CI does:
#   1. the normal build and every CTest test (labels unit, sim, integration;
#      integration includes install_package: install to a scratch prefix,
#      build examples/ with find_package(kad) and pkg-config, run it on a
#      3-node overlay; and metrics_scrape: GET /metrics of a running node),
#      then the testbed label alone (docs/TESTBED.md; needs root);
#   2. the Release build (-O3), its unit tests, and its Debian package
#      built and checked (scripts/packaging/check_deb.sh);
#   3. the same suite built with AddressSanitizer + UndefinedBehaviorSanitizer;
#   4. a bounded libFuzzer run of the datagram decoder.
# Every build treats warnings as errors.
# Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
ctest --test-dir build --output-on-failure --timeout 300 -j2 -LE testbed
# The abuse scenarios on a testbed of real hosts (network namespaces; about
# 35 s), once, on their own: they measure rates. Skipped unless root.
ctest --test-dir build --output-on-failure -L testbed

# The plain Release build users make (-O3 warns where -O2 does not), with
# warnings as errors; its unit tests run too.
BUILD_DIR=build-release CMAKE_ARGS="-DCMAKE_BUILD_TYPE=Release" \
  bash scripts/setup.sh
ctest --test-dir build-release --output-on-failure --timeout 300 -j2 -L unit
bash scripts/packaging/check_deb.sh build-release

BUILD_DIR=build-asan CMAKE_ARGS="-DKAD_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug" \
  bash scripts/setup.sh
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure --timeout 600 -j2

bash scripts/fuzz.sh "${FUZZ_RUNS:-200000}"

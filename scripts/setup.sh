#!/usr/bin/env bash
# Sets up kad on Debian 12: installs the build dependencies (only those
# missing, with one apt-get update), then configures and builds ./build.
# Idempotent: a second run installs nothing and rebuilds incrementally.
#
#   bash scripts/setup.sh            # release build with debug info
#   BUILD_DIR=build-asan CMAKE_ARGS=-DKAD_SANITIZE=ON bash scripts/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake pkg-config git
  libuv1-dev libmsgpack-cxx-dev libxxhash-dev libabsl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libsodium-dev liblmdb-dev libcli11-dev nlohmann-json3-dev libspdlog-dev
  clang libclang-rt-14-dev python3 iproute2
  libcpp-httplib-dev python3-prometheus-client
)

missing=()
for package in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" ||
    missing+=("$package")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

BUILD_DIR=${BUILD_DIR:-build}
# shellcheck disable=SC2086  # CMAKE_ARGS is a list of flags.
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKAD_WERROR=ON \
  ${CMAKE_ARGS:-} >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
echo "setup: built $BUILD_DIR/cli/kad" >&2

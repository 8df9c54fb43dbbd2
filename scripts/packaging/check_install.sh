#!/usr/bin/env bash
# Checks kad's installed package as an embedder uses it:
#   1. `cmake --install BUILD_DIR` into a scratch prefix;
#   2. every installed header compiles from the prefix alone (pkg-config
#      flags, no source tree), and the private headers are not installed;
#   3. examples/ builds against the prefix with find_package(kad) in a
#      separate build tree, and with `pkg-config --cflags --libs kad`;
#   4. both example binaries join a 3-node overlay of the installed `kad
#      node` processes (127.0.0.1, ports picked by the OS), put, get, and
#      exit 0.
# Usage: scripts/packaging/check_install.sh [BUILD_DIR]   (default: build)
# Run by CTest (test install_package, label integration) and so by
# scripts/test.sh. Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
build_dir=$(realpath "${1:-build}")
source_dir=$PWD

step() { echo "check_install: $*" >&2; }

prefix=$(mktemp -d "${TMPDIR:-/tmp}/kad-prefix.XXXXXX")
trap 'rm -rf "$prefix"' EXIT
step "installing $build_dir into $prefix"
cmake --install "$build_dir" --prefix "$prefix" >/dev/null
KAD=$prefix/bin/kad
# shellcheck source=../overlay_lib.sh
source scripts/overlay_lib.sh  # workdir, start_overlay, address_of.
trap 'stop_nodes; rm -rf "$workdir" "$prefix"' EXIT

libdir=$(dirname "$(find "$prefix" -name kad.pc -print -quit)")
export PKG_CONFIG_PATH=$libdir${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}

step "private headers stay private"
for private in dht/wire_fields.h dht/wire_codec.h dht/node_impl.h \
  storage/lmdb_txn.h; do
  if [ -e "$prefix/include/kad/$private" ]; then
    echo "check_install: private header installed: $private" >&2
    exit 1
  fi
done

step "every installed header compiles from the prefix alone"
headers_tu=$workdir/all_headers.cc
(cd "$prefix/include" && find kad -name '*.h' | sort |
  sed 's/.*/#include <&>/') >"$headers_tu"
# shellcheck disable=SC2046  # pkg-config prints a list of flags.
c++ -std=c++20 -fsyntax-only -Wall -Wextra -Werror "$headers_tu" \
  $(pkg-config --cflags kad)

step "examples/ with find_package(kad)"
cmake -S "$source_dir/examples" -B "$workdir/example-cmake" \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$workdir/example-cmake" -j2 >/dev/null

step "examples/ with pkg-config --cflags --libs kad"
# shellcheck disable=SC2046
c++ -std=c++20 -O1 "$source_dir/examples/embed_node.cc" \
  -o "$workdir/embed_node_pkgconfig" $(pkg-config --cflags --libs kad)

step "both examples against a 3-node overlay of installed kad nodes"
start_overlay 3
seed=$(address_of 1)
for example in "$workdir/example-cmake/embed_node" \
  "$workdir/embed_node_pkgconfig"; do
  "$example" "$seed" "key-$(basename "$example")" "value of $example"
done
step "ok"

#!/usr/bin/env bash
# Builds kad's Debian package from a build dir (`cpack -G DEB`) and checks
# it without installing it on this machine:
#   - dpkg-deb -I: name, version, amd64, the binary's Depends, the conffile;
#   - dpkg-deb -c: the binary, man page, completion, docs, headers, libraries,
#     kadConfig.cmake, kad.pc, kad.service, /etc/default/kad; no private
#     header;
#   - extracted into a scratch root: the binary runs, and kad.service
#     carries the promised settings and passes `systemd-analyze verify`
#     (any complaint fails; skipped when systemd-analyze is absent).
# Usage: scripts/packaging/check_deb.sh [BUILD_DIR]   (default: build)
# scripts/test.sh runs it on the Release build. Leaves the .deb in
# BUILD_DIR/package/.
set -euo pipefail
cd "$(dirname "$0")/../.."
build_dir=$(realpath "${1:-build}")
scratch=$(mktemp -d "${TMPDIR:-/tmp}/kad-deb.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
fail() { echo "check_deb: $*" >&2; exit 1; }
step() { echo "check_deb: $*" >&2; }

step "cpack -G DEB in $build_dir"
rm -rf "$build_dir/package"
cpack -G DEB --config "$build_dir/CPackConfig.cmake" -B "$build_dir/package" \
  >"$scratch/cpack.log" 2>&1 || { cat "$scratch/cpack.log" >&2; fail "cpack failed"; }
version=$(sed -n 's/^project(kad VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
deb=$build_dir/package/kad_${version}_amd64.deb
[ -f "$deb" ] || fail "no $deb"

step "control fields of $(basename "$deb")"
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = kad ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$version" ] || fail "Version: $(field Version)"
[ "$(field Architecture)" = amd64 ] || fail "Architecture: $(field Architecture)"
for library in libuv1 libsodium23 liblmdb0 libxxhash0 libcpp-httplib; do
  field Depends | grep -q "$library" || fail "Depends lacks $library: $(field Depends)"
done
dpkg-deb -I "$deb" conffiles | grep -qx /etc/default/kad ||
  fail "/etc/default/kad is not a conffile"

step "contents"
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$scratch/contents"
for path in /usr/bin/kad /usr/share/man/man1/kad.1.gz \
  /usr/share/bash-completion/completions/kad \
  /usr/share/doc/kad/README.md /usr/include/kad/dht/node.h \
  /usr/include/kad/runtime/node_runtime.h /usr/include/kad/net/udp_transport.h \
  /usr/lib/libkad_dht.a /usr/lib/libkad_runtime.a /usr/lib/libkad_net_uv.a \
  /usr/lib/libkad_storage.a /usr/lib/libkad_net.a \
  /usr/lib/cmake/kad/kadConfig.cmake /usr/lib/cmake/kad/kadConfigVersion.cmake \
  /usr/lib/pkgconfig/kad.pc /usr/lib/systemd/system/kad.service \
  /etc/default/kad; do
  grep -qx "$path" "$scratch/contents" || fail "missing $path"
done
if grep -E 'wire_fields\.h|node_impl\.h|lmdb_txn\.h' "$scratch/contents"; then
  fail "private header packaged"
fi

step "extracted into a scratch root"
root=$scratch/root
dpkg-deb -x "$deb" "$root"
"$root/usr/bin/kad" --help >/dev/null || fail "packaged kad does not run"
zcat "$root/usr/share/man/man1/kad.1.gz" | grep -q '^\.TH KAD 1' ||
  fail "man page has no .TH"
grep -q '^KAD_OPTS=' "$root/etc/default/kad" || fail "no KAD_OPTS in /etc/default/kad"
bash -n "$root/usr/share/bash-completion/completions/kad" ||
  fail "bash completion does not parse"
unit=$root/usr/lib/systemd/system/kad.service
for setting in 'EnvironmentFile=-/etc/default/kad' \
  'ExecStart=/usr/bin/kad node --data-dir /var/lib/kad $KAD_OPTS' \
  'DynamicUser=yes' 'StateDirectory=kad' 'Restart=on-failure' \
  'ProtectSystem=strict' 'ProtectHome=yes' 'PrivateTmp=yes' \
  'NoNewPrivileges=yes' 'WantedBy=multi-user.target'; do
  grep -qxF "$setting" "$unit" || fail "kad.service lacks $setting"
done

if command -v systemd-analyze >/dev/null; then
  step "systemd-analyze verify kad.service"
  # The unit names /usr/bin/kad, which is not installed here: verify a copy
  # that runs the extracted one. Any output is a complaint.
  sed "s|/usr/bin/kad|$root/usr/bin/kad|" "$unit" >"$scratch/kad.service"
  if ! systemd-analyze verify --man=no "$scratch/kad.service" \
    >"$scratch/verify.log" 2>&1 || [ -s "$scratch/verify.log" ]; then
    cat "$scratch/verify.log" >&2
    fail "systemd-analyze verify complained"
  fi
else
  step "systemd-analyze not found: unit lint skipped"
fi
step "ok: $deb"

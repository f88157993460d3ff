#!/usr/bin/env bash
# What the linux-arm64 prebuild needs on a Debian 12 (amd64) machine, from Debian's packages only:
#   - the aarch64 cross toolchain (g++-aarch64-linux-gnu) and qemu-user, installed with apt-get;
#   - a sysroot directory (RNNKIT_ARM64_SYSROOT, default /opt/rnnkit-arm64-sysroot) holding
#     Debian's arm64 OpenBLAS (headers, libopenblas.a and its pkg-config file, which
#     `npm run prebuildify:arm64` links statically) and Debian's arm64 Node.js with the libraries it
#     loads, unpacked from .debs with `dpkg -x` (nothing arm64 is installed into the system), so
#     test/prebuild-arm64.test.ts can run the prebuild under qemu-aarch64 -L "$sysroot".
# Adds the arm64 architecture to dpkg (apt-get download needs it). Idempotent: a second run with
# the same package versions does nothing.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
sysroot=${RNNKIT_ARM64_SYSROOT:-/opt/rnnkit-arm64-sysroot}

need=()
command -v aarch64-linux-gnu-g++ >/dev/null || need+=(g++-aarch64-linux-gnu)
command -v qemu-aarch64 >/dev/null || need+=(qemu-user)
dpkg --print-foreign-architectures | grep -qx arm64 || { dpkg --add-architecture arm64; updated=; }
if [ ${#need[@]} -gt 0 ] || [ -n "${updated+x}" ] || ! apt-cache show nodejs:arm64 >/dev/null 2>&1; then
  apt-get update -qq
fi
[ ${#need[@]} -eq 0 ] || apt-get install -y -qq "${need[@]}"

# Debian 12's arm64 Node.js (18.x) and what it loads at run time: its shared libraries and the
# JavaScript packages (architecture all) its builtins are read from.
pkgs=(nodejs:arm64 libnode108:arm64 libc6:arm64 libgcc-s1:arm64 libstdc++6:arm64 libbrotli1:arm64
  libc-ares2:arm64 libicu72:arm64 libnghttp2-14:arm64 libssl3:arm64 libuv1:arm64 zlib1g:arm64
  node-cjs-module-lexer node-acorn node-undici
  libopenblas-pthread-dev:arm64)
stamp="$sysroot/.rnnkit-sysroot"
want=$(apt-cache policy "${pkgs[@]}" | awk '/^[^ ]/{p=$1} /Candidate:/{print p, $2}')
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "arm64 sysroot up to date: $sysroot"
  exit 0
fi
debs=$(mktemp -d)
trap 'rm -rf "$debs"' EXIT
(cd "$debs" && apt-get download -qq "${pkgs[@]}" 2>&1 | grep -v 'unsandboxed' || true)
ls "$debs"/*.deb >/dev/null
rm -rf "$sysroot"
mkdir -p "$sysroot"
for d in "$debs"/*.deb; do dpkg -x "$d" "$sysroot"; done
echo "$want" >"$stamp"
echo "arm64 sysroot ready: $sysroot ($(du -sh "$sysroot" | cut -f1))"

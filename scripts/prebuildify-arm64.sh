#!/usr/bin/env bash
# `npm run prebuildify:arm64`: prebuilds/linux-arm64/rnnkit.glibc.node, cross-compiled with
# Debian's aarch64 toolchain, Debian's arm64 OpenBLAS linked statically and the same glibc floor as
# the x64 prebuild (native/compat/glibc_floor.c). Needs scripts/arm64-setup.sh first. Builds in
# build/ like `npm run prebuildify`, so rebuild for the host afterwards (npm run build:native).
set -euo pipefail
sysroot=${RNNKIT_ARM64_SYSROOT:-/opt/rnnkit-arm64-sysroot}
[ -f "$sysroot/.rnnkit-sysroot" ] || { echo "no arm64 sysroot at $sysroot: run scripts/arm64-setup.sh" >&2; exit 1; }
export CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ LINK=aarch64-linux-gnu-g++ AR=aarch64-linux-gnu-ar
# pkg-config finds the sysroot's OpenBLAS and prefixes its paths with the sysroot.
export PKG_CONFIG_LIBDIR="$sysroot/usr/lib/aarch64-linux-gnu/openblas-pthread/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$sysroot"
export RNNKIT_STATIC_OPENBLAS=1 RNNKIT_GLIBC_FLOOR=1
exec prebuildify --napi --strip --strip-bin aarch64-linux-gnu-strip --tag-libc --arch arm64

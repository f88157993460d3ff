// Decides at build time how matrix products are linked; binding.gyp asks it for values.
//   RNNKIT_GEMM=builtin          -> no BLAS, the built-in kernel only
//   RNNKIT_STATIC_OPENBLAS=1     -> link libopenblas.a (prebuilds: users need no system library)
//   otherwise                    -> OpenBLAS through pkg-config when present, else built-in
//   RNNKIT_NO_EXTERNAL_BUFFERS=1 -> NODE_API_NO_EXTERNAL_BUFFERS_ALLOWED (Electron's memory cage)
//   RNNKIT_GLIBC_FLOOR=1         -> (Linux, prebuilds) bind glibc symbols to their oldest versions and
//                                   link libstdc++ statically, so the addon loads on older distros
//                                   (native/compat/glibc_floor.c; `floor`, `floor-ldflags`)
// Cross builds point pkg-config at the target's OpenBLAS (PKG_CONFIG_LIBDIR, PKG_CONFIG_SYSROOT_DIR;
// scripts/arm64-setup.sh).
'use strict';
const { execSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

function pkg(args) {
  try {
    return execSync(`pkg-config ${args} openblas`, { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return null;
  }
}

function mode() {
  if (process.env.RNNKIT_GEMM === 'builtin') return 'none';
  if (pkg('--exists') === null) return 'none';
  if (process.env.RNNKIT_STATIC_OPENBLAS === '1') {
    const lib = path.join(pkg('--variable=libdir') || '', 'libopenblas.a');
    if (fs.existsSync(lib)) return 'static';
    throw new Error(`RNNKIT_STATIC_OPENBLAS=1 but ${lib} does not exist (apt-get install libopenblas-dev)`);
  }
  return 'dynamic';
}

// The symbols native/compat/glibc_floor.c defines a __wrap_ for (its RNNKIT_OLD(type, NAME, ...) and
// RNNKIT_WRAPPED(NAME)); the linker sends every reference to them (ours, libopenblas.a's,
// libstdc++.a's) there.
function floorWrapped() {
  const file = path.join(__dirname, 'compat', 'glibc_floor.c');
  const src = fs.readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, ''); // comments out
  const names = [...src.matchAll(/^\s*RNNKIT_OLD\(\s*[^,]+,\s*(\w+)|RNNKIT_WRAPPED\((\w+)\)/gm)].map((m) => m[1] || m[2]);
  return [...new Set(names.filter((n) => n !== 'name'))]; // `name`: the macros' own definitions
}

function floor() {
  return process.env.RNNKIT_GLIBC_FLOOR === '1' && process.platform === 'linux';
}

const what = process.argv[2];
const m = mode();
if (what === 'mode') console.log(m);
else if (what === 'external-buffers') console.log(process.env.RNNKIT_NO_EXTERNAL_BUFFERS === '1' ? 'no' : 'yes');
else if (what === 'cflags') console.log(m === 'none' ? '' : pkg('--cflags') || '');
else if (what === 'libs') {
  if (m === 'dynamic') console.log(pkg('--libs'));
  else if (m === 'static') console.log(`${path.join(pkg('--variable=libdir'), 'libopenblas.a')} -lm -lpthread`);
  else console.log('');
} else if (what === 'floor') console.log(floor() ? '1' : '0');
else if (what === 'floor-ldflags') {
  // --exclude-libs: the static libraries' symbols (libstdc++, OpenBLAS) stay private to the addon.
  // libpthread.so.0: before glibc 2.34 the pthread functions' old versions live there, not in libc
  // (a stub library since, so needing it costs nothing).
  const flags = [
    '-static-libstdc++',
    '-Wl,--exclude-libs,ALL',
    '-Wl,--no-as-needed,-l:libpthread.so.0',
    ...floorWrapped().map((s) => `-Wl,--wrap=${s}`),
  ];
  console.log(floor() ? flags.join(' ') : '');
} else {
  console.error('usage: build-config.cjs mode|cflags|libs|external-buffers|floor|floor-ldflags');
  process.exit(2);
}

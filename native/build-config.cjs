// Decides at build time how matrix products are linked; binding.gyp asks it for values.
//   RNNKIT_GEMM=builtin          -> no BLAS, the built-in kernel only
//   RNNKIT_STATIC_OPENBLAS=1     -> link libopenblas.a (prebuilds: users need no system library)
//   otherwise                    -> OpenBLAS through pkg-config when present, else built-in
//   RNNKIT_NO_EXTERNAL_BUFFERS=1 -> NODE_API_NO_EXTERNAL_BUFFERS_ALLOWED (Electron's memory cage)
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

const what = process.argv[2];
const m = mode();
if (what === 'mode') console.log(m);
else if (what === 'external-buffers') console.log(process.env.RNNKIT_NO_EXTERNAL_BUFFERS === '1' ? 'no' : 'yes');
else if (what === 'cflags') console.log(m === 'none' ? '' : pkg('--cflags') || '');
else if (what === 'libs') {
  if (m === 'dynamic') console.log(pkg('--libs'));
  else if (m === 'static') console.log(`${path.join(pkg('--variable=libdir'), 'libopenblas.a')} -lm -lpthread`);
  else console.log('');
} else {
  console.error('usage: build-config.cjs mode|cflags|libs|external-buffers');
  process.exit(2);
}

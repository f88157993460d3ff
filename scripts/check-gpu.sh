#!/usr/bin/env bash
# The GPU check, in one run on a GPU machine without Node.js (../shared/gpu/README.md): unpack the
# carried node, build the CPU and CUDA addons with plain CMake, run the CUDA op suites' check
# against the CPU backend (bench/gpu.mjs), time W1, W4 and the large LSTM against PyTorch's cuDNN
# LSTM on the same card, and print one table with the ratios.
#   carry: .device  dist  node_modules/node-addon-api  node_modules/node-api-headers  node_modules/node-gyp-build
#   run:   bash scripts/check-gpu.sh [--quick]
set -uo pipefail
cd "$(dirname "$0")/.."
quick=${1:-}
out=${OUT:-/tmp/rnnkit-gpu}
mkdir -p "$out"

if ! command -v node >/dev/null; then
  [ -s .device/node.xz ] || { echo "no node and no .device/node.xz (run ../shared/gpu/pack-node.sh)"; exit 2; }
  mkdir -p /tmp/bin && xz -dc .device/node.xz > /tmp/bin/node && chmod +x /tmp/bin/node
  export PATH=/tmp/bin:$PATH
fi
echo "node $(node --version); nvcc: $(nvcc --version | tail -1)"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "nvidia-smi: not found"

# Where cuBLAS lives is not known in advance: the CUDA toolkit, or PyTorch's nvidia packages.
cublas=$(ls /usr/local/cuda*/lib64/libcublas.so.1[23]* 2>/dev/null | head -1)
[ -n "$cublas" ] || cublas=$(python3 -c 'import nvidia.cublas, os; print(os.path.join(nvidia.cublas.__path__[0], "lib"))' 2>/dev/null)
[ -n "$cublas" ] || cublas=$(find / -name 'libcublas.so.1[23]*' -not -path '*/proc/*' 2>/dev/null | head -1)
echo "cuBLAS found: ${cublas:-none (the built-in GEMM kernel will run)}"
[ -n "$cublas" ] && export RNNKIT_CUBLAS_DIR=$( [ -d "$cublas" ] && echo "$cublas" || dirname "$cublas")

inc="$(pwd)/node_modules/node-api-headers/include"
t0=$SECONDS
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DRNNKIT_CUDA=ON -DRNNKIT_USE_OPENBLAS=OFF \
  -DCMAKE_JS_INC="$inc" >"$out/cmake.log" 2>&1 && cmake --build build-gpu -j "$(nproc)" >>"$out/cmake.log" 2>&1 \
  || { tail -40 "$out/cmake.log"; echo "build failed"; exit 1; }
mkdir -p build/Release build-cuda/Release
cp build-gpu/rnnkit.node build/Release/rnnkit.node
cp build-gpu/rnnkit_cuda.node build-cuda/Release/rnnkit_cuda.node
echo "built in $((SECONDS - t0)) s"

node bench/gpu.mjs $quick --json >"$out/gpu.json" 2>"$out/gpu.err"
gpu_rc=$?
if [ ! -s "$out/gpu.json" ]; then
  cat "$out/gpu.err"
  echo "bench/gpu.mjs gave no result (exit $gpu_rc)"
  exit 1
fi
node bench/gpu.mjs $quick 2>&1 | sed -n '/^check/,/^timings/p' | head -80
python3 bench/torch_gpu.py $quick >"$out/torch.json" 2>"$out/torch.err" || { tail -5 "$out/torch.err"; echo "torch baseline failed"; }

node -e '
  const fs = require("fs");
  const g = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
  let t = {};
  try { t = JSON.parse(fs.readFileSync(process.argv[2], "utf8").trim().split("\n").pop()); } catch {}
  console.log(`\n${g.info.device}, gemm ${g.info.gemm}; torch ${t._meta ? t._meta.torch + " cuDNN " + t._meta.cudnn : "absent"}`);
  console.log("| workload | rnnkit ms | cuDNN ms | rnnkit throughput vs cuDNN (target >= 1.0) |");
  console.log("|---|---|---|---|");
  for (const r of g.rows) {
    const c = t[r.workload] ? t[r.workload].ms : null;
    console.log(`| ${r.workload} | ${r.rnnkit_ms.toFixed(3)} | ${c == null ? "-" : c.toFixed(3)} | ${c == null ? "-" : (c / r.rnnkit_ms).toFixed(2)}x |`);
  }
  const bad = g.checks.filter((c) => !c.ok);
  console.log(`checks: ${g.checks.length - bad.length} ok, ${bad.length} failed`);
' "$out/gpu.json" "$out/torch.json"
exit $gpu_rc

#!/usr/bin/env bash
# npm run bench:gemm-small: builds bench/gemm_small.cpp against native/kernels and runs it;
# npm run bench:gemm-packed: the same with bench/gemm_packed.cpp (bash bench/gemm_small.sh packed);
# npm run bench:steps: the gate kernels' AVX2 and AVX-512 builds, bench/steps_simd.cpp (... steps);
# npm run bench:fused: a layer forward with and without the fused step, bench/fused_step.cpp (... fused).
set -euo pipefail
cd "$(dirname "$0")/.."
K=native/kernels
out=$(mktemp -d)
F="-O3 -std=c++17 -pthread -fno-trapping-math -fno-math-errno -I$K"
LIBS=""
if pkg-config --exists openblas 2>/dev/null; then
  F="$F -DRNNKIT_OPENBLAS $(pkg-config --cflags openblas)"
  LIBS="$(pkg-config --libs openblas)"
fi
g++ $F -mavx512f -mavx512dq -mavx512vl -mavx512bw -mfma -c $K/gemm_builtin_avx512.cpp -o "$out/avx512.o"
g++ $F -mavx2 -mfma -c $K/gemm_builtin_avx2.cpp -o "$out/avx2.o"
g++ $F -c $K/gemm_builtin_generic.cpp -o "$out/generic.o"
for f in gemm threads cpu_features; do g++ $F -c $K/$f.cpp -o "$out/$f.o"; done
src=bench/gemm_small.cpp
[ "${1:-}" = packed ] && src=bench/gemm_packed.cpp
if [ "${1:-}" = steps ] || [ "${1:-}" = fused ]; then
  src=bench/steps_simd.cpp
  g++ $F -mavx512f -mavx512dq -mavx512vl -mavx512bw -mavx2 -mfma -c $K/rnn_steps_avx512.cpp -o "$out/steps512.o"
  g++ $F -mavx2 -mfma -c $K/rnn_steps_avx2.cpp -o "$out/steps2.o"
  g++ $F -c $K/rnn_steps_generic.cpp -o "$out/stepsg.o"
fi
if [ "${1:-}" = fused ]; then
  src=bench/fused_step.cpp
  for f in rnn rnn_fused cell_lstm cell_gru cell_elman; do g++ $F -c $K/$f.cpp -o "$out/$f.o"; done
fi
g++ $F -c "$src" -o "$out/main.o"
g++ -pthread "$out"/*.o $LIBS -o "$out/gemm_small"
"$out/gemm_small" "${@:2}"
rm -rf "$out"

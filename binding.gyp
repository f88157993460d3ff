{
  "variables": {
    "rnnkit_blas%": "<!(node native/build-config.cjs mode)",
    "rnnkit_external_buffers%": "<!(node native/build-config.cjs external-buffers)",
    "rnnkit_glibc_floor%": "<!(node native/build-config.cjs floor)"
  },
  "target_defaults": {
    "cflags_cc": ["-std=c++17", "-fPIC", "-O3", "-fno-trapping-math", "-fno-math-errno", "-fvisibility=hidden", "-fvisibility-inlines-hidden"],
    "cflags_cc!": ["-fno-exceptions"],
    "cflags!": ["-fno-exceptions"]
  },
  "targets": [
    {
      "target_name": "rnnkit_simd",
      "type": "static_library",
      "sources": [
        "native/kernels/gemm_builtin_avx2.cpp",
        "native/kernels/rnn_steps_avx2.cpp"
      ],
      "conditions": [
        ["target_arch=='x64' or target_arch=='ia32'", { "cflags_cc": ["-mavx2", "-mfma"] }]
      ]
    },
    {
      "target_name": "rnnkit_simd512",
      "type": "static_library",
      "sources": ["native/kernels/gemm_builtin_avx512.cpp", "native/kernels/rnn_steps_avx512.cpp"],
      "conditions": [
        ["target_arch=='x64'", { "cflags_cc": ["-mavx512f", "-mavx512dq", "-mavx512vl", "-mavx512bw", "-mavx2", "-mfma"] }]
      ]
    },
    {
      "target_name": "rnnkit",
      "dependencies": [
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except",
        "rnnkit_simd",
        "rnnkit_simd512"
      ],
      "sources": [
        "native/kernels/cpu_features.cpp",
        "native/kernels/threads.cpp",
        "native/kernels/gemm.cpp",
        "native/kernels/gemm_builtin_generic.cpp",
        "native/kernels/rnn_steps_generic.cpp",
        "native/kernels/cell_elman.cpp",
        "native/kernels/cell_lstm.cpp",
        "native/kernels/cell_gru.cpp",
        "native/kernels/rnn.cpp",
        "native/kernels/rnn_fused.cpp",
        "native/kernels/rtrl.cpp",
        "native/kernels/online.cpp",
        "native/kernels/ops.cpp",
        "native/kernels/init.cpp",
        "native/kernels/optim.cpp",
        "native/kernels/elementwise.cpp",
        "native/kernels/rows.cpp",
        "native/kernels/pooling.cpp",
        "native/kernels/attention.cpp",
        "native/kernels/time_delay.cpp",
        "native/kernels/losses.cpp",
        "native/kernels/grad_tools.cpp",
        "native/binding/args.cpp",
        "native/binding/run.cpp",
        "native/binding/host_memory.cpp",
        "native/binding/rnn_binding.cpp",
        "native/binding/online_binding.cpp",
        "native/binding/ops_binding.cpp",
        "native/binding/init_binding.cpp",
        "native/binding/tensor_ops_binding.cpp",
        "native/binding/layer_ops_binding.cpp",
        "native/binding/decoder_binding.cpp",
        "native/binding/addon.cpp"
      ],
      "defines": ["NAPI_VERSION=8"],
      "conditions": [
        ["rnnkit_external_buffers=='no'", { "defines": ["NODE_API_NO_EXTERNAL_BUFFERS_ALLOWED"] }],
        ["rnnkit_blas!='none'", {
          "defines": ["RNNKIT_OPENBLAS"],
          "cflags_cc": ["<!@(node native/build-config.cjs cflags)"],
          "libraries": ["<!@(node native/build-config.cjs libs)"]
        }],
        ["rnnkit_glibc_floor==1", {
          "sources": ["native/compat/glibc_floor.c"],
          "ldflags": ["<!@(node native/build-config.cjs floor-ldflags)"]
        }]
      ]
    }
  ]
}

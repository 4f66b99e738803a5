{
  "variables": { "tessera_blas%": "none" },
  "targets": [
    {
      "target_name": "tessera_native",
      "sources": ["csrc/addon.cc", "csrc/heap.cc", "csrc/gemm.cc", "csrc/kernels.cc", "csrc/fused.cc", "csrc/parallel.cc"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-O3", "-march=native", "-fexceptions", "-std=c++17"],
      "conditions": [
        ["OS=='linux' and target_arch=='x64'", { "libraries": ["-Wl,--no-as-needed", "-lmvec", "-Wl,--as-needed"] }],
        ["tessera_blas=='openblas'", { "defines": ["TESSERA_OPENBLAS"], "libraries": ["-lopenblas"] }]
      ]
    }
  ]
}

{
  "variables": { "tessera_blas%": "none" },
  "targets": [
    {
      "target_name": "tessera_native",
      "sources": ["csrc/addon.cc", "csrc/heap.cc", "csrc/gemm.cc", "csrc/kernels.cc"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-O3", "-march=native", "-fexceptions", "-std=c++17"],
      "conditions": [
        ["tessera_blas=='openblas'", { "defines": ["TESSERA_OPENBLAS"], "libraries": ["-lopenblas"] }]
      ]
    }
  ]
}

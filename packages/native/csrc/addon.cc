// Node-API entry points. Every call is synchronous and receives the wasm heap ArrayBuffer
// afresh (growing the heap detaches the old one); offsets are byte offsets into it, shapes
// are element counts, and every access is bounds-checked before any write.
#include <node_api.h>

#include <string>

#include "gemm.h"
#include "heap.h"
#include "kernels.h"
#include "parallel.h"

namespace tessera {
namespace {

template <typename F>
napi_value guarded(napi_env env, F body) {
  try {
    return body();
  } catch (const std::exception& e) {
    napi_throw_error(env, "E_NATIVE_ARGS", (std::string("@tessera/native: ") + e.what()).c_str());
    return nullptr;
  }
}

napi_value undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

int64_t nonNegative(const Args& args, size_t i, const char* what) {
  const int64_t v = args.integer(i, what);
  if (v < 0) throw ArgError(std::string(what) + " must be >= 0");
  return v;
}

int64_t product(int64_t a, int64_t b) {
  if (a != 0 && b > INT64_MAX / a) throw ArgError("size overflows 64 bits");
  return a * b;
}

// Elements spanned by `batch` items of `size` elements `stride` apart.
int64_t span(int64_t batch, int64_t stride, int64_t size) {
  return batch == 0 ? 0 : product(batch - 1, stride) + size;
}

// gemm(heap, batch, m, n, k, transA, transB, aOffset, aStride, bOffset, bStride, cOffset)
napi_value Gemm(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args args(env, info, 12);
    const Heap heap = args.heap();
    const int64_t batch = nonNegative(args, 1, "batch"), m = nonNegative(args, 2, "m"), n = nonNegative(args, 3, "n"),
                  k = nonNegative(args, 4, "k");
    const bool ta = args.integer(5, "transA") != 0, tb = args.integer(6, "transB") != 0;
    const int64_t as = nonNegative(args, 8, "aStride"), bs = nonNegative(args, 10, "bStride");
    if (m > INT32_MAX || n > INT32_MAX || k > INT32_MAX) throw ArgError("matrix dimensions must fit in 32 bits");
    const float* a = heap.at<float>(args.integer(7, "aOffset"), span(batch, as, product(m, k)), "a");
    const float* b = heap.at<float>(args.integer(9, "bOffset"), span(batch, bs, product(k, n)), "b");
    float* c = heap.at<float>(args.integer(11, "cOffset"), product(batch, product(m, n)), "c");
    // Several products (attention heads): one thread per block of them; one product: threaded inside.
    parallelFor(batch, 1, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; i++) gemm(ta, tb, m, n, k, a + i * as, b + i * bs, c + i * m * n);
    });
    return undefined(env);
  });
}

// reduce(heap, op, xOffset, outOffset, outer, r, inner)
napi_value ReduceFn(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args args(env, info, 7);
    const Heap heap = args.heap();
    const int64_t op = args.integer(1, "op");
    if (op < 0 || op > 3) throw ArgError("unknown reduction");
    const int64_t outer = nonNegative(args, 4, "outer"), r = nonNegative(args, 5, "r"), inner = nonNegative(args, 6, "inner");
    const float* x = heap.at<float>(args.integer(2, "xOffset"), product(outer, product(r, inner)), "x");
    float* out = heap.at<float>(args.integer(3, "outOffset"), product(outer, inner), "out");
    reduce(static_cast<Reduce>(op), x, out, outer, r, inner);
    return undefined(env);
  });
}

// unary(heap, op, xOffset, outOffset, n)
napi_value UnaryFn(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args args(env, info, 5);
    const Heap heap = args.heap();
    const int64_t op = args.integer(1, "op");
    if (op < 0 || op > 8) throw ArgError("unknown unary op");
    const int64_t n = nonNegative(args, 4, "n");
    const float* x = heap.at<float>(args.integer(2, "xOffset"), n, "x");
    float* out = heap.at<float>(args.integer(3, "outOffset"), n, "out");
    unary(static_cast<Unary>(op), x, out, n);
    return undefined(env);
  });
}

// Reads [rank, shape..., strides of each operand...] and returns the rank.
int readLayout(const Args& args, size_t i, int operands, int64_t* shape, int64_t (*strides)[kMaxRank]) {
  const double* meta = args.doubles(i, 1, "layout");
  const int64_t rank = static_cast<int64_t>(meta[0]);
  if (rank < 0 || rank > kMaxRank) throw ArgError("rank must be in [0, 16]");
  meta = args.doubles(i, static_cast<size_t>(1 + rank * (1 + operands)), "layout");
  for (int d = 0; d < rank; d++) {
    shape[d] = static_cast<int64_t>(meta[1 + d]);
    if (shape[d] < 0) throw ArgError("negative dimension");
    for (int o = 0; o < operands; o++) {
      strides[o][d] = static_cast<int64_t>(meta[1 + rank * (1 + o) + d]);
      if (strides[o][d] < 0) throw ArgError("negative stride");
    }
  }
  return static_cast<int>(rank);
}

// Elements an operand with these strides reaches over `shape` (0 if the shape is empty).
int64_t reach(int rank, const int64_t* shape, const int64_t* strides) {
  int64_t last = 0;
  for (int d = 0; d < rank; d++) {
    if (shape[d] == 0) return 0;
    last += product(shape[d] - 1, strides[d]);
  }
  return last + 1;
}

// binary(heap, op, aOffset, bOffset, outOffset, layout[rank, shape, aStrides, bStrides])
napi_value BinaryFn(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args args(env, info, 6);
    const Heap heap = args.heap();
    const int64_t op = args.integer(1, "op");
    if (op < 0 || op > 6) throw ArgError("unknown binary op");
    int64_t shape[kMaxRank], strides[2][kMaxRank];
    const int rank = readLayout(args, 5, 2, shape, strides);
    int64_t total = 1;
    for (int d = 0; d < rank; d++) total = product(total, shape[d]);
    const float* a = heap.at<float>(args.integer(2, "aOffset"), reach(rank, shape, strides[0]), "a");
    const float* b = heap.at<float>(args.integer(3, "bOffset"), reach(rank, shape, strides[1]), "b");
    float* out = heap.at<float>(args.integer(4, "outOffset"), total, "out");
    binary(static_cast<Binary>(op), a, b, out, rank, shape, strides[0], strides[1]);
    return undefined(env);
  });
}

// softmax(heap, xOffset, outOffset, rows, cols, log)
napi_value SoftmaxFn(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args args(env, info, 6);
    const Heap heap = args.heap();
    const int64_t rows = nonNegative(args, 3, "rows"), cols = nonNegative(args, 4, "cols");
    const float* x = heap.at<float>(args.integer(1, "xOffset"), product(rows, cols), "x");
    float* out = heap.at<float>(args.integer(2, "outOffset"), product(rows, cols), "out");
    softmax(x, out, rows, cols, args.integer(5, "log") != 0);
    return undefined(env);
  });
}

// transpose(heap, xOffset, outOffset, layout[rank, outShape, sourceStrides])
napi_value TransposeFn(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args args(env, info, 4);
    const Heap heap = args.heap();
    int64_t shape[kMaxRank], strides[1][kMaxRank];
    const int rank = readLayout(args, 3, 1, shape, strides);
    int64_t total = 1;
    for (int d = 0; d < rank; d++) total = product(total, shape[d]);
    const uint32_t* x = heap.at<uint32_t>(args.integer(1, "xOffset"), reach(rank, shape, strides[0]), "x");
    uint32_t* out = heap.at<uint32_t>(args.integer(2, "outOffset"), total, "out");
    transpose(x, out, rank, shape, strides[0]);
    return undefined(env);
  });
}

// gather(heap, xOffset, idsOffset, outOffset, outer, rows, inner, count)
napi_value GatherFn(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args args(env, info, 8);
    const Heap heap = args.heap();
    const int64_t outer = nonNegative(args, 4, "outer"), rows = nonNegative(args, 5, "rows"),
                  inner = nonNegative(args, 6, "inner"), count = nonNegative(args, 7, "count");
    const uint32_t* x = heap.at<uint32_t>(args.integer(1, "xOffset"), product(outer, product(rows, inner)), "x");
    const int32_t* ids = heap.at<int32_t>(args.integer(2, "idsOffset"), count, "ids");
    uint32_t* out = heap.at<uint32_t>(args.integer(3, "outOffset"), product(outer, product(count, inner)), "out");
    const int64_t bad = gather(x, ids, out, outer, rows, inner, count);
    if (bad >= 0) {
      throw ArgError("gather: index " + std::to_string(ids[bad]) + " at position " + std::to_string(bad) + " is not in [0, " +
                     std::to_string(rows) + ")");
    }
    return undefined(env);
  });
}

// scatterAdd(heap, xOffset, idsOffset, outOffset, rows, width, segments)
napi_value ScatterAddFn(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args args(env, info, 7);
    const Heap heap = args.heap();
    const int64_t rows = nonNegative(args, 4, "rows"), width = nonNegative(args, 5, "width"),
                  segments = nonNegative(args, 6, "segments");
    const float* x = heap.at<float>(args.integer(1, "xOffset"), product(rows, width), "x");
    const int32_t* ids = heap.at<int32_t>(args.integer(2, "idsOffset"), rows, "ids");
    float* out = heap.at<float>(args.integer(3, "outOffset"), product(segments, width), "out");
    scatterAdd(x, ids, out, rows, width, segments);
    return undefined(env);
  });
}

// attention(heap, qOffset, kOffset, vOffset, maskOffset (-1: none), outOffset, batch, sq, sk, heads, headDim, scale, causal)
napi_value AttentionFn(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args args(env, info, 13);
    const Heap heap = args.heap();
    const int64_t batch = nonNegative(args, 6, "batch"), sq = nonNegative(args, 7, "sq"), sk = nonNegative(args, 8, "sk"),
                  heads = nonNegative(args, 9, "heads"), headDim = nonNegative(args, 10, "headDim");
    const int64_t d = product(heads, headDim);
    const int64_t causal = args.integer(12, "causal");
    if (causal && sq > sk) throw ArgError("causal attention needs at least as many keys as queries");
    const float* q = heap.at<float>(args.integer(1, "qOffset"), product(batch, product(sq, d)), "q");
    const float* k = heap.at<float>(args.integer(2, "kOffset"), product(batch, product(sk, d)), "k");
    const float* v = heap.at<float>(args.integer(3, "vOffset"), product(batch, product(sk, d)), "v");
    const int64_t maskOffset = args.integer(4, "maskOffset");
    const float* mask = maskOffset < 0 ? nullptr : heap.at<float>(maskOffset, product(batch, sk), "mask");
    float* out = heap.at<float>(args.integer(5, "outOffset"), product(batch, product(sq, d)), "out");
    attention(q, k, v, mask, out, batch, sq, sk, heads, headDim, static_cast<float>(args.number(11, "scale")), causal != 0);
    return undefined(env);
  });
}

// layerNorm(heap, xOffset, gammaOffset, betaOffset, yOffset, meanOffset, rstdOffset, rows, cols, eps)
napi_value LayerNormFn(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args args(env, info, 10);
    const Heap heap = args.heap();
    const int64_t rows = nonNegative(args, 7, "rows"), cols = nonNegative(args, 8, "cols");
    const int64_t n = product(rows, cols);
    const float eps = static_cast<float>(args.number(9, "eps"));
    const float* x = heap.at<float>(args.integer(1, "xOffset"), n, "x");
    const float* gamma = heap.at<float>(args.integer(2, "gammaOffset"), cols, "gamma");
    const float* beta = heap.at<float>(args.integer(3, "betaOffset"), cols, "beta");
    float* y = heap.at<float>(args.integer(4, "yOffset"), n, "y");
    float* mean = heap.at<float>(args.integer(5, "meanOffset"), rows, "mean");
    float* rstd = heap.at<float>(args.integer(6, "rstdOffset"), rows, "rstd");
    layerNorm(x, gamma, beta, y, mean, rstd, rows, cols, eps);
    return undefined(env);
  });
}

// layerNormGrad(heap, dyOffset, xOffset, gammaOffset, meanOffset, rstdOffset, dxOffset, dgammaOffset, dbetaOffset, rows, cols)
napi_value LayerNormGradFn(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args args(env, info, 11);
    const Heap heap = args.heap();
    const int64_t rows = nonNegative(args, 9, "rows"), cols = nonNegative(args, 10, "cols");
    const int64_t n = product(rows, cols);
    const float* dy = heap.at<float>(args.integer(1, "dyOffset"), n, "dy");
    const float* x = heap.at<float>(args.integer(2, "xOffset"), n, "x");
    const float* gamma = heap.at<float>(args.integer(3, "gammaOffset"), cols, "gamma");
    const float* mean = heap.at<float>(args.integer(4, "meanOffset"), rows, "mean");
    const float* rstd = heap.at<float>(args.integer(5, "rstdOffset"), rows, "rstd");
    float* dx = heap.at<float>(args.integer(6, "dxOffset"), n, "dx");
    float* dgamma = heap.at<float>(args.integer(7, "dgammaOffset"), cols, "dgamma");
    float* dbeta = heap.at<float>(args.integer(8, "dbetaOffset"), cols, "dbeta");
    layerNormGrad(dy, x, gamma, mean, rstd, dx, dgamma, dbeta, rows, cols);
    return undefined(env);
  });
}

// gelu(heap, xOffset, yOffset, n, approximate) and geluGrad(heap, dyOffset, xOffset, dxOffset, n, approximate)
napi_value GeluFn(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args args(env, info, 5);
    const Heap heap = args.heap();
    const int64_t n = nonNegative(args, 3, "n");
    const float* x = heap.at<float>(args.integer(1, "xOffset"), n, "x");
    float* y = heap.at<float>(args.integer(2, "yOffset"), n, "y");
    gelu(x, y, n, args.integer(4, "approximate") != 0);
    return undefined(env);
  });
}

napi_value GeluGradFn(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args args(env, info, 6);
    const Heap heap = args.heap();
    const int64_t n = nonNegative(args, 4, "n");
    const float* dy = heap.at<float>(args.integer(1, "dyOffset"), n, "dy");
    const float* x = heap.at<float>(args.integer(2, "xOffset"), n, "x");
    float* dx = heap.at<float>(args.integer(3, "dxOffset"), n, "dx");
    geluGrad(dy, x, dx, n, args.integer(5, "approximate") != 0);
    return undefined(env);
  });
}

Activation activationArg(const Args& args, size_t i) {
  const int64_t a = args.integer(i, "activation");
  if (a < 0 || a > 4) throw ArgError("activation must be 0 (linear), 1 (gelu), 2 (gelu tanh), 3 (relu) or 4 (quick gelu)");
  return static_cast<Activation>(a);
}

// linear(heap, xOffset, wOffset, biasOffset (-1: none), zOffset, yOffset, rows, in, out, activation)
napi_value LinearFn(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args args(env, info, 10);
    const Heap heap = args.heap();
    const int64_t rows = nonNegative(args, 6, "rows"), in = nonNegative(args, 7, "in"), out = nonNegative(args, 8, "out");
    if (rows > INT32_MAX || in > INT32_MAX || out > INT32_MAX) throw ArgError("matrix dimensions must fit in 32 bits");
    const float* x = heap.at<float>(args.integer(1, "xOffset"), product(rows, in), "x");
    const float* w = heap.at<float>(args.integer(2, "wOffset"), product(out, in), "w");
    const int64_t biasOffset = args.integer(3, "biasOffset");
    const float* bias = biasOffset < 0 ? nullptr : heap.at<float>(biasOffset, out, "bias");
    float* z = heap.at<float>(args.integer(4, "zOffset"), product(rows, out), "z");
    float* y = heap.at<float>(args.integer(5, "yOffset"), product(rows, out), "y");
    linear(x, w, bias, z, y, rows, in, out, activationArg(args, 9));
    return undefined(env);
  });
}

// linearGrad(heap, dyOffset, xOffset, wOffset, zOffset, dxOffset, dwOffset, dbOffset (-1: none), rows, in, out, activation)
napi_value LinearGradFn(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args args(env, info, 12);
    const Heap heap = args.heap();
    const int64_t rows = nonNegative(args, 8, "rows"), in = nonNegative(args, 9, "in"), out = nonNegative(args, 10, "out");
    if (rows > INT32_MAX || in > INT32_MAX || out > INT32_MAX) throw ArgError("matrix dimensions must fit in 32 bits");
    const float* dy = heap.at<float>(args.integer(1, "dyOffset"), product(rows, out), "dy");
    const float* x = heap.at<float>(args.integer(2, "xOffset"), product(rows, in), "x");
    const float* w = heap.at<float>(args.integer(3, "wOffset"), product(out, in), "w");
    const float* z = heap.at<float>(args.integer(4, "zOffset"), product(rows, out), "z");
    float* dx = heap.at<float>(args.integer(5, "dxOffset"), product(rows, in), "dx");
    float* dw = heap.at<float>(args.integer(6, "dwOffset"), product(out, in), "dw");
    const int64_t dbOffset = args.integer(7, "dbOffset");
    float* db = dbOffset < 0 ? nullptr : heap.at<float>(dbOffset, out, "db");
    linearGrad(dy, x, w, z, dx, dw, db, rows, in, out, activationArg(args, 11));
    return undefined(env);
  });
}

// crossEntropy(heap, logitsOffset, labelsOffset, lseOffset, rows, cols, smoothing) -> [mean loss, counted rows]
napi_value CrossEntropyFn(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args args(env, info, 7);
    const Heap heap = args.heap();
    const int64_t rows = nonNegative(args, 4, "rows"), cols = nonNegative(args, 5, "cols");
    const float* logits = heap.at<float>(args.integer(1, "logitsOffset"), product(rows, cols), "logits");
    const int32_t* labels = heap.at<int32_t>(args.integer(2, "labelsOffset"), rows, "labels");
    float* lse = heap.at<float>(args.integer(3, "lseOffset"), rows, "lse");
    int64_t counted = 0;
    const double loss = crossEntropy(logits, labels, lse, rows, cols, static_cast<float>(args.number(6, "smoothing")), &counted);
    napi_value result, first, second;
    napi_create_array_with_length(env, 2, &result);
    napi_create_double(env, loss, &first);
    napi_create_double(env, static_cast<double>(counted), &second);
    napi_set_element(env, result, 0, first);
    napi_set_element(env, result, 1, second);
    return result;
  });
}

// crossEntropyGrad(heap, logitsOffset, labelsOffset, lseOffset, dlogitsOffset, rows, cols, smoothing, scale)
napi_value CrossEntropyGradFn(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args args(env, info, 9);
    const Heap heap = args.heap();
    const int64_t rows = nonNegative(args, 5, "rows"), cols = nonNegative(args, 6, "cols");
    const float* logits = heap.at<float>(args.integer(1, "logitsOffset"), product(rows, cols), "logits");
    const int32_t* labels = heap.at<int32_t>(args.integer(2, "labelsOffset"), rows, "labels");
    const float* lse = heap.at<float>(args.integer(3, "lseOffset"), rows, "lse");
    float* dlogits = heap.at<float>(args.integer(4, "dlogitsOffset"), product(rows, cols), "dlogits");
    crossEntropyGrad(logits, labels, lse, dlogits, rows, cols, static_cast<float>(args.number(7, "smoothing")),
                     static_cast<float>(args.number(8, "scale")));
    return undefined(env);
  });
}

// adam(heap, pOffset, outOffset, gOffset, mOffset, vOffset, n, lr, beta1, beta2, eps, decay, c1, c2): m, v in place
napi_value AdamFn(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args args(env, info, 14);
    const Heap heap = args.heap();
    const int64_t n = nonNegative(args, 6, "n");
    const float* p = heap.at<float>(args.integer(1, "pOffset"), n, "p");
    float* out = heap.at<float>(args.integer(2, "outOffset"), n, "out");
    const float* g = heap.at<float>(args.integer(3, "gOffset"), n, "g");
    float* m = heap.at<float>(args.integer(4, "mOffset"), n, "m");
    float* v = heap.at<float>(args.integer(5, "vOffset"), n, "v");
    const auto f = [&](size_t i, const char* what) { return static_cast<float>(args.number(i, what)); };
    adam(p, out, g, m, v, n, f(7, "lr"), f(8, "beta1"), f(9, "beta2"), f(10, "eps"), f(11, "decay"), f(12, "c1"), f(13, "c2"));
    return undefined(env);
  });
}

napi_value SetThreads(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    size_t argc = 1;
    napi_value argv[1];
    napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
    int32_t threads = 1;
    if (argc != 1 || napi_get_value_int32(env, argv[0], &threads) != napi_ok || threads < 1) {
      throw ArgError("setThreads needs an integer >= 1");
    }
    setThreads(threads);
    return undefined(env);
  });
}

napi_value GetThreads(napi_env env, napi_callback_info) {
  napi_value v;
  napi_create_int32(env, getThreads(), &v);
  return v;
}

napi_value Init(napi_env env, napi_value exports) {
  const napi_property_descriptor fns[] = {
      {"gemm", nullptr, Gemm, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"reduce", nullptr, ReduceFn, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"unary", nullptr, UnaryFn, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"binary", nullptr, BinaryFn, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"softmax", nullptr, SoftmaxFn, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"attention", nullptr, AttentionFn, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"transpose", nullptr, TransposeFn, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"gather", nullptr, GatherFn, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"scatterAdd", nullptr, ScatterAddFn, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"layerNorm", nullptr, LayerNormFn, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"layerNormGrad", nullptr, LayerNormGradFn, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"gelu", nullptr, GeluFn, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"linear", nullptr, LinearFn, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"linearGrad", nullptr, LinearGradFn, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"geluGrad", nullptr, GeluGradFn, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"crossEntropy", nullptr, CrossEntropyFn, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"crossEntropyGrad", nullptr, CrossEntropyGradFn, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"adam", nullptr, AdamFn, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"getThreads", nullptr, GetThreads, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
  };
  napi_define_properties(env, exports, sizeof(fns) / sizeof(fns[0]), fns);
  napi_value blas;
  napi_create_string_utf8(env, blasName(), NAPI_AUTO_LENGTH, &blas);
  napi_set_named_property(env, exports, "blas", blas);
  napi_value vector;
  napi_get_boolean(env, vectorMath(), &vector);
  napi_set_named_property(env, exports, "vectorMath", vector);
  return exports;
}

}  // namespace
}  // namespace tessera

NAPI_MODULE(NODE_GYP_MODULE_NAME, tessera::Init)

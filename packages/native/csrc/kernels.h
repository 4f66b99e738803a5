// Kernels on raw float32/int32 buffers; shapes are already validated by the caller.
#pragma once
#include <cstdint>

namespace tessera {

enum class Reduce { Sum = 0, Max = 1, Min = 2, Mean = 3 };
enum class Unary { Exp = 0, Log = 1, Neg = 2, Sqrt = 3, Rsqrt = 4, Square = 5, Tanh = 6, Erf = 7, Sigmoid = 8 };
enum class Binary { Add = 0, Sub = 1, Mul = 2, Div = 3, SquaredDifference = 4, Maximum = 5, Pow = 6 };

constexpr int kMaxRank = 16;

// out[o, i] = reduce over r of x[o, r, i]
void reduce(Reduce op, const float* x, float* out, int64_t outer, int64_t r, int64_t inner);
// Whether exp/log/tanh use glibc's vector math (libmvec).
bool vectorMath();
void unary(Unary op, const float* x, float* out, int64_t n);
// out = a (op) b; shapes of `rank` dims with per-operand strides (0 where broadcast).
void binary(Binary op, const float* a, const float* b, float* out, int rank, const int64_t* shape, const int64_t* aStrides,
            const int64_t* bStrides);
// Softmax (or log-softmax) over the last axis of [rows, cols].
void softmax(const float* x, float* out, int64_t rows, int64_t cols, bool log);
// out (contiguous, `shape`) gathers x at `strides` (a permutation of x's strides); 4-byte elements.
void transpose(const uint32_t* x, uint32_t* out, int rank, const int64_t* shape, const int64_t* strides);
// out[o, j, :] = x[o, ids[j], :]; returns the first bad position or -1.
int64_t gather(const uint32_t* x, const int32_t* ids, uint32_t* out, int64_t outer, int64_t rows, int64_t inner, int64_t count);
// out[ids[r], :] += x[r, :], out zeroed first; ids outside [0, segments) are dropped.
void scatterAdd(const float* x, const int32_t* ids, float* out, int64_t rows, int64_t width, int64_t segments);

// Layer norm over the last axis of [rows, cols]; saves each row's mean and 1/std for the backward.
void layerNorm(const float* x, const float* gamma, const float* beta, float* y, float* mean, float* rstd, int64_t rows, int64_t cols,
               float eps);
// dx, and dgamma/dbeta summed over rows, from dy and the forward's saved statistics.
void layerNormGrad(const float* dy, const float* x, const float* gamma, const float* mean, const float* rstd, float* dx, float* dgamma,
                   float* dbeta, int64_t rows, int64_t cols);
// OpenAI CLIP's quick GELU x sigmoid(1.702 x), and its gradient dy * d/dx.
void quickGelu(const float* x, float* y, int64_t n);
void quickGeluGrad(const float* dy, const float* x, float* dx, int64_t n);
// GELU, exact (x Phi(x)) or with the tanh approximation, and its gradient dy * gelu'(x).
void gelu(const float* x, float* y, int64_t n, bool approximate);
void geluGrad(const float* dy, const float* x, float* dx, int64_t n, bool approximate);

// The activations a fused linear layer applies to x W^T + b.
enum class Activation { Linear = 0, Gelu = 1, GeluTanh = 2, Relu = 3, QuickGelu = 4 };
// z = x W^T + bias (bias may be null) for x [rows, in], W [out, in]; y = act(z) row by row
// while the row is in cache (y may be z when act is Linear; z is kept for the backward).
void linear(const float* x, const float* w, const float* bias, float* z, float* y, int64_t rows, int64_t in, int64_t out, Activation act);
// From dy = dL/dy: dz = dy * act'(z), dx = dz W, dw = dz^T x, db = column sums of dz (db may be null).
void linearGrad(const float* dy, const float* x, const float* w, const float* z, float* dx, float* dw, float* db, int64_t rows, int64_t in,
                int64_t out, Activation act);

// Multi-head attention, forward: out[b, i, head h] = softmax(scale q_h k_h^T + bias) v_h for
// q [B, Sq, heads * headDim] and k, v [B, Sk, heads * headDim] (heads side by side, as the
// projections give them), written merged [B, Sq, heads * headDim]. The bias adds -1e9 where
// mask [B, Sk] is 0 (mask may be null) and, when causal, where key j > (Sk - Sq) + i.
void attention(const float* q, const float* k, const float* v, const float* mask, float* out, int64_t batch, int64_t sq, int64_t sk,
               int64_t heads, int64_t headDim, float scale, bool causal);

// Softmax cross-entropy of [rows, cols] logits against int32 labels, with label smoothing;
// rows whose label is outside [0, cols) (e.g. -100) are ignored. Writes each row's
// log-sum-exp and returns the mean loss over counted rows (0 if none); *counted gets their number.
double crossEntropy(const float* logits, const int32_t* labels, float* lse, int64_t rows, int64_t cols, float smoothing, int64_t* counted);
// dlogits = scale * (softmax - target) on counted rows, 0 on ignored ones.
void crossEntropyGrad(const float* logits, const int32_t* labels, const float* lse, float* dlogits, int64_t rows, int64_t cols,
                      float smoothing, float scale);

// One Adam/AdamW step: m, v updated in place; out = p - lr * (mhat / (sqrt(vhat) + eps) + decay * p)
// (out may be p), with bias corrections c1 = 1 - beta1^t and c2 = 1 - beta2^t given by the caller.
void adam(const float* p, float* out, const float* g, float* m, float* v, int64_t n, float lr, float beta1, float beta2, float eps, float decay, float c1,
          float c2);

}  // namespace tessera

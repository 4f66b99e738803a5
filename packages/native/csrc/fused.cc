// Fused kernels that replace chains of small tfjs ops: layer norm, GELU, a linear layer with
// bias and activation, softmax cross-entropy, Adam (forward and backward where there is one).
// One pass over memory instead of several kernels each.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "gemm.h"
#include "kernels.h"
#include "parallel.h"

namespace tessera {

namespace {
constexpr int64_t kBlock = 256;
constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kCoef = 0.044715f;
constexpr float kInvSqrt2 = 0.7071067811865476f;
constexpr float kInvSqrt2Pi = 0.3989422804014327f;
}  // namespace

void layerNorm(const float* x, const float* gamma, const float* beta, float* y, float* mean, float* rstd, int64_t rows, int64_t cols,
               float eps) {
  // Row statistics in double: they feed every element, and the backward reuses them.
  parallelFor(rows, rowGrain(cols), [&](int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; r++) {
    const float* __restrict src = x + r * cols;
    float* __restrict dst = y + r * cols;
    double sum = 0;
    for (int64_t c = 0; c < cols; c++) sum += src[c];
    const double mu = cols > 0 ? sum / static_cast<double>(cols) : 0.0;
    double var = 0;
    for (int64_t c = 0; c < cols; c++) var += (src[c] - mu) * (src[c] - mu);
    const float inv = static_cast<float>(1.0 / std::sqrt(var / static_cast<double>(std::max<int64_t>(cols, 1)) + eps));
    const float muf = static_cast<float>(mu);
    for (int64_t c = 0; c < cols; c++) dst[c] = (src[c] - muf) * inv * gamma[c] + beta[c];
    mean[r] = muf;
    rstd[r] = inv;
  }
  });
}

void layerNormGrad(const float* dy, const float* x, const float* gamma, const float* mean, const float* rstd, float* dx, float* dgamma,
                   float* dbeta, int64_t rows, int64_t cols) {
  std::fill(dgamma, dgamma + cols, 0.0f);
  std::fill(dbeta, dbeta + cols, 0.0f);
  for (int64_t r = 0; r < rows; r++) {
    const float* __restrict d = dy + r * cols;
    const float* __restrict src = x + r * cols;
    float* __restrict out = dx + r * cols;
    const float mu = mean[r], inv = rstd[r];
    double a = 0, b = 0;
    for (int64_t c = 0; c < cols; c++) {
      const float xhat = (src[c] - mu) * inv;
      const float g = d[c] * gamma[c];
      a += g;
      b += static_cast<double>(g) * xhat;
      dgamma[c] += d[c] * xhat;
      dbeta[c] += d[c];
    }
    const float am = static_cast<float>(a / static_cast<double>(cols)), bm = static_cast<float>(b / static_cast<double>(cols));
    for (int64_t c = 0; c < cols; c++) {
      const float xhat = (src[c] - mu) * inv;
      out[c] = inv * (d[c] * gamma[c] - am - xhat * bm);
    }
  }
}

void gelu(const float* x, float* y, int64_t n, bool approximate) {
  float t[kBlock];
  for (int64_t i0 = 0; i0 < n; i0 += kBlock) {
    const int64_t len = std::min(kBlock, n - i0);
    const float* __restrict v = x + i0;
    if (approximate) {
      for (int64_t i = 0; i < len; i++) t[i] = kSqrt2OverPi * (v[i] + kCoef * v[i] * v[i] * v[i]);
      unary(Unary::Tanh, t, t, len);
    } else {
      for (int64_t i = 0; i < len; i++) t[i] = v[i] * kInvSqrt2;
      unary(Unary::Erf, t, t, len);
    }
    for (int64_t i = 0; i < len; i++) y[i0 + i] = 0.5f * v[i] * (1.0f + t[i]);
  }
}

namespace {
constexpr float kQuick = 1.702f;
// s = sigmoid(1.702 x) for one block, exp vectorised.
void quickSigmoid(const float* v, float* s, int64_t len) {
  for (int64_t i = 0; i < len; i++) s[i] = -kQuick * v[i];
  unary(Unary::Exp, s, s, len);
  for (int64_t i = 0; i < len; i++) s[i] = 1.0f / (1.0f + s[i]);
}
}  // namespace

void quickGelu(const float* x, float* y, int64_t n) {
  float s[kBlock];
  for (int64_t i0 = 0; i0 < n; i0 += kBlock) {
    const int64_t len = std::min(kBlock, n - i0);
    quickSigmoid(x + i0, s, len);
    for (int64_t i = 0; i < len; i++) y[i0 + i] = x[i0 + i] * s[i];
  }
}

void quickGeluGrad(const float* dy, const float* x, float* dx, int64_t n) {
  // d/dx x s(1.702 x) = s + 1.702 x s (1 - s)
  float s[kBlock];
  for (int64_t i0 = 0; i0 < n; i0 += kBlock) {
    const int64_t len = std::min(kBlock, n - i0);
    const float* __restrict v = x + i0;
    quickSigmoid(v, s, len);
    for (int64_t i = 0; i < len; i++) dx[i0 + i] = dy[i0 + i] * (s[i] + kQuick * v[i] * s[i] * (1.0f - s[i]));
  }
}

void geluGrad(const float* dy, const float* x, float* dx, int64_t n, bool approximate) {
  float t[kBlock], e[kBlock];
  for (int64_t i0 = 0; i0 < n; i0 += kBlock) {
    const int64_t len = std::min(kBlock, n - i0);
    const float* __restrict v = x + i0;
    if (approximate) {
      // d/dx 0.5 x (1 + tanh(u)) = 0.5 (1 + t) + 0.5 x (1 - t^2) u'(x)
      for (int64_t i = 0; i < len; i++) t[i] = kSqrt2OverPi * (v[i] + kCoef * v[i] * v[i] * v[i]);
      unary(Unary::Tanh, t, t, len);
      for (int64_t i = 0; i < len; i++) {
        const float du = kSqrt2OverPi * (1.0f + 3.0f * kCoef * v[i] * v[i]);
        dx[i0 + i] = dy[i0 + i] * (0.5f * (1.0f + t[i]) + 0.5f * v[i] * (1.0f - t[i] * t[i]) * du);
      }
    } else {
      // d/dx x Phi(x) = Phi(x) + x phi(x)
      for (int64_t i = 0; i < len; i++) {
        t[i] = v[i] * kInvSqrt2;
        e[i] = -0.5f * v[i] * v[i];
      }
      unary(Unary::Erf, t, t, len);
      unary(Unary::Exp, e, e, len);
      for (int64_t i = 0; i < len; i++) dx[i0 + i] = dy[i0 + i] * (0.5f * (1.0f + t[i]) + v[i] * kInvSqrt2Pi * e[i]);
    }
  }
}

void linear(const float* x, const float* w, const float* bias, float* z, float* y, int64_t rows, int64_t in, int64_t out, Activation act) {
  // Each thread takes a block of rows: its product, then bias and activation while they are in cache.
  const int64_t grain = std::max<int64_t>(12, (int64_t{1} << 20) / std::max<int64_t>(in * out, 1));
  parallelFor(rows, grain, [&](int64_t r0, int64_t r1) {
  gemm(false, true, r1 - r0, out, in, x + r0 * in, w, z + r0 * out);
  for (int64_t r = r0; r < r1; r++) {
    float* __restrict zr = z + r * out;
    if (bias != nullptr)
      for (int64_t c = 0; c < out; c++) zr[c] += bias[c];
    float* yr = y + r * out;
    switch (act) {
      case Activation::Linear:
        if (yr != zr) std::copy(zr, zr + out, yr);
        break;
      case Activation::Gelu:
      case Activation::GeluTanh:
        gelu(zr, yr, out, act == Activation::GeluTanh);
        break;
      case Activation::Relu:
        for (int64_t c = 0; c < out; c++) yr[c] = zr[c] > 0.0f ? zr[c] : 0.0f;
        break;
      case Activation::QuickGelu:
        quickGelu(zr, yr, out);
        break;
    }
  }
  });
}

void linearGrad(const float* dy, const float* x, const float* w, const float* z, float* dx, float* dw, float* db, int64_t rows, int64_t in,
                int64_t out, Activation act) {
  std::vector<float> scratch;
  const float* dz = dy;
  if (act != Activation::Linear) {
    scratch.resize(static_cast<size_t>(rows * out));
    for (int64_t r = 0; r < rows; r++) {
      const float* dyr = dy + r * out;
      const float* zr = z + r * out;
      float* dzr = scratch.data() + r * out;
      if (act == Activation::Relu)
        for (int64_t c = 0; c < out; c++) dzr[c] = zr[c] > 0.0f ? dyr[c] : 0.0f;
      else if (act == Activation::QuickGelu)
        quickGeluGrad(dyr, zr, dzr, out);
      else
        geluGrad(dyr, zr, dzr, out, act == Activation::GeluTanh);
    }
    dz = scratch.data();
  }
  if (db != nullptr) {
    std::vector<double> sums(static_cast<size_t>(out), 0.0);
    for (int64_t r = 0; r < rows; r++)
      for (int64_t c = 0; c < out; c++) sums[c] += dz[r * out + c];
    for (int64_t c = 0; c < out; c++) db[c] = static_cast<float>(sums[c]);
  }
  gemm(false, false, rows, in, out, dz, w, dx);  // [rows, out] x [out, in]
  gemm(true, false, out, in, rows, dz, x, dw);   // [out, rows] x [rows, in]
}

void attention(const float* q, const float* k, const float* v, const float* mask, float* out, int64_t batch, int64_t sq, int64_t sk,
               int64_t heads, int64_t headDim, float scale, bool causal) {
  constexpr float kMasked = -1e9f;  // as the attention masks of @tessera/transformer
  const int64_t d = heads * headDim;
  // One (item, head) pair at a time per thread: its scores stay in cache between the products.
  parallelFor(batch * heads, 1, [&](int64_t i0, int64_t i1) {
    std::vector<float> scores(static_cast<size_t>(sq * sk)), weights(scores.size());
    for (int64_t i = i0; i < i1; i++) {
      const int64_t b = i / heads, offset = (i % heads) * headDim;
      gemmStrided(false, true, sq, sk, headDim, q + b * sq * d + offset, d, k + b * sk * d + offset, d, scores.data(), sk);
      for (int64_t r = 0; r < sq; r++) {
        float* row = scores.data() + r * sk;
        const int64_t visible = causal ? sk - sq + r + 1 : sk;
        for (int64_t c = 0; c < sk; c++) {
          float s = row[c] * scale;
          if (mask != nullptr && mask[b * sk + c] == 0.0f) s += kMasked;
          if (c >= visible) s += kMasked;
          row[c] = s;
        }
      }
      softmax(scores.data(), weights.data(), sq, sk, false);
      gemmStrided(false, false, sq, headDim, sk, weights.data(), sk, v + b * sk * d + offset, d, out + b * sq * d + offset, d);
    }
  });
}

double crossEntropy(const float* logits, const int32_t* labels, float* lse, int64_t rows, int64_t cols, float smoothing, int64_t* counted) {
  double total = 0;
  int64_t n = 0;
  float e[kBlock];
  for (int64_t r = 0; r < rows; r++) {
    const float* __restrict z = logits + r * cols;
    float max = -INFINITY;
    double sum = 0, zsum = 0;
    for (int64_t c = 0; c < cols; c++) max = std::max(max, z[c]);
    for (int64_t c0 = 0; c0 < cols; c0 += kBlock) {
      const int64_t len = std::min(kBlock, cols - c0);
      for (int64_t c = 0; c < len; c++) {
        e[c] = z[c0 + c] - max;
        zsum += z[c0 + c];
      }
      unary(Unary::Exp, e, e, len);
      for (int64_t c = 0; c < len; c++) sum += e[c];
    }
    const double logSumExp = max + std::log(sum);
    lse[r] = static_cast<float>(logSumExp);
    const int32_t label = labels[r];
    if (label < 0 || label >= cols) continue;
    // (1 - s) * -log p(label) + s * mean over classes of -log p(c)
    total += (1.0 - smoothing) * (logSumExp - z[label]) + smoothing * (logSumExp - zsum / static_cast<double>(cols));
    n++;
  }
  *counted = n;
  return n > 0 ? total / static_cast<double>(n) : 0.0;
}

void crossEntropyGrad(const float* logits, const int32_t* labels, const float* lse, float* dlogits, int64_t rows, int64_t cols,
                      float smoothing, float scale) {
  const float uniform = smoothing / static_cast<float>(std::max<int64_t>(cols, 1));
  for (int64_t r = 0; r < rows; r++) {
    const float* __restrict z = logits + r * cols;
    float* __restrict d = dlogits + r * cols;
    const int32_t label = labels[r];
    if (label < 0 || label >= cols) {
      std::fill(d, d + cols, 0.0f);
      continue;
    }
    const float shift = lse[r];
    for (int64_t c = 0; c < cols; c++) d[c] = z[c] - shift;
    unary(Unary::Exp, d, d, cols);
    for (int64_t c = 0; c < cols; c++) d[c] = scale * (d[c] - uniform);
    d[label] -= scale * (1.0f - smoothing);
  }
}

void adam(const float* p, float* out, const float* __restrict g, float* __restrict m, float* __restrict v, int64_t n, float lr, float beta1,
          float beta2, float eps, float decay, float c1, float c2) {
  const float inv1 = 1.0f / c1, inv2 = 1.0f / c2;
  for (int64_t i = 0; i < n; i++) {
    const float mi = beta1 * m[i] + (1.0f - beta1) * g[i];
    const float vi = beta2 * v[i] + (1.0f - beta2) * g[i] * g[i];
    m[i] = mi;
    v[i] = vi;
    out[i] = p[i] - lr * (mi * inv1 / (std::sqrt(vi * inv2) + eps) + decay * p[i]);
  }
}

}  // namespace tessera

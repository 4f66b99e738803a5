#include "kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace tessera {

void reduce(Reduce op, const float* x, float* out, int64_t outer, int64_t r, int64_t inner) {
  const bool extremum = op == Reduce::Max || op == Reduce::Min;
  const float init = op == Reduce::Max ? -std::numeric_limits<float>::infinity()
                     : op == Reduce::Min ? std::numeric_limits<float>::infinity()
                                         : 0.0f;
  for (int64_t o = 0; o < outer; o++) {
    float* __restrict dst = out + o * inner;
    const float* src = x + o * r * inner;
    if (inner == 1 && !extremum) {
      // Row sums: several accumulators so the loop vectorises without reassociation flags.
      float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      int64_t p = 0;
      for (; p + 8 <= r; p += 8)
        for (int l = 0; l < 8; l++) acc[l] += src[p + l];
      float total = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
      for (; p < r; p++) total += src[p];
      dst[0] = total;
    } else {
      std::fill(dst, dst + inner, init);
      for (int64_t p = 0; p < r; p++) {
        const float* __restrict row = src + p * inner;
        if (op == Reduce::Max)
          for (int64_t i = 0; i < inner; i++) dst[i] = std::max(dst[i], row[i]);
        else if (op == Reduce::Min)
          for (int64_t i = 0; i < inner; i++) dst[i] = std::min(dst[i], row[i]);
        else
          for (int64_t i = 0; i < inner; i++) dst[i] += row[i];
      }
    }
    if (op == Reduce::Mean && r > 0) {
      const float scale = 1.0f / static_cast<float>(r);
      for (int64_t i = 0; i < inner; i++) dst[i] *= scale;
    }
  }
}

void unary(Unary op, const float* __restrict x, float* __restrict out, int64_t n) {
  switch (op) {
    case Unary::Exp:
      for (int64_t i = 0; i < n; i++) out[i] = std::exp(x[i]);
      break;
    case Unary::Log:
      for (int64_t i = 0; i < n; i++) out[i] = std::log(x[i]);
      break;
    case Unary::Neg:
      for (int64_t i = 0; i < n; i++) out[i] = -x[i];
      break;
    case Unary::Sqrt:
      for (int64_t i = 0; i < n; i++) out[i] = std::sqrt(x[i]);
      break;
    case Unary::Rsqrt:
      for (int64_t i = 0; i < n; i++) out[i] = 1.0f / std::sqrt(x[i]);
      break;
    case Unary::Square:
      for (int64_t i = 0; i < n; i++) out[i] = x[i] * x[i];
      break;
    case Unary::Tanh:
      for (int64_t i = 0; i < n; i++) out[i] = std::tanh(x[i]);
      break;
  }
}

namespace {
template <typename F>
inline void binaryRow(F f, const float* a, const float* b, float* __restrict out, int64_t n, int64_t sa, int64_t sb) {
  if (sa == 1 && sb == 1)
    for (int64_t i = 0; i < n; i++) out[i] = f(a[i], b[i]);
  else if (sa == 1 && sb == 0) {
    const float bv = b[0];
    for (int64_t i = 0; i < n; i++) out[i] = f(a[i], bv);
  } else if (sa == 0 && sb == 1) {
    const float av = a[0];
    for (int64_t i = 0; i < n; i++) out[i] = f(av, b[i]);
  } else
    for (int64_t i = 0; i < n; i++) out[i] = f(a[i * sa], b[i * sb]);
}

template <typename F>
void binaryNd(F f, const float* a, const float* b, float* out, int rank, const int64_t* shape, const int64_t* as,
              const int64_t* bs) {
  if (rank == 0) {
    out[0] = f(a[0], b[0]);
    return;
  }
  const int64_t n = shape[rank - 1];
  int64_t outer = 1;
  for (int d = 0; d < rank - 1; d++) outer *= shape[d];
  if (n == 0 || outer == 0) return;
  int64_t index[kMaxRank] = {0};
  int64_t ao = 0, bo = 0;
  for (int64_t o = 0; o < outer; o++) {
    binaryRow(f, a + ao, b + bo, out + o * n, n, as[rank - 1], bs[rank - 1]);
    // Odometer over the outer dims.
    for (int d = rank - 2; d >= 0; d--) {
      index[d]++;
      ao += as[d];
      bo += bs[d];
      if (index[d] < shape[d]) break;
      ao -= as[d] * shape[d];
      bo -= bs[d] * shape[d];
      index[d] = 0;
    }
  }
}
}  // namespace

void binary(Binary op, const float* a, const float* b, float* out, int rank, const int64_t* shape, const int64_t* as,
            const int64_t* bs) {
  switch (op) {
    case Binary::Add:
      return binaryNd([](float x, float y) { return x + y; }, a, b, out, rank, shape, as, bs);
    case Binary::Sub:
      return binaryNd([](float x, float y) { return x - y; }, a, b, out, rank, shape, as, bs);
    case Binary::Mul:
      return binaryNd([](float x, float y) { return x * y; }, a, b, out, rank, shape, as, bs);
    case Binary::Div:
      return binaryNd([](float x, float y) { return x / y; }, a, b, out, rank, shape, as, bs);
    case Binary::SquaredDifference:
      return binaryNd([](float x, float y) { return (x - y) * (x - y); }, a, b, out, rank, shape, as, bs);
    case Binary::Maximum:
      return binaryNd([](float x, float y) { return std::isnan(x) || x > y ? x : y; }, a, b, out, rank, shape, as, bs);
  }
}

void softmax(const float* x, float* out, int64_t rows, int64_t cols, bool log) {
  for (int64_t r = 0; r < rows; r++) {
    const float* __restrict src = x + r * cols;
    float* __restrict dst = out + r * cols;
    float max = -std::numeric_limits<float>::infinity();
    for (int64_t c = 0; c < cols; c++) max = std::max(max, src[c]);
    float sum = 0;
    for (int64_t c = 0; c < cols; c++) {
      dst[c] = std::exp(src[c] - max);
      sum += dst[c];
    }
    if (log) {
      const float shift = max + std::log(sum);
      for (int64_t c = 0; c < cols; c++) dst[c] = src[c] - shift;
    } else {
      const float scale = 1.0f / sum;
      for (int64_t c = 0; c < cols; c++) dst[c] *= scale;
    }
  }
}

void transpose(const uint32_t* x, uint32_t* out, int rank, const int64_t* shape, const int64_t* strides) {
  int64_t total = 1;
  for (int d = 0; d < rank; d++) total *= shape[d];
  if (total == 0) return;
  if (rank == 0) {
    out[0] = x[0];
    return;
  }
  const int64_t n = shape[rank - 1], s = strides[rank - 1];
  int64_t index[kMaxRank] = {0};
  int64_t src = 0;
  for (int64_t o = 0; o < total; o += n) {
    const uint32_t* from = x + src;
    uint32_t* __restrict to = out + o;
    if (s == 1)
      std::memcpy(to, from, static_cast<size_t>(n) * 4);
    else
      for (int64_t i = 0; i < n; i++) to[i] = from[i * s];
    for (int d = rank - 2; d >= 0; d--) {
      index[d]++;
      src += strides[d];
      if (index[d] < shape[d]) break;
      src -= strides[d] * shape[d];
      index[d] = 0;
    }
  }
}

int64_t gather(const uint32_t* x, const int32_t* ids, uint32_t* out, int64_t outer, int64_t rows, int64_t inner, int64_t count) {
  for (int64_t j = 0; j < count; j++)
    if (ids[j] < 0 || ids[j] >= rows) return j;
  for (int64_t o = 0; o < outer; o++)
    for (int64_t j = 0; j < count; j++)
      std::memcpy(out + (o * count + j) * inner, x + (o * rows + ids[j]) * inner, static_cast<size_t>(inner) * 4);
  return -1;
}

void scatterAdd(const float* x, const int32_t* ids, float* out, int64_t rows, int64_t width, int64_t segments) {
  std::fill(out, out + segments * width, 0.0f);
  for (int64_t r = 0; r < rows; r++) {
    const int64_t s = ids[r];
    if (s < 0 || s >= segments) continue;
    float* __restrict dst = out + s * width;
    const float* __restrict src = x + r * width;
    for (int64_t c = 0; c < width; c++) dst[c] += src[c];
  }
}

}  // namespace tessera

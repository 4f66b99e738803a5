#include "kernels.h"

#include "parallel.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#if defined(__AVX2__) && defined(__linux__)
#include <immintrin.h>
// glibc's libmvec: 8-wide expf/logf/tanhf (a few ulp), ~10x faster than the scalar calls.
// Weak, so an older glibc without tanhf (before 2.35) falls back to the scalar loop.
extern "C" {
__m256 _ZGVdN8v_expf(__m256) __attribute__((weak));
__m256 _ZGVdN8v_logf(__m256) __attribute__((weak));
__m256 _ZGVdN8v_tanhf(__m256) __attribute__((weak));
__m256 _ZGVdN8v_erff(__m256) __attribute__((weak));
}
#define TESSERA_LIBMVEC 1
#endif

namespace tessera {

namespace {
// Row extrema with 8 running lanes (exact: max/min do not round). NaN propagates, as in tfjs.
float rowMax(const float* x, int64_t n) {
  float lane[8];
  std::fill(lane, lane + 8, -std::numeric_limits<float>::infinity());
  int64_t i = 0;
  bool nan = false;
  for (; i + 8 <= n; i += 8)
    for (int l = 0; l < 8; l++) {
      nan |= x[i + l] != x[i + l];
      lane[l] = lane[l] > x[i + l] ? lane[l] : x[i + l];
    }
  float m = -std::numeric_limits<float>::infinity();
  for (int l = 0; l < 8; l++) m = std::max(m, lane[l]);
  for (; i < n; i++) {
    nan |= x[i] != x[i];
    m = std::max(m, x[i]);
  }
  return nan ? std::numeric_limits<float>::quiet_NaN() : m;
}

float rowMin(const float* x, int64_t n) {
  float lane[8];
  std::fill(lane, lane + 8, std::numeric_limits<float>::infinity());
  int64_t i = 0;
  bool nan = false;
  for (; i + 8 <= n; i += 8)
    for (int l = 0; l < 8; l++) {
      nan |= x[i + l] != x[i + l];
      lane[l] = lane[l] < x[i + l] ? lane[l] : x[i + l];
    }
  float m = std::numeric_limits<float>::infinity();
  for (int l = 0; l < 8; l++) m = std::min(m, lane[l]);
  for (; i < n; i++) {
    nan |= x[i] != x[i];
    m = std::min(m, x[i]);
  }
  return nan ? std::numeric_limits<float>::quiet_NaN() : m;
}
}  // namespace

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
    } else if (inner == 1) {
      dst[0] = op == Reduce::Max ? rowMax(src, r) : rowMin(src, r);
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

namespace {
// Runs `vector` over blocks of 8 where libmvec has it, `scalar` on the rest.
template <typename S>
void mapped(const float* x, float* out, int64_t n, [[maybe_unused]] const void* vector, S scalar) {
  int64_t i = 0;
#ifdef TESSERA_LIBMVEC
  if (vector != nullptr) {
    auto f = reinterpret_cast<__m256 (*)(__m256)>(const_cast<void*>(vector));
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, f(_mm256_loadu_ps(x + i)));
  }
#endif
  for (; i < n; i++) out[i] = scalar(x[i]);
}

#ifdef TESSERA_LIBMVEC
const void* const kExp = reinterpret_cast<const void*>(&_ZGVdN8v_expf);
const void* const kLog = reinterpret_cast<const void*>(&_ZGVdN8v_logf);
const void* const kTanh = reinterpret_cast<const void*>(&_ZGVdN8v_tanhf);
const void* const kErf = reinterpret_cast<const void*>(&_ZGVdN8v_erff);
#else
const void* const kErf = nullptr;
const void* const kExp = nullptr;
const void* const kLog = nullptr;
const void* const kTanh = nullptr;
#endif
}  // namespace

bool vectorMath() { return kExp != nullptr && kTanh != nullptr; }

void unary(Unary op, const float* x, float* out, int64_t n) {  // may run in place (x == out)
  switch (op) {
    case Unary::Exp:
      return mapped(x, out, n, kExp, [](float v) { return std::exp(v); });
    case Unary::Log:
      return mapped(x, out, n, kLog, [](float v) { return std::log(v); });
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
      return mapped(x, out, n, kTanh, [](float v) { return std::tanh(v); });
    case Unary::Erf:
      return mapped(x, out, n, kErf, [](float v) { return std::erf(v); });
    case Unary::Sigmoid: {
      // 1 / (1 + exp(-x)) in blocks, so exp runs vectorised.
      float tmp[256];
      for (int64_t i0 = 0; i0 < n; i0 += 256) {
        const int64_t len = std::min<int64_t>(256, n - i0);
        for (int64_t i = 0; i < len; i++) tmp[i] = -x[i0 + i];
        mapped(tmp, tmp, len, kExp, [](float v) { return std::exp(v); });
        for (int64_t i = 0; i < len; i++) out[i0 + i] = 1.0f / (1.0f + tmp[i]);
      }
      return;
    }
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

// x ** y; small integer powers (GELU's x**3 and its gradient's x**2) as products.
void powRow(const float* a, const float* b, float* __restrict out, int64_t n, int64_t sa, int64_t sb) {
  if (sb == 0 && sa == 1 && (b[0] == 2.0f || b[0] == 3.0f || b[0] == 1.0f)) {
    const float e = b[0];
    if (e == 1.0f)
      for (int64_t i = 0; i < n; i++) out[i] = a[i];
    else if (e == 2.0f)
      for (int64_t i = 0; i < n; i++) out[i] = a[i] * a[i];
    else
      for (int64_t i = 0; i < n; i++) out[i] = a[i] * a[i] * a[i];
    return;
  }
  for (int64_t i = 0; i < n; i++) out[i] = std::pow(a[i * sa], b[i * sb]);
}

template <typename Row>
void binaryNd(Row row, const float* a, const float* b, float* out, int rank, const int64_t* shape, const int64_t* as,
              const int64_t* bs) {
  if (rank == 0) {
    row(a, b, out, 1, 0, 0);
    return;
  }
  const int64_t n = shape[rank - 1];
  int64_t outer = 1;
  for (int d = 0; d < rank - 1; d++) outer *= shape[d];
  if (n == 0 || outer == 0) return;
  int64_t index[kMaxRank] = {0};
  int64_t ao = 0, bo = 0;
  for (int64_t o = 0; o < outer; o++) {
    row(a + ao, b + bo, out + o * n, n, as[rank - 1], bs[rank - 1]);
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

template <typename F>
void elementwise(F f, const float* a, const float* b, float* out, int rank, const int64_t* shape, const int64_t* as,
                 const int64_t* bs) {
  binaryNd([f](const float* x, const float* y, float* o, int64_t n, int64_t sx, int64_t sy) { binaryRow(f, x, y, o, n, sx, sy); },
           a, b, out, rank, shape, as, bs);
}

void binary(Binary op, const float* a, const float* b, float* out, int rank, const int64_t* shape, const int64_t* as,
            const int64_t* bs) {
  switch (op) {
    case Binary::Pow:
      return binaryNd(powRow, a, b, out, rank, shape, as, bs);
    case Binary::Add:
      return elementwise([](float x, float y) { return x + y; }, a, b, out, rank, shape, as, bs);
    case Binary::Sub:
      return elementwise([](float x, float y) { return x - y; }, a, b, out, rank, shape, as, bs);
    case Binary::Mul:
      return elementwise([](float x, float y) { return x * y; }, a, b, out, rank, shape, as, bs);
    case Binary::Div:
      return elementwise([](float x, float y) { return x / y; }, a, b, out, rank, shape, as, bs);
    case Binary::SquaredDifference:
      return elementwise([](float x, float y) { return (x - y) * (x - y); }, a, b, out, rank, shape, as, bs);
    case Binary::Maximum:
      return elementwise([](float x, float y) { return std::isnan(x) || x > y ? x : y; }, a, b, out, rank, shape, as, bs);
  }
}

namespace {
void softmaxRows(const float* x, float* out, int64_t r0, int64_t r1, int64_t cols, bool log) {
  for (int64_t r = r0; r < r1; r++) {
    const float* __restrict src = x + r * cols;
    float* __restrict dst = out + r * cols;
    const float max = rowMax(src, cols);
    for (int64_t c = 0; c < cols; c++) dst[c] = src[c] - max;
    unary(Unary::Exp, dst, dst, cols);
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t c = 0;
    for (; c + 8 <= cols; c += 8)
      for (int l = 0; l < 8; l++) acc[l] += dst[c + l];
    float sum = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; c < cols; c++) sum += dst[c];
    if (log) {
      const float shift = max + std::log(sum);
      for (int64_t k = 0; k < cols; k++) dst[k] = src[k] - shift;
    } else {
      const float scale = 1.0f / sum;
      for (int64_t k = 0; k < cols; k++) dst[k] *= scale;
    }
  }
}
}  // namespace

void softmax(const float* x, float* out, int64_t rows, int64_t cols, bool log) {
  parallelFor(rows, rowGrain(cols), [&](int64_t r0, int64_t r1) { softmaxRows(x, out, r0, r1, cols, log); });
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

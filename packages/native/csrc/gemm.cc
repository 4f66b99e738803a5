// Matrix product: a register-blocked kernel of our own, and OpenBLAS cblas_sgemm for wide
// products when built with it; threaded over blocks of rows by the kernels' pool.
#include "gemm.h"

#include "parallel.h"

#include <algorithm>
#include <cstring>
#include <vector>

#ifdef TESSERA_OPENBLAS
// Declared here rather than through <cblas.h>, which Debian routes through alternatives
// (it may belong to another BLAS); the ABI values are fixed by the CBLAS standard.
extern "C" {
void cblas_sgemm(int order, int transA, int transB, int m, int n, int k, float alpha, const float* a, int lda,
                 const float* b, int ldb, float beta, float* c, int ldc);
void openblas_set_num_threads(int threads);
}
#endif

namespace tessera {

namespace {
// BLIS-style blocking: B packed in KC x NR micro-panels (one stays in L1 while it meets every
// row panel of an MC x KC block of A, packed in MR x KC micro-panels that stay in L2); an
// MR x NR block of C lives in 12 vector registers across the KC-long slice. The vector is the
// machine's widest: 16 floats with AVX-512, else 8 (AVX2: wider GCC vectors spill to the stack).
#ifdef __AVX512F__
constexpr int64_t VW = 16;
#else
constexpr int64_t VW = 8;
#endif
typedef float vec __attribute__((vector_size(VW * 4)));
constexpr int64_t MR = 6, NR = 2 * VW, KC = 256, MC = 72;

inline vec load(const float* p) {
  vec v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store(float* p, vec v) { std::memcpy(p, &v, sizeof v); }

// c[MR, NR] (row stride ldc) = or += ap[KC, MR] (packed) x bp[KC, NR] (packed).
inline void micro(int64_t kc, const float* __restrict ap, const float* __restrict bp, float* c, int64_t ldc, bool add) {
  vec acc[MR][2] = {};
  for (int64_t p = 0; p < kc; p++) {
    const vec b0 = load(bp + p * NR), b1 = load(bp + p * NR + VW);
    const float* ai = ap + p * MR;
    for (int64_t ii = 0; ii < MR; ii++) {
      acc[ii][0] += ai[ii] * b0;
      acc[ii][1] += ai[ii] * b1;
    }
  }
  for (int64_t ii = 0; ii < MR; ii++) {
    float* ci = c + ii * ldc;
    if (add) {
      store(ci, load(ci) + acc[ii][0]);
      store(ci + VW, load(ci + VW) + acc[ii][1]);
    } else {
      store(ci, acc[ii][0]);
      store(ci + VW, acc[ii][1]);
    }
  }
}
}  // namespace

namespace {
// C = op(A) op(B) with leading dimensions (row strides) lda, ldb, ldc, on the calling thread.
void gemmPlain(bool transA, bool transB, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb,
               float* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    for (int64_t i = 0; i < m; i++) std::fill(c + i * ldc, c + i * ldc + n, 0.0f);
    return;
  }
  const int64_t panels = (n + NR - 1) / NR;
  std::vector<float> bp(static_cast<size_t>(panels * KC * NR));
  std::vector<float> ap(static_cast<size_t>(MC * KC));
  float edge[MR * NR];
  for (int64_t p0 = 0; p0 < k; p0 += KC) {
    const int64_t kc = std::min(KC, k - p0);
    // Packing reads each operand along its contiguous axis; short panels are zero-padded.
    for (int64_t jp = 0; jp < panels; jp++) {
      float* dst = bp.data() + jp * KC * NR;
      const int64_t j0 = jp * NR, nr = std::min(NR, n - j0);
      if (nr < NR) std::fill(dst, dst + kc * NR, 0.0f);
      if (transB) {
        for (int64_t jj = 0; jj < nr; jj++) {
          const float* src = b + (j0 + jj) * ldb + p0;
          for (int64_t p = 0; p < kc; p++) dst[p * NR + jj] = src[p];
        }
      } else {
        for (int64_t p = 0; p < kc; p++) std::memcpy(dst + p * NR, b + (p0 + p) * ldb + j0, static_cast<size_t>(nr) * 4);
      }
    }
    for (int64_t i0 = 0; i0 < m; i0 += MC) {
      const int64_t mc = std::min(MC, m - i0);
      const int64_t rowPanels = (mc + MR - 1) / MR;
      for (int64_t ip = 0; ip < rowPanels; ip++) {
        float* dst = ap.data() + ip * KC * MR;
        const int64_t r0 = i0 + ip * MR, mr = std::min(MR, m - r0);
        if (mr < MR) std::fill(dst, dst + kc * MR, 0.0f);
        if (transA) {
          for (int64_t p = 0; p < kc; p++) std::memcpy(dst + p * MR, a + (p0 + p) * lda + r0, static_cast<size_t>(mr) * 4);
        } else {
          for (int64_t ii = 0; ii < mr; ii++) {
            const float* src = a + (r0 + ii) * lda + p0;
            for (int64_t p = 0; p < kc; p++) dst[p * MR + ii] = src[p];
          }
        }
      }
      for (int64_t jp = 0; jp < panels; jp++) {
        const float* bpanel = bp.data() + jp * KC * NR;
        const int64_t j0 = jp * NR, nr = std::min(NR, n - j0);
        for (int64_t ip = 0; ip < rowPanels; ip++) {
          const int64_t r0 = i0 + ip * MR, mr = std::min(MR, m - r0);
          const float* apanel = ap.data() + ip * KC * MR;
          float* ct = c + r0 * ldc + j0;
          if (mr == MR && nr == NR) {
            micro(kc, apanel, bpanel, ct, ldc, p0 > 0);
          } else {
            // A partial tile goes through a full-size scratch tile.
            micro(kc, apanel, bpanel, edge, NR, false);
            for (int64_t ii = 0; ii < mr; ii++)
              for (int64_t jj = 0; jj < nr; jj++) ct[ii * ldc + jj] = (p0 > 0 ? ct[ii * ldc + jj] : 0.0f) + edge[ii * NR + jj];
          }
        }
      }
    }
  }
}
}  // namespace

#ifdef TESSERA_OPENBLAS
const char* blasName() { return "openblas"; }
#else
const char* blasName() { return "plain"; }
#endif

void setThreads(int threads) {
#ifdef TESSERA_OPENBLAS
  openblas_set_num_threads(1);  // threads come from the pool, one OpenBLAS call per chunk of rows
#endif
  setPoolThreads(threads);
}
int getThreads() { return poolThreads(); }

// Single-threaded, OpenBLAS runs the products whose output and reduction widths are both
// Hugging Face sized (>= 384: 1.1-1.4x the built-in kernel on ViT-B/32's products on an AVX2
// EPYC); narrower ones stay on the built-in kernel, which beats OpenBLAS 0.3.21 there (1.3x
// on the tiny Transformer step). With threads, each takes a contiguous block of C's rows.
void gemmStrided(bool transA, bool transB, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb,
                 float* c, int64_t ldc) {
#ifdef TESSERA_OPENBLAS
  if (n >= 384 && k >= 384 && m > 0) {
    const int rowMajor = 101, noTrans = 111, trans = 112;
    cblas_sgemm(rowMajor, transA ? trans : noTrans, transB ? trans : noTrans, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k),
                1.0f, a, static_cast<int>(lda), b, static_cast<int>(ldb), 0.0f, c, static_cast<int>(ldc));
    return;
  }
#endif
  gemmPlain(transA, transB, m, n, k, a, lda, b, ldb, c, ldc);
}

void gemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k, const float* a, const float* b, float* c) {
  const int64_t lda = transA ? m : k, ldb = transB ? k : n;
  const int64_t grain = std::max<int64_t>(2 * MR, (int64_t{1} << 20) / std::max<int64_t>(n * k, 1));
  parallelFor(m, grain, [&](int64_t r0, int64_t r1) {
    gemmStrided(transA, transB, r1 - r0, n, k, transA ? a + r0 : a + r0 * lda, lda, b, ldb, c + r0 * n, n);
  });
}

}  // namespace tessera

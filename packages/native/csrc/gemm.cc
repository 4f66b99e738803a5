// Matrix product: a register-blocked kernel of our own (single-threaded), and OpenBLAS
// cblas_sgemm for multi-threaded and wide products when built with it.
#include "gemm.h"

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
int openblas_get_num_threads(void);
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

void gemmPlain(bool transA, bool transB, int64_t m, int64_t n, int64_t k, const float* a, const float* b, float* c) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    std::fill(c, c + m * n, 0.0f);
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
          const float* src = b + (j0 + jj) * k + p0;
          for (int64_t p = 0; p < kc; p++) dst[p * NR + jj] = src[p];
        }
      } else {
        for (int64_t p = 0; p < kc; p++) std::memcpy(dst + p * NR, b + (p0 + p) * n + j0, static_cast<size_t>(nr) * 4);
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
          for (int64_t p = 0; p < kc; p++) std::memcpy(dst + p * MR, a + (p0 + p) * m + r0, static_cast<size_t>(mr) * 4);
        } else {
          for (int64_t ii = 0; ii < mr; ii++) {
            const float* src = a + (r0 + ii) * k + p0;
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
          float* ct = c + r0 * n + j0;
          if (mr == MR && nr == NR) {
            micro(kc, apanel, bpanel, ct, n, p0 > 0);
          } else {
            // A partial tile goes through a full-size scratch tile.
            micro(kc, apanel, bpanel, edge, NR, false);
            for (int64_t ii = 0; ii < mr; ii++)
              for (int64_t jj = 0; jj < nr; jj++) ct[ii * n + jj] = (p0 > 0 ? ct[ii * n + jj] : 0.0f) + edge[ii * NR + jj];
          }
        }
      }
    }
  }
}

int threadCount = 1;  // set by setThreads; 1 until then

#ifdef TESSERA_OPENBLAS
const char* blasName() { return "openblas"; }
void setThreads(int threads) {
  threadCount = threads;
  openblas_set_num_threads(threads);
}
int getThreads() { return threadCount; }

// OpenBLAS runs every product when threaded, and single-threaded ones whose output and
// reduction widths are both Hugging Face sized (>= 384: 1.1-1.4x the built-in kernel on
// ViT-B/32's products on an AVX2 EPYC). Narrower products stay on the built-in kernel, which
// single-threaded beats OpenBLAS 0.3.21 there (1.3x on the tiny Transformer step).
void gemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k, const float* a, const float* b, float* c) {
  const bool wide = n >= 384 && k >= 384;
  if ((threadCount <= 1 && !wide) || m == 0 || n == 0 || k == 0) return gemmPlain(transA, transB, m, n, k, a, b, c);
  const int rowMajor = 101, noTrans = 111, trans = 112;
  cblas_sgemm(rowMajor, transA ? trans : noTrans, transB ? trans : noTrans, static_cast<int>(m), static_cast<int>(n),
              static_cast<int>(k), 1.0f, a, static_cast<int>(transA ? m : k), b, static_cast<int>(transB ? k : n), 0.0f, c,
              static_cast<int>(n));
}
#else
const char* blasName() { return "plain"; }
void setThreads(int threads) { threadCount = threads; }
int getThreads() { return threadCount; }
void gemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k, const float* a, const float* b, float* c) {
  gemmPlain(transA, transB, m, n, k, a, b, c);
}
#endif

}  // namespace tessera

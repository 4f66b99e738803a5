// Matrix product: a register-blocked kernel of our own (single-threaded), and OpenBLAS
// cblas_sgemm for multi-threaded products when built with it.
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
// Register-blocked kernel: B packed into panels of NR columns, A into panels of MR rows, and
// an MR x NR block of C held in vector registers across a KC-long slice of k (GCC vector
// extensions: AVX-512 or AVX2 code with -march=native).
typedef float v16 __attribute__((vector_size(64)));
constexpr int64_t MR = 6, NR = 32, KC = 256;

inline v16 load16(const float* p) {
  v16 v;
  std::memcpy(&v, p, sizeof v);
  return v;
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
  std::vector<float> ap(static_cast<size_t>(KC * MR));
  for (int64_t p0 = 0; p0 < k; p0 += KC) {
    const int64_t kc = std::min(KC, k - p0);
    // Packing reads each operand along its contiguous axis.
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
    for (int64_t i0 = 0; i0 < m; i0 += MR) {
      const int64_t mr = std::min(MR, m - i0);
      if (mr < MR) std::fill(ap.begin(), ap.end(), 0.0f);
      if (transA) {
        for (int64_t p = 0; p < kc; p++)
          for (int64_t ii = 0; ii < mr; ii++) ap[p * MR + ii] = a[(p0 + p) * m + i0 + ii];
      } else {
        for (int64_t ii = 0; ii < mr; ii++) {
          const float* src = a + (i0 + ii) * k + p0;
          for (int64_t p = 0; p < kc; p++) ap[p * MR + ii] = src[p];
        }
      }
      for (int64_t jp = 0; jp < panels; jp++) {
        const float* bpanel = bp.data() + jp * KC * NR;
        v16 acc[MR][2] = {};
        for (int64_t p = 0; p < kc; p++) {
          const v16 b0 = load16(bpanel + p * NR), b1 = load16(bpanel + p * NR + 16);
          const float* ai = ap.data() + p * MR;
          for (int64_t ii = 0; ii < MR; ii++) {
            acc[ii][0] += ai[ii] * b0;
            acc[ii][1] += ai[ii] * b1;
          }
        }
        const int64_t j0 = jp * NR, nr = std::min(NR, n - j0);
        for (int64_t ii = 0; ii < mr; ii++) {
          float row[NR];
          std::memcpy(row, &acc[ii][0], sizeof(v16));
          std::memcpy(row + 16, &acc[ii][1], sizeof(v16));
          float* ci = c + (i0 + ii) * n + j0;
          if (p0 == 0)
            for (int64_t jj = 0; jj < nr; jj++) ci[jj] = row[jj];
          else
            for (int64_t jj = 0; jj < nr; jj++) ci[jj] += row[jj];
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

// Single-threaded, the built-in kernel beats Debian's OpenBLAS 0.3.21 on Transformer shapes
// (1.3x on the tiny Transformer step): OpenBLAS runs the products only with more threads.
void gemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k, const float* a, const float* b, float* c) {
  if (threadCount <= 1 || m == 0 || n == 0 || k == 0) return gemmPlain(transA, transB, m, n, k, a, b, c);
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

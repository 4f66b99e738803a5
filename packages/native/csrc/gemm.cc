// Matrix product: OpenBLAS cblas_sgemm when built with it, else a blocked kernel that the
// compiler vectorises (-O3 -march=native).
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

#ifdef TESSERA_OPENBLAS
const char* blasName() { return "openblas"; }
void setThreads(int threads) { openblas_set_num_threads(threads); }
int getThreads() { return openblas_get_num_threads(); }

void gemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k, const float* a, const float* b, float* c) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    std::fill(c, c + m * n, 0.0f);
    return;
  }
  const int rowMajor = 101, noTrans = 111, trans = 112;
  cblas_sgemm(rowMajor, transA ? trans : noTrans, transB ? trans : noTrans, static_cast<int>(m), static_cast<int>(n),
              static_cast<int>(k), 1.0f, a, static_cast<int>(transA ? m : k), b, static_cast<int>(transB ? k : n), 0.0f, c,
              static_cast<int>(n));
}
#else
const char* blasName() { return "plain"; }
void setThreads(int) {}
int getThreads() { return 1; }

namespace {
// Rows of the transposed operand, so the inner loop always runs over contiguous memory.
std::vector<float> transposed(const float* x, int64_t rows, int64_t cols) {
  std::vector<float> t(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; r++)
    for (int64_t col = 0; col < cols; col++) t[col * rows + r] = x[r * cols + col];
  return t;
}
}  // namespace

void gemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k, const float* a, const float* b, float* c) {
  std::vector<float> at, bt;
  if (transA) {
    at = transposed(a, k, m);
    a = at.data();
  }
  if (transB) {
    bt = transposed(b, n, k);
    b = bt.data();
  }
  std::fill(c, c + m * n, 0.0f);
  // Blocks of B rows and C columns that stay in L1/L2 while a block of A rows streams past.
  const int64_t kb = 128, nb = 512, mb = 32;
  for (int64_t j0 = 0; j0 < n; j0 += nb) {
    const int64_t j1 = std::min(n, j0 + nb);
    for (int64_t p0 = 0; p0 < k; p0 += kb) {
      const int64_t p1 = std::min(k, p0 + kb);
      for (int64_t i0 = 0; i0 < m; i0 += mb) {
        const int64_t i1 = std::min(m, i0 + mb);
        for (int64_t i = i0; i < i1; i++) {
          float* __restrict ci = c + i * n;
          const float* ai = a + i * k;
          for (int64_t p = p0; p < p1; p++) {
            const float aip = ai[p];
            const float* __restrict bp = b + p * n;
            for (int64_t j = j0; j < j1; j++) ci[j] += aip * bp[j];
          }
        }
      }
    }
  }
}
#endif

}  // namespace tessera

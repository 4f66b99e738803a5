#pragma once
#include <cstdint>

namespace tessera {

// C[m,n] = op(A) @ op(B), row-major; op transposes when the flag is set.
// A is [m,k] (or [k,m] transposed), B is [k,n] (or [n,k] transposed).
void gemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k, const float* a, const float* b, float* c);

// The same on the calling thread only, with row strides (leading dimensions) lda, ldb, ldc.
void gemmStrided(bool transA, bool transB, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb,
                 float* c, int64_t ldc);

// "openblas" or "plain"
const char* blasName();
void setThreads(int threads);
int getThreads();

}  // namespace tessera

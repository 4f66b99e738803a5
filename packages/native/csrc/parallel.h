// A small pool of persistent threads for the kernels: setThreads(n) runs them on n threads
// (the caller and n - 1 workers), OpenBLAS included (called single-threaded from each).
#pragma once
#include <cstdint>
#include <functional>

namespace tessera {

void setPoolThreads(int threads);
int poolThreads();
// Runs body(begin, end) over [0, n) in up to poolThreads() contiguous chunks of at least
// `grain` items each, the caller taking the first; returns when all are done. Runs serially
// when called from inside a chunk (no nesting) or when n is too small to split.
void parallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& body);
// Rows of `cols` elements per chunk worth waking a thread for (~16K elements).
inline int64_t rowGrain(int64_t cols) { return cols >= 16384 ? 1 : 16384 / (cols > 0 ? cols : 1); }

}  // namespace tessera

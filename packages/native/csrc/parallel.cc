#include "parallel.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace tessera {

namespace {
struct Pool {
  std::mutex mu;
  std::condition_variable wake, done;
  std::vector<std::thread> workers;
  const std::function<void(int64_t, int64_t)>* body = nullptr;
  int64_t n = 0, chunks = 0;
  uint64_t generation = 0;
  int64_t pending = 0;
  bool stop = false;
};
// Never destroyed: joinable threads must not be destructed when the process exits.
Pool* const pool = new Pool();
int threadCount = 1;
thread_local bool inside = false;

// Worker `index` runs chunk `index` of every call after generation `seen` (when it was started).
void work(int64_t index, uint64_t seen) {
  std::unique_lock<std::mutex> lock(pool->mu);
  for (;;) {
    pool->wake.wait(lock, [&] { return pool->stop || pool->generation != seen; });
    if (pool->stop) return;
    seen = pool->generation;
    if (index >= pool->chunks) continue;
    const auto* body = pool->body;
    const int64_t n = pool->n, chunks = pool->chunks;
    lock.unlock();
    inside = true;
    (*body)(n * index / chunks, n * (index + 1) / chunks);
    inside = false;
    lock.lock();
    if (--pool->pending == 0) pool->done.notify_one();
  }
}
}  // namespace

void setPoolThreads(int threads) {
  if (threads == threadCount) return;
  {
    std::lock_guard<std::mutex> lock(pool->mu);
    pool->stop = true;
  }
  pool->wake.notify_all();
  for (auto& t : pool->workers) t.join();
  pool->workers.clear();
  pool->stop = false;
  threadCount = std::max(1, threads);
  for (int64_t i = 1; i < threadCount; i++) pool->workers.emplace_back(work, i, pool->generation);
}

int poolThreads() { return threadCount; }

void parallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& body) {
  const int64_t chunks = std::min<int64_t>(threadCount, n / std::max<int64_t>(grain, 1));
  if (chunks <= 1 || inside) {
    if (n > 0) body(0, n);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(pool->mu);
    pool->body = &body;
    pool->n = n;
    pool->chunks = chunks;
    pool->pending = chunks - 1;
    pool->generation++;
  }
  pool->wake.notify_all();
  inside = true;
  body(0, n / chunks);
  inside = false;
  std::unique_lock<std::mutex> lock(pool->mu);
  pool->done.wait(lock, [] { return pool->pending == 0; });
}

}  // namespace tessera

#!/bin/sh
# What `npm run bench` measures for the index, in one go (about 25 minutes on 2 idle cores).
# ExactStore against faiss IndexFlatIP on uniform vectors at every size, batched at 1 and 2
# threads; its int8 scan against faiss IndexRefineFlat(IndexScalarQuantizer QT_8bit) at 1 thread; LanceDB IVF-PQ against the same FAISS index on uniform 10k (where no index can prune)
# and on 1M clustered vectors (where an index has to earn its keep). FAISS's HNSW peer at 1M
# takes 22 minutes to build on one thread, so it runs only on request:
#   BENCH_DATA=clustered BENCH_SIZES=1000000 npm run bench -w @tessera/index -- --single
set -e
cd "$(dirname "$0")/.."
run() { tsx --conditions=development bench/stores.bench.ts; }
if [ "$1" = "--single" ]; then run; exit; fi
BENCH_SIZES=10000 BENCH_HNSW=0 run
BENCH_SIZES=100000 BENCH_STORES=exact run
BENCH_SIZES=1000000 BENCH_STORES=exact BENCH_REPS=3 run
BENCH_SIZES=10000,100000 BENCH_STORES=exact BENCH_THREADS=2 run
BENCH_DATA=clustered BENCH_SIZES=1000000 BENCH_HNSW=0 BENCH_REPS=3 run

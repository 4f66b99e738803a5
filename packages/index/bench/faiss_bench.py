"""FAISS peer for stores.bench.ts, run on the same float32 vectors and queries with the same
threads and protocol as the Tessera side, printing one JSON object.

  flat BASE.f32 N DIM QUERIES.f32 NQ K THREADS REPS OUT_PREFIX
      IndexFlatIP (exact). Writes OUT_PREFIX.{single,batch}.{i64,f32} (ids, scores of every
      query, one at a time and all at once) so the Node side checks the outputs equal before
      comparing times. Latency: each query alone (warm-up 3 queries), REPS passes over the
      queries; batch: all NQ queries in one call (1 warm-up), REPS times.
  ivf BASE.f32 N DIM QUERIES.f32 NQ K THREADS REPS TRUTH.i32 NLIST NPROBE SUBVECTORS REFINE
      The same index LanceDB's IVF-PQ builds: NLIST cells, PQ of SUBVECTORS sub-vectors of
      8 bits, the best REFINE x k candidates re-ranked exactly (IndexRefineFlat), probed at
      NPROBE; recall@k against TRUTH (the exact ids).

  sq8 BASE.f32 N DIM QUERIES.f32 NQ K THREADS REPS TRUTH.i32 REFINE
      8-bit scalar quantization with an exact re-rank, the same two passes as ExactStore's int8
      scan: IndexRefineFlat(IndexScalarQuantizer(QT_8bit, inner product), k_factor REFINE);
      recall@k against TRUTH (the float32 ids) and the codes' bytes.

  hnsw BASE.f32 N DIM QUERIES.f32 NQ K THREADS REPS TRUTH.i32 TARGET_RECALL
      IndexHNSWFlat (M 32, efConstruction 80, inner product), efSearch doubled from 16 until
      recall@k against TRUTH reaches TARGET_RECALL; latency at that efSearch.

Threads are pinned with OMP_NUM_THREADS (the faiss-cpu wheel's OpenMP and its OpenBLAS share
one pool) set by the caller, and omp_set_num_threads here. Needs faiss-cpu (pip, see
tools/python/setup-reference-env.sh).
"""
import json
import os
import sys
import time

import faiss
import numpy as np


def spread(values):
    values = np.asarray(values, dtype=np.float64)
    return {"median": float(np.median(values)), "min": float(values.min()), "max": float(values.max()),
            "p99": float(np.percentile(values, 99)), "count": int(values.size)}


def latencies(search, queries, reps):
    for q in queries[:3]:
        search(q[None, :])
    times = []
    for _ in range(reps):
        for q in queries:
            t0 = time.perf_counter()
            search(q[None, :])
            times.append((time.perf_counter() - t0) * 1000)
    return spread(times)


def throughput(search, queries, reps):
    search(queries)
    rates = []
    for _ in range(reps):
        t0 = time.perf_counter()
        search(queries)
        rates.append(len(queries) / (time.perf_counter() - t0))
    return spread(rates)


def load(base_file, n, dim, query_file, nq):
    base = np.fromfile(base_file, dtype="<f4", count=n * dim).reshape(n, dim)
    queries = np.fromfile(query_file, dtype="<f4", count=nq * dim).reshape(nq, dim)
    return base, queries


def versions(threads):
    return {"faiss_version": faiss.__version__, "numpy_version": np.__version__, "compile_options": faiss.get_compile_options(),
            "threads": threads, "omp_max_threads": faiss.omp_get_max_threads(), "omp_env": os.environ.get("OMP_NUM_THREADS")}


def flat(args):
    base_file, n, dim, query_file, nq, k, threads, reps, prefix = args
    n, dim, nq, k, threads, reps = int(n), int(dim), int(nq), int(k), int(threads), int(reps)
    faiss.omp_set_num_threads(threads)
    base, queries = load(base_file, n, dim, query_file, nq)
    index = faiss.IndexFlatIP(dim)
    index.add(base)
    # The outputs the Node side compares against, one query at a time and all at once.
    single = [index.search(q[None, :], k) for q in queries]
    np.concatenate([s for s, _ in single]).astype("<f4").tofile(prefix + ".single.f32")
    np.concatenate([i for _, i in single]).astype("<i8").tofile(prefix + ".single.i64")
    scores, ids = index.search(queries, k)
    scores.astype("<f4").tofile(prefix + ".batch.f32")
    ids.astype("<i8").tofile(prefix + ".batch.i64")
    out = versions(threads)
    out["latency_ms"] = latencies(lambda q: index.search(q, k), queries, reps)
    out["batch_qps"] = throughput(lambda q: index.search(q, k), queries, reps)
    # A second batched peer: one numpy sgemm (numpy's own OpenBLAS) and a partial sort, as a
    # user without FAISS would write it; its ids must match FAISS's.
    def numpy_search(q):
        s = q @ base.T
        top = np.argpartition(-s, k, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(s, top, 1), axis=1, kind="stable")
        return np.take_along_axis(top, order, 1)
    out["numpy_matches_faiss"] = bool((numpy_search(queries) == ids).all())
    out["numpy_batch_qps"] = throughput(numpy_search, queries, reps)
    blas = np.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {})
    out["numpy_blas"] = {key: blas.get(key) for key in ("name", "version", "openblas configuration")}
    print(json.dumps(out))


def ivf(args):
    base_file, n, dim, query_file, nq, k, threads, reps, truth_file, nlist, nprobe, subvectors, refine = args
    n, dim, nq, k, threads, reps = int(n), int(dim), int(nq), int(k), int(threads), int(reps)
    nlist, nprobe, subvectors, refine = int(nlist), int(nprobe), int(subvectors), int(refine)
    faiss.omp_set_num_threads(threads)
    base, queries = load(base_file, n, dim, query_file, nq)
    truth = np.fromfile(truth_file, dtype="<i4").reshape(nq, k)
    t0 = time.perf_counter()
    quantizer = faiss.IndexFlatIP(dim)
    pq = faiss.IndexIVFPQ(quantizer, dim, nlist, subvectors, 8, faiss.METRIC_INNER_PRODUCT)
    index = faiss.IndexRefineFlat(pq)
    index.k_factor = refine
    index.train(base)
    index.add(base)
    build_s = time.perf_counter() - t0
    pq.nprobe = nprobe
    _, ids = index.search(queries, k)
    recall = float(np.mean([len(set(ids[i]) & set(truth[i])) / k for i in range(nq)]))
    out = versions(threads)
    out.update({"index": f"IndexRefineFlat(IndexIVFPQ(nlist {nlist}, {subvectors}x8 bits), k_factor {refine})", "nlist": nlist,
                "nprobe": nprobe, "build_s": build_s, "recall": recall, "bytes": int(faiss.serialize_index(index).size),
                "latency_ms": latencies(lambda q: index.search(q, k), queries, reps),
                "batch_qps": throughput(lambda q: index.search(q, k), queries, reps)})
    print(json.dumps(out))


def sq8(args):
    base_file, n, dim, query_file, nq, k, threads, reps, truth_file, refine = args
    n, dim, nq, k, threads, reps, refine = int(n), int(dim), int(nq), int(k), int(threads), int(reps), int(refine)
    faiss.omp_set_num_threads(threads)
    base, queries = load(base_file, n, dim, query_file, nq)
    truth = np.fromfile(truth_file, dtype="<i4").reshape(nq, k)
    t0 = time.perf_counter()
    sq = faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
    index = faiss.IndexRefineFlat(sq)
    index.k_factor = refine
    index.train(base)
    index.add(base)
    build_s = time.perf_counter() - t0
    _, ids = index.search(queries, k)
    recall = float(np.mean([len(set(ids[i]) & set(truth[i])) / k for i in range(nq)]))
    out = versions(threads)
    out.update({"index": f"IndexRefineFlat(IndexScalarQuantizer(QT_8bit), k_factor {refine})", "build_s": build_s, "recall": recall,
                "code_bytes": int(sq.code_size) * n, "latency_ms": latencies(lambda q: index.search(q, k), queries, reps)})
    print(json.dumps(out))


def hnsw(args):
    base_file, n, dim, query_file, nq, k, threads, reps, truth_file, target = args
    n, dim, nq, k, threads, reps, target = int(n), int(dim), int(nq), int(k), int(threads), int(reps), float(target)
    faiss.omp_set_num_threads(threads)
    base, queries = load(base_file, n, dim, query_file, nq)
    truth = np.fromfile(truth_file, dtype="<i4").reshape(nq, k)
    t0 = time.perf_counter()
    index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = 80
    index.add(base)
    build_s = time.perf_counter() - t0
    sweep = []
    ef = 16
    while True:
        index.hnsw.efSearch = ef
        _, ids = index.search(queries, k)
        recall = float(np.mean([len(set(ids[i]) & set(truth[i])) / k for i in range(nq)]))
        sweep.append({"efSearch": ef, "recall": recall})
        if recall >= target or ef >= 4096:
            break
        ef *= 2
    out = versions(threads)
    out.update({"index": f"IndexHNSWFlat(M 32, efConstruction 80), efSearch {ef}", "efSearch": ef, "build_s": build_s,
                "recall": recall, "sweep": sweep, "bytes": int(faiss.serialize_index(index).size),
                "latency_ms": latencies(lambda q: index.search(q, k), queries, reps)})
    print(json.dumps(out))


if __name__ == "__main__":
    {"flat": flat, "ivf": ivf, "sq8": sq8, "hnsw": hnsw}[sys.argv[1]](sys.argv[2:])

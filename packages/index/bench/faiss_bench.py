"""FAISS peer for stores.bench.ts: reads the same float32 vectors and queries, measures
IndexFlatIP (exact) and IndexIVFFlat (approximate, nprobe swept until recall@k >= target); latency one
query at a time on one thread, throughput one batch on all threads;
and prints one JSON object. Needs Debian python3-faiss; run with /usr/bin/python3.

  /usr/bin/python3 faiss_bench.py BASE.f32 N DIM QUERIES.f32 NQ K FLAT_IDS_OUT.i32
"""
import json
import sys
import time

import faiss
import numpy as np

THREADS = faiss.omp_get_max_threads()


def latencies(search, queries):
    # One query at a time on one thread, as a single Node store answers it; OpenMP threads
    # waiting on a single query only add barrier cost on a loaded machine.
    faiss.omp_set_num_threads(1)
    times = []
    for q in queries:
        t0 = time.perf_counter()
        search(q[None, :])
        times.append((time.perf_counter() - t0) * 1000)
    faiss.omp_set_num_threads(THREADS)
    times = np.array(times)
    return {"p50_ms": float(np.percentile(times, 50)), "p99_ms": float(np.percentile(times, 99)), "mean_ms": float(times.mean())}


def throughput(search, queries):
    t0 = time.perf_counter()
    search(queries)
    return len(queries) / (time.perf_counter() - t0)


def main():
    base_file, n, dim, query_file, nq, k, flat_ids_out = sys.argv[1:8]
    n, dim, nq, k = int(n), int(dim), int(nq), int(k)
    base = np.fromfile(base_file, dtype="<f4", count=n * dim).reshape(n, dim)
    queries = np.fromfile(query_file, dtype="<f4", count=nq * dim).reshape(nq, dim)
    out = {"faiss_version": faiss.__version__, "threads": THREADS, "latency_threads": 1, "compile_options": faiss.get_compile_options()}

    flat = faiss.IndexFlatIP(dim)
    flat.add(base)
    for q in queries[:3]:
        flat.search(q[None, :], k)
    out["flat"] = latencies(lambda q: flat.search(q, k), queries)
    out["flat"]["qps_batch"] = throughput(lambda q: flat.search(q, k), queries)
    _, truth = flat.search(queries, k)
    truth.astype("<i4").tofile(flat_ids_out)
    del flat

    # IVF-Flat: nlist ~ sqrt(n); trained on 40 points per list at most (keeps 1M training short).
    nlist = max(1, int(round(np.sqrt(n))))
    t0 = time.perf_counter()
    quantizer = faiss.IndexFlatIP(dim)
    ivf = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    rng = np.random.default_rng(0)
    train = base[rng.choice(n, size=min(n, 40 * nlist), replace=False)]
    ivf.train(train)
    ivf.add(base)
    build_s = time.perf_counter() - t0
    sweep = []
    nprobe = max(1, round(nlist / 4))  # random data: fewer lists find few neighbours
    while True:
        ivf.nprobe = min(nprobe, nlist)
        _, ids = ivf.search(queries, k)
        recall = float(np.mean([len(set(ids[i]) & set(truth[i])) / k for i in range(nq)]))
        point = {"nprobe": ivf.nprobe, "recall": recall}
        point.update(latencies(lambda q: ivf.search(q, k), queries))
        point["qps_batch"] = throughput(lambda q: ivf.search(q, k), queries)
        sweep.append(point)
        if recall >= 0.95 or ivf.nprobe >= nlist:
            break
        nprobe *= 2
    out["ivf"] = {"nlist": nlist, "build_s": build_s, "sweep": sweep}
    print(json.dumps(out))


if __name__ == "__main__":
    main()

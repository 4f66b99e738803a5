"""Python `tokenizers` peer of tokenizer.bench.ts: Tokenizer.from_str on the same tokenizer.json,
encode_batch (multi-threaded Rust) over the same batches. Checks the token count and an id
checksum against Tessera's before timing; then `rounds` timed passes.

    .venv-ref/bin/python tokenizers_peer.py <job.json>
job.json: {"tokenizer": <tokenizer.json text>, "texts": <file, one JSON string per line>, "batch",
           "rounds", "tokens", "checksum"}. Prints {"seconds": [...], "tokens", "tokenizers"}.
"""
import json
import sys
import time

import tokenizers
from tokenizers import Tokenizer

with open(sys.argv[1]) as f:
    job = json.load(f)
tok = Tokenizer.from_str(job["tokenizer"])
with open(job["texts"]) as f:
    texts = [json.loads(line) for line in f]
batches = [texts[i : i + job["batch"]] for i in range(0, len(texts), job["batch"])]


def run():
    tokens = checksum = 0
    for b in batches:
        for e in tok.encode_batch(b):
            tokens += len(e.ids)
            checksum = (checksum + sum(e.ids)) % 1_000_000_007
    return tokens, checksum


tokens, checksum = run()  # warm-up, and the check
if (tokens, checksum) != (job["tokens"], job["checksum"]):
    sys.exit(f"ids differ from Tessera's: {tokens} tokens, checksum {checksum}; expected {job['tokens']}, {job['checksum']}")
seconds = []
for _ in range(job["rounds"]):
    start = time.perf_counter()
    run()
    seconds.append(time.perf_counter() - start)
print(json.dumps({"seconds": seconds, "tokens": tokens, "tokenizers": tokenizers.__version__}))

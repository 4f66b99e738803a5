"""PyTorch peer of the GIT captioning benchmark, gitCaption.bench.ts: transformers' GitForCausalLM
(the folder make_git_vatex.py wrote) decoding greedily with its key/value cache.

Usage: /work/venv-ref/bin/python torch_git_caption.py <model dir> <pixels.f32>
It stays up so both sides alternate rounds under the same load: every stdin line is a job
{"batch", "newTokens", "threads"}; it answers one JSON line {"ms", "ids"} (generate's wall time
under torch.inference_mode(), the ids after the [CLS] prompt). newTokens is both the minimum and
the maximum, so both sides write the same number of tokens. A line {"rss": true} answers
{"maxRssKb", "torch", "transformers"}. The first line it prints is {"ready": true}.
"""

import json
import resource
import sys
import time

import numpy as np
import torch
import transformers
from transformers import GitForCausalLM


def main():
    model = GitForCausalLM.from_pretrained(sys.argv[1]).eval()
    pixels = torch.from_numpy(np.fromfile(sys.argv[2], dtype="<f4").reshape(8, 6, 3, 224, 224).copy())
    bos = model.config.bos_token_id
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        job = json.loads(line)
        if job.get("rss"):
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            print(json.dumps({"maxRssKb": rss, "torch": torch.__version__, "transformers": transformers.__version__}), flush=True)
            continue
        torch.set_num_threads(job["threads"])
        batch, n = job["batch"], job["newTokens"]
        with torch.inference_mode():
            start = time.perf_counter()
            seq = model.generate(
                pixel_values=pixels[:batch], input_ids=torch.full((batch, 1), bos), max_new_tokens=n, min_new_tokens=n,
                do_sample=False, num_beams=1,
            )
            ms = (time.perf_counter() - start) * 1000
        print(json.dumps({"ms": ms, "ids": seq[:, 1:].tolist()}), flush=True)


if __name__ == "__main__":
    main()

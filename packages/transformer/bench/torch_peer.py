"""PyTorch peer for bench/train.bench.ts: the same architectures (the reference modules of
test/fixtures/make_fixtures.py), trained with Adam on one thread. Prints steps per wall-clock second and per CPU second.

Usage: .venv-ref/bin/python bench/torch_peer.py '<json config>'
"""
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures"))
import make_fixtures as ref  # noqa: E402  (its reference modules; it sets float64, reset below)

torch.set_default_dtype(torch.float32)
torch.set_num_threads(1)
torch.manual_seed(0)


def main():
    c = json.loads(sys.argv[1])
    if c["kind"] == "vit":
        model = ref.VisionEncoder(c["imageSize"], c["patchSize"], 3, c["dim"], c["heads"], c["layers"], c["mlpDim"])
        head = torch.nn.Linear(c["dim"], c["classes"])
        x = torch.randn(c["batch"], 3, c["imageSize"], c["imageSize"])
        y = torch.randint(0, c["classes"], (c["batch"],))

        def loss_fn():
            return F.cross_entropy(head(model(x)["pooled"]), y)
    else:
        model = ref.TextEncoder(c["vocab"], c["seq"], c["dim"], c["heads"], c["layers"], c["mlpDim"], "post", False, "cls", "gelu")
        head = torch.nn.Linear(c["dim"], c["vocab"])
        ids = torch.randint(0, c["vocab"], (c["batch"], c["seq"]))
        mask = torch.ones(c["batch"], c["seq"], dtype=torch.long)
        targets = torch.randint(0, c["vocab"], (c["batch"], c["seq"]))

        def loss_fn():
            logits = head(model(ids, mask)["hidden"])
            return F.cross_entropy(logits.reshape(-1, c["vocab"]), targets.reshape(-1))

    params = list(model.parameters()) + list(head.parameters())
    opt = torch.optim.Adam(params, lr=1e-3)

    def step():
        opt.zero_grad()
        loss_fn().backward()
        opt.step()

    for _ in range(c["warmup"]):
        step()
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(c["steps"]):
        step()
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(json.dumps({"stepsPerSecond": c["steps"] / wall, "stepsPerCpuSecond": c["steps"] / cpu, "torch": torch.__version__}))


main()

#!/usr/bin/python3
"""PyTorch peer for losses.bench.ts: the same losses, forward + backward, 1 thread.

    /usr/bin/python3 torch_peer.py '{"kind": "clip", "batch": 256, "dim": 512, "steps": 20}'

Prints one JSON line: {"msPerStep": ...}.
"""
import json
import math
import sys
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
c = json.loads(sys.argv[1])
torch.manual_seed(0)

if c["kind"] == "clip":
    img = torch.randn(c["batch"], c["dim"], requires_grad=True)
    txt = torch.randn(c["batch"], c["dim"], requires_grad=True)
    scale = torch.tensor(math.log(1 / 0.07), requires_grad=True)
    labels = torch.arange(c["batch"])

    def step():
        logits = scale.clamp(max=math.log(100)).exp() * F.normalize(img, dim=-1) @ F.normalize(txt, dim=-1).t()
        loss = (F.cross_entropy(logits, labels) + F.cross_entropy(logits.t(), labels)) / 2
        loss.backward()
        return loss.item()
else:
    logits = torch.randn(c["batch"] * c["seq"], c["vocab"], requires_grad=True)
    labels = torch.randint(0, c["vocab"], (c["batch"] * c["seq"],))
    labels[torch.rand(labels.shape) < 0.85] = -100

    def step():
        loss = F.cross_entropy(logits, labels, ignore_index=-100, label_smoothing=c.get("smoothing", 0.0))
        loss.backward()
        return loss.item()

for _ in range(3):
    step()
start = time.perf_counter()
for _ in range(c["steps"]):
    step()
print(json.dumps({"msPerStep": (time.perf_counter() - start) * 1000 / c["steps"]}))

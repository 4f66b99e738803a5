"""PyTorch peer for losses.bench.ts: the same losses on the same inputs, forward + backward, 1 thread.

    .venv-ref/bin/python torch_peer.py '{"kind": "clip", "batch": 256, "dim": 512, "dir": ..., "steps": 20}'

Inputs are Tessera's, as little-endian files in "dir" (clip: image.f32, text.f32; mlm: logits.f32,
labels.i32). "rows" (mlm only): "all" runs F.cross_entropy(ignore_index=-100) over every row, as
Hugging Face BertForMaskedLM does; "masked" gathers the predicted rows first, as Tessera does.
The loss and the gradient are checked against Tessera's (expected.json, grad.f32) before timing.
Prints one JSON line: {"ms": [per step], "lossDiff", "gradDiff", "torch"}.
"""
import json
import math
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)
c = json.loads(sys.argv[1])
d = c["dir"]


def load(name, dtype, shape):
    return torch.from_numpy(np.fromfile(f"{d}/{name}", dtype=dtype).reshape(shape).copy())


if c["kind"] == "clip":
    img = load("image.f32", "<f4", (c["batch"], c["dim"])).requires_grad_()
    txt = load("text.f32", "<f4", (c["batch"], c["dim"])).requires_grad_()
    scale = torch.tensor(math.log(1 / 0.07), requires_grad=True)
    labels = torch.arange(c["batch"])
    checked = img

    def step():
        img.grad = txt.grad = scale.grad = None
        logits = scale.clamp(max=math.log(100)).exp() * F.normalize(img, dim=-1) @ F.normalize(txt, dim=-1).t()
        loss = (F.cross_entropy(logits, labels) + F.cross_entropy(logits.t(), labels)) / 2
        loss.backward()
        return loss.item()
else:
    n = c["batch"] * c["seq"]
    logits = load("logits.f32", "<f4", (n, c["vocab"])).requires_grad_()
    labels = load("labels.i32", "<i4", (n,)).long()
    masked = (labels != -100).nonzero().squeeze(1)
    checked = logits

    def step():
        logits.grad = None
        if c["rows"] == "all":
            loss = F.cross_entropy(logits, labels, ignore_index=-100)
        else:
            loss = F.cross_entropy(logits.index_select(0, masked), labels.index_select(0, masked))
        loss.backward()
        return loss.item()


with open(f"{d}/expected.json") as f:
    expected = json.load(f)
loss_diff = abs(step() - expected["loss"])
grad_diff = float((checked.grad - load("grad.f32", "<f4", checked.shape)).abs().max())
if loss_diff > c["tolerance"] or grad_diff > c["tolerance"]:
    sys.exit(f"loss or gradient differs from Tessera's: loss {loss_diff}, gradient {grad_diff} > {c['tolerance']}")
for _ in range(3):
    step()
times = []
for _ in range(c["steps"]):
    start = time.perf_counter()
    step()
    times.append((time.perf_counter() - start) * 1000)
print(json.dumps({"ms": times, "lossDiff": loss_diff, "gradDiff": grad_diff, "torch": torch.__version__}))

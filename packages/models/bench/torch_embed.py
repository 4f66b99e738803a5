"""PyTorch peer of the image-embedding (indexing) benchmark, embedImages.bench.ts.

The vision tower of torch_clip.py (the same clip-tiny architecture as the training benchmark)
plus the bias-free visual projection and L2 normalisation, loaded with the weights of a Tessera
model.safetensors (names as Tessera saves them: `vision_model.*`, `visual_projection.weight`;
q/k/v projections packed into nn.MultiheadAttention's in_proj). Checks its embeddings of the
bench batch against Tessera's, then times forward passes under torch.inference_mode().

Usage: .venv-ref/bin/python torch_embed.py <job.json>, where job.json holds
  {"weights", "model" (the model config), "images" (float32 [B, 3, H, W] little-endian),
   "expected" (Tessera's embeddings, float32 [B, embedDim]), "batch", "threads", "steps",
   "rounds", "tolerance"}
Prints one JSON line {"imagesPerSecond" (one rate per round), "maxAbsDiff", "torch"}; exits 1 when the embeddings
differ by more than the tolerance.
"""
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_clip import Vision, tessera_vision_state  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tools", "python"))
from safetensors_torch import load_safetensors  # noqa: E402


class ImageEmbedder(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.vision = Vision(config["vision"])
        self.vp = nn.Linear(config["vision"]["dim"], config["embedDim"], bias=False)

    def forward(self, images):
        return F.normalize(self.vp(self.vision(images)), dim=-1)

    def load_tessera(self, w):
        """Copies Tessera's named weights into this module (every tensor, shapes checked)."""
        dim = self.vision.proj.weight.shape[0]
        state = tessera_vision_state(w, "vision.", len(self.vision.blocks), dim)
        self.load_state_dict({**state, "vp.weight": w["visual_projection.weight"]}, strict=True)


def main():
    with open(sys.argv[1]) as f:
        job = json.load(f)
    torch.set_num_threads(job["threads"])
    config, batch = job["model"], job["batch"]
    size = config["vision"]["imageSize"]
    model = ImageEmbedder(config)
    model.load_tessera(load_safetensors(job["weights"]))
    model.eval()
    images = torch.from_numpy(np.fromfile(job["images"], dtype="<f4").reshape(batch, 3, size, size).copy())
    expected = torch.from_numpy(np.fromfile(job["expected"], dtype="<f4").reshape(batch, config["embedDim"]).copy())
    with torch.inference_mode():
        diff = float((model(images) - expected).abs().max())
        if not diff <= job["tolerance"]:
            print(f"embeddings differ from Tessera's: max abs diff {diff} > {job['tolerance']}", file=sys.stderr)
            sys.exit(1)
        model(images)  # warm-up
        rates = []
        for _ in range(job["rounds"]):
            start = time.perf_counter()
            for _ in range(job["steps"]):
                model(images)
            rates.append(batch * job["steps"] / (time.perf_counter() - start))
    print(json.dumps({"imagesPerSecond": rates, "maxAbsDiff": diff, "torch": torch.__version__}))


if __name__ == "__main__":
    main()

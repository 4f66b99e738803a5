"""The peer for throughput.bench.ts: decode + resize + center crop + rescale + normalize with
PIL + numpy, the steps of Hugging Face's CLIPImageProcessor (PIL BICUBIC resize on uint8),
one image at a time in one process, as a PyTorch Dataset would.

usage: pil_peer.py <size> <repeats> <out.f32 or -> <file>...   prints JSON {"images_per_s": ..., "images": ..., "pillow"}
writes the preprocessed batch [N, 3, size, size] as float32 to out.f32 (unless "-") so the
bench checks it against ours.
"""
import json
import sys
import time

import numpy as np
import PIL
from PIL import Image

MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)


def process(path, size):
    im = Image.open(path).convert("RGB")
    w, h = im.size
    short, long = (w, h) if w <= h else (h, w)
    new_long = int(size * long / short)
    im = im.resize((size, new_long) if w <= h else (new_long, size), Image.BICUBIC)
    a = np.array(im)
    oh, ow = a.shape[:2]
    top, left = (oh - size) // 2, (ow - size) // 2
    a = a[top : top + size, left : left + size]
    x = (a.astype(np.float64) * (1 / 255)).astype(np.float32)
    return ((x - MEAN) / STD).transpose(2, 0, 1)


size, repeats, out, files = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4:]
first = np.stack([process(f, size) for f in files])  # warm-up, and the batch checked against ours
if out != "-":
    first.astype("<f4").tofile(out)
start = time.perf_counter()
n = 0
for _ in range(repeats):
    batch = [process(f, size) for f in files]
    np.stack(batch)
    n += len(batch)
elapsed = time.perf_counter() - start
print(json.dumps({"images_per_s": n / elapsed, "images": n, "seconds": elapsed, "pillow": PIL.__version__}))

"""PyTorch peer of the CLIP training-step benchmark: the same tiny CLIP as Tessera's `clip-tiny`
(pre-LN ViT with a class token, pooled as the config says: the class token or the mean of the patch
tokens; pre-LN bidirectional text Transformer with mean pooling, bias-free projections, learnable
temperature), the same batch (B images, 2B captions, positives [B, 2B]), AdamW, starting from
Tessera's own weights (the config's "weights": a model.safetensors) and inputs ("inputs": the
image batch and ids as float32/int32 files), so the first step's loss is checked against
Tessera's ("expectedLoss") before anything is timed. Prints one JSON line with the seconds of
each timed step. Usage: .venv-ref/bin/python torch_clip.py '<json config>'. The model classes
and `tessera_state` are also imported by torch_embed.py."""
import json
import math
import os
import sys
import time

import numpy as np

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, d, h, m):
        super().__init__()
        self.ln1 = nn.LayerNorm(d)
        self.attn = nn.MultiheadAttention(d, h, batch_first=True)
        self.ln2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, m), nn.GELU(), nn.Linear(m, d))

    def forward(self, x, pad=None):
        y = self.ln1(x)
        x = x + self.attn(y, y, y, key_padding_mask=pad, need_weights=False)[0]
        return x + self.mlp(self.ln2(x))


class Vision(nn.Module):
    def __init__(self, c):
        super().__init__()
        p, d = c["patchSize"], c["dim"]
        n = (c["imageSize"] // p) ** 2
        self.p = p
        self.proj = nn.Linear(3 * p * p, d)
        self.cls = nn.Parameter(torch.zeros(1, 1, d))
        self.pos = nn.Parameter(torch.zeros(1, n + 1, d))
        self.blocks = nn.ModuleList([Block(d, c["numHeads"], c["mlpDim"]) for _ in range(c["numLayers"])])
        self.ln = nn.LayerNorm(d)
        if not c.get("classToken", True):
            raise ValueError("torch_clip.Vision needs a class token")
        self.pooling = c.get("pooling") or "cls"  # Tessera's default with a class token

    def forward(self, img):
        b, ch, hh, ww = img.shape
        p = self.p
        x = img.reshape(b, ch, hh // p, p, ww // p, p).permute(0, 2, 4, 1, 3, 5).reshape(b, -1, ch * p * p)
        x = torch.cat([self.cls.expand(b, -1, -1), self.proj(x)], 1) + self.pos
        for blk in self.blocks:
            x = blk(x)
        x = self.ln(x)
        return x[:, 0] if self.pooling == "cls" else x[:, 1:].mean(1)


class Text(nn.Module):
    def __init__(self, c):
        super().__init__()
        d = c["dim"]
        self.tok = nn.Embedding(c["vocabSize"], d)
        self.pos = nn.Parameter(torch.zeros(1, c["maxPositions"], d))
        self.blocks = nn.ModuleList([Block(d, c["numHeads"], c["mlpDim"]) for _ in range(c["numLayers"])])
        self.ln = nn.LayerNorm(d)

    def forward(self, ids, mask):
        x = self.tok(ids) + self.pos[:, : ids.shape[1]]
        for blk in self.blocks:
            x = blk(x, pad=mask == 0)
        x = self.ln(x)
        m = mask.unsqueeze(-1).float()
        return (x * m).sum(1) / m.sum(1)


class Clip(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.vision = Vision(c["vision"])
        self.text = Text(c["text"])
        self.vp = nn.Linear(c["vision"]["dim"], c["embedDim"], bias=False)
        self.tp = nn.Linear(c["text"]["dim"], c["embedDim"], bias=False)
        self.scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))

    def forward(self, img, ids, mask, pos):
        i = F.normalize(self.vp(self.vision(img)), dim=-1)
        t = F.normalize(self.tp(self.text(ids, mask)), dim=-1)
        logits = self.scale.clamp(max=math.log(100)).exp() * i @ t.t()
        li = -(F.log_softmax(logits, 1) * pos / pos.sum(1, keepdim=True)).sum(1).mean()
        lt = -(F.log_softmax(logits.t(), 1) * pos.t() / pos.t().sum(1, keepdim=True)).sum(1).mean()
        return (li + lt) / 2


def tessera_tower_state(w, src, dst, layers, dim):
    """nn.MultiheadAttention-packed names of one Tessera tower's encoder layers (q/k/v concatenated)."""
    state = {}
    for i in range(layers):
        s, d = f"{src}encoder.layers.{i}.", f"{dst}blocks.{i}."
        for part in ("weight", "bias"):
            state[d + f"attn.in_proj_{part}"] = torch.cat([w[s + f"self_attn.{x}_proj.{part}"] for x in "qkv"])
            state[d + f"attn.out_proj.{part}"] = w[s + f"self_attn.out_proj.{part}"]
            state[d + f"ln1.{part}"] = w[s + f"self_attn_layer_norm.{part}"]
            state[d + f"ln2.{part}"] = w[s + f"final_layer_norm.{part}"]
            state[d + f"mlp.0.{part}"] = w[s + f"mlp.fc1.{part}"]
            state[d + f"mlp.2.{part}"] = w[s + f"mlp.fc2.{part}"]
    return state


def tessera_vision_state(w, dst, layers, dim):
    """This file's Vision state dict (prefix `dst`) from Tessera's `vision_model.*` tensors."""
    v = "vision_model."
    state = {
        dst + "proj.weight": w[v + "embeddings.projection.weight"].reshape(dim, -1),  # conv [D, C, P, P] -> (c, row, col)
        dst + "proj.bias": w[v + "embeddings.projection.bias"],
        dst + "cls": w[v + "embeddings.cls_token"],
        dst + "pos": w[v + "embeddings.position_embeddings"],
        dst + "ln.weight": w[v + "layernorm.weight"],
        dst + "ln.bias": w[v + "layernorm.bias"],
    }
    return {**state, **tessera_tower_state(w, v, dst, layers, dim)}


def load_tessera_clip(model, w):
    """Copies every tensor of a Tessera clip model.safetensors into `model` (strict: shapes and names checked)."""
    t = "text_model."
    dim_v, dim_t = model.vision.proj.weight.shape[0], model.text.tok.weight.shape[1]
    state = {
        **tessera_vision_state(w, "vision.", len(model.vision.blocks), dim_v),
        **tessera_tower_state(w, t, "text.", len(model.text.blocks), dim_t),
        "text.tok.weight": w[t + "embeddings.token_embedding.weight"],
        "text.pos": w[t + "embeddings.position_embedding.weight"].unsqueeze(0),
        "text.ln.weight": w[t + "final_layer_norm.weight"],
        "text.ln.bias": w[t + "final_layer_norm.bias"],
        "vp.weight": w["visual_projection.weight"],
        "tp.weight": w["text_projection.weight"],
        "scale": w["logit_scale"].reshape(()),
    }
    model.load_state_dict(state, strict=True)


def main():
    cfg = json.loads(sys.argv[1])
    torch.set_num_threads(cfg["threads"])
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tools", "python"))
    from safetensors_torch import load_safetensors

    model = Clip(cfg["model"])
    load_tessera_clip(model, load_safetensors(cfg["weights"]))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.1)
    b, length = cfg["batch"], cfg["textLength"]
    size = cfg["model"]["vision"]["imageSize"]
    img = torch.from_numpy(np.fromfile(cfg["images"], dtype="<f4").reshape(b, 3, size, size).copy())
    ids = torch.from_numpy(np.fromfile(cfg["ids"], dtype="<i4").reshape(2 * b, length).astype(np.int64))
    mask = torch.ones(2 * b, length, dtype=torch.long)
    pos = torch.zeros(b, 2 * b)
    for k in range(b):
        pos[k, 2 * k] = pos[k, 2 * k + 1] = 1

    def step():
        opt.zero_grad()
        loss = model(img, ids, mask, pos)
        loss.backward()
        opt.step()
        return loss.item()

    first = step()
    if abs(first - cfg["expectedLoss"]) > cfg["tolerance"]:
        print(f"first-step loss {first} differs from Tessera's {cfg['expectedLoss']} by more than {cfg['tolerance']}", file=sys.stderr)
        sys.exit(1)
    for _ in range(cfg["warmup"] - 1):
        step()
    times = []
    for _ in range(cfg["steps"]):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    print(json.dumps({"stepSeconds": times, "firstLoss": first, "torch": torch.__version__}))


if __name__ == "__main__":
    main()

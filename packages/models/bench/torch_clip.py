"""PyTorch peer of the CLIP training-step benchmark: the same tiny CLIP as Tessera's `clip-tiny`
(pre-LN ViT with a class token, pooled as the config says: the class token or the mean of the patch
tokens; pre-LN bidirectional text Transformer with mean pooling, bias-free projections, learnable
temperature), the same batch (B images, 2B captions, positives [B, 2B]), AdamW. Prints one JSON
line with seconds per step. Usage: python3 torch_clip.py '<json config>'. The model classes are
also imported by torch_embed.py."""
import json
import math
import sys
import time

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


def main():
    cfg = json.loads(sys.argv[1])
    torch.set_num_threads(cfg["threads"])
    torch.manual_seed(0)
    model = Clip(cfg["model"])
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.1)
    b, length = cfg["batch"], cfg["textLength"]
    size = cfg["model"]["vision"]["imageSize"]
    img = torch.randn(b, 3, size, size)
    ids = torch.randint(5, cfg["model"]["text"]["vocabSize"], (2 * b, length))
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

    for _ in range(cfg["warmup"]):
        step()
    start = time.perf_counter()
    for _ in range(cfg["steps"]):
        step()
    print(json.dumps({"stepSeconds": (time.perf_counter() - start) / cfg["steps"], "torch": torch.__version__}))


if __name__ == "__main__":
    main()

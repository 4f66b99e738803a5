"""PyTorch peer of the captioner decoding benchmark (decode.bench.ts).

Rebuilds Tessera's captioner from the model directory's config.json and loads the same
model.safetensors: a joint-mode video encoder (per-frame patch embedding as a stride-P conv
written as patchify + linear, learned patch positions, a learned temporal embedding added to
every patch of a frame, frame-major tokens [T*N, D], pre-LN Transformer, final LayerNorm) and a
pre-LN decoder (causal self-attention, cross-attention to the video tokens, MLP with exact GELU,
final LayerNorm, logits through the tied token embedding). Decodes greedily one clip at a time
with a key/value cache (cross-attention keys/values projected once per clip), EOS forbidden at
the first step, at most maxLength - 1 new tokens, and checks the tokens equal Tessera's.

Usage: .venv-ref/bin/python torch_captioner.py <job.json>, where job.json holds
  {"modelDir", "frames" (path of float32 [clips, T, 3, H, W] little-endian), "clips",
   "startIds": [en, zh], "eosId", "threads", "rounds",
   "expected": [[tokens of clip 0 lang 0], [clip 0 lang 1], [clip 1 lang 0], ...] (EOS trimmed)}
Prints one JSON line {"tokensPerSecond", "tokens", "torch"}; exits 1 on a token mismatch.
"""
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tools", "python"))
from safetensors_torch import load_safetensors  # noqa: E402


class Captioner:
    """The captioner's forward math over a dict of named weights (names as Tessera saves them)."""

    def __init__(self, config, w):
        self.c = config
        self.w = w
        self.eps = 1e-5  # LayerNorm eps, Tessera's default
        p = config["patchSize"]
        d = config["visionDim"]
        self.patch_kernel = w["video.embeddings.projection.weight"].reshape(d, 3 * p * p)
        self.vision_heads = config["visionHeads"]
        self.text_heads = config["textHeads"]

    def ln(self, x, name):
        return F.layer_norm(x, x.shape[-1:], self.w[name + ".weight"], self.w[name + ".bias"], self.eps)

    def linear(self, x, name):
        return F.linear(x, self.w[name + ".weight"], self.w[name + ".bias"])

    def mlp(self, x, name):
        return self.linear(F.gelu(self.linear(x, name + ".fc1")), name + ".fc2")

    @staticmethod
    def split(x, heads):
        b, s, d = x.shape
        return x.reshape(b, s, heads, d // heads).transpose(1, 2)

    @staticmethod
    def attend(q, k, v):
        scores = q @ k.transpose(-1, -2)  # q already scaled by 1/sqrt(headDim)
        ctx = torch.softmax(scores, -1) @ v
        b, h, s, hd = ctx.shape
        return ctx.transpose(1, 2).reshape(b, s, h * hd)

    def encode(self, video):
        """video [1, T, 3, H, W] -> encoder states [1, T*N, D] (frame-major, patches row-major)."""
        c, w = self.c, self.w
        b, t, ch, hh, ww = video.shape
        p, d = c["patchSize"], c["visionDim"]
        images = video.reshape(b * t, ch, hh // p, p, ww // p, p)
        patches = images.permute(0, 2, 4, 1, 3, 5).reshape(b * t, -1, ch * p * p)  # (c, row, col) per patch
        n = patches.shape[1]
        x = F.linear(patches, self.patch_kernel, w["video.embeddings.projection.bias"]) + w["video.embeddings.position_embeddings"]
        x = x.reshape(b, t, n, d) + w["video.temporal_embedding.weight"][:t].reshape(1, t, 1, d)
        x = x.reshape(b, t * n, d)
        heads = self.vision_heads
        scale = 1 / math.sqrt(d // heads)
        for i in range(c["visionLayers"]):
            name = f"video.encoder.layers.{i}"
            y = self.ln(x, name + ".self_attn_layer_norm")
            q = self.split(self.linear(y, name + ".self_attn.q_proj"), heads) * scale
            k = self.split(self.linear(y, name + ".self_attn.k_proj"), heads)
            v = self.split(self.linear(y, name + ".self_attn.v_proj"), heads)
            x = x + self.linear(self.attend(q, k, v), name + ".self_attn.out_proj")
            x = x + self.mlp(self.ln(x, name + ".final_layer_norm"), name + ".mlp")
        return self.ln(x, "video.layernorm")

    def cross_cache(self, states):
        heads = self.text_heads
        cache = []
        for i in range(self.c["textLayers"]):
            name = f"decoder.decoder.layers.{i}.cross_attn"
            cache.append((self.split(self.linear(states, name + ".k_proj"), heads), self.split(self.linear(states, name + ".v_proj"), heads)))
        return cache

    def step(self, token, position, self_cache, cross):
        """Logits [vocab] for one new token at `position`; appends its keys/values to self_cache.
        `token` and `position` are ints, or int64 tensors of shape [1] (the ONNX export)."""
        w = self.w
        d, heads = self.c["textDim"], self.text_heads
        scale = 1 / math.sqrt(d // heads)
        table = w["decoder.embeddings.token_embedding.weight"]
        x = (table[token] + w["decoder.embeddings.position_embedding.weight"][position]).reshape(1, 1, d)
        for i in range(self.c["textLayers"]):
            name = f"decoder.decoder.layers.{i}"
            y = self.ln(x, name + ".self_attn_layer_norm")
            q = self.split(self.linear(y, name + ".self_attn.q_proj"), heads) * scale
            k = self.split(self.linear(y, name + ".self_attn.k_proj"), heads)
            v = self.split(self.linear(y, name + ".self_attn.v_proj"), heads)
            if self_cache[i] is not None:
                k = torch.cat([self_cache[i][0], k], 2)
                v = torch.cat([self_cache[i][1], v], 2)
            self_cache[i] = (k, v)  # causal: the one new query sees every cached key
            x = x + self.linear(self.attend(q, k, v), name + ".self_attn.out_proj")
            y = self.ln(x, name + ".cross_attn_layer_norm")
            q = self.split(self.linear(y, name + ".cross_attn.q_proj"), heads) * scale
            ck, cv = cross[i]
            x = x + self.linear(self.attend(q, ck, cv), name + ".cross_attn.out_proj")
            x = x + self.mlp(self.ln(x, name + ".final_layer_norm"), name + ".mlp")
        h = self.ln(x, "decoder.final_layer_norm")
        return (h @ table.t()).reshape(-1)

    def greedy(self, video, start, eos):
        """Generated ids (EOS trimmed), as Captioner.generate with beams 1, minNewTokens 1."""
        cross = self.cross_cache(self.encode(video))
        self_cache = [None] * self.c["textLayers"]
        max_new = self.c["maxLength"] - 1
        out = []
        logits = self.step(start, 0, self_cache, cross)
        for t in range(max_new):
            if t < 1:
                logits[eos] = float("-inf")
            token = int(torch.argmax(logits))
            if token == eos:
                break
            out.append(token)
            if t == max_new - 1:
                break
            logits = self.step(token, t + 1, self_cache, cross)
        return out


def main():
    with open(sys.argv[1]) as f:
        job = json.load(f)
    torch.set_num_threads(job["threads"])
    with open(os.path.join(job["modelDir"], "config.json")) as f:
        config = json.load(f)
    if config.get("videoMode", "joint") != "joint":
        sys.exit("torch_captioner.py rebuilds the 'joint' video mode only")
    model = Captioner(config, load_safetensors(os.path.join(job["modelDir"], "model.safetensors")))
    t, s = config["numFrames"], config["imageSize"]
    frames = np.fromfile(job["frames"], dtype="<f4").reshape(job["clips"], 1, t, 3, s, s)
    videos = [torch.from_numpy(frames[i].copy()) for i in range(job["clips"])]
    starts, eos, expected = job["startIds"], job["eosId"], job["expected"]

    def run_round():
        results, tokens = [], 0
        begin = time.perf_counter()
        for video in videos:
            for start in starts:
                ids = model.greedy(video, start, eos)
                results.append(ids)
                tokens += len(ids) + 1  # EOS counted, as decode.bench.ts
        return tokens / (time.perf_counter() - begin), tokens, results

    with torch.inference_mode():
        _, tokens, results = run_round()  # warm-up; also the token check
        if len(results) != len(expected):
            sys.exit(f"expected Tessera tokens for {len(results)} decodings, got {len(expected)}")
        for k, (ours, theirs) in enumerate(zip(expected, results)):
            if ours != theirs:
                clip, lang = divmod(k, len(starts))
                print(f"token mismatch at clip {clip}, start id {starts[lang]}: Tessera {ours}, PyTorch {theirs}", file=sys.stderr)
                sys.exit(1)
        rates = [run_round()[0] for _ in range(job["rounds"])]
    print(json.dumps({"tokensPerSecond": rates, "tokens": tokens, "torch": torch.__version__}))


if __name__ == "__main__":
    main()

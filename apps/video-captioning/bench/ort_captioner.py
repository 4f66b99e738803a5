"""onnxruntime peer of the captioner decoding benchmark (decode.bench.ts).

The PyTorch captioner of torch_captioner.py (same config.json, same model.safetensors) exported
with torch.onnx.export as two graphs, the split Hugging Face's optimum uses for decoders:
  encoder: video [1, T, 3, H, W] -> each decoder layer's cross-attention keys and values;
  step:    token [1], position [1], each layer's past self-attention keys/values [1, heads, P, hd]
           (P dynamic, 0 at the first step) and the cross keys/values -> logits [1, vocab] and the
           past grown by one.
Both run in onnxruntime InferenceSessions on the CPUExecutionProvider (intra_op_num_threads =
threads, inter_op 1, sequential, ORT_ENABLE_ALL), in a Python greedy loop identical to
Captioner.greedy (encoder once per decoding, EOS forbidden at the first step, at most
maxLength - 1 new tokens), and must generate Tessera's tokens for every clip and start id.

Usage: .venv-ref/bin/python ort_captioner.py <job.json> (the job torch_captioner.py reads, plus
"onnxDir"). Prints one JSON line {"tokensPerSecond", "tokens", "onnxruntime", "opset"}; exits 1 on
a token mismatch.
"""
import contextlib
import json
import os
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_captioner import Captioner, load_safetensors  # noqa: E402


class Encoder(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, video):
        return tuple(t for kv in self.model.cross_cache(self.model.encode(video)) for t in kv)


class Step(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model
        self.layers = model.c["textLayers"]

    def forward(self, token, position, *caches):
        n = self.layers
        past = [(caches[2 * i], caches[2 * i + 1]) for i in range(n)]
        cross = [(caches[2 * n + 2 * i], caches[2 * n + 2 * i + 1]) for i in range(n)]
        logits = self.model.step(token, position, past, cross).reshape(1, -1)
        return (logits, *(t for kv in past for t in kv))


def export(model, video, path_prefix):
    """Writes {prefix}-encoder.onnx and {prefix}-step.onnx (TorchScript exporter: dynamic past length, 0 included)."""
    n = model.c["textLayers"]
    heads, hd = model.c["textHeads"], model.c["textDim"] // model.c["textHeads"]
    kv = [f"{kind}{i}" for i in range(n) for kind in ("key", "value")]
    encoder_path, step_path = f"{path_prefix}-encoder.onnx", f"{path_prefix}-step.onnx"
    with torch.no_grad(), contextlib.redirect_stdout(sys.stderr):
        torch.onnx.export(Encoder(model), (video,), encoder_path, dynamo=False, input_names=["video"],
                          output_names=[f"cross_{name}" for name in kv], opset_version=17)
        cross = Encoder(model)(video)
        past = [torch.zeros(1, heads, 2, hd) for _ in kv]
        token, position = torch.tensor([1]), torch.tensor([2])
        dynamic = {f"past_{name}": {2: "past"} for name in kv} | {f"present_{name}": {2: "total"} for name in kv}
        torch.onnx.export(Step(model), (token, position, *past, *cross), step_path, dynamo=False,
                          input_names=["token", "position", *[f"past_{name}" for name in kv], *[f"cross_{name}" for name in kv]],
                          output_names=["logits", *[f"present_{name}" for name in kv]], dynamic_axes=dynamic, opset_version=17)
    return encoder_path, step_path, kv


def main():
    with open(sys.argv[1]) as f:
        job = json.load(f)
    threads = job["threads"]
    torch.set_num_threads(threads)
    with open(os.path.join(job["modelDir"], "config.json")) as f:
        config = json.load(f)
    model = Captioner(config, load_safetensors(os.path.join(job["modelDir"], "model.safetensors")))
    t, s = config["numFrames"], config["imageSize"]
    frames = np.fromfile(job["frames"], dtype="<f4").reshape(job["clips"], 1, t, 3, s, s)
    os.makedirs(job["onnxDir"], exist_ok=True)
    encoder_path, step_path, kv = export(model, torch.from_numpy(frames[0].copy()), os.path.join(job["onnxDir"], "captioner"))
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    encoder = ort.InferenceSession(encoder_path, options, providers=["CPUExecutionProvider"])
    step = ort.InferenceSession(step_path, options, providers=["CPUExecutionProvider"])
    opset = next(o.version for o in onnx.load(step_path).opset_import if o.domain in ("", "ai.onnx"))
    heads, hd = config["textHeads"], config["textDim"] // config["textHeads"]
    max_new = config["maxLength"] - 1
    starts, eos, expected = job["startIds"], job["eosId"], job["expected"]
    videos = [np.ascontiguousarray(frames[i]) for i in range(job["clips"])]
    empty = np.zeros((1, heads, 0, hd), dtype=np.float32)

    def greedy(video, start):
        cross = dict(zip((f"cross_{name}" for name in kv), encoder.run(None, {"video": video})))
        past = {f"past_{name}": empty for name in kv}
        out = []

        def advance(token, position):
            logits, *present = step.run(None, {"token": np.array([token], dtype=np.int64),
                                               "position": np.array([position], dtype=np.int64), **past, **cross})
            past.update(zip((f"past_{name}" for name in kv), present))
            return logits[0]

        logits = advance(start, 0)
        for i in range(max_new):
            if i < 1:
                logits[eos] = -np.inf
            token = int(np.argmax(logits))
            if token == eos:
                break
            out.append(token)
            if i == max_new - 1:
                break
            logits = advance(token, i + 1)
        return out

    def run_round():
        results, tokens = [], 0
        begin = time.perf_counter()
        for video in videos:
            for start in starts:
                ids = greedy(video, start)
                results.append(ids)
                tokens += len(ids) + 1  # EOS counted, as decode.bench.ts
        return tokens / (time.perf_counter() - begin), tokens, results

    _, tokens, results = run_round()  # warm-up; also the token check
    for k, (ours, theirs) in enumerate(zip(expected, results)):
        if ours != theirs:
            clip, lang = divmod(k, len(starts))
            print(f"token mismatch at clip {clip}, start id {starts[lang]}: Tessera {ours}, onnxruntime {theirs}", file=sys.stderr)
            sys.exit(1)
    if len(results) != len(expected):
        sys.exit(f"expected Tessera tokens for {len(results)} decodings, got {len(expected)}")
    rates = [run_round()[0] for _ in range(job["rounds"])]
    print(json.dumps({"tokensPerSecond": rates, "tokens": tokens, "onnxruntime": ort.__version__, "opset": opset}))


if __name__ == "__main__":
    main()

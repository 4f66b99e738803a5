"""onnxruntime peer of the embedding benchmarks (clipB32.bench.ts, embedImages.bench.ts): the same
weights Tessera loads, exported with torch.onnx.export (the dynamo exporter, fixed bench shapes,
float32) and run by an onnxruntime InferenceSession on the CPUExecutionProvider with
intra_op_num_threads = the job's threads, inter_op_num_threads 1, sequential execution and every
graph optimisation on (ORT_ENABLE_ALL, the default): what a user exporting for CPU inference runs.

The exported function is the whole embedding, as on the Tessera side: tower + projection + L2
normalisation. Two sources:
  - "hf": a Hugging Face CLIP folder (make_clip_b32.py), transformers' CLIPModel
    get_image_features / get_text_features, exactly what torch_clip_b32.py runs;
  - "tessera": a Tessera clip-tiny model.safetensors, through torch_embed.py's ImageEmbedder
    (images only), exactly what torch_embed.py runs.
Before anything is timed the session's embeddings of the bench batches are checked against
Tessera's (the job's expected files) within the tolerance.

Usage: python ort_clip.py <job.json>, where job.json holds
  {"source": "hf" | "tessera", "dir" (hf folder) or "weights" + "model" (Tessera config),
   "onnxDir" (scratch: <name>.onnx files are exported there once and reused), "threads", "steps",
   "tolerance", "images" (float32 [B, 3, S, S] little-endian), "imageBatch", "imageSize",
   "expectedImages" (float32 [B, D]), and for "hf" optionally "ids" / "mask" (int32 [T, L]),
   "textBatch", "textLength", "expectedTexts" (float32 [T, D])}
Prints {"ready", "maxAbsDiff", "onnxruntime", "onnx", "torch", "opset", "exportSeconds"} (or exits 1
when the embeddings differ by more than the tolerance), then answers each stdin line "images" or
"texts" with {"perSecond"} for one round of `steps` session runs, and "done" with {"peakRssMiB"}
(this process's peak: it includes the PyTorch model the export loaded). One JSON line each.
"""
import contextlib
import json
import os
import resource
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn.functional as F


def read(path, dtype, shape):
    return np.fromfile(path, dtype=dtype).reshape(shape).copy()


def say(value):
    print(json.dumps(value), flush=True)


def features(out):
    """transformers 5 returns a model output from get_*_features; 4.x returned the tensor."""
    return out if torch.is_tensor(out) else out.pooler_output


class HfImages(torch.nn.Module):
    def __init__(self, clip):
        super().__init__()
        self.clip = clip

    def forward(self, pixel_values):
        return F.normalize(features(self.clip.get_image_features(pixel_values=pixel_values)), dim=-1)


class HfTexts(torch.nn.Module):
    def __init__(self, clip):
        super().__init__()
        self.clip = clip

    def forward(self, input_ids, attention_mask):
        return F.normalize(features(self.clip.get_text_features(input_ids=input_ids, attention_mask=attention_mask)), dim=-1)


def modules(job):
    """The torch modules to export, by name, each with its example inputs (the bench batch)."""
    images = torch.from_numpy(read(job["images"], "<f4", (job["imageBatch"], 3, job["imageSize"], job["imageSize"])))
    if job["source"] == "tessera":
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from torch_embed import ImageEmbedder  # noqa: E402

        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tools", "python"))
        from safetensors_torch import load_safetensors  # noqa: E402

        model = ImageEmbedder(job["model"])
        model.load_tessera(load_safetensors(job["weights"]))
        return {"images": (model.eval(), {"images": images})}
    from transformers import CLIPModel

    clip = CLIPModel.from_pretrained(job["dir"]).eval()
    out = {"images": (HfImages(clip), {"pixel_values": images})}
    if "ids" in job:
        shape = (job["textBatch"], job["textLength"])
        ids = torch.from_numpy(read(job["ids"], "<i4", shape)).long()
        mask = torch.from_numpy(read(job["mask"], "<i4", shape)).long()
        out["texts"] = (HfTexts(clip), {"input_ids": ids, "attention_mask": mask})
    return out


def main():
    with open(sys.argv[1]) as f:
        job = json.load(f)
    threads = job["threads"]
    torch.set_num_threads(threads)
    os.makedirs(job["onnxDir"], exist_ok=True)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    work, export_seconds, diff, opset = {}, 0.0, 0.0, None
    exports = modules(job)
    for name, (module, inputs) in exports.items():
        path = os.path.join(job["onnxDir"], f"{job['source']}-{name}.onnx")
        if not os.path.exists(path):  # the 2-thread run reuses the 1-thread run's export
            start = time.perf_counter()
            # The exporter prints its progress on stdout, which is this script's answer channel.
            with torch.no_grad(), contextlib.redirect_stdout(sys.stderr):
                torch.onnx.export(
                    module, (), f"{path}.tmp", kwargs=inputs, dynamo=True, external_data=False,
                    input_names=list(inputs), output_names=["embeds"],
                )
            os.replace(f"{path}.tmp", path)
            export_seconds += time.perf_counter() - start
        opset = next(o.version for o in onnx.load(path, load_external_data=False).opset_import if o.domain in ("", "ai.onnx"))
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        feed = {k: v.numpy() for k, v in inputs.items()}
        expected_file = job["expectedImages"] if name == "images" else job["expectedTexts"]
        batch = job["imageBatch"] if name == "images" else job["textBatch"]
        got = session.run(None, feed)[0]
        diff = max(diff, float(np.abs(got - read(expected_file, "<f4", got.shape)).max()))
        if not got.shape[0] == batch or not diff <= job["tolerance"]:
            print(f"{name} embeddings differ from Tessera's: max abs diff {diff} > {job['tolerance']}", file=sys.stderr)
            sys.exit(1)
        session.run(None, feed)  # warm-up (the check was the first run)
        work[name] = (session, feed, batch)
    del exports, module, inputs  # the sessions hold their own weights; the torch copies can go
    say({
        "ready": True, "maxAbsDiff": diff, "onnxruntime": ort.__version__, "onnx": onnx.__version__,
        "torch": torch.__version__, "opset": opset, "exportSeconds": export_seconds,
    })
    for line in sys.stdin:
        command = line.strip()
        if command == "done":
            break
        session, feed, count = work[command]
        start = time.perf_counter()
        for _ in range(job["steps"]):
            session.run(None, feed)
        say({"perSecond": count * job["steps"] / (time.perf_counter() - start)})
    say({"peakRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})


if __name__ == "__main__":
    main()

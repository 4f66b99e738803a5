"""PyTorch peer of the ViT-B/32 embedding benchmark, clipB32.bench.ts: transformers' CLIPModel
loaded from the same Hugging Face folder Tessera loads (make_clip_b32.py wrote it).

Checks get_image_features / get_text_features (L2-normalised) of the bench batches against
Tessera's, then times rounds under torch.inference_mode() at the job's thread count when the
benchmark asks, so that its rounds and Tessera's alternate and share the machine's load alike.

Usage: python torch_clip_b32.py <job.json>, where job.json holds
  {"dir", "threads", "steps", "tolerance",
   "images" (float32 [B, 3, 224, 224] little-endian), "imageBatch", "expectedImages" (float32 [B, 512]),
   "ids" / "mask" (int32 [T, S]), "textBatch", "textLength", "expectedTexts" (float32 [T, 512])}
Prints {"ready", "maxAbsDiff", "torch", "transformers", "bf16Cosine" {"min", "mean"}} (or exits 1 when
the embeddings differ by more than the tolerance; bf16Cosine: per-image cosine between the image
embeddings under torch.autocast("cpu", dtype=torch.bfloat16) and the float32 ones), then answers
each stdin line "images", "texts" or "images-bf16" (the image batch under bf16 autocast) with
{"perSecond"} for one round of `steps` batches, and
"done" with {"peakRssMiB"}; one JSON line each.
"""
import json
import resource
import sys
import time

import numpy as np
import torch
import transformers
from transformers import CLIPModel


def read(path, dtype, shape):
    return torch.from_numpy(np.fromfile(path, dtype=dtype).reshape(shape).copy())


def features(out):
    """transformers 5 returns a model output from get_*_features; 4.x returned the tensor."""
    return out if torch.is_tensor(out) else out.pooler_output


def say(value):
    print(json.dumps(value), flush=True)


def main():
    with open(sys.argv[1]) as f:
        job = json.load(f)
    torch.set_num_threads(job["threads"])
    model = CLIPModel.from_pretrained(job["dir"]).eval()
    dim = model.config.projection_dim
    images = read(job["images"], "<f4", (job["imageBatch"], 3, 224, 224))
    ids = read(job["ids"], "<i4", (job["textBatch"], job["textLength"])).long()
    mask = read(job["mask"], "<i4", (job["textBatch"], job["textLength"])).long()
    embed_images = lambda: torch.nn.functional.normalize(features(model.get_image_features(pixel_values=images)), dim=-1)
    embed_texts = lambda: torch.nn.functional.normalize(
        features(model.get_text_features(input_ids=ids, attention_mask=mask)), dim=-1
    )
    with torch.inference_mode():
        diff = max(
            float((embed_images() - read(job["expectedImages"], "<f4", (job["imageBatch"], dim))).abs().max()),
            float((embed_texts() - read(job["expectedTexts"], "<f4", (job["textBatch"], dim))).abs().max()),
        )
        if not diff <= job["tolerance"]:
            print(f"embeddings differ from Tessera's: max abs diff {diff} > {job['tolerance']}", file=sys.stderr)
            sys.exit(1)
        # bf16 autocast (oneDNN bf16 kernels: AMX or AVX512-BF16 where the CPU has them): not the same
        # precision, so it is checked only by how close its embeddings stay to float32's.
        def embed_images_bf16():
            with torch.autocast("cpu", dtype=torch.bfloat16):
                return embed_images()

        cosine = torch.nn.functional.cosine_similarity(embed_images_bf16().float(), embed_images(), dim=-1)
        embed_images_bf16()  # warm-up
        say({
            "ready": True, "maxAbsDiff": diff, "torch": torch.__version__, "transformers": transformers.__version__,
            "bf16Cosine": {"min": float(cosine.min()), "mean": float(cosine.mean())},
        })
        work = {
            "images": (embed_images, job["imageBatch"]),
            "texts": (embed_texts, job["textBatch"]),
            "images-bf16": (embed_images_bf16, job["imageBatch"]),
        }
        for line in sys.stdin:  # the check above was the warm-up
            command = line.strip()
            if command == "done":
                break
            fn, count = work[command]
            start = time.perf_counter()
            for _ in range(job["steps"]):
                fn()
            say({"perSecond": count * job["steps"] / (time.perf_counter() - start)})
    say({"peakRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})


if __name__ == "__main__":
    main()

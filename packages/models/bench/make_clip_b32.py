"""Writes a Hugging Face CLIP folder with the exact architecture of openai/clip-vit-base-patch32
(random weights) for the ViT-B/32 speed benchmark, clipB32.bench.ts. Nothing is downloaded.

Usage: /work/venv-ref/bin/python make_clip_b32.py <dir>
The folder (~600 MB, float32) is scratch: the benchmark writes it to a temporary directory.
Weights are spread far from the default init (which gives every image nearly the same
embedding), so the equality check against Tessera means something; the script prints the
mean cosine between the embeddings of different random images to show it.
"""

import json
import os
import sys

import torch
from transformers import CLIPConfig, CLIPImageProcessorPil, CLIPModel

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "pretrained"))
# The fixtures' small CLIP-style BPE (loadPretrained needs a tokenizer) and their weight spread.
from make_clip import spread, train_tokenizer  # noqa: E402

# config.json of openai/clip-vit-base-patch32 (transformers' CLIPConfig keys).
TEXT = dict(
    vocab_size=49408, hidden_size=512, intermediate_size=2048, num_hidden_layers=12, num_attention_heads=8,
    max_position_embeddings=77, hidden_act="quick_gelu", layer_norm_eps=1e-5, bos_token_id=0, eos_token_id=2, pad_token_id=1,
    projection_dim=512,
)
VISION = dict(
    hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12, image_size=224, patch_size=32,
    num_channels=3, hidden_act="quick_gelu", layer_norm_eps=1e-5, projection_dim=512,
)


def main():
    out = sys.argv[1]
    config = CLIPConfig(text_config=TEXT, vision_config=VISION, projection_dim=512, logit_scale_init_value=2.6592)
    model = spread(CLIPModel(config), 0, std=0.1)  # matrices N(0, 0.1), LayerNorm gains 1 + N(0, 0.1), biases N(0, 0.05)
    model.save_pretrained(out)
    CLIPImageProcessorPil(size={"shortest_edge": 224}, crop_size={"height": 224, "width": 224}).save_pretrained(out)
    train_tokenizer().save_pretrained(out)
    with torch.inference_mode():
        g = torch.Generator().manual_seed(1)
        e = model.get_image_features(pixel_values=torch.randn(4, 3, 224, 224, generator=g))
        e = torch.nn.functional.normalize(e if torch.is_tensor(e) else e.pooler_output, dim=-1)
        cos = (e @ e.T)[~torch.eye(4, dtype=torch.bool)].mean().item()
    print(json.dumps({"dir": out, "parameters": sum(p.numel() for p in model.parameters()), "meanImageCosine": cos}))


if __name__ == "__main__":
    main()

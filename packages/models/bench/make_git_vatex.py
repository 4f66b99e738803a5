"""Writes a GIT video captioner of microsoft/git-base-vatex's exact size (random weights) for gitCaption.bench.ts.

Usage: /work/venv-ref/bin/python make_git_vatex.py <scratch dir>
Writes <dir>/model (save_pretrained: config.json, model.safetensors, generation_config.json,
a 30522-token WordPiece tokenizer and the CLIP processor config, as the hub folder has) and
<dir>/pixels.f32: 8 clips x 6 frames of the OpenCV sample tree.avi (48 frames evenly over it,
decoded by ffmpeg at 224x224), preprocessed by the folder's processor, float32 [8, 6, 3, 224, 224].
The weights are spread (see `spread`) so that greedy captions are several distinct tokens.
Nothing here is committed: the folder is ~700 MB.
"""

import json
import os
import subprocess
import sys

import numpy as np
import torch
from PIL import Image
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
from transformers import BertTokenizerFast, CLIPImageProcessorPil, GitConfig, GitForCausalLM

HERE = os.path.dirname(os.path.abspath(__file__))
CLIP = os.path.join(HERE, "../../patches/test/fixtures/tree_2s.avi")
CLIPS, FRAMES = 8, 6

# microsoft/git-base-vatex config.json (transformers 4.26 export), every size field as on the hub.
VATEX = dict(
    vision_config=dict(
        hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12, num_channels=3,
        image_size=224, patch_size=16, hidden_act="quick_gelu", layer_norm_eps=1e-5, projection_dim=512,
        dropout=0.0, attention_dropout=0.0,
    ),
    vocab_size=30522, hidden_size=768, num_hidden_layers=6, num_attention_heads=12, intermediate_size=3072,
    hidden_act="gelu", hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1, max_position_embeddings=1024,
    initializer_range=0.02, layer_norm_eps=1e-12, pad_token_id=0, bos_token_id=101, eos_token_id=102,
    position_embedding_type="absolute", use_cache=True, tie_word_embeddings=False, num_image_with_embedding=6,
)


def bert_tokenizer(size):
    """A bert-base-uncased-shaped WordPiece ([PAD] 0, [UNK] 100, [CLS] 101, [SEP] 102, [MASK] 103) of `size` tokens."""
    vocab = ["[PAD]"] + [f"[unused{i}]" for i in range(99)] + ["[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    words = "a the tree in wind green leaf of move slow sky man is on and with video shows".split()
    vocab += words + [f"##{w}" for w in ("s", "es", "ly", "ing", "ed")]
    vocab += [f"w{i}" for i in range(size - len(vocab))]
    ids = {t: i for i, t in enumerate(vocab)}
    tok = Tokenizer(models.WordPiece(ids, unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", 101), ("[SEP]", 102)]
    )
    tok.decoder = decoders.WordPiece(prefix="##")
    return BertTokenizerFast(
        tokenizer_object=tok, unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]", cls_token="[CLS]",
        mask_token="[MASK]", do_lower_case=True, model_max_length=512,
    )


def spread(model, seed):
    """Weights with a larger spread than the default init (which makes every caption one repeated token):
    word embeddings std 1, other embeddings std 0.2, matrices std gain/sqrt(fan in) (vision 1, decoder 0.7
    so each decoder layer keeps the current token in its residual, output head 2), LayerNorm gains near 1, small biases."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            norm = "norm" in name.lower() or "layrnorm" in name or "visual_projection.1" in name
            if norm and name.endswith("weight"):
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=g))
            elif norm or name.endswith("bias"):
                p.copy_(0.05 * torch.randn(p.shape, generator=g))
            elif "word_embeddings" in name:
                p.copy_(torch.randn(p.shape, generator=g))
            elif "patch_embedding" in name or (p.dim() >= 2 and "embedding" not in name):
                gain = 1.0 if "image_encoder" in name else 2.0 if name == "output.weight" else 0.7
                p.copy_(gain / np.sqrt(p[0].numel()) * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.2 * torch.randn(p.shape, generator=g))
    return model.eval()


def frames():
    """48 frames evenly over the clip (frames repeat where it has fewer), 224x224, as 8 clips of 6."""
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", CLIP, "-vf", "scale=224:224", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        check=True, capture_output=True,
    ).stdout
    pics = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 224, 224, 3)
    picked = np.linspace(0, len(pics) - 1, CLIPS * FRAMES).round().astype(int)
    return [Image.fromarray(pics[i]) for i in picked]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    processor = CLIPImageProcessorPil(
        size={"shortest_edge": 224}, crop_size={"height": 224, "width": 224}, resample=3, do_center_crop=True,
    )
    pixels = processor(images=frames(), return_tensors="pt")["pixel_values"].reshape(CLIPS, FRAMES, 3, 224, 224)
    model = spread(GitForCausalLM(GitConfig(**VATEX)), 1)
    with torch.inference_mode():
        seq = model.generate(pixel_values=pixels[:2], input_ids=torch.full((2, 1), 101), max_new_tokens=19, min_new_tokens=19, do_sample=False)
    ids = seq[:, 1:].tolist()
    distinct = min(len(set(r)) for r in ids)
    assert distinct >= 3, f"random captions repeat tokens: {ids}"
    path = os.path.join(out, "model")
    model.save_pretrained(path)
    bert_tokenizer(VATEX["vocab_size"]).save_pretrained(path)
    processor.save_pretrained(path)
    pixels.numpy().astype("<f4").tofile(os.path.join(out, "pixels.f32"))
    print(json.dumps({"model": path, "parameters": sum(p.numel() for p in model.parameters()), "greedy": ids}))


if __name__ == "__main__":
    main()

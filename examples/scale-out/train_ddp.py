"""Continues contrastive training of a CLIP-family Hugging Face folder (`tessera export --format hf`)
with PyTorch DistributedDataParallel, on the WebDataset shards Tessera writes and reads.

    torchrun --nproc_per_node 8 examples/scale-out/train_ddp.py \
        --init exported/ --shards 'shards/shard-{000000..000099}.tar' \
        --steps 1000 --batch-size 256 --lr 5e-5 --out trained/

Backend nccl when CUDA is available, else gloo (CPU). Shard i goes to rank i % world_size; each
rank cycles through its own shards. The loss is Tessera's CLIP loss (packages/objectives/src/
clipLoss.ts as DualEncoder uses it) over the global batch: L2-normalised features, logits =
exp(min(logit_scale, ln 100)) * img . txt^T, symmetric cross-entropy with the diagonal as
targets. Features are gathered from every rank with gradients flowing back to their owners, so
the averaged DDP gradient is the gradient of that global loss. Rank 0 saves the folder with
save_pretrained plus the init folder's tokenizer and preprocessor files (Tessera's loadModel
reads it), atomically. --log-json writes per-rank shard lists and per-step losses as JSON;
--dump-embeddings writes the saved model's features of given captions and images.
"""

import argparse
import glob
import io
import json
import math
import os
import re
import shutil
import tarfile
import tempfile

import torch
import torch.distributed as dist
import torch.nn.functional as F
import transformers
from PIL import Image
from transformers import AutoConfig, AutoTokenizer, CLIPImageProcessor

IMAGE_EXTS = {"png", "jpg", "jpeg", "webp", "bmp", "gif"}
# Files of the init folder that save_pretrained does not write but Tessera's loader reads.
COPIED_FILES = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "preprocessor_config.json"]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--init", required=True, help="Hugging Face CLIP folder (tessera export --format hf)")
    p.add_argument("--shards", required=True, help="a glob, a {000000..000009} brace range, a directory or a .tar")
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--batch-size", type=int, required=True, help="pairs per rank and step")
    p.add_argument("--lr", type=float, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--weight-decay", type=float, default=0.1, help="Tessera's default; not on vectors, scales, positions")
    p.add_argument("--max-logit-scale", type=float, default=math.log(100))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--log-json", help="JSON file (rank 0 writes it): shards per rank, loss per step")
    p.add_argument("--dump-embeddings", help="JSON {captions, images}: rank 0 writes the saved model's features to <out>/embeddings.json")
    return p.parse_args(argv)


def resolve_shards(spec):
    """The shard files of a spec, as Tessera's resolveShards: brace range, directory, glob or file."""
    brace = re.search(r"\{(\d+)\.\.(\d+)\}", spec)
    if brace:
        first, last = brace.group(1), brace.group(2)
        return [spec.replace(brace.group(0), str(i).zfill(len(first))) for i in range(int(first), int(last) + 1)]
    if os.path.isdir(spec):
        return sorted(os.path.join(spec, n) for n in os.listdir(spec) if n.endswith(".tar"))
    files = sorted(glob.glob(spec))
    if not files:
        raise SystemExit(f"no shards match {spec}: give a glob, a {{000000..000009}} range, a directory or a .tar")
    return files


def split_key(name):
    """WebDataset key and extension: `a/b.c.png` -> (`a/b`, `c.png`)."""
    slash = name.rfind("/")
    dot = name.find(".", slash + 1)
    return (name, "") if dot < 0 else (name[:dot], name[dot + 1 :].lower())


def caption_of(files):
    """The .txt caption (img2dataset) if present, else the first of the .json captions."""
    if "txt" in files:
        return files["txt"].decode("utf-8").strip()
    if "json" in files:
        meta = json.loads(files["json"])
        captions = meta.get("captions", meta.get("caption", meta.get("text")))
        first = captions[0] if isinstance(captions, list) and captions else captions
        text = first.get("text") if isinstance(first, dict) else first
        return text.strip() if isinstance(text, str) else None
    return None


def read_shard(path):
    """(PIL image, caption) pairs of one tar; samples without image or caption are skipped."""
    samples, order = {}, []
    with tarfile.open(path) as tar:
        for member in tar:
            if not member.isfile():
                continue
            key, ext = split_key(member.name)
            if key not in samples:
                samples[key] = {}
                order.append(key)
            samples[key][ext] = tar.extractfile(member).read()
    out = []
    for key in order:
        files = samples[key]
        image_ext = next((e for e in files if e in IMAGE_EXTS), None)
        caption = caption_of(files)
        if image_ext is None or not caption:
            continue
        out.append((Image.open(io.BytesIO(files[image_ext])).convert("RGB"), caption))
    return out


def batches(samples, batch_size, seed):
    """Endless batches of a rank's samples, reshuffled each epoch."""
    g = torch.Generator().manual_seed(seed)
    pool = []
    while True:
        if len(pool) < batch_size:
            pool += [samples[i] for i in torch.randperm(len(samples), generator=g).tolist()]
            continue
        yield pool[:batch_size]
        pool = pool[batch_size:]


class GatherWithGrad(torch.autograd.Function):
    """all_gather of [n, d] features into [world * n, d]; backward sums every rank's gradient of
    the gathered tensor and hands each rank its slice (open_clip's gather_with_grad, on all_reduce,
    which gloo and nccl both have)."""

    @staticmethod
    def forward(ctx, x):
        parts = [torch.empty_like(x) for _ in range(dist.get_world_size())]
        dist.all_gather(parts, x.contiguous())
        ctx.n = x.shape[0]
        return torch.cat(parts)

    @staticmethod
    def backward(ctx, grad):
        grad = grad.contiguous().clone()
        dist.all_reduce(grad)
        rank = dist.get_rank()
        return grad[rank * ctx.n : (rank + 1) * ctx.n]


def clip_loss(image, text, logit_scale, max_logit_scale):
    """This rank's part of Tessera's CLIP loss over the global batch (mean over ranks = the loss)."""
    image = F.normalize(image, dim=-1)
    text = F.normalize(text, dim=-1)
    scale = logit_scale.clamp(max=max_logit_scale).exp()
    all_image, all_text = GatherWithGrad.apply(image), GatherWithGrad.apply(text)
    labels = torch.arange(image.shape[0], device=image.device) + dist.get_rank() * image.shape[0]
    loss_i2t = F.cross_entropy(scale * image @ all_text.T, labels)
    loss_t2i = F.cross_entropy(scale * text @ all_image.T, labels)
    return (loss_i2t + loss_t2i) / 2


def features(out):
    """get_*_features returns a tensor (transformers 4) or an output with pooler_output (5)."""
    return getattr(out, "pooler_output", out)


def load_model(folder):
    config = AutoConfig.from_pretrained(folder)
    if config.model_type == "siglip":
        raise SystemExit(f"{folder} is SigLIP: this recipe trains CLIP's softmax loss, not the sigmoid one")
    cls = getattr(transformers, (config.architectures or ["CLIPModel"])[0])
    return cls.from_pretrained(folder, dtype=torch.float32)


def encode(model, tokenizer, processor, captions, images, max_length, device):
    text = tokenizer(captions, padding=True, truncation=True, max_length=max_length, return_tensors="pt").to(device)
    pixels = processor(images=images, return_tensors="pt")["pixel_values"].to(device)
    image_features = features(model.get_image_features(pixel_values=pixels))
    text_features = features(model.get_text_features(input_ids=text["input_ids"], attention_mask=text["attention_mask"]))
    return image_features, text_features


def save_atomically(model, init, out):
    """save_pretrained into a temp folder beside `out`, the init's tokenizer files next to it, then rename."""
    parent = os.path.dirname(os.path.abspath(out))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(out)}.tmp-", dir=parent)
    model.save_pretrained(tmp)
    for name in COPIED_FILES:
        if os.path.exists(os.path.join(init, name)):
            shutil.copy(os.path.join(init, name), os.path.join(tmp, name))
    if os.path.exists(out):
        old = f"{tmp}.old"
        os.rename(out, old)
        os.rename(tmp, out)
        shutil.rmtree(old)
    else:
        os.rename(tmp, out)


def main(argv=None):
    args = parse_args(argv)
    cuda = torch.cuda.is_available()
    dist.init_process_group("nccl" if cuda else "gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    device = torch.device("cuda", local_rank) if cuda else torch.device("cpu")
    if cuda:
        torch.cuda.set_device(device)
    torch.manual_seed(args.seed)

    shards = resolve_shards(args.shards)
    if len(shards) < world:
        raise SystemExit(f"{len(shards)} shards for {world} ranks: every rank needs at least one shard")
    mine = [s for i, s in enumerate(shards) if i % world == rank]
    samples = [pair for s in mine for pair in read_shard(s)]
    if not samples:
        raise SystemExit(f"rank {rank}: no samples in {mine}")
    print(f"rank {rank}/{world}: {len(mine)} shards, {len(samples)} samples: {mine}", flush=True)

    model = load_model(args.init).to(device).train()
    tokenizer = AutoTokenizer.from_pretrained(args.init)
    processor = CLIPImageProcessor.from_pretrained(args.init)
    max_length = model.config.text_config.max_position_embeddings
    ddp = torch.nn.parallel.DistributedDataParallel(model, device_ids=[local_rank] if cuda else None)

    # Tessera decays matrices only, and neither positions nor the logit scale.
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and "position_embedding" not in n]
    no_decay = [p for n, p in model.named_parameters() if not (p.ndim >= 2 and "position_embedding" not in n)]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": args.weight_decay}, {"params": no_decay, "weight_decay": 0.0}], lr=args.lr
    )

    losses = []
    stream = batches(samples, args.batch_size, args.seed + rank)
    for step in range(args.steps):
        batch = next(stream)
        images, captions = [b[0] for b in batch], [b[1] for b in batch]
        # Through the DDP wrapper's forward, so its gradient hooks run: CLIPModel.forward gives both towers' features.
        text = tokenizer(captions, padding=True, truncation=True, max_length=max_length, return_tensors="pt").to(device)
        pixels = processor(images=images, return_tensors="pt")["pixel_values"].to(device)
        out = ddp(input_ids=text["input_ids"], attention_mask=text["attention_mask"], pixel_values=pixels)
        loss = clip_loss(out.image_embeds, out.text_embeds, model.logit_scale, args.max_logit_scale)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        global_loss = loss.detach().clone()
        dist.all_reduce(global_loss)
        losses.append(global_loss.item() / world)
        if rank == 0 and (step % 10 == 0 or step == args.steps - 1):
            print(f"step {step + 1}/{args.steps} loss {losses[-1]:.4f} scale {model.logit_scale.exp().item():.2f}", flush=True)

    shard_lists = [None] * world
    dist.all_gather_object(shard_lists, mine)
    if rank == 0:
        model.eval()
        save_atomically(model, args.init, args.out)
        if args.dump_embeddings:
            with open(args.dump_embeddings) as f:
                fixed = json.load(f)
            images = [Image.open(p).convert("RGB") for p in fixed["images"]]
            with torch.no_grad():
                image_features, text_features = encode(model, tokenizer, processor, fixed["captions"], images, max_length, device)
            with open(os.path.join(args.out, "embeddings.json"), "w") as f:
                json.dump({"image_features": image_features.tolist(), "text_features": text_features.tolist()}, f)
        if args.log_json:
            with open(args.log_json, "w") as f:
                json.dump({"world_size": world, "backend": dist.get_backend(), "shards": shard_lists, "losses": losses}, f)
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()

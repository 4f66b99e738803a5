"""PyTorch peer for tests/bench/transformer-step.bench.ts: the same tiny Transformer training
step (embedding gather, 2 pre-LN blocks of 4-head attention + GELU MLP, softmax cross-entropy,
Adam), timed on this machine. Prints one JSON line. Run with the reference env:

    .venv-ref/bin/python tests/bench/transformer_step.py --batch 32 --seq 64 --dim 128 --heads 4 \
        --layers 2 --ff 512 --vocab 1000 --steps 20 --threads 1
"""
import argparse
import json
import math
import sys
import time

try:
    import torch
except ImportError:
    print("PyTorch is missing: run tools/python/setup-reference-env.sh and use .venv-ref/bin/python", file=sys.stderr)
    sys.exit(2)

p = argparse.ArgumentParser()
for name, default in [("batch", 32), ("seq", 64), ("dim", 128), ("heads", 4), ("layers", 2), ("ff", 512), ("vocab", 1000), ("steps", 20), ("threads", 1)]:
    p.add_argument(f"--{name}", type=int, default=default)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)


class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1 = torch.nn.LayerNorm(a.dim)
        self.q = torch.nn.Linear(a.dim, a.dim)
        self.k = torch.nn.Linear(a.dim, a.dim)
        self.v = torch.nn.Linear(a.dim, a.dim)
        self.o = torch.nn.Linear(a.dim, a.dim)
        self.ln2 = torch.nn.LayerNorm(a.dim)
        self.fc1 = torch.nn.Linear(a.dim, a.ff)
        self.fc2 = torch.nn.Linear(a.ff, a.dim)

    def forward(self, x):
        b, s, d = x.shape
        h = self.ln1(x)
        split = lambda t: t.view(b, s, a.heads, d // a.heads).transpose(1, 2)
        q, k, v = split(self.q(h)), split(self.k(h)), split(self.v(h))
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d // a.heads), dim=-1)
        x = x + self.o((att @ v).transpose(1, 2).reshape(b, s, d))
        return x + self.fc2(torch.nn.functional.gelu(self.fc1(self.ln2(x)), approximate="tanh"))


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(a.vocab, a.dim)
        self.pos = torch.nn.Parameter(torch.randn(a.seq, a.dim) * 0.02)
        self.blocks = torch.nn.ModuleList([Block() for _ in range(a.layers)])
        self.ln = torch.nn.LayerNorm(a.dim)
        self.head = torch.nn.Linear(a.dim, a.vocab)

    def forward(self, ids):
        x = self.emb(ids) + self.pos
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln(x))


model = Model()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
ids = torch.randint(0, a.vocab, (a.batch, a.seq))
labels = torch.randint(0, a.vocab, (a.batch, a.seq))


def step():
    opt.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(ids).view(-1, a.vocab), labels.view(-1))
    loss.backward()
    opt.step()
    return loss.item()


for _ in range(3):
    step()
start = time.perf_counter()
for _ in range(a.steps):
    step()
elapsed = time.perf_counter() - start
print(json.dumps({"stepsPerSecond": a.steps / elapsed, "torch": torch.__version__, "threads": torch.get_num_threads()}))

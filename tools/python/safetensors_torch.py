"""Reads a safetensors file into float32 torch tensors with only json, struct and numpy (no
`safetensors` package on this machine): the PyTorch peers of the benchmarks load Tessera's
model.safetensors with it. Usage: sys.path.insert(0, <repo>/tools/python); from
safetensors_torch import load_safetensors."""
import json
import struct

import numpy as np
import torch

DTYPES = {"F32": np.float32, "F16": np.float16, "I32": np.int32, "I64": np.int64}


def load_safetensors(path):
    """{name: float32 torch.Tensor} for every tensor in the file (metadata skipped)."""
    with open(path, "rb") as f:
        data = f.read()
    (header_len,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + header_len])
    body = data[8 + header_len :]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        array = np.frombuffer(body[start:end], dtype=DTYPES[info["dtype"]]).reshape(info["shape"])
        out[name] = torch.from_numpy(array.astype(np.float32, copy=True))
    return out

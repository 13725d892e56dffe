#!/usr/bin/python3
"""Run a lab checkpoint through an independent PyTorch GPT with nanoGPT's structure and state-dict names.

    /usr/bin/python3 tools/nanogpt_check.py MODEL.safetensors IDS.json OUT.json [--dtype float64|float32]

IDS.json is a list of equal-length lists of token ids, shape (n, T). OUT.json receives
{"shape": [H, n, T, V], "logits": [flat row-major values]}, H = 1 + extra_heads (head 0 is nanoGPT's lm_head;
head k is the k-th multi-token head: ln_f(block_k(z)) @ wte^T on the trunk output z before ln_f), and one more,
last, for a model with the token-order head (lab_config top_head): ln_f(z) @ top_head.weight^T.

The safetensors file is parsed with struct + json + torch.frombuffer (the `safetensors` package is not needed), the
model is built from __metadata__.config, and weights load with load_state_dict(strict=False): nanoGPT's causal-mask
buffer `attn.bias` is not part of this module, and the tied lm_head.weight is checked to equal wte.
test/onnx.test.ts compares its output with the lab's float64 reference (src/model/reference.ts).
"""
import argparse
import json
import math
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

DTYPES = {"F32": (torch.float32, 4), "F16": (torch.float16, 2), "BF16": (torch.bfloat16, 2)}


def read_safetensors(path):
    """Return ({name: tensor float32}, metadata dict)."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    data = raw[8 + n :]
    tensors = {}
    for name, entry in header.items():
        dtype, size = DTYPES[entry["dtype"]]
        begin, end = entry["data_offsets"]
        assert end - begin == size * math.prod(entry["shape"]), f"{name}: size does not match shape"
        buf = bytearray(data[begin:end])  # frombuffer wants a writable buffer it may alias
        t = torch.frombuffer(buf, dtype=dtype) if buf else torch.empty(0, dtype=dtype)
        tensors[name] = t.reshape(entry["shape"]).float()
    return tensors, metadata


class SelfAttention(nn.Module):
    def __init__(self, n_embd, n_head, causal):
        super().__init__()
        self.c_attn = nn.Linear(n_embd, 3 * n_embd)  # q, k, v in that order
        self.c_proj = nn.Linear(n_embd, n_embd)
        self.n_head = n_head
        self.causal = causal

    def forward(self, x):  # x (B,T,C)
        B, T, C = x.shape
        hs = C // self.n_head
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, hs).transpose(1, 2) for t in (q, k, v))  # (B,nh,T,hs)
        scores = q @ k.transpose(-2, -1) / math.sqrt(hs)  # (B,nh,T,T)
        if self.causal:
            future = torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1)
            scores = scores.masked_fill(future, float("-inf"))
        y = scores.softmax(dim=-1) @ v  # (B,nh,T,hs)
        return self.c_proj(y.transpose(1, 2).reshape(B, T, C))


class MLP(nn.Module):
    def __init__(self, n_embd):
        super().__init__()
        self.c_fc = nn.Linear(n_embd, 4 * n_embd)
        self.c_proj = nn.Linear(4 * n_embd, n_embd)

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x)))  # exact (erf) GELU, PyTorch's default


class Block(nn.Module):
    def __init__(self, n_embd, n_head, causal):
        super().__init__()
        self.ln_1 = nn.LayerNorm(n_embd, eps=1e-5)
        self.attn = SelfAttention(n_embd, n_head, causal)
        self.ln_2 = nn.LayerNorm(n_embd, eps=1e-5)
        self.mlp = MLP(n_embd)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        C, nh = cfg["n_embd"], cfg["n_head"]
        causal = cfg.get("attention", "causal") == "causal"
        self.transformer = nn.ModuleDict(
            dict(
                wte=nn.Embedding(cfg["vocab_size"], C),
                wpe=nn.Embedding(cfg["block_size"], C),
                h=nn.ModuleList(Block(C, nh, causal) for _ in range(cfg["n_layer"])),
                ln_f=nn.LayerNorm(C, eps=1e-5),
            )
        )
        self.mtp_heads = nn.ModuleList(Block(C, nh, causal) for _ in range(cfg.get("extra_heads", 0)))
        self.top_head = nn.Linear(C, cfg["vocab_size"], bias=False) if cfg.get("top_head") else None

    def forward(self, idx):  # idx (B,T) -> logits (H,B,T,V)
        T = idx.shape[1]
        tr = self.transformer
        x = tr.wte(idx) + tr.wpe(torch.arange(T, device=idx.device))
        for block in tr.h:
            x = block(x)
        z = x  # trunk output before ln_f, shared by every head
        wte = tr.wte.weight  # tied lm_head
        heads = [tr.ln_f(z) @ wte.T] + [tr.ln_f(head(z)) @ wte.T for head in self.mtp_heads]
        if self.top_head is not None:
            heads.append(self.top_head(tr.ln_f(z)))
        return torch.stack(heads)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("ids")
    ap.add_argument("out")
    ap.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    args = ap.parse_args()

    tensors, metadata = read_safetensors(args.model)
    if "config" not in metadata:
        sys.exit("no __metadata__.config in the checkpoint")
    cfg = json.loads(metadata["config"])  # nanoGPT's GPTConfig fields, exactly
    cfg.update(json.loads(metadata.get("lab_config", "{}")))  # attention mode, extra heads, the token-order head
    model = GPT(cfg)
    lm_head = tensors.pop("lm_head.weight", None)
    if lm_head is not None and not torch.equal(lm_head, tensors["transformer.wte.weight"]):
        sys.exit("lm_head.weight differs from transformer.wte.weight (expected tied weights)")
    missing, unexpected = model.load_state_dict(tensors, strict=False)
    unexpected = [k for k in unexpected if not k.endswith(".attn.bias")]  # nanoGPT's mask buffer
    if missing or unexpected:
        sys.exit(f"state dict mismatch: missing {missing}, unexpected {unexpected}")

    dtype = torch.float64 if args.dtype == "float64" else torch.float32
    model = model.to(dtype).eval()
    with open(args.ids) as f:
        idx = torch.tensor(json.load(f), dtype=torch.long)
    with torch.no_grad():
        logits = model(idx)
    with open(args.out, "w") as f:
        json.dump({"shape": list(logits.shape), "logits": logits.double().flatten().tolist()}, f)


if __name__ == "__main__":
    main()

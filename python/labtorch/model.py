"""nanoGPT's GPT (karpathy/nanoGPT, model.py) as the lab trains it, with the lab's two extensions:

- attention 'causal' (nanoGPT's) or 'bidirectional' (masked diffusion sees every position);
- extra multi-token heads `mtp_heads.{k}`: head k is one more transformer block on the trunk's output, followed by
  the shared ln_f and the tied unembedding (Gloeckle et al. 2024). Head 0 is nanoGPT's lm_head;
- the token-order head `top_head` (Zuhri et al. 2025, src/objectives/top.ts): an untied Linear without a bias on head
  0's ln_f output, trained with ListNet and never used to decode.

State-dict names and layouts are nanoGPT's, so the lab's checkpoints load as they are. No dropout (the lab has none).
"""
import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from .rng import Rng


@dataclass
class GPTConfig:
    vocab_size: int
    block_size: int
    n_layer: int
    n_head: int
    n_embd: int
    attention: str = "causal"
    extra_heads: int = 0
    top_head: bool = False


class SelfAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.c_attn = nn.Linear(cfg.n_embd, 3 * cfg.n_embd)
        self.c_proj = nn.Linear(cfg.n_embd, cfg.n_embd)
        self.n_head = cfg.n_head
        self.causal = cfg.attention == "causal"

    def forward(self, x):  # (B, T, C)
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))  # (B, nh, T, hs)
        if hasattr(F, "scaled_dot_product_attention"):
            y = F.scaled_dot_product_attention(q, k, v, is_causal=self.causal)
        else:  # PyTorch before 2.0
            att = (q @ k.transpose(-2, -1)) / math.sqrt(k.shape[-1])
            if self.causal:
                att = att.masked_fill(torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1), float("-inf"))
            y = att.softmax(-1) @ v
        return self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))


class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.c_fc = nn.Linear(cfg.n_embd, 4 * cfg.n_embd)
        self.c_proj = nn.Linear(4 * cfg.n_embd, cfg.n_embd)

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x)))  # exact GELU, as nn.GELU()


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.n_embd)
        self.attn = SelfAttention(cfg)
        self.ln_2 = nn.LayerNorm(cfg.n_embd)
        self.mlp = MLP(cfg)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.config = cfg
        self.transformer = nn.ModuleDict(
            dict(
                wte=nn.Embedding(cfg.vocab_size, cfg.n_embd),
                wpe=nn.Embedding(cfg.block_size, cfg.n_embd),
                h=nn.ModuleList([Block(cfg) for _ in range(cfg.n_layer)]),
                ln_f=nn.LayerNorm(cfg.n_embd),
            )
        )
        self.lm_head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        self.lm_head.weight = self.transformer.wte.weight  # tied, as nanoGPT
        self.mtp_heads = nn.ModuleList([Block(cfg) for _ in range(cfg.extra_heads)])
        if cfg.top_head:
            self.top_head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)

    def forward(self, idx, top=False):
        """idx (B, T) → logits (H, B, T, V), H = 1 + extra heads; with top, (logits, the token-order head's logits
        (B, T, V)), both from head 0's ln_f output."""
        T = idx.shape[1]
        pos = torch.arange(T, device=idx.device)
        x = self.transformer.wte(idx) + self.transformer.wpe(pos)
        for block in self.transformer.h:
            x = block(x)
        trunk = [x] + [head(x) for head in self.mtp_heads]
        lnf = [self.transformer.ln_f(z) for z in trunk]
        logits = torch.stack([self.lm_head(z) for z in lnf])
        return (logits, self.top_head(lnf[0])) if top else logits


def param_table(cfg):
    """The lab's parameter table (src/model/params.ts): (name, shape, init) in its order; lm_head is tied to wte."""
    C = cfg.n_embd
    block = [
        ("ln_1.weight", (C,), "ones"), ("ln_1.bias", (C,), "zeros"),
        ("attn.c_attn.weight", (3 * C, C), "normal"), ("attn.c_attn.bias", (3 * C,), "zeros"),
        ("attn.c_proj.weight", (C, C), "residual"), ("attn.c_proj.bias", (C,), "zeros"),
        ("ln_2.weight", (C,), "ones"), ("ln_2.bias", (C,), "zeros"),
        ("mlp.c_fc.weight", (4 * C, C), "normal"), ("mlp.c_fc.bias", (4 * C,), "zeros"),
        ("mlp.c_proj.weight", (C, 4 * C), "residual"), ("mlp.c_proj.bias", (C,), "zeros"),
    ]  # fmt: skip
    table = [("transformer.wte.weight", (cfg.vocab_size, C), "normal"), ("transformer.wpe.weight", (cfg.block_size, C), "normal")]
    for i in range(cfg.n_layer):
        table += [(f"transformer.h.{i}.{n}", s, k) for n, s, k in block]
    table += [("transformer.ln_f.weight", (C,), "ones"), ("transformer.ln_f.bias", (C,), "zeros")]
    for k in range(cfg.extra_heads):
        table += [(f"mtp_heads.{k}.{n}", s, i) for n, s, i in block]
    if cfg.top_head:
        table.append(("top_head.weight", (cfg.vocab_size, C), "normal"))  # last, as the lab's table
    return table


@torch.no_grad()
def init_lab(model, seed):
    """The lab's initialisation, from the same generator in the same order: N(0, 0.02) for weights, N(0,
    0.02/sqrt(2·n_layer)) for the residual projections, zeros and ones. The normals agree with the lab's to the last
    bit or two (Box-Muller's log and cos are the platform's), so weights match to float32 rounding."""
    rng = Rng(seed)
    residual = 0.02 / math.sqrt(2 * model.config.n_layer)
    params = dict(model.named_parameters())
    for name, shape, kind in param_table(model.config):
        p = params[name]
        if kind == "ones":
            p.fill_(1)
        elif kind == "zeros":
            p.zero_()
        else:
            std = 0.02 if kind == "normal" else residual
            p.copy_(torch.tensor([std * rng.normal() for _ in range(p.numel())], dtype=torch.float64).view(shape))


def optimizer_groups(model):
    """AdamW groups as nanoGPT's configure_optimizers: decay on 2-D tensors (weights, embeddings), not on the rest."""
    decay = [p for _, p in model.named_parameters() if p.dim() >= 2]
    other = [p for _, p in model.named_parameters() if p.dim() < 2]
    return decay, other

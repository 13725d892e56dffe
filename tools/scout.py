#!/usr/bin/python3
"""Scout for the lab's headline experiment: many tiny GPTs trained at once in PyTorch, to find where the contrast is.

    python3 tools/scout.py --task 2,4,16 --model 2,64,2 --objectives ntp,reverse,diffusion --seeds 1-8 \
        --lr 1e-3 --steps 3000 --batch 128 --json out.json

Every combination of objective × learning rate × seed × (weight decay, β2) is one model; all of them train in one
process with stacked weights ([M, ...] per tensor, batched matmuls), so a sweep of dozens of runs costs about one
run's kernel launches on a GPU. On the CPU it is no faster than running them one by one; use it there to check.

It mirrors the lab (src/tasks/pathStar.ts, src/objectives/*, src/eval/*) in everything that decides the outcome,
but not bit for bit (its random streams are PyTorch's, not the lab's mulberry32): B&N's path-star format, nanoGPT's
GPT (learned positions, pre-LayerNorm, exact GELU, tied unembedding, init N(0, 0.02) with c_proj scaled by
1/sqrt(2·n_layer)), AdamW with decay on 2-D tensors, global-norm clipping per model, and the objectives:

  ntp          teacher forcing on the target, loss on target positions
  reverse      the same with the target reversed
  teacherless  every target input replaced by `$` (B&N)
  mtp:n        n heads in all (the next-token head included, as Gloeckle et al. count them); head k ≥ 1 is one extra
               block on the trunk's output; head k is supervised only at positions that have seen the whole prompt
  diffusion    masked diffusion, bidirectional, any-order form of the ELBO: k ~ U{1..L} target tokens masked per
               example (stratified across the batch), each weighted 1/k (per token: L/k over the L tokens)

Evaluation on held-out graphs (fresh ones, never seen in training with overwhelming probability): exact match,
decision token, per-position teacher-forced and free-running accuracy; the first step at which exact match ≥ 0.9.
Results go to --json as they come (one entry per model), so a run stopped early still leaves what it measured.
"""
import argparse
import json
import math
import os
import time

import torch
import torch.nn.functional as F


# ----------------------------------------------------------------------------------------------------------------
# Task: path-star in Bachmann & Nagarajan's format (the lab's src/tasks/pathStar.ts)
#   tokens  u v | u v | … | u v / s g =   then the target s x1 … g
#   ids     node i → i, `|` → N, `=` → N+1, `/` → N+2, `$` → N+3, [MASK] → N+4, pad → N+5


class PathStar:
    def __init__(self, degree, path_len, nodes):
        self.d, self.L, self.N = degree, path_len, nodes
        self.E = degree * (path_len - 1)
        self.P = 3 * self.E + 3  # 3E−1 edge tokens, then / s g =
        self.V = nodes + 6
        self.bar, self.eq, self.slash, self.dummy, self.mask, self.pad = (nodes + i for i in range(6))

    def sample(self, n, gen, device):
        """n graphs → prompt (n, P), target (n, L) int64."""
        d, L, N, E = self.d, self.L, self.N, self.E
        used = E + 1
        labels = torch.rand(n, N, generator=gen, device=device).argsort(dim=1)[:, :used]
        source = labels[:, 0]
        arms = labels[:, 1:].view(n, d, L - 1)
        parents = torch.cat([source[:, None, None].expand(n, d, 1), arms[:, :, :-1]], dim=2)  # (n, d, L−1)
        order = torch.rand(n, E, generator=gen, device=device).argsort(dim=1)
        u = parents.reshape(n, E).gather(1, order)
        v = arms.reshape(n, E).gather(1, order)
        bars = torch.full((n, E), self.bar, dtype=torch.long, device=device)
        edges = torch.stack([u, v, bars], dim=2).reshape(n, 3 * E)[:, :-1]  # the last edge has no `|`
        goal = arms[:, 0, -1]  # arm 0 ends at the goal (labels are random, so which arm is arbitrary)
        tail = torch.stack([torch.full_like(source, self.slash), source, goal, torch.full_like(source, self.eq)], 1)
        prompt = torch.cat([edges, tail], dim=1)
        target = torch.cat([source[:, None], arms[:, 0]], dim=1)
        return prompt, target

    def is_valid(self, prompt, pred):
        """(n,) bool: pred starts at the source and follows edges of the graph (any arm)."""
        n = prompt.shape[0]
        E = self.E
        u = prompt[:, 0 : 3 * E : 3]
        v = prompt[:, 1 : 3 * E : 3]
        ok = pred[:, 0] == prompt[:, -3]
        for i in range(self.L - 1):
            a, b = pred[:, i : i + 1], pred[:, i + 1 : i + 2]
            ok &= ((u == a) & (v == b)).any(dim=1)
        return ok


# ----------------------------------------------------------------------------------------------------------------
# Objectives: each turns (prompt, target) into (tokens, targets, weights, attention) for one group of models.
# Sequences are T = P + L long for every objective (causal ones leave the last position unused), so that models of
# different objectives train side by side in one batched forward pass.


def parse_objective(s):
    name, *opt = s.split(":")
    if name == "mtp":
        return ("mtp", int(opt[0]) if opt else 4)
    if name in ("ntp", "reverse", "teacherless", "diffusion"):
        return (name, None)
    raise SystemExit(f"unknown objective {s!r}")


def heads_of(obj):
    return obj[1] if obj[0] == "mtp" else 1


def make_batch(task, obj, prompt, target, gen, H, B):
    """(n = S·B examples: S batches of B) → tokens (n,T), targets (H,n,T), weights (H,n,T). Each head's loss is the
    mean cross-entropy over its supervised tokens of a batch; the loss of a model is the sum over its heads."""
    name = obj[0]
    n, P, L = prompt.shape[0], task.P, task.L
    T = P + L
    dev = prompt.device
    tokens = torch.full((n, T), task.pad, dtype=torch.long, device=dev)
    tokens[:, :P] = prompt
    tgt = torch.zeros((H, n, T), dtype=torch.long, device=dev)
    w = torch.zeros((H, n, T), device=dev)
    if name == "diffusion":
        # k ~ U{1..L} masked tokens per example, stratified within each batch: k_b = 1 + floor(((u + b/B) mod 1)·L);
        # weight 1/k each, so an example's loss is the mean CE over its masked tokens and E[loss] is the ELBO per
        # token (any-order form of MDLM's continuous-time ELBO; every weight is at most 1).
        u = torch.rand(n // B, generator=gen, device=dev).repeat_interleave(B)
        frac = (u + (torch.arange(n, device=dev) % B) / B) % 1.0
        k = (frac * L).long().clamp(max=L - 1) + 1  # (n,)
        rank = torch.rand(n, L, generator=gen, device=dev).argsort(dim=1).argsort(dim=1)
        masked = rank < k[:, None]
        tokens[:, P:] = torch.where(masked, torch.full_like(target, task.mask), target)
        tgt[0, :, P:] = target
        w[0, :, P:] = masked.float() / k[:, None].float() / B
        return tokens, tgt, w
    ordered = target.flip(1) if name == "reverse" else target
    inputs = torch.full_like(ordered[:, :-1], task.dummy) if name == "teacherless" else ordered[:, :-1]
    tokens[:, P : P + L - 1] = inputs
    for h in range(heads_of(obj)):
        # head h at position p predicts token p+1+h; target[i] sits at p = P−1+i−h, kept only if p ≥ P−1 (the
        # position has seen the whole prompt; earlier ones cannot know the goal).
        for i in range(h, L):
            p = P - 1 + i - h
            tgt[h, :, p] = ordered[:, i]
            w[h, :, p] = 1.0 / (B * (L - h))
    return tokens, tgt, w


# ----------------------------------------------------------------------------------------------------------------
# M GPTs with stacked weights. Tensors are [M, ...] in PyTorch's Linear layout [out, in].


def block_shapes(C):
    return [
        ("ln_1.weight", (C,), "ones"),
        ("ln_1.bias", (C,), "zeros"),
        ("attn.c_attn.weight", (3 * C, C), "normal"),
        ("attn.c_attn.bias", (3 * C,), "zeros"),
        ("attn.c_proj.weight", (C, C), "residual"),
        ("attn.c_proj.bias", (C,), "zeros"),
        ("ln_2.weight", (C,), "ones"),
        ("ln_2.bias", (C,), "zeros"),
        ("mlp.c_fc.weight", (4 * C, C), "normal"),
        ("mlp.c_fc.bias", (4 * C,), "zeros"),
        ("mlp.c_proj.weight", (C, 4 * C), "residual"),
        ("mlp.c_proj.bias", (C,), "zeros"),
    ]


def param_shapes(V, T, n_layer, C, extra_heads):
    shapes = [("wte", (V, C), "normal"), ("wpe", (T, C), "normal")]
    for i in range(n_layer):
        shapes += [(f"h.{i}.{n}", s, k) for n, s, k in block_shapes(C)]
    shapes += [("ln_f.weight", (C,), "ones"), ("ln_f.bias", (C,), "zeros")]
    for k in range(extra_heads):
        shapes += [(f"head.{k}.{n}", s, i) for n, s, i in block_shapes(C)]
    return shapes


class FlatParams:
    """Every model's parameters in one (M, total) tensor, so that AdamW and clipping are a few whole-tensor ops;
    views(flat) gives each tensor as (M, *shape), rebuilt per forward so that gradients reach flat."""

    def __init__(self, M, shapes, seeds, n_layer, device):
        self.shapes = shapes
        self.offsets = []
        off = 0
        for name, shape, kind in shapes:
            size = math.prod(shape)
            self.offsets.append((name, off, size, shape))
            off += size
        self.total = off
        flat = torch.zeros(M, off)
        decay = torch.zeros(off)
        for m, seed in enumerate(seeds):
            g = torch.Generator().manual_seed(int(seed))
            for (name, o, size, shape), (_, _, kind) in zip(self.offsets, shapes):
                if kind == "ones":
                    flat[m, o : o + size] = 1
                elif kind != "zeros":
                    std = 0.02 if kind == "normal" else 0.02 / math.sqrt(2 * n_layer)
                    flat[m, o : o + size] = torch.randn(size, generator=g) * std
        for name, o, size, shape in self.offsets:
            if len(shape) >= 2:
                decay[o : o + size] = 1  # AdamW decay on 2-D tensors only (nanoGPT's configure_optimizers)
        self.flat = flat.to(device).requires_grad_(True)
        self.decay = decay.to(device)

    def views(self):
        M = self.flat.shape[0]
        return {name: self.flat[:, o : o + size].view((M,) + shape) for name, o, size, shape in self.offsets}


def linear(x, W, b):  # x (M, R, in), W (M, out, in), b (M, out) → (M, R, out)
    return torch.baddbmm(b[:, None, :], x, W.transpose(1, 2))


def layer_norm(x, w, b):  # x (M, R, C)
    return F.layer_norm(x, x.shape[-1:]) * w[:, None, :] + b[:, None, :]


def block(p, pre, x, B, T, n_head, attn_bias):
    M, R, C = x.shape
    hs = C // n_head
    h = layer_norm(x, p[pre + "ln_1.weight"], p[pre + "ln_1.bias"])
    qkv = linear(h, p[pre + "attn.c_attn.weight"], p[pre + "attn.c_attn.bias"])  # (M, B·T, 3C)
    q, k, v = (t.reshape(M, B, T, n_head, hs).transpose(2, 3) for t in qkv.split(C, dim=2))  # (M,B,nh,T,hs)
    att = (q @ k.transpose(-2, -1)) / math.sqrt(hs) + attn_bias  # attn_bias (M,1,1,T,T): 0 or −inf
    y = (att.softmax(dim=-1) @ v).transpose(2, 3).reshape(M, R, C)
    x = x + linear(y, p[pre + "attn.c_proj.weight"], p[pre + "attn.c_proj.bias"])
    h = layer_norm(x, p[pre + "ln_2.weight"], p[pre + "ln_2.bias"])
    h = F.gelu(linear(h, p[pre + "mlp.c_fc.weight"], p[pre + "mlp.c_fc.bias"]))
    return x + linear(h, p[pre + "mlp.c_proj.weight"], p[pre + "mlp.c_proj.bias"])


def forward(p, tokens, cfg, attn_bias):
    """tokens (M, B, T) → logits (H, M, B, T, V)."""
    M, B, T = tokens.shape
    V, C = p["wte"].shape[1], p["wte"].shape[2]
    flat = tokens + (torch.arange(M, device=tokens.device) * V)[:, None, None]
    x = F.embedding(flat, p["wte"].reshape(M * V, C)) + p["wpe"][:, None, :T, :]
    x = x.reshape(M, B * T, C)
    for i in range(cfg["n_layer"]):
        x = block(p, f"h.{i}.", x, B, T, cfg["n_head"], attn_bias)
    outs = [x] + [block(p, f"head.{k}.", x, B, T, cfg["n_head"], attn_bias) for k in range(cfg["extra_heads"])]
    wte_t = p["wte"].transpose(1, 2)
    logits = [torch.bmm(layer_norm(z, p["ln_f.weight"], p["ln_f.bias"]), wte_t) for z in outs]
    return torch.stack(logits).reshape(len(outs), M, B, T, V)


# ----------------------------------------------------------------------------------------------------------------
# Evaluation


@torch.no_grad()
def evaluate(p, cfg, task, objs, prompt, target, attn_bias, chunk=512):
    """Per model: exact match, per-position free-running and teacher-forced accuracy, valid-wrong fraction."""
    M = len(objs)
    n, P, L = prompt.shape[0], task.P, task.L
    T = P + L
    dev = prompt.device
    kind = lambda name: torch.tensor([o[0] == name for o in objs], device=dev)[:, None, None]
    rev, diff, tl = kind("reverse"), kind("diffusion"), kind("teacherless")
    fed_back = ~(diff | tl)  # causal decoders that feed their argmax back: ntp, reverse, mtp
    sums = {k: 0 for k in ("em", "fr", "tf", "valid_wrong", "wrong")}
    for s in range(0, n, chunk):
        pr, tg = prompt[s : s + chunk], target[s : s + chunk]
        b = pr.shape[0]
        ordered = torch.where(rev, tg.flip(1)[None], tg[None])  # (M, b, L) in each objective's order
        # Free running. Causal: position P−1+i predicts target i, which becomes the input at P+i. Teacherless: the
        # inputs stay `$`. Diffusion: everything masked, then L passes each committing the most confident position.
        tokens = torch.full((M, b, T), task.pad, dtype=torch.long, device=dev)
        tokens[:, :, :P] = pr[None]
        tokens[:, :, P : T - 1] = torch.where(tl, task.dummy, tokens[:, :, P : T - 1])
        tokens[:, :, P:] = torch.where(diff, task.mask, tokens[:, :, P:])
        done = torch.zeros((M, b, L), dtype=torch.bool, device=dev)
        pred = torch.zeros((M, b, L), dtype=torch.long, device=dev)
        for i in range(L):
            logits = forward(p, tokens, cfg, attn_bias)[0]  # head 0: (M, b, T, V)
            logits[..., task.mask] = -float("inf")
            if i == 0:  # teacherless reads every position from this one pass
                pred = torch.where(tl, logits[:, :, P - 1 : P - 1 + L].argmax(-1), pred)
            ar = logits[:, :, P - 1 + i].argmax(-1)  # (M, b)
            pred[:, :, i] = torch.where(fed_back[:, :, 0], ar, pred[:, :, i])
            if i + 1 < L:
                tokens[:, :, P + i] = torch.where(fed_back[:, :, 0], ar, tokens[:, :, P + i])
            best = logits[:, :, P:].softmax(-1).max(-1)  # (M, b, L)
            j = torch.where(done, -1.0, best.values).argmax(-1)  # (M, b)
            pick = F.one_hot(j, L).bool() & diff
            tokens[:, :, P:] = torch.where(pick, best.indices, tokens[:, :, P:])
            done |= pick
        pred = torch.where(diff, tokens[:, :, P:], pred)
        pred = torch.where(rev, pred.flip(2), pred)  # natural order
        right = pred == tg[None]
        sums["fr"] = sums["fr"] + right.float().sum(1)
        sums["em"] = sums["em"] + right.all(-1).float().sum(1)
        valid = torch.stack([task.is_valid(pr, pred[m]) for m in range(M)])
        wrong = ~right.all(-1)
        sums["valid_wrong"] = sums["valid_wrong"] + (valid & wrong).float().sum(1)
        sums["wrong"] = sums["wrong"] + wrong.float().sum(1)
        # Teacher forced: the true prefix in the objective's order (teacherless: `$`); diffusion: the true tokens
        # left of i revealed, i onward masked, one pass per position.
        tokens = torch.full((M, b, T), task.pad, dtype=torch.long, device=dev)
        tokens[:, :, :P] = pr[None]
        tokens[:, :, P : T - 1] = torch.where(tl, task.dummy, ordered[:, :, :-1])
        tf = forward(p, tokens, cfg, attn_bias)[0][:, :, P - 1 : P - 1 + L].argmax(-1)
        if diff.any():
            for i in range(L):
                tokens = torch.full((M, b, T), task.mask, dtype=torch.long, device=dev)
                tokens[:, :, :P] = pr[None]
                tokens[:, :, P : P + i] = tg[None, :, :i]
                lg = forward(p, tokens, cfg, attn_bias)[0][:, :, P + i]
                lg[..., task.mask] = -float("inf")
                tf[:, :, i] = torch.where(diff[:, :, 0], lg.argmax(-1), tf[:, :, i])
        tf = torch.where(rev, tf.flip(2), tf)
        sums["tf"] = sums["tf"] + (tf == tg[None]).float().sum(1)
    out = []
    for m in range(M):
        w = sums["wrong"][m].item()
        out.append({
            "exactMatch": sums["em"][m].item() / n,
            "freeRunning": [round(x / n, 4) for x in sums["fr"][m].tolist()],
            "teacherForced": [round(x / n, 4) for x in sums["tf"][m].tolist()],
            "validWrong": sums["valid_wrong"][m].item() / w if w > 0 else None,
        })
    return out


# ----------------------------------------------------------------------------------------------------------------
# Training


def lr_at(step, base, warmup, steps, schedule, min_ratio=0.1):
    if step < warmup:
        return base * (step + 1) / warmup
    if schedule == "constant":
        return base
    ratio = min(1.0, (step - warmup) / max(1, steps - warmup))
    return base * (min_ratio + 0.5 * (1 + math.cos(math.pi * ratio)) * (1 - min_ratio))


def parse_range(s):
    out = []
    for part in s.split(","):
        if "-" in part:
            a, b = part.split("-")
            out += list(range(int(a), int(b) + 1))
        else:
            out.append(int(part))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--task", default="2,4,16", help="degree,pathLength,nodes")
    ap.add_argument("--model", default="2,64,2", help="layers,width,heads")
    ap.add_argument("--objectives", default="ntp,reverse,diffusion")
    ap.add_argument("--seeds", default="1-4")
    ap.add_argument("--lr", default="1e-3", help="comma-separated peak learning rates")
    ap.add_argument("--opt", default="0.1:0.95", help="comma-separated weightDecay:beta2 pairs")
    ap.add_argument("--schedule", default="constant", choices=["constant", "cosine"])
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--clip", type=float, default=1.0)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--eval-every", type=int, default=100)
    ap.add_argument("--eval-examples", type=int, default=512)
    ap.add_argument("--time-limit", type=float, default=1e9, help="seconds; stop and report what was reached")
    ap.add_argument("--json", default=None)
    ap.add_argument("--tag", default="")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--tf32", action="store_true", help="CUDA: TF32 matmuls (faster; the lab computes in float32)")
    a = ap.parse_args(argv)

    t0 = time.time()
    if a.device == "cpu":
        torch.set_num_threads(os.cpu_count() or 1)
    dev = torch.device(a.device)
    if dev.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = a.tf32  # the lab computes in float32
        torch.backends.cudnn.allow_tf32 = a.tf32
    d, L, N = (int(x) for x in a.task.split(","))
    n_layer, C, n_head = (int(x) for x in a.model.split(","))
    task = PathStar(d, L, N)
    kinds = [parse_objective(s) for s in a.objectives.split(",")]
    H = max(heads_of(o) for o in kinds)
    seeds = parse_range(a.seeds)
    lrs = [float(x) for x in a.lr.split(",")]
    opts = [tuple(float(y) for y in x.split(":")) for x in a.opt.split(",")]
    runs = [(o, lr, wd, b2, s) for o in kinds for lr in lrs for (wd, b2) in opts for s in seeds]
    M = len(runs)
    objs = [r[0] for r in runs]
    T = task.P + L
    cfg = {"n_layer": n_layer, "n_head": n_head, "extra_heads": H - 1}
    # The init seed is the run's seed: every objective and lr of one seed starts from the same weights (as the
    # lab's lanes do), and sees the same graphs in the same order.
    params = FlatParams(M, param_shapes(task.V, T, n_layer, C, H - 1), [r[4] for r in runs], n_layer, dev)
    flat = params.flat
    m1 = torch.zeros_like(flat)
    m2 = torch.zeros_like(flat)
    lr_base = torch.tensor([r[1] for r in runs], device=dev)[:, None]
    wd = torch.tensor([r[2] for r in runs], device=dev)[:, None] * params.decay[None]
    b2 = torch.tensor([r[3] for r in runs], device=dev)[:, None]
    b1 = 0.9
    causal = torch.ones(T, T, device=dev).tril().bool()
    causal_bias = torch.zeros(T, T, device=dev).masked_fill(~causal, -float("inf"))
    attn_bias = torch.stack([torch.zeros(T, T, device=dev) if o[0] == "diffusion" else causal_bias for o in objs])
    attn_bias = attn_bias[:, None, None]  # (M,1,1,T,T)
    uniq = sorted(set(seeds))
    seed_index = torch.tensor([uniq.index(r[4]) for r in runs], device=dev)
    kind_index = torch.tensor([kinds.index(r[0]) for r in runs], device=dev)
    S, B = len(uniq), a.batch
    dgen = torch.Generator(device=dev).manual_seed(1000 + uniq[0])
    ogen = torch.Generator(device=dev).manual_seed(7)
    egen = torch.Generator(device=dev).manual_seed(99991)
    ev_prompt, ev_target = task.sample(a.eval_examples, egen, dev)
    hist = [[] for _ in range(M)]
    reached = [None] * M
    step = 0
    print(f"# {M} models: task G({d},{L},{N}) P={task.P} model {n_layer}/{C}/{n_head} H={H} batch {B} "
          f"schedule {a.schedule} device {dev} setup {time.time() - t0:.1f}s", flush=True)

    def report():
        out = []
        for i, r in enumerate(runs):
            out.append({"tag": a.tag, "task": [d, L, N], "model": [n_layer, C, n_head],
                        "objective": ":".join(str(x) for x in r[0] if x is not None), "lr": r[1],
                        "weightDecay": r[2], "beta2": r[3], "seed": r[4], "batch": B, "schedule": a.schedule,
                        "warmup": a.warmup, "steps": step, "reached90": reached[i], "history": hist[i]})
        if a.json:
            with open(a.json, "w") as f:
                json.dump(out, f)
        return out

    last_report = time.time()
    stopped = ""
    while step < a.steps:
        # One batch of B graphs per seed; each objective arranges all of them; each model takes its own.
        prompt, target = task.sample(S * B, dgen, dev)
        built = [make_batch(task, o, prompt, target, ogen, H, B) for o in kinds]
        tok = torch.stack([x[0].view(S, B, T) for x in built])[kind_index, seed_index]  # (M, B, T)
        tgt = torch.stack([x[1].view(H, S, B, T) for x in built], 1)[:, kind_index, seed_index]  # (H, M, B, T)
        wts = torch.stack([x[2].view(H, S, B, T) for x in built], 1)[:, kind_index, seed_index]
        logits = forward(params.views(), tok, cfg, attn_bias)
        ce = F.cross_entropy(logits.reshape(-1, task.V), tgt.reshape(-1), reduction="none")
        per_model = (ce.view(H, M, -1) * wts.view(H, M, -1)).sum((0, 2))  # (M,)
        flat.grad = None
        per_model.sum().backward()
        with torch.no_grad():
            g = flat.grad
            if a.clip > 0:
                norm = g.norm(dim=1, keepdim=True)
                g.mul_(torch.clamp(a.clip / (norm + 1e-6), max=1.0))
            lr = lr_base * lr_at(step, 1.0, a.warmup, a.steps, a.schedule)
            t1 = step + 1
            flat.mul_(1 - lr * wd)
            m1.mul_(b1).add_(g, alpha=1 - b1)
            m2.mul_(b2).addcmul_(g, g * (1 - b2))
            flat.sub_(lr / (1 - b1**t1) * m1 / ((m2 / (1 - b2**t1)).sqrt() + 1e-8))
        step += 1
        if step % a.eval_every == 0 or step == a.steps:
            losses = per_model.detach().tolist()
            ev = evaluate(params.views(), cfg, task, objs, ev_prompt, ev_target, attn_bias)
            for i in range(M):
                e = ev[i]
                hist[i].append({"step": step, "loss": round(losses[i], 4), "em": e["exactMatch"],
                                "tf": e["teacherForced"], "fr": e["freeRunning"], "vw": e["validWrong"]})
                if reached[i] is None and e["exactMatch"] >= 0.9:
                    reached[i] = step
            n90 = sum(r is not None for r in reached)
            print(f"step {step} t={time.time() - t0:.0f}s reached90 {n90}/{M} em " +
                  " ".join(f"{e['exactMatch']:.2f}" for e in ev[:64]), flush=True)
            if time.time() - last_report > 15:
                report()
                last_report = time.time()
            if time.time() - t0 > a.time_limit:
                stopped = " (time limit)"
                break
    out = report()
    for o in out:
        last = o["history"][-1] if o["history"] else {}
        print(f"{o['objective']:>12} lr {o['lr']:g} wd {o['weightDecay']:g} b2 {o['beta2']:g} seed {o['seed']:>2} "
              f"em {last.get('em', float('nan')):.3f} reached90 {o['reached90']} tf {last.get('tf')}", flush=True)
    print(f"# done{stopped}: {step} steps in {time.time() - t0:.0f}s", flush=True)


if __name__ == "__main__":
    main()

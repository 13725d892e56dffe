"""The lab's objectives (src/objectives/), batch for batch: each turns examples into (tokens, targets, weights) and
decodes a model's predictions. The loss of a batch is sum(weights · cross-entropy) over every head and position, so
the weights carry each objective's normalisation.

  ntp          next token with teacher forcing; loss on the target positions
  reverse      the same with the target reversed (padding kept at the end)
  teacherless  every target input replaced by `$` (B&N); one parallel pass decodes
  mtp:n        n heads in all, the next-token head included; head k at position p predicts token p+1+k, and is
               supervised only at positions that have seen the whole prompt (p ≥ P−1); layout "gloeckle" gives
               every head a block of its own: model head 0 (the trunk's) unsupervised, model head k+1 is head k
  diffusion    masked diffusion, bidirectional: 'mdlm' masks k ~ U{1..L} target tokens (stratified across the
               batch), each weighted 1/(n·k) — the any-order form of MDLM's ELBO; 'hkunlp' masks each target token
               with probability r = (s+1)/20, weight α(20−s)/M (M masked in the batch: HKUNLP's linear time weight)
               and each token's ℓ reweighted to (1−e^−ℓ)^γ·ℓ (their focal reweighting, α 0.25, γ 1); 'mdlm' alone
               leaves [MASK] out of the softmax (MDLM's SUBS); 'mlmu' (Kitouni et al. 2024) masks every token of
               the whole sequence, prompt included, with one probability r per example, and weights each masked
               token 1/M (M masked in the batch): the plain mean cross-entropy
  top          ntp plus the token-order head (Zuhri et al. 2025): at each position ntp supervises, a soft target
               q_v ∝ e^(−dist_v), dist_v the steps until v next occurs among the upcoming target tokens (0: the
               next token; pads never count), with ListNet's loss −Σ q·log softmax(top logits), weighted as ntp's
               rows and added to its loss (top_targets, listnet_rows)

Layout: causal objectives see T = P+L−1 tokens (prompt, then all but the last target token); head k's target for
target[i] sits at position P−1+i−k. Diffusion sees T = P+L tokens and predicts target[i] at position P+i.
"""
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

HKUNLP_STEPS = 20
HKUNLP_ALPHA, HKUNLP_GAMMA = 0.25, 1.0  # scripts/path/train-mdm.sh: --alpha 0.25 --gamma 1


@dataclass
class Objective:
    kind: str
    heads: int = 1  # heads in all (mtp)
    layout: str = ""  # mtp: "gloeckle" gives the next-token head a block of its own (src/objectives/mtp.ts)
    decode_steps: int = 16  # diffusion
    variant: str = "mdlm"  # diffusion

    @property
    def attention(self):
        return "bidirectional" if self.kind == "diffusion" else "causal"

    @property
    def first(self):
        """The model head that predicts the next token: 1 in Gloeckle's layout, whose trunk head is unused."""
        return 1 if self.layout == "gloeckle" else 0

    @property
    def top_head(self):
        return self.kind == "top"

    @property
    def extra_heads(self):
        return self.heads - 1 + self.first if self.kind == "mtp" else 0

    def seq_len(self, task):
        return task.prompt_length + task.target_length - (0 if self.kind == "diffusion" else 1)


def make_objective(spec):
    kind = spec["kind"]
    if kind == "mtp":
        return Objective("mtp", heads=int(spec["heads"]), layout=spec.get("layout", ""))
    if kind == "diffusion":
        return Objective("diffusion", decode_steps=int(spec["decodeSteps"]), variant=spec["variant"])
    if kind in ("ntp", "reverse", "teacherless", "top"):
        return Objective(kind)
    raise ValueError(f"unknown objective {kind!r}")


def _non_pad(target, pad):
    return sum(1 for t in target if t != pad)


def reverse_target(target, pad):
    n = _non_pad(target, pad)
    return target[:n][::-1] + target[n:]


def ordered_targets(obj, task, examples):
    """Each example's target in the objective's training order."""
    if obj.kind == "reverse":
        return [reverse_target(e.target, task.pad) for e in examples]
    return [list(e.target) for e in examples]


def _causal_batch(task, examples, ordered, inputs, H, first=0):
    P, L, n = task.prompt_length, task.target_length, len(examples)
    T = P + L - 1
    tokens = torch.tensor(inputs, dtype=torch.int64)
    targets = torch.full((H, n, T), -1, dtype=torch.int64)
    weights = torch.zeros((H, n, T), dtype=torch.float64)
    for b, target in enumerate(ordered):
        for h in range(first, H):
            k = h - first  # the head's offset: it predicts token p+1+k
            supervised = sum(1 for t in target[k:] if t != task.pad)
            if supervised == 0:
                continue
            for i in range(k, L):
                if target[i] == task.pad:
                    continue
                targets[h, b, P - 1 + i - k] = target[i]
                weights[h, b, P - 1 + i - k] = 1 / (n * supervised)
    return tokens, targets, weights.float()


def _stratified(n, rng):
    u = rng.next()
    return [(u + b / n) % 1 for b in range(n)]


def _empty_diffusion_batch(task, n):
    """tokens (n, T), targets (1, n, T) all -1, weights (1, n, T) float64 zeros, T = P + L."""
    T = task.prompt_length + task.target_length
    return (torch.zeros((n, T), dtype=torch.int64), torch.full((1, n, T), -1, dtype=torch.int64),
            torch.zeros((1, n, T), dtype=torch.float64))


def _mlmu_batch(task, examples, rng):
    tokens, targets, weights = _empty_diffusion_batch(task, len(examples))
    draws = _stratified(len(examples), rng)
    masked = []
    for b, e in enumerate(examples):
        row = list(e.prompt) + list(e.target)
        content = [j for j, tok in enumerate(row) if tok != task.pad]
        # One uniform per non-pad token, in order (Rng.next_many: the same numbers as one next() each).
        masked += [(b, j, row[j]) for j, u in zip(content, rng.next_many(len(content))) if u < draws[b]]
        tokens[b] = torch.tensor([task.mask if tok == task.pad else tok for tok in row])
    if masked:
        bs, js, toks = (torch.tensor(c) for c in zip(*masked))
        tokens[bs, js] = task.mask
        targets[0, bs, js] = toks
        weights[0, bs, js] = 1 / len(masked)
    return tokens, targets, weights.float()


def _diffusion_batch(task, examples, rng, variant):
    if variant == "mlmu":
        return _mlmu_batch(task, examples, rng)
    P, n = task.prompt_length, len(examples)
    tokens, targets, weights = _empty_diffusion_batch(task, n)
    draws = _stratified(n, rng)
    drawn = []  # per example: the masked target positions and their weight before the batch's normaliser
    for b, e in enumerate(examples):
        content = [i for i, t in enumerate(e.target) if t != task.pad]
        Lc = len(content)
        masked, weight = [], 0.0
        if Lc > 0 and variant == "mdlm":
            k = 1 + min(Lc - 1, math.floor(draws[b] * Lc))
            masked, weight = rng.shuffle(list(content))[:k], 1 / k
        elif Lc > 0:
            step = min(HKUNLP_STEPS - 1, math.floor(draws[b] * HKUNLP_STEPS))
            r = (step + 1) / HKUNLP_STEPS
            masked, weight = [i for i in content if rng.next() < r], HKUNLP_ALPHA * (HKUNLP_STEPS - step)
        drawn.append((masked, weight))
    norm = n if variant == "mdlm" else sum(len(m) for m, _ in drawn)
    for b, (e, (masked, weight)) in enumerate(zip(examples, drawn)):
        row = list(e.prompt) + [task.mask if t == task.pad else t for t in e.target]
        for i in masked:
            row[P + i] = task.mask
            targets[0, b, P + i] = e.target[i]
            weights[0, b, P + i] = weight / norm
        tokens[b] = torch.tensor(row)
    return tokens, targets, weights.float()


def loss_shape(obj, task):
    """(exclude, gamma): the token the training softmax leaves out (-1: none) and the focal γ (0: the plain
    cross-entropy), as the lab's Objective.loss (src/model/batch.ts, LossShape)."""
    if obj.kind == "diffusion" and obj.variant == "mdlm":
        return task.mask, 0.0
    if obj.kind == "diffusion" and obj.variant == "hkunlp":
        return -1, HKUNLP_GAMMA
    return -1, 0.0


def row_losses(logits, targets, shape):
    """Each row's loss f(ℓ) for logits (..., V) and targets (...) (-1 where unused: 0 there), ℓ the cross-entropy
    over the vocabulary without shape's excluded token, f the identity or the focal (1−e^−ℓ)^γ·ℓ, differentiated
    through as HKUNLP's trainer does. Flattened to (rows,)."""
    exclude, gamma = shape
    V = logits.shape[-1]
    flat = logits.reshape(-1, V)
    if exclude >= 0:
        flat = flat.masked_fill(torch.arange(V, device=flat.device) == exclude, float("-inf"))
    t = targets.reshape(-1)
    ce = F.cross_entropy(flat, t.clamp(min=0), reduction="none")
    ce = torch.where(t >= 0, ce, torch.zeros_like(ce))  # an unused row (weight 0) whose clamped target is excluded
    if gamma:
        ce = (-torch.expm1(-ce)) ** gamma * ce
    return ce


def top_targets(task, examples, weights):
    """The token-order head's soft targets for a causal batch whose head 0 is next-token prediction (weights: its
    (1, n, T) or (n, T) weights): probs (n, T, V) and weights (n, T), float32, as the lab's topTargets
    (src/objectives/top.ts) to the bit: each term e^(−dist) in float64, summed in vocabulary order, rounded once."""
    P, L, V, n = task.prompt_length, task.target_length, len(task.vocab), len(examples)
    w = weights.reshape(n, -1)
    T = w.shape[1]
    probs = torch.zeros((n, T, V), dtype=torch.float64)
    out = torch.zeros((n, T), dtype=torch.float32)
    for b, e in enumerate(examples):
        nxt = {}  # the first occurrence at or after i of each token
        for i in range(L - 1, -1, -1):
            t = e.target[i]
            if t == task.pad:
                continue
            nxt[t] = i
            p = P - 1 + i
            out[b, p] = w[b, p]
            if w[b, p] == 0:
                continue
            terms = {v: math.exp(-(nxt[v] - i)) for v in sorted(nxt)}
            total = 0.0
            for x in terms.values():
                total += x
            for v, x in terms.items():
                probs[b, p, v] = x / total
    return probs.float(), out


def listnet_rows(top_logits, probs):
    """ListNet per row, −Σ_v q_v·log softmax(ŷ)_v, for logits and q (..., V); flattened to (rows,)."""
    V = top_logits.shape[-1]
    return -(probs.reshape(-1, V).to(top_logits.dtype) * top_logits.reshape(-1, V).log_softmax(-1)).sum(-1)


def make_batch(obj, task, examples, rng):
    """tokens (n, T) int64, targets (H, n, T) int64 (-1 where unused), weights (H, n, T) float32."""
    if obj.kind == "diffusion":
        return _diffusion_batch(task, examples, rng, obj.variant)
    ordered = ordered_targets(obj, task, examples)
    if obj.kind == "teacherless":
        inputs = [list(e.prompt) + [task.dummy] * (task.target_length - 1) for e in examples]
    else:
        inputs = [list(e.prompt) + t[:-1] for e, t in zip(examples, ordered)]
    H = obj.heads + obj.first if obj.kind == "mtp" else 1
    return _causal_batch(task, examples, ordered, inputs, H, obj.first)


# ---------------------------------------------------------------------------------------------------------------
# Decoding and the teacher-forced analog. `forward(tokens (n,T)) -> logits (H, n, T, V)`.


@torch.no_grad()
def decode(obj, task, examples, forward, teacher=None):
    """Predicted targets in natural order, and for diffusion the step at which each position was committed.
    `teacher`: teacher_forced's argmaxes for the same examples (natural order), from which greedy decoding takes each
    pass's argmaxes while every example has generated its true target so far (the position then sees what it saw
    under teacher forcing: causal attention), skipping that pass; the predictions are the same (the lab's
    greedyDecode, src/objectives/causal.ts)."""
    P, L, n = task.prompt_length, task.target_length, len(examples)
    prompts = torch.tensor([e.prompt for e in examples], dtype=torch.int64)
    if obj.kind == "diffusion":
        decoder = _remask_decode if obj.variant == "hkunlp" else _unmask_decode
        return decoder(task, prompts, forward, obj.decode_steps)
    if obj.kind == "teacherless":
        tokens = torch.cat([prompts, torch.full((n, L - 1), task.dummy, dtype=torch.int64)], 1)
        return forward(tokens)[0, :, P - 1 : P - 1 + L].argmax(-1).tolist(), None
    # Greedy with head 0: up to L passes, each feeding its argmax back; positions not yet generated hold pad (unseen).
    lens = [_non_pad(e.target, task.pad) for e in examples]
    on_track = teacher is not None
    if on_track:
        truth = torch.tensor(ordered_targets(obj, task, examples), dtype=torch.int64)
        known = teacher if obj.kind != "reverse" else [_unreverse(p, m) for p, m in zip(teacher, lens)]
        known = torch.tensor(known, dtype=torch.int64)
    tokens = torch.cat([prompts, torch.full((n, L - 1), task.pad, dtype=torch.int64)], 1)
    out = torch.zeros((n, L), dtype=torch.int64)
    for i in range(L):
        out[:, i] = known[:, i] if on_track else forward(tokens)[obj.first, :, P - 1 + i].argmax(-1)
        if i < L - 1:
            tokens[:, P + i] = out[:, i]
        on_track = on_track and torch.equal(out[:, i], truth[:, i])
    preds = out.tolist()
    if obj.kind == "reverse":
        preds = [_unreverse(p, m) for p, m in zip(preds, lens)]
    return preds, None


def _unreverse(predicted, length):
    return predicted[:length][::-1] + predicted[length:]


def _unmask_decode(task, prompts, forward, K):
    """All target positions start masked; each of K passes commits the ceil(remaining/steps left) most confident
    (argmax never [MASK]; ties: leftmost first)."""
    n, P = prompts.shape
    L = task.target_length
    tokens = torch.cat([prompts, torch.full((n, L), task.mask, dtype=torch.int64)], 1)
    commit = torch.full((n, L), -1, dtype=torch.int64)
    for k in range(K):
        if (commit >= 0).all():
            break
        logits = forward(tokens)[0, :, P:].double()  # (n, L, V)
        logits[..., task.mask] = -math.inf
        probs = logits.softmax(-1)
        prob, token = probs.max(-1)
        for b in range(n):
            open_ = [i for i in range(L) if commit[b, i] < 0]
            if not open_:
                continue
            open_.sort(key=lambda i: (-prob[b, i].item(), i))
            for i in open_[: math.ceil(len(open_) / (K - k))]:
                tokens[b, P + i] = token[b, i]
                commit[b, i] = k
    return tokens[:, P:].tolist(), commit.tolist()


def _remask_decode(task, prompts, forward, K):
    """HKUNLP's decoder with re-masking (their topk_decoding, "deterministic-linear"): passes t = K-1 … 0 each predict
    every target position (argmax never [MASK], visible positions included) scored by its probability, and while
    t > 0 mask again the positions scoring below the floor(L·t/K)-th lowest; commit: the pass after which each
    position stayed visible."""
    n, P = prompts.shape
    L = task.target_length
    tokens = torch.cat([prompts, torch.full((n, L), task.mask, dtype=torch.int64)], 1)
    commit = torch.full((n, L), -1, dtype=torch.int64)
    for p in range(K):
        t = K - 1 - p
        logits = forward(tokens)[0, :, P:].double()  # (n, L, V)
        logits[..., task.mask] = -math.inf
        prob, token = logits.softmax(-1).max(-1)
        cutoff = prob.sort(-1).values[:, (L * t) // K : (L * t) // K + 1]  # (n, 1)
        masked = (prob < cutoff) & (t > 0)
        was_masked = tokens[:, P:] == task.mask
        commit = torch.where(masked, -1, torch.where(was_masked & ~masked, p, commit))
        tokens[:, P:] = torch.where(masked, task.mask, token)
    return tokens[:, P:].tolist(), commit.tolist()


def _revealed_passes(task, examples, forward, revealed):
    """Diffusion: one pass per target position i with the true target tokens at the positions j where
    revealed(i, j) given and the rest masked; the argmax at i (never [MASK])."""
    P, L, n = task.prompt_length, task.target_length, len(examples)
    preds = torch.zeros((n, L), dtype=torch.int64)
    for i in range(L):
        rows = [list(e.prompt) + [t if t != task.pad and revealed(i, j) else task.mask for j, t in enumerate(e.target)]
                for e in examples]
        lg = forward(torch.tensor(rows))[0, :, P + i].double()
        lg[:, task.mask] = -math.inf
        preds[:, i] = lg.argmax(-1)
    return preds.tolist()


@torch.no_grad()
def probes(obj, task, examples, forward, teacher):
    """The lab's probes (src/objectives/types.ts ProbePredictions): argmaxes per example and target position, natural
    order. goalSide: the true tokens after i given (diffusion: revealed; reverse: its own teacher forcing, `teacher`);
    singleMask: diffusion, only i masked; heads: mtp, heads[k][b][i] head k's argmax for target[i] (-1 for i < k)."""
    if obj.kind == "reverse":
        return {"goalSide": teacher}
    if obj.kind == "diffusion":
        return {"goalSide": _revealed_passes(task, examples, forward, lambda i, j: j > i),
                "singleMask": _revealed_passes(task, examples, forward, lambda i, j: j != i)}
    if obj.kind == "mtp":
        P, L = task.prompt_length, task.target_length
        rows = [list(e.prompt) + list(e.target[:-1]) for e in examples]
        lg = forward(torch.tensor(rows))  # (H, n, T, V)
        f = obj.first
        return {"heads": [[[-1 if i < k else lg[f + k, b, P - 1 + i - k].argmax().item() for i in range(L)]
                           for b in range(len(examples))] for k in range(obj.heads)]}
    return {}


@torch.no_grad()
def teacher_forced(obj, task, examples, forward):
    """Per target position (natural order): the argmax and the true token's log-probability given the true earlier
    tokens in the objective's order (teacherless: `$` inputs; diffusion: the true tokens left revealed)."""
    P, L, n = task.prompt_length, task.target_length, len(examples)
    if obj.kind == "diffusion":
        preds = torch.zeros((n, L), dtype=torch.int64)
        logp = torch.zeros((n, L), dtype=torch.float64)
        truth = torch.tensor([e.target for e in examples], dtype=torch.int64)
        for i in range(L):
            rows = [list(e.prompt) + list(e.target[:i]) + [task.mask] * (L - i) for e in examples]
            lg = forward(torch.tensor(rows))[0, :, P + i].double()
            lg[:, task.mask] = -math.inf
            preds[:, i] = lg.argmax(-1)
            lp = lg.log_softmax(-1).gather(1, truth[:, i : i + 1])[:, 0]
            logp[:, i] = torch.where(truth[:, i] == task.pad, torch.zeros_like(lp), lp)
        return preds.tolist(), logp.tolist()
    ordered = ordered_targets(obj, task, examples)
    if obj.kind == "teacherless":
        rows = [list(e.prompt) + [task.dummy] * (L - 1) for e in examples]
    else:
        rows = [list(e.prompt) + t[:-1] for e, t in zip(examples, ordered)]
    lg = forward(torch.tensor(rows))[obj.first, :, P - 1 : P - 1 + L].double()  # (n, L, V), the next-token head
    preds = lg.argmax(-1).tolist()
    logp = lg.log_softmax(-1)
    lps = [[0.0 if t == task.pad else logp[b, i, t].item() for i, t in enumerate(o)] for b, o in enumerate(ordered)]
    if obj.kind == "reverse":
        lens = [_non_pad(e.target, task.pad) for e in examples]
        preds = [_unreverse(p, m) for p, m in zip(preds, lens)]
        lps = [_unreverse(p, m) for p, m in zip(lps, lens)]
    return preds, lps

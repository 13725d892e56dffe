"""Train an experiment's lanes side by side, as the lab does (src/lab/lab.ts, lane.ts): one model per objective,
the same graphs in the same order, AdamW with the lab's schedule, evaluation every evalEvery steps on the held-out
set; results in the same JSON as `npm run lab -- compare --json`, checkpoints in the lab's files.

Distributed: under torchrun with one seed, each lane is a DistributedDataParallel model and every rank takes its
slice of the same global batch (the data stream is generated identically on every rank), so the run is the same
experiment as on one process. With several seeds, the seeds are shared out over the ranks and each trains alone.
"""
import json
import math
import os
import time

import torch

from . import metrics
from .checkpoint import load_model_into, load_optimizer_into, save_model, save_optimizer
from .model import GPT, GPTConfig, init_lab, optimizer_groups
from .objectives import (decode, listnet_rows, loss_shape, make_batch, make_objective, probes, row_losses,
                         teacher_forced, top_targets)
from .rng import Rng, data_seed, objective_seed
from .tasks import make_task


def learning_rate(train, step):
    """The lab's learningRate (src/model/config.ts) at a 0-based step: linear warmup, then constant or cosine."""
    lr, warmup = train["lr"], train["warmupSteps"]
    if step < warmup:
        return lr * (step + 1) / warmup
    if train.get("schedule", "cosine") == "constant":
        return lr
    ratio = min(1.0, (step - warmup) / max(1, train["steps"] - warmup))
    min_lr = lr * train["minLrRatio"]
    return min_lr + 0.5 * (1 + math.cos(math.pi * ratio)) * (lr - min_lr)


def training_flops_per_step(cfg, B, T):
    """3 × the forward matmul and attention FLOPs (src/engine/plan.ts), so lanes compare at equal compute."""
    C, BT = cfg.n_embd, B * T
    per_block = 2 * BT * C * 3 * C + 2 * 2 * B * T * T * C + 2 * BT * C * C + 2 * 2 * BT * C * 4 * C
    unembeddings = 1 + cfg.extra_heads + (1 if cfg.top_head else 0)
    return 3 * ((cfg.n_layer + cfg.extra_heads) * per_block + unembeddings * 2 * BT * C * cfg.vocab_size)


class Lane:
    """One objective's model, optimizer and random stream."""

    def __init__(self, index, objective_spec, task, spec, seed, device, dtype=torch.float32):
        self.index = index
        self.spec = objective_spec
        self.objective = make_objective(objective_spec)
        self.task = task
        self.train = spec["train"]
        m = spec["model"]
        self.cfg = GPTConfig(len(task.vocab), self.objective.seq_len(task), m["nLayer"], m["nHead"], m["nEmbd"],
                             self.objective.attention, self.objective.extra_heads, self.objective.top_head)
        self.model = GPT(self.cfg)
        init_lab(self.model, seed)
        self.model.to(device=device, dtype=dtype)
        self.device = device
        decay, other = optimizer_groups(self.model)
        t = self.train
        self.optimizer = torch.optim.AdamW(
            [{"params": decay, "weight_decay": t["weightDecay"]}, {"params": other, "weight_decay": 0.0}],
            lr=t["lr"], betas=(t["beta1"], t["beta2"]), eps=t["eps"])
        self.objective_rng = Rng(objective_seed(seed))
        self.ddp = None  # the DistributedDataParallel wrapper, when training on several ranks
        self.step = 0
        self.flops_per_step = training_flops_per_step(self.cfg, t["batchSize"], self.cfg.block_size)
        self.seconds = 0.0
        self.steps, self.evals = [], []
        self.failure = None

    @property
    def name(self):
        return self.objective.kind

    def train_step(self, examples, rank=0, world=1):
        """One AdamW step on the batch built from these examples (this rank's rows of it under DDP)."""
        tokens, targets, weights = make_batch(self.objective, self.task, examples, self.objective_rng)
        top = self.objective.top_head
        # The token-order head's soft targets (n, T, V) and weights (n, T); empty placeholders without that head.
        q, qw = top_targets(self.task, examples, weights) if top else (torch.zeros(0), torch.zeros(0))
        if world > 1:
            rows = tokens.shape[0] // world
            sl = slice(rank * rows, (rank + 1) * rows)
            tokens, targets, weights = tokens[sl], targets[:, sl], weights[:, sl] * world  # DDP averages over ranks
            if top:
                q, qw = q[sl], qw[sl] * world
        tokens, targets, weights = tokens.to(self.device), targets.to(self.device), weights.to(self.device)
        lr = learning_rate(self.train, self.step)
        for g in self.optimizer.param_groups:
            g["lr"] = lr
        out = (self.ddp or self.model)(tokens, top=top)
        logits = out[0] if top else out  # (H, n, T, V)
        ce = row_losses(logits, targets, loss_shape(self.objective, self.task))
        loss = (ce * weights.reshape(-1).to(ce.dtype)).sum()
        if top:  # ListNet on the token-order head, added to the next-token loss (their `loss = loss + top_loss`)
            listnet = listnet_rows(out[1], q.to(self.device))
            loss = loss + (listnet * qw.reshape(-1).to(self.device, listnet.dtype)).sum()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        # Global-norm clipping as the lab (clip 0: no clipping, the norm is still measured).
        clip = self.train["gradClip"] if self.train["gradClip"] > 0 else float("inf")
        norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), clip)
        total = loss.detach()
        if world > 1:
            torch.distributed.all_reduce(total)
            total /= world
        total = total.item()
        if not (math.isfinite(total) and math.isfinite(norm.item())):
            # As the lab: the weights stay at the last good values and the lane stops.
            self.failure = f"{self.name}: the loss or gradient norm became non-finite at step {self.step + 1} (lr {self.train['lr']})"
            return total
        self.optimizer.step()
        self.step += 1
        return total

    def forward_fn(self, max_batch):
        def forward(tokens):
            self.model.eval()
            out = [self.model(tokens[s : s + max_batch].to(self.device)).float().cpu() for s in range(0, tokens.shape[0], max_batch)]
            self.model.train()
            return torch.cat(out, 1)
        return forward

    @torch.no_grad()
    def evaluate(self, examples):
        forward = self.forward_fn(self.train["batchSize"])
        preds, commits, tf, logp = [], [], [], []
        probed = {}
        for s in range(0, len(examples), self.train["batchSize"]):
            chunk = examples[s : s + self.train["batchSize"]]
            # Teacher forcing first: greedy decoding skips the passes whose argmaxes it already holds (decode).
            q, lp = teacher_forced(self.objective, self.task, chunk, forward)
            tf += q
            logp += lp
            for key, rows in probes(self.objective, self.task, chunk, forward, q).items():
                if key == "heads":
                    probed.setdefault(key, [[] for _ in rows])
                    for k, r in enumerate(rows):
                        probed[key][k] += r
                else:
                    probed.setdefault(key, []).extend(rows)
            p, c = decode(self.objective, self.task, chunk, forward, q)
            preds += p
            commits += c or []
        return metrics.evaluation(self.task, examples, preds, tf, logp, probed)


def run_seed(spec, seed, out_dir=None, device="cpu", log=print, resume=None, rank=0, world=1, save_every=0, until_contrast=False):
    """Train every lane of the spec with this seed; returns the run's LaneResults (the lab's JSON shape), the wall
    seconds, and — with until_contrast, which stops the run there — when a lane other than next-token prediction
    first reached 90% held-out exact match: {step, flops (all lanes), seconds (wall, evaluation included)} or None."""
    spec = json.loads(json.dumps(spec))
    spec["train"]["seed"] = seed
    train = spec["train"]
    task = make_task(spec["task"], seed)
    lanes = [Lane(i, o, task, spec, seed, device) for i, o in enumerate(spec["objectives"])]
    data_rng = Rng(data_seed(seed))
    if resume:
        data_rng = _resume(lanes, resume, log)
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel as DDP

        if train["batchSize"] % world:
            raise SystemExit(f"batch size {train['batchSize']} must be a multiple of the {world} ranks")
        for lane in lanes:
            lane.ddp = DDP(lane.model, device_ids=[torch.device(device).index] if str(device).startswith("cuda") else None)
    test = task.test[: max(1, spec["evalExamples"])]
    first = lanes[0].step
    log(f"{task.name}: {', '.join(f'{l.name} (T={l.cfg.block_size})' for l in lanes)}; seed {seed}, "
        f"steps {first}→{train['steps']}, batch {train['batchSize']} over {world} rank(s), device {device}")
    log_every = max(1, train["steps"] // 2000)

    def evaluate_all():
        if rank != 0:
            return
        for lane in lanes:
            evaluate_lane(lane, test, log)

    wall0 = time.time()
    contrast = None

    def reached():
        nonlocal contrast
        for lane in lanes:
            if contrast is None and lane.name != "ntp" and lane.evals and lane.evals[-1]["exactMatch"] >= 0.9:
                contrast = {"step": lane.step, "flops": sum(l.step * l.flops_per_step for l in lanes), "seconds": time.time() - wall0,
                            "objective": lane.name}
        return contrast is not None

    for step in range(first, train["steps"]):
        examples = task.sample_train(data_rng, train["batchSize"])
        for lane in lanes:
            if lane.failure:
                continue
            t0 = time.time()
            loss = lane.train_step(examples, rank, world)
            if str(device).startswith("cuda"):
                torch.cuda.synchronize()
            lane.seconds += time.time() - t0
            record_step(lane, loss, first, log_every)
        s = step + 1
        if s % 100 == 0 and rank == 0:
            log(" ".join(f"{l.name} step {l.step} loss {l.steps[-1]['loss']:.4f}" for l in lanes if l.steps))
        if s % spec["evalEvery"] == 0 and s < train["steps"]:
            evaluate_all()
            if until_contrast and reached():
                log(f"time to contrast: {contrast['objective']} reached 90% at step {s}, {contrast['seconds']:.1f} s")
                break
        if out_dir and save_every and s % save_every == 0 and rank == 0:
            save_lanes(lanes, spec, task, data_rng, out_dir)
    if contrast is None:
        evaluate_all()
        if until_contrast:
            reached()
    if out_dir and rank == 0:
        save_lanes(lanes, spec, task, data_rng, out_dir)
    return [lane_result(l) for l in lanes], time.time() - wall0, contrast


def evaluate_lane(lane, test, log):
    """Evaluate a lane on the held-out examples, record it in its history and print one line."""
    if lane.failure:
        return
    ev = lane.evaluate(test)
    ev.update(lane=lane.index, objective=lane.name, step=lane.step, flops=lane.step * lane.flops_per_step,
              tokens=lane.step * lane.train["batchSize"] * lane.cfg.block_size, seconds=lane.seconds)
    lane.evals.append(ev)
    log(f"{lane.name:11} eval step {lane.step}: exact {100 * ev['exactMatch']:.1f}% "
        f"({100 * ev['exactMatchInterval'][0]:.0f}–{100 * ev['exactMatchInterval'][1]:.0f}%) "
        f"teacher-forced {fmt(ev['perPosition']['teacherForced'])} free-running {fmt(ev['perPosition']['freeRunning'])} "
        f"held-out CE {ev['heldOutLoss']:.3f}{fmt_probes(ev['probes'])}")


def record_step(lane, loss, first, log_every):
    """The lane's step line (the lab's StepMetrics), every log_every steps and at the last."""
    s, train = lane.step, lane.train
    if s % log_every == 0 or s == train["steps"]:
        lane.steps.append({"lane": lane.index, "objective": lane.name, "step": s, "loss": loss,
                           "lr": learning_rate(train, s - 1), "flops": s * lane.flops_per_step, "seconds": lane.seconds,
                           "tokens": s * train["batchSize"] * lane.cfg.block_size,
                           "tokensPerSecond": train["batchSize"] * lane.cfg.block_size * (s - first) / max(lane.seconds, 1e-9)})


def fmt(xs):
    return "[" + " ".join(" -  " if x is None else f"{x:.2f}" for x in xs) + "]"


def fmt_probes(p):
    out = (f" goal-side {fmt(p['goalSide'])}" if p["goalSide"] else "") + (f" single-mask {fmt(p['singleMask'])}" if p["singleMask"] else "")
    return out + "".join(f" head{k + 1} {fmt(h)}" for k, h in enumerate(p["heads"] or []))


def lane_result(lane):
    ev = lane.evals[-1] if lane.evals else {}
    hit = next((e for e in lane.evals if e["exactMatch"] >= 0.9), None)
    return {
        "lane": lane.index, "objective": lane.name, "objectiveSpec": lane.spec, "steps": lane.step,
        "flops": lane.step * lane.flops_per_step, "seconds": lane.seconds,
        "finalLoss": lane.steps[-1]["loss"] if lane.steps else float("nan"),
        "exactMatch": ev.get("exactMatch", 0), "exactMatchInterval": ev.get("exactMatchInterval", [0, 1]),
        "examples": ev.get("examples", 0), "decisionTokenAccuracy": ev.get("decisionTokenAccuracy"),
        "perPosition": ev.get("perPosition", {"teacherForced": [], "freeRunning": []}),
        **({"probes": ev["probes"]} if "probes" in ev else {}),
        "validWrongFraction": ev.get("validWrongFraction"), "heldOutLoss": ev.get("heldOutLoss", float("nan")),
        "timeTo90": {"step": hit["step"], "flops": hit["flops"], "seconds": hit["seconds"]} if hit else None,
        **({"failure": lane.failure} if lane.failure else {}),
        "history": {"steps": lane.steps, "evals": lane.evals},
    }


def save_lanes(lanes, spec, task, data_rng, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    for lane in lanes:
        stem = os.path.join(out_dir, f"lane{lane.index}-{lane.name}")
        save_model(f"{stem}.safetensors", lane.model, lane.name, lane.step, spec["task"], task.vocab)
        save_optimizer(f"{stem}.optimizer.safetensors", lane.model, lane.optimizer, lane.step,
                       [data_rng.state, lane.objective_rng.state],
                       {"spec": spec, "lane": lane.index, "objectiveSpec": lane.spec, "seconds": lane.seconds})


def _resume(lanes, files, log):
    """Continue from the lab's lane files (model + optimizer, all at one step); returns the data generator."""
    if len(files) != len(lanes):
        raise SystemExit(f"--resume gave {len(files)} lane checkpoint(s); the experiment has {len(lanes)} lanes")
    data_state, steps = None, set()
    for lane, path in zip(lanes, files):
        opt_path = path[: -len(".safetensors")] + ".optimizer.safetensors"
        load_model_into(path, lane.model)
        step, rng_state, extra = load_optimizer_into(opt_path, lane.model, lane.optimizer)
        lane.step, lane.seconds = step, float(extra.get("seconds", 0))
        lane.objective_rng.state = int(rng_state[1])
        data_state = int(rng_state[0])
        steps.add(step)
        log(f"resuming {lane.name} from step {step} ({path})")
    if len(steps) != 1:
        raise SystemExit(f"--resume: the lanes were saved at different steps: {sorted(steps)}")
    rng = Rng(0)
    rng.state = data_state
    return rng

"""Many seeds of one experiment trained at once (`python -m labtorch … --stack`): for each objective, the seeds'
models are one stacked model, their weights (M, …) per parameter, run through the same GPT module with vmap. On a
GPU, M tiny models then cost about the kernel launches of one; on a CPU it is no faster than one after another.

Each seed is exactly the run `run_seed` would make alone: its own task and held-out set, data stream, objective
stream and initialisation (init_lab), and its own evaluation. The optimizer is AdamW over the stacked tensors,
which is element-wise and so the same update per slice as each model's own AdamW (one step count for all); the
gradient is clipped by each model's own global norm, as clip_grad_norm_ does for one. What may differ from the
run alone is float rounding: a batched matmul sums in another order. test/python.test.ts checks the stacked run
against the runs alone.

A model whose loss or gradient norm becomes non-finite stops as in the lab: its weights stay at the last good
values (its slice is copied out before the step) and its lane trains no more; the other seeds go on.

Legend: M stacked models, H heads, n sequences, T positions, V vocabulary.
"""
import json
import math
import time

import torch

from .model import GPT
from .objectives import listnet_rows, loss_shape, make_batch, row_losses, top_targets
from .rng import Rng, data_seed
from .tasks import make_task
from .train import Lane, evaluate_lane, lane_result, learning_rate, record_step, save_lanes

try:  # PyTorch 2
    from torch import vmap
    from torch.func import functional_call
except ImportError:  # PyTorch 1.13 (Debian 12's)
    from functorch import vmap
    from torch.nn.utils.stateless import functional_call


class StackedLanes:
    """One objective's lanes, one per seed, as one stacked model and one AdamW."""

    def __init__(self, lanes, device):
        self.lanes = lanes
        self.M = len(lanes)
        self.train = lanes[0].train
        self.base = GPT(lanes[0].cfg).to(device)  # the module whose weights vmap replaces by each slice
        per_lane = [dict(lane.model.named_parameters()) for lane in lanes]
        self.params = {name: torch.stack([p[name].detach() for p in per_lane]).requires_grad_()
                       for name in per_lane[0]}
        t = self.train
        decay = [p for p in self.params.values() if p.dim() >= 3]  # 2-D and more per model, as optimizer_groups
        other = [p for p in self.params.values() if p.dim() < 3]
        self.optimizer = torch.optim.AdamW(
            [{"params": decay, "weight_decay": t["weightDecay"]}, {"params": other, "weight_decay": 0.0}],
            lr=t["lr"], betas=(t["beta1"], t["beta2"]), eps=t["eps"])

        self.top = lanes[0].objective.top_head  # the lanes share an objective

        def one(params, tokens):  # one model's slice: tokens (n, T) → logits (H, n, T, V) (and with top, (n, T, V))
            # The unembedding is tied to wte: give both names the slice, so that the tie holds on every version.
            tied = {**params, "lm_head.weight": params["transformer.wte.weight"]}
            return functional_call(self.base, tied, (tokens, self.top))

        self.forward = vmap(one)  # (M, n, T) → (M, H, n, T, V)
        self.step = 0

    def train_step(self, examples):
        """One AdamW step of every live model, each on its own seed's examples (a list of M batches)."""
        live = [lane for lane in self.lanes if not lane.failure]
        self.step += 1
        batches = [make_batch(l.objective, l.task, ex, l.objective_rng) for l, ex in zip(self.lanes, examples)]
        if self.top:
            batches = [b + top_targets(l.task, ex, b[2]) for b, l, ex in zip(batches, self.lanes, examples)]
        device = self.params["transformer.wte.weight"].device
        tokens, targets, weights, *top = (torch.stack([b[i] for b in batches]).to(device) for i in range(len(batches[0])))
        lr = learning_rate(self.train, self.step - 1)
        for g in self.optimizer.param_groups:
            g["lr"] = lr
        out = self.forward(self.params, tokens)
        logits = out[0] if self.top else out  # (M, H, n, T, V)
        first = self.lanes[0]
        ce = row_losses(logits, targets, loss_shape(first.objective, first.task))  # the lanes share an objective
        losses = (ce.view(self.M, -1) * weights.reshape(self.M, -1).to(ce.dtype)).sum(1)  # (M,)
        if self.top:  # the token-order head's ListNet, top = [q (M, n, T, V), weights (M, n, T)]
            listnet = listnet_rows(out[1], top[0])
            losses = losses + (listnet.view(self.M, -1) * top[1].reshape(self.M, -1).to(listnet.dtype)).sum(1)
        self.optimizer.zero_grad(set_to_none=True)
        losses.sum().backward()  # the models are independent: each slice gets its own model's gradient
        norms = torch.stack([p.grad.pow(2).flatten(1).sum(1) for p in self.params.values()]).sum(0).sqrt()  # (M,)
        clip = self.train["gradClip"] if self.train["gradClip"] > 0 else math.inf
        coef = (clip / (norms + 1e-6)).clamp(max=1.0)
        for p in self.params.values():
            p.grad.mul_(coef.view(-1, *[1] * (p.dim() - 1)))
        losses, norms = losses.detach().cpu(), norms.detach().cpu()
        for m, lane in enumerate(self.lanes):
            if lane.failure is None and not (math.isfinite(losses[m].item()) and math.isfinite(norms[m].item())):
                self.copy_out(m)  # the last good weights, before this step
                lane.failure = (f"{lane.name}: the loss or gradient norm became non-finite at step {lane.step + 1} "
                                f"(lr {self.train['lr']})")
        self.optimizer.step()
        for lane in live:
            if not lane.failure:
                lane.step += 1
        return losses.tolist()

    @torch.no_grad()
    def copy_out(self, m):
        """Slice m into its lane's own model and optimizer state, for evaluation and checkpoints."""
        lane = self.lanes[m]
        params = dict(lane.model.named_parameters())
        for name, p in self.params.items():
            params[name].copy_(p[m])
            state = self.optimizer.state.get(p)
            if state:
                lane.optimizer.state[params[name]] = {
                    "step": torch.tensor(float(lane.step)),
                    "exp_avg": state["exp_avg"][m].clone(),
                    "exp_avg_sq": state["exp_avg_sq"][m].clone(),
                }

    def sync(self):
        for m, lane in enumerate(self.lanes):
            if not lane.failure:
                self.copy_out(m)


def run_seeds_stacked(spec, seeds, out_dirs=None, device="cpu", log=print):
    """Train every lane of the spec for each seed, the seeds of each lane stacked; returns, per seed, what run_seed
    returns: (the run's LaneResults, wall seconds, None). A lane's `seconds` is its stacked group's training time,
    which all its seeds share."""
    specs, tasks, data_rngs, groups = [], [], [], []
    for seed in seeds:
        s = json.loads(json.dumps(spec))
        s["train"]["seed"] = seed
        specs.append(s)
        tasks.append(make_task(s["task"], seed))
        data_rngs.append(Rng(data_seed(seed)))
    for index, objective in enumerate(spec["objectives"]):
        lanes = [Lane(index, objective, task, s, seed, device) for s, task, seed in zip(specs, tasks, seeds)]
        groups.append(StackedLanes(lanes, device))
    train = spec["train"]
    tests = [task.test[: max(1, spec["evalExamples"])] for task in tasks]
    log(f"{tasks[0].name}: {', '.join(f'{g.lanes[0].name} (T={g.lanes[0].cfg.block_size})' for g in groups)}; "
        f"seeds {', '.join(map(str, seeds))} stacked, steps 0→{train['steps']}, batch {train['batchSize']}, device {device}")
    log_every = max(1, train["steps"] // 2000)

    def evaluate_all(step):
        for g in groups:
            g.sync()
        for seed, test, i in zip(seeds, tests, range(len(seeds))):
            for g in groups:
                evaluate_lane(g.lanes[i], test, lambda line: log(f"seed {seed} {line}"))

    wall0 = time.time()
    for step in range(train["steps"]):
        examples = [task.sample_train(rng, train["batchSize"]) for task, rng in zip(tasks, data_rngs)]
        for g in groups:
            if all(lane.failure for lane in g.lanes):
                continue
            t0 = time.time()
            losses = g.train_step(examples)
            if str(device).startswith("cuda"):
                torch.cuda.synchronize()
            dt = time.time() - t0
            for lane, loss in zip(g.lanes, losses):
                if lane.failure:
                    continue
                lane.seconds += dt
                record_step(lane, loss, 0, log_every)
        s = step + 1
        if s % 100 == 0:
            log(" ".join(f"{g.lanes[0].name} step {s} mean loss {sum(l.steps[-1]['loss'] for l in g.lanes) / g.M:.4f}"
                         for g in groups))
        if s % spec["evalEvery"] == 0 and s < train["steps"]:
            evaluate_all(s)
    evaluate_all(train["steps"])
    wall = time.time() - wall0
    out = []
    for i, seed in enumerate(seeds):
        lanes = [g.lanes[i] for g in groups]
        if out_dirs:
            save_lanes(lanes, specs[i], tasks[i], data_rngs[i], out_dirs[i])
        out.append(([lane_result(lane) for lane in lanes], wall, None))
    return out

"""Run a lab experiment in PyTorch.

    python -m labtorch experiment.json --out runs/ [--seeds 1..8] [--steps N] [--sweep sweep.json]
    torchrun --nproc_per_node=N -m labtorch experiment.json --out runs/ ...
    python -m labtorch experiment.json --out runs/ --resume lane0-ntp.safetensors lane1-reverse.safetensors
    python -m labtorch experiment.json --out runs/ --seeds 1..16 --stack [--sweep sweep.json]

experiment.json is what the lab's "Run at scale" (or `npm run lab -- export-experiment`) writes: {"spec": …,
"seeds": […]}, or a bare spec. Results go to OUT/results.json in the schema of `npm run lab -- compare --json`
(one run per seed and the summary over seeds); each seed's lane checkpoints to OUT/seed-S/ in the lab's files.

With one seed under torchrun, the ranks train it together (DDP, each rank a slice of every batch); with several
seeds (or a sweep), each rank trains its share of the seeds alone. A sweep file is a list of {"name": …, and any
of "task", "model", "train", "objectives", "evalEvery", "evalExamples"} merged into the spec, one run each.

With --stack, the seeds of each run (each sweep entry) train at once, each objective's models stacked into one
(labtorch/stack.py): on a GPU, sixteen seeds of these tiny models cost about what one does. Under torchrun a sweep's
settings are shared out over the ranks (or, with fewer settings than ranks, its seeds), and ranks may outnumber the
GPUs: a sweep of tiny models is bound by each rank's Python, so `torchrun --nproc_per_node=12` on one GPU runs twelve
settings at once.

A seed whose OUT/seed-S.json already holds this spec's finished run is not trained again (an interrupted run of
many seeds continues with the seeds it had not done, and results.json is written over all of them); --redo trains
every seed anew.
"""
import argparse
import json
import os
import sys
import time

import torch

from .metrics import copy_position, summarise
from .tasks import SpecError
from .train import run_seed


def parse_seeds(text):
    """1..8, 1-8, 1,2,3 or a mix: distinct seeds in the order given."""
    seeds = []
    for part in text.split(","):
        part = part.strip()
        for sep in ("..", "-"):
            if sep in part:
                a, b = part.split(sep, 1)
                break
        else:
            a = b = part
        if not (a.strip().isdigit() and b.strip().isdigit()) or int(b) < int(a):
            raise SystemExit(f"--seeds: {part!r} is not a seed or a range such as 1..8")
        seeds += [s for s in range(int(a), int(b) + 1) if s not in seeds]
    return seeds


def merge(spec, override):
    out = json.loads(json.dumps(spec))
    for k, v in override.items():
        if k == "name":
            continue
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k].update(v)
        else:
            out[k] = v
    return out


def finished(path, spec):
    """Whether `path` holds a finished run of exactly this spec (its full step budget, not a --until-contrast one)."""
    try:
        run = json.load(open(path))
    except (OSError, json.JSONDecodeError):
        return False
    return run.get("spec") == spec and run.get("timeToContrast") is None and all(
        r["steps"] >= spec["train"]["steps"] or r.get("failure") for r in run["results"])


def stacked(jobs, a, spec, device, log):
    """Train the jobs' seeds entry by entry, stacked (--stack), and write each seed's run; returns no jobs left."""
    from .stack import run_seeds_stacked

    for entry in [e for i, (e, _) in enumerate(jobs) if all(e is not f for f, _ in jobs[:i])]:
        run_spec = merge(spec, entry)
        folder = os.path.join(a.out, entry["name"]) if entry["name"] else a.out
        seeds = [s for e, s in jobs if e is entry]
        todo = [s for s in seeds if a.redo or not finished(os.path.join(folder, f"seed-{s}.json"), run_spec)]
        for s in sorted(set(seeds) - set(todo)):
            print(f"seed {s}: already trained ({os.path.join(folder, f'seed-{s}.json')}); not run again (--redo to train it anew)")
        if not todo:
            continue
        try:
            runs = run_seeds_stacked(run_spec, todo, [os.path.join(folder, f"seed-{s}") for s in todo], device, log)
        except SpecError as e:
            raise SystemExit(f"experiment: {e}")
        os.makedirs(folder, exist_ok=True)
        for seed, (results, wall, contrast) in zip(todo, runs):
            json.dump({"seed": seed, "spec": run_spec, "wallSeconds": wall, "timeToContrast": contrast,
                       "results": results, "stacked": todo}, open(os.path.join(folder, f"seed-{seed}.json"), "w"))
    return []


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m labtorch", description=__doc__.split("\n")[0])
    ap.add_argument("experiment", help="experiment.json from the lab")
    ap.add_argument("--out", required=True, help="folder for results.json and checkpoints")
    ap.add_argument("--seeds", help="e.g. 1..8 or 1,2,3 (default: the experiment's)")
    ap.add_argument("--steps", type=int, help="override the step budget")
    ap.add_argument("--sweep", help="JSON list of spec overrides, one run each")
    ap.add_argument("--resume", nargs="+", help="the lab's lane checkpoints (.safetensors, optimizer file beside each)")
    ap.add_argument("--save-every", type=int, default=0, help="also checkpoint every N steps")
    ap.add_argument("--device", help="cuda, cpu, … (default: cuda when there is one)")
    ap.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    ap.add_argument("--redo", action="store_true", help="train seeds again even where OUT/seed-S.json holds their run")
    ap.add_argument("--stack", action="store_true",
                    help="train each run's seeds at once, each objective's models stacked (fast on a GPU)")
    ap.add_argument("--until-contrast", action="store_true",
                    help="stop a run once an objective other than ntp reaches 90%% held-out exact match")
    a = ap.parse_args(argv)

    try:
        doc = json.load(open(a.experiment))
    except (OSError, json.JSONDecodeError) as e:
        raise SystemExit(f"{a.experiment}: {e}")
    spec = doc.get("spec", doc)
    if a.resume:
        # The lab's run goes on: its spec comes from the first lane's optimizer file.
        from .checkpoint import read_safetensors

        _, meta = read_safetensors(a.resume[0][: -len(".safetensors")] + ".optimizer.safetensors")
        spec = json.loads(meta["extra"])["spec"]
    if a.steps:
        spec["train"]["steps"] = a.steps
    seeds = parse_seeds(a.seeds) if a.seeds else doc.get("seeds") or [spec["train"]["seed"]]
    if a.resume:
        # The run goes on with the seed its checkpoints were trained with: its test set and data stream.
        if a.seeds and seeds != [spec["train"]["seed"]]:
            raise SystemExit(f"--resume: the checkpoints were trained with seed {spec['train']['seed']}, not --seeds {a.seeds}")
        seeds = [spec["train"]["seed"]]
    entries = json.load(open(a.sweep)) if a.sweep else [{"name": ""}]

    rank, world = int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))
    local = int(os.environ.get("LOCAL_RANK", 0))
    if a.stack and (a.resume or a.until_contrast or a.save_every):
        raise SystemExit("--stack trains whole runs from the start: it does not take --resume, --until-contrast or --save-every")
    jobs = [(e, s) for e in entries for s in seeds]
    together = len(jobs) == 1 and world > 1 and not a.stack  # one run: DDP over every rank
    if together:
        mine = jobs
    elif a.stack and len(entries) >= world:
        mine = [(e, s) for e in entries[rank::world] for s in seeds]  # whole settings per rank: all seeds stacked
    else:
        mine = jobs[rank::world]
    cuda = torch.cuda.is_available() and a.device in (None, "cuda")
    device = a.device or ("cuda" if cuda else "cpu")
    if cuda:
        # Ranks that train runs of their own may outnumber the GPUs (a sweep of tiny models on one GPU is bound by
        # the ranks' Python, not the GPU): they share the GPUs round robin, and meet only at a gloo barrier.
        local = local % torch.cuda.device_count() if not together else local
        device = f"cuda:{local}"
        torch.cuda.set_device(local)
    elif world > 1:
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // int(os.environ.get("LOCAL_WORLD_SIZE", world))))
    if world > 1:
        torch.distributed.init_process_group("nccl" if cuda and together else "gloo")
    log = print if rank == 0 or not together else (lambda *_: None)
    adapter = f"PyTorch {torch.__version__} on {torch.cuda.get_device_name(local) if cuda else 'CPU'}" + (f", {world} ranks" if world > 1 else "")

    if a.stack:
        mine = stacked(mine, a, spec, device, log)
    for entry, seed in mine:
        run_spec = merge(spec, entry)
        folder = os.path.join(a.out, entry["name"]) if entry["name"] else a.out
        done = os.path.join(folder, f"seed-{seed}.json")
        if not a.redo and not a.resume and not a.until_contrast and finished(done, run_spec):
            if rank == 0 or not together:
                print(f"seed {seed}: already trained ({done}); not run again (--redo to train it anew)")
            continue
        try:
            results, wall, contrast = run_seed(run_spec, seed, os.path.join(folder, f"seed-{seed}"), device, log, a.resume,
                                               rank if together else 0, world if together else 1, a.save_every,
                                               a.until_contrast)
        except SpecError as e:
            raise SystemExit(f"experiment: {e}")
        if rank == 0 or not together:
            os.makedirs(folder, exist_ok=True)
            json.dump({"seed": seed, "spec": run_spec, "wallSeconds": wall, "timeToContrast": contrast,
                       "results": results}, open(done, "w"))
    if world > 1:
        torch.distributed.barrier()
    if rank == 0:
        for entry in entries:
            folder = os.path.join(a.out, entry["name"]) if entry["name"] else a.out
            run_spec = merge(spec, entry)
            runs = [json.load(open(os.path.join(folder, f"seed-{s}.json"))) for s in seeds]
            out = {"spec": run_spec, "adapter": adapter, "seeds": seeds, "runs": runs,
                   "summary": summarise(runs, copy_position(run_spec["task"]))}
            json.dump(out, open(os.path.join(folder, "results.json"), "w"), indent=1)
            print(f"wrote {os.path.join(folder, 'results.json')}")
            for s in out["summary"]:
                em = s["exactMatch"]
                print(f"  {s['objective']:11} exact {100 * em['mean']:.1f}% ± {100 * em['sd']:.1f} over seeds {s['seeds']}; "
                      f"reached 90%: {s['reached90']['count']}/{len(s['seeds'])}")
    if world > 1:
        torch.distributed.destroy_process_group()


if __name__ == "__main__":
    sys.exit(main())

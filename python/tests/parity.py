"""What the lab's tests compare with (test/python.test.ts): this package's view of an experiment, as JSON on stdout.

    python3 python/tests/parity.py data REQUEST.json       test set, the first training examples, first batches
    python3 python/tests/parity.py step REQUEST.json       one training step resumed from the lab's lane files

REQUEST.json: {"spec": …, "seed": S, "train": N} for data; {"files": [lane model files], "dtype": …} for step.
"""
import json
import sys

import torch

sys.path.insert(0, __file__.rsplit("/tests/", 1)[0])
from labtorch.objectives import make_batch, make_objective  # noqa: E402
from labtorch.rng import Rng, data_seed, objective_seed  # noqa: E402
from labtorch.tasks import make_task  # noqa: E402
from labtorch.train import Lane, _resume  # noqa: E402


def data(req):
    spec, seed = req["spec"], req["seed"]
    task = make_task(spec["task"], seed)
    rng = Rng(data_seed(seed))
    B = spec["train"]["batchSize"]
    train = []
    while len(train) < req["train"]:
        train += task.sample_train(rng, B)
    first = task.sample_train(Rng(data_seed(seed)), B)
    batches = []
    for o in spec["objectives"]:
        tokens, targets, weights = make_batch(make_objective(o), task, first, Rng(objective_seed(seed)))
        batches.append({"tokens": tokens.flatten().tolist(), "targets": targets.flatten().tolist(),
                        "weights": weights.flatten().tolist()})
    ex = lambda es: [[e.prompt, e.target] for e in es]  # noqa: E731
    return {"vocab": task.vocab, "test": ex(task.test), "train": ex(train[: req["train"]]), "batches": batches}


def step(req):
    """Resume every lane from its files, take one step on the next batch, report the loss and the new weights."""
    files = req["files"]
    dtype = torch.float64 if req.get("dtype") == "float64" else torch.float32
    _, meta = __import__("labtorch.checkpoint", fromlist=["x"]).read_safetensors(files[0][: -len(".safetensors")] + ".optimizer.safetensors")
    spec = json.loads(meta["extra"])["spec"]
    seed = spec["train"]["seed"]
    task = make_task(spec["task"], seed)
    lanes = [Lane(i, o, task, spec, seed, "cpu", dtype) for i, o in enumerate(spec["objectives"])]
    rng = _resume(lanes, files, lambda *_: None)
    examples = task.sample_train(rng, spec["train"]["batchSize"])
    out = []
    for lane in lanes:
        loss = lane.train_step(examples)
        params = {n: p.detach().double().flatten().tolist() for n, p in lane.model.named_parameters()}
        out.append({"objective": lane.name, "loss": loss, "params": params})
    return out


if __name__ == "__main__":
    what, path = sys.argv[1], sys.argv[2]
    req = json.load(open(path))
    json.dump(data(req) if what == "data" else step(req), sys.stdout)

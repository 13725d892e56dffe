"""What the lab's tests compare with (test/python.test.ts): this package's view of an experiment, as JSON on stdout.

    python3 python/tests/parity.py data REQUEST.json       test set, the first training examples, first batches
    python3 python/tests/parity.py step REQUEST.json       one training step resumed from the lab's lane files
    python3 python/tests/parity.py decode REQUEST.json     greedy decoding with and without the teacher-forced argmaxes
    python3 python/tests/parity.py remask REQUEST.json     HKUNLP's re-masking decoder on a scripted model
    python3 python/tests/parity.py loss REQUEST.json       each lane's first loss and gradient norm at its init, float64

REQUEST.json: {"spec": …, "seed": S, "train": N} for data; {"files": [lane model files], "dtype": …} for step;
{"spec": …, "seed": S} for decode and loss; {"vocab": V, "mask": M, "decodeSteps": K, "examples": [[prompt, target]]} for remask.
"""
import json
import sys

import torch

sys.path.insert(0, __file__.rsplit("/tests/", 1)[0])
from labtorch.objectives import decode, make_batch, make_objective, teacher_forced, top_targets  # noqa: E402
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
        obj = make_objective(o)
        tokens, targets, weights = make_batch(obj, task, first, Rng(objective_seed(seed)))
        batches.append({"tokens": tokens.flatten().tolist(), "targets": targets.flatten().tolist(),
                        "weights": weights.flatten().tolist()})
        if obj.top_head:
            probs, top_weights = top_targets(task, first, weights)
            batches[-1]["top"] = {"probs": probs.flatten().tolist(), "weights": top_weights.flatten().tolist()}
    ex = lambda es: [[e.prompt, e.target] for e in es]  # noqa: E731
    return {"vocab": task.vocab, "test": ex(task.test), "train": ex(train[: req["train"]]), "batches": batches}


def loss(req):
    """Each lane at its initial weights, in float64: the loss of the first batch, and its gradient's norm."""
    spec, seed = req["spec"], req["seed"]
    spec["train"]["seed"] = seed
    task = make_task(spec["task"], seed)
    first = task.sample_train(Rng(data_seed(seed)), spec["train"]["batchSize"])
    out = []
    for i, o in enumerate(spec["objectives"]):
        lane = Lane(i, o, task, spec, seed, "cpu", torch.float64)
        lane.train["gradClip"] = 0  # measured, not clipped
        loss = lane.train_step(first)
        grads = {n: p.grad.norm().item() for n, p in lane.model.named_parameters()}
        out.append({"objective": lane.name, "loss": loss, "gradNorms": grads})
    return out


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


def decode_check(req):
    """Each objective's freshly initialised model decodes the test set without and with the teacher-forced argmaxes
    (decode's `teacher`), counting forward passes; then again with every target set to the model's own decoding
    (where it has no pad), so that every chunk stays on track and decoding takes every argmax from teacher forcing."""
    spec, seed = req["spec"], req["seed"]
    task = make_task(spec["task"], seed)
    B = spec["train"]["batchSize"]
    out = []
    for i, o in enumerate(spec["objectives"]):
        lane = Lane(i, o, task, spec, seed, "cpu")
        calls = [0]
        inner = lane.forward_fn(B)

        def forward(tokens, inner=inner):
            calls[0] += 1
            return inner(tokens)

        def both(examples):
            plain, _ = decode(lane.objective, task, examples, forward)
            teacher, _ = teacher_forced(lane.objective, task, examples, forward)
            calls[0] = 0
            hinted, _ = decode(lane.objective, task, examples, forward, teacher)
            return {"plain": plain, "hinted": hinted, "passes": calls[0]}

        examples = task.test[:B]
        given = both(examples)
        own = [type(e)(e.prompt, p) for e, p in zip(examples, given["plain"]) if task.pad not in p]
        out.append({"objective": lane.name, "given": given, "own": both(own), "ownCount": len(own)})
    return out


def remask_check(req):
    """The re-masking decoder on the scripted model of test/objectives.test.ts ("hkunlp decodes as HKUNLP's top-k
    decoder"): at a masked position the true token with margin 1+i, except position 0 with the whole target masked
    (token 0, margin 9); at a visible position its token if true (margin 10), else the true token (margin 0.1)."""
    from types import SimpleNamespace

    from labtorch.objectives import _remask_decode

    V, mask, K = req["vocab"], req["mask"], req["decodeSteps"]
    examples = req["examples"]
    P, L = len(examples[0][0]), len(examples[0][1])
    answers = {tuple(p): t for p, t in examples}

    def forward(tokens):
        n, T = tokens.shape
        logits = torch.zeros((1, n, T, V), dtype=torch.float32)
        for b in range(n):
            row = tokens[b].tolist()
            truth = answers[tuple(row[:P])]
            for i in range(L):
                tok = row[P + i]
                if tok == mask:
                    token, margin = (0, 9.0) if i == 0 and all(t == mask for t in row[P:]) else (truth[i], 1.0 + i)
                else:
                    token, margin = (truth[i], 10.0) if tok == truth[i] else (truth[i], 0.1)
                logits[0, b, P + i, token] = margin
            logits[0, b, :, mask] = 100.0
        return logits

    task = SimpleNamespace(target_length=L, mask=mask)
    prompts = torch.tensor([p for p, _ in examples], dtype=torch.int64)
    predictions, commit = _remask_decode(task, prompts, forward, K)
    return {"predictions": predictions, "commitStep": commit}


if __name__ == "__main__":
    what, path = sys.argv[1], sys.argv[2]
    req = json.load(open(path))
    json.dump({"data": data, "step": step, "decode": decode_check, "remask": remask_check, "loss": loss}[what](req), sys.stdout)

"""The lab's metrics (src/eval/metrics.ts, src/lab/seeds.ts): exact match with its 95% Wilson interval, per-position
accuracy free-running and teacher-forced, the decision token, the valid-but-wrong fraction, held-out cross-entropy,
and the mean and spread over seeds. Pad targets are ignored everywhere."""
import math


def wilson_interval(successes, n, z=1.96):
    p = successes / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = (z / (1 + z2 / n)) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return [max(0.0, centre - half), min(1.0, centre + half)]


def _per_position(preds, examples, pad):
    L = max(len(e.target) for e in examples)
    right, counted = [0] * L, [0] * L
    for e, p in zip(examples, preds):
        for i, t in enumerate(e.target):
            if t == pad:
                continue
            counted[i] += 1
            right[i] += p[i] == t
    return [r / c if c else float("nan") for r, c in zip(right, counted)]


def probe_accuracy(task, examples, probes):
    """The lab's Probes (src/eval/evaluate.ts): accuracy per position, None where the objective has no such probe."""
    pad = task.pad
    heads = probes.get("heads")
    return {
        "goalSide": _per_position(probes["goalSide"], examples, pad) if "goalSide" in probes else None,
        "singleMask": _per_position(probes["singleMask"], examples, pad) if "singleMask" in probes else None,
        "heads": None if not heads else [[None if i < k else a for i, a in enumerate(_per_position(h, examples, pad))]
                                         for k, h in enumerate(heads)],
    }


def evaluation(task, examples, preds, tf_preds, log_probs, probes=None):
    pad = task.pad
    exact = [all(t == pad or p[i] == t for i, t in enumerate(e.target)) for e, p in zip(examples, preds)]
    n = len(examples)
    em = sum(exact) / n
    free = _per_position(preds, examples, pad)
    valid_wrong = None
    if task.is_valid is not None:
        wrong = [(e, p) for e, p, ok in zip(examples, preds, exact) if not ok]
        if wrong:
            valid_wrong = sum(task.is_valid(e, list(p)) for e, p in wrong) / len(wrong)
    tokens = [(lp[i]) for e, lp in zip(examples, log_probs) for i, t in enumerate(e.target) if t != pad]
    d = task.decision_position
    return {
        "exactMatch": em,
        "exactMatchInterval": wilson_interval(round(em * n), n),
        "examples": n,
        "decisionTokenAccuracy": free[d] if d is not None and d < len(free) and not math.isnan(free[d]) else None,
        "perPosition": {"teacherForced": _per_position(tf_preds, examples, pad), "freeRunning": free},
        "validWrongFraction": valid_wrong,
        "heldOutLoss": -sum(tokens) / len(tokens) if tokens else float("nan"),
        "probes": probe_accuracy(task, examples, probes or {}),
    }


def spread(values):
    mean = sum(values) / len(values)
    sd = math.sqrt(sum((x - mean) ** 2 for x in values) / (len(values) - 1)) if len(values) > 1 else 0.0
    return {"mean": mean, "sd": sd, "min": min(values), "max": max(values), "values": values}


def copy_position(task_spec):
    """The first Clever Hans position (src/lab/seeds.ts copyPositionOf)."""
    return 2 if task_spec.get("kind") == "path-star" and task_spec.get("pathLength", 0) >= 4 else None


def summarise(runs, copy_pos):
    """Per lane: mean and spread over the seeds' results, as `compare --seeds`."""
    out = []
    for lane, first in enumerate(runs[0]["results"]):
        rs = [r["results"][lane] for r in runs]

        def of(f):
            xs = [f(r) for r in rs]
            return spread(xs) if all(isinstance(x, (int, float)) and not math.isnan(x) for x in xs) else None

        out.append({
            "lane": lane, "objective": first["objective"], "seeds": [r["seed"] for r in runs],
            "exactMatch": spread([r["exactMatch"] for r in rs]),
            "decisionTokenAccuracy": of(lambda r: r["decisionTokenAccuracy"]),
            "afterDecisionTeacherForced": None if copy_pos is None else of(lambda r: r["perPosition"]["teacherForced"][copy_pos]),
            "heldOutLoss": spread([r["heldOutLoss"] for r in rs]),
            "reached90": {"count": sum(1 for r in rs if r["timeTo90"]), "steps": [r["timeTo90"]["step"] if r["timeTo90"] else None for r in rs]},
        })
    return out

"""The lab's tasks (src/tasks/), example for example: path-star in Bachmann & Nagarajan's format, multi-digit
addition, and the user's own prompt/target pairs. The same spec and seed give the same test set and the same stream
of training examples as the lab, in the same order.

A task has: vocab (display strings; its length is the vocabulary), special tokens (dummy, mask, pad), fixed
prompt and target lengths, the test set, sample_train(rng, n), and for path-star decision_position and is_valid.
"""
import unicodedata
from dataclasses import dataclass, field

from .rng import Rng


@dataclass
class Example:
    prompt: list
    target: list


@dataclass
class Task:
    name: str
    vocab: list
    dummy: int
    mask: int
    pad: int
    prompt_length: int
    target_length: int
    test: list
    sample_train: object  # (rng, n) -> list of Example
    decision_position: int = None
    is_valid: object = None  # (example, predicted) -> bool
    extra: dict = field(default_factory=dict)


class SpecError(ValueError):
    """A spec the lab would refuse, with the field it names (e.g. task.nodes)."""

    def __init__(self, field, reason):
        super().__init__(f"{field}: {reason}")
        self.field = field


def _draw_until(rng, draw, n, accept):
    max_tries = 100 * n + 1000
    got = tries = 0
    while got < n:
        if tries >= max_tries:
            raise RuntimeError(f"generator produced only {got} of {n} acceptable examples")
        if accept(draw(rng)):
            got += 1
        tries += 1


def held_out_split(draw, key, train_size, test_size, seed):
    """Test set first (distinct keys), then training examples with every test key rejected (src/tasks/split.ts)."""
    root = Rng(seed)
    test_rng = root.fork()
    train_rng = root.fork()
    test_keys, test = set(), []

    def accept_test(e):
        k = key(e)
        if k in test_keys:
            return False
        test_keys.add(k)
        test.append(e)
        return True

    _draw_until(test_rng, draw, test_size, accept_test)

    def draw_train(rng, n):
        out = []

        def accept(e):
            if key(e) in test_keys:
                return False
            out.append(e)
            return True

        _draw_until(rng, draw, n, accept)
        return out

    if train_size == 0:
        return test, draw_train
    train = draw_train(train_rng, train_size)
    return test, lambda rng, n: [train[rng.int(len(train))] for _ in range(n)]


# ---------------------------------------------------------------------------------------------------------------
# Path-star: u,v|u,v|…/s,g=s,x1,…,g with node i → i, `|` → N, `=` → N+1, `/` → N+2, `$` → N+3, [MASK] → N+4,
# pad → N+5. Arm 0 ends at the goal; the edges are shuffled.


def path_star_prompt_length(degree, path_length):
    return 3 * degree * (path_length - 1) + 3


def _draw_graph(rng, degree, path_length, nodes):
    labels = list(range(nodes))
    used = degree * (path_length - 1) + 1
    for i in range(used):  # partial Fisher-Yates
        j = i + rng.int(nodes - i)
        labels[i], labels[j] = labels[j], labels[i]
    source = labels[0]
    edges, arms = [], []
    for a in range(degree):
        arm = labels[1 + a * (path_length - 1) : 1 + (a + 1) * (path_length - 1)]
        parent = source
        for child in arm:
            edges.append((parent, child))
            parent = child
        arms.append(arm)
    rng.shuffle(edges)
    goal = arms[0][-1]
    prompt = []
    for i, (u, v) in enumerate(edges):
        if i > 0:
            prompt.append(nodes)  # `|`
        prompt += [u, v]
    prompt += [nodes + 2, source, goal, nodes + 1]  # / s g =
    return Example(prompt, [source] + arms[0])


def _path_star_key(e):
    """The problem's identity: its edge set and goal (the edge order is presentation)."""
    p = e.prompt
    n_edges = (len(p) - 3) // 3
    return tuple(sorted(p[3 * j] * 4096 + p[3 * j + 1] for j in range(n_edges))), p[-2]


def _distinct_graphs(degree, path_length, nodes):
    used = degree * (path_length - 1) + 1
    count = 1
    for i in range(used):
        if count >= 1e15:
            break
        count *= nodes - i
    for i in range(2, degree):
        count /= i
    return count


def _check_int(name, v, lo, hi):
    if not isinstance(v, int) or isinstance(v, bool) or v < lo or v > hi:
        raise SpecError(name, f"must be a whole number from {lo} to {hi}, got {v!r}")


def path_star_task(spec, seed):
    d, L, N = spec["degree"], spec["pathLength"], spec["nodes"]
    _check_int("task.degree", d, 2, 64)
    _check_int("task.pathLength", L, 2, 64)
    _check_int("task.nodes", N, 3, 4096)
    if N < d * (L - 1) + 1:
        raise SpecError("task.nodes", f"must be at least degree·(pathLength−1)+1 = {d * (L - 1) + 1}, got {N}")
    if spec["testSize"] > _distinct_graphs(d, L, N) / 2:
        raise SpecError("task.testSize", "must be at most half the distinct graphs of this size")
    test, sample = held_out_split(lambda r: _draw_graph(r, d, L, N), _path_star_key, spec["trainSize"], spec["testSize"], seed)
    vocab = [str(i) for i in range(N)] + ["|", "=", "/", "$", "_", "·"]

    def is_valid(example, predicted):
        """A real path: from the source, along edges of this graph, pathLength nodes."""
        p = example.prompt
        if len(predicted) != L or predicted[0] != p[-3]:
            return False
        edges = {(p[3 * j], p[3 * j + 1]) for j in range((len(p) - 3) // 3)}
        return all((predicted[i], predicted[i + 1]) in edges for i in range(L - 1))

    return Task(f"path-star G({d},{L},{N})", vocab, N + 3, N + 4, N + 5, path_star_prompt_length(d, L), L, test, sample,
                decision_position=1, is_valid=is_valid)


# ---------------------------------------------------------------------------------------------------------------
# Addition: a+b= with both zero-padded to `digits`, the sum zero-padded to digits+1 (reversed: least-significant
# first). Digits 0–9 → 0–9, `+` → 10, `=` → 11, dummy 12, mask 13, pad 14.


def _add_digits(a, b):
    out = [0] * (len(a) + 1)
    carry = 0
    for i in range(len(a) - 1, -1, -1):
        s = a[i] + b[i] + carry
        out[i + 1] = s % 10
        carry = 1 if s >= 10 else 0
    out[0] = carry
    return out


def addition_task(spec, seed):
    digits, reversed_ = spec["digits"], spec["reversed"]
    _check_int("task.digits", digits, 1, 32)

    def draw(rng):
        a = [rng.int(10) for _ in range(digits)]
        b = [rng.int(10) for _ in range(digits)]
        s = _add_digits(a, b)
        return Example(a + [10] + b + [11], s[::-1] if reversed_ else s)

    test, sample = held_out_split(draw, lambda e: tuple(e.prompt), spec["trainSize"], spec["testSize"], seed)
    vocab = [str(i) for i in range(10)] + ["+", "=", "$", "_", "·"]
    return Task(f"addition {digits}-digit{' (reversed output)' if reversed_ else ''}", vocab, 12, 13, 14,
                2 * digits + 2, digits + 1, test, sample)


# ---------------------------------------------------------------------------------------------------------------
# Custom pairs: `prompt<TAB>target` or `prompt => target`, one a line, character (code point) tokens.

_BAD_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def parse_custom_pairs(text):
    if not isinstance(text, str) or text.strip() == "":
        raise SpecError("task.text", "is empty; write one `prompt<TAB>target` or `prompt => target` pair a line")
    pairs = []
    for i, raw in enumerate(text.split("\n")):
        line = i + 1
        s = raw[:-1] if raw.endswith("\r") else raw
        if s.strip() == "":
            continue
        tab, arrow = s.find("\t"), s.find("=>")
        if tab >= 0:
            prompt, target = s[:tab], s[tab + 1 :]
        elif arrow >= 0:
            prompt, target = s[:arrow].strip(), s[arrow + 2 :].strip()
        else:
            raise SpecError("task.text", f"line {line} has no separator; use a TAB or `=>` between prompt and target")
        p, t = list(prompt), list(target)
        if not p:
            raise SpecError("task.text", f"line {line} has an empty prompt")
        if not t:
            raise SpecError("task.text", f"line {line} has an empty target")
        for c in p + t:
            if unicodedata.category(c) in _BAD_CATEGORIES:
                raise SpecError("task.text", f"line {line} contains the non-printable character U+{ord(c):04X}")
        if len(p) + len(t) > 256:
            raise SpecError("task.text", f"line {line} has {len(p) + len(t)} characters; at most 256")
        pairs.append((p, t))
    return pairs


def custom_task(spec, seed):
    pairs = parse_custom_pairs(spec["text"])
    chars = sorted({c for p, t in pairs for c in p + t}, key=ord)
    special = ["$", "_", "·"] if not any(s in chars for s in "$_·") else ["<$>", "<mask>", "<pad>"]
    vocab = chars + special
    dummy, mask, pad = len(chars), len(chars) + 1, len(chars) + 2
    ids = {c: i for i, c in enumerate(chars)}
    P = max(len(p) for p, _ in pairs)
    T = max(len(t) for _, t in pairs)

    def example(p, t):
        return Example([pad] * (P - len(p)) + [ids[c] for c in p], [ids[c] for c in t] + [pad] * (T - len(t)))

    groups = {}  # insertion-ordered, as the lab's Map
    for p, t in pairs:
        groups.setdefault("".join(p), []).append(example(p, t))
    keys = Rng(seed).shuffle(list(groups))
    n_test = min(len(keys) - 1, max(1, round_half_up(spec["testFraction"] * len(keys))))
    test = [e for k in keys[:n_test] for e in groups[k]]
    train = [e for k in keys[n_test:] for e in groups[k]]
    return Task(f"custom ({len(pairs)} pairs)", vocab, dummy, mask, pad, P, T, test,
                lambda rng, n: [train[rng.int(len(train))] for _ in range(n)])


def round_half_up(x):
    """JavaScript's Math.round (halves go up), not Python's banker's rounding."""
    import math

    return math.floor(x + 0.5)


def make_task(spec, seed):
    kind = spec.get("kind")
    if kind == "path-star":
        return path_star_task(spec, seed)
    if kind == "addition":
        return addition_task(spec, seed)
    if kind == "custom":
        return custom_task(spec, seed)
    raise SpecError("task.kind", f"must be path-star, addition or custom, got {kind!r}")

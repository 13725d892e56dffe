"""The frontier table of a sweep: one row per setting and objective, over its seeds.

    python -m labtorch.frontier runs/alternatives            # every folder below holding seed-S.json files
    python -m labtorch.frontier runs/a runs/b --markdown

Columns: the setting (folder), task, model, steps (a range where the seeds differ), data (fresh graphs or a fixed
set), the objective; how many seeds reached 90% held-out exact match and at which step; the final exact match (mean
and range over seeds); the decision token; next-token prediction's copies after the decision under teacher forcing
(seeds at ≥ 0.95, and the step each first was); and the probes at the decision, mean over seeds (goal side; one
masked; the next-token head).
"""
import argparse
import glob
import json
import os
import sys


def runs_in(folder):
    """The seed-S.json runs in folder, by seed."""
    paths = glob.glob(os.path.join(folder, "seed-*.json"))
    runs = [json.load(open(p)) for p in paths]
    return sorted(runs, key=lambda r: r["seed"])


def settings(roots):
    for root in roots:
        folders = sorted({os.path.dirname(p) for p in glob.glob(os.path.join(root, "**", "seed-*.json"), recursive=True)})
        if not folders:
            raise SystemExit(f"{root}: no seed-S.json below it (the output of python -m labtorch)")
        yield from folders


def mean(xs):
    xs = [x for x in xs if x is not None]
    return sum(xs) / len(xs) if xs else None


def pct(x):
    return "-" if x is None else f"{100 * x:.0f}"


def span(steps):
    """The steps the seeds ran: one number, or the range where they differ (a run stopped at --until-contrast, or
    continued with --resume, beside seeds that ran the whole budget)."""
    return str(steps[0]) if min(steps) == max(steps) else f"{min(steps)}–{max(steps)}"


def rows(folder):
    runs = runs_in(folder)
    spec = runs[0]["spec"]
    t, m = spec["task"], spec["model"]
    task = f"G({t['degree']},{t['pathLength']},{t['nodes']})" if t["kind"] == "path-star" else t["kind"]
    data = "fresh" if not t.get("trainSize") else f"{t['trainSize'] // 1000}k fixed"
    for lane, first in enumerate(runs[0]["results"]):
        rs = [r["results"][lane] for r in runs]
        seeds = len(rs)
        hit = [r["timeTo90"]["step"] if r["timeTo90"] else None for r in rs]
        em = [r["exactMatch"] for r in rs]
        spec_o = first["objectiveSpec"]
        name = {"mtp": f"mtp:{spec_o.get('heads')}", "diffusion": f"diffusion:{spec_o.get('variant')}"}.get(first["objective"], first["objective"])
        copy = "-"
        if first["objective"] in ("ntp", "mtp", "top") and t["kind"] == "path-star" and t["pathLength"] >= 4:
            # The first evaluation at which every copy position was at least 0.95 under teacher forcing.
            steps = [next((e["step"] for e in r["history"]["evals"]
                           if min(e["perPosition"]["teacherForced"][2 : t["pathLength"] - 1]) >= 0.95), None) for r in rs]
            copy = f"{sum(s is not None for s in steps)}/{seeds} ({', '.join('-' if s is None else str(s) for s in steps)})"
        probes = [r.get("probes") or {} for r in rs]
        at = lambda key: mean([(p.get(key) or [None, None])[1] for p in probes])
        head = mean([(p.get("heads") or [[None, None]])[0][1] for p in probes])
        yield [os.path.basename(folder.rstrip("/")), task, f"{m['nLayer']}/{m['nEmbd']}/{m['nHead']}",
               span([r["steps"] for r in rs]), data, name,
               f"{sum(h is not None for h in hit)}/{seeds}" + (f" ({', '.join('-' if h is None else str(h) for h in hit)})" if any(hit) else ""),
               f"{pct(mean(em))} ({pct(min(em))}–{pct(max(em))})", pct(mean([r["decisionTokenAccuracy"] for r in rs])), copy,
               f"{pct(at('goalSide'))} / {pct(at('singleMask'))} / {pct(head)}"]


HEAD = ["setting", "task", "model", "steps", "data", "objective", "reached 90%", "exact % (min–max)", "decision %",
        "copy ≥ 0.95", "at the decision: goal side / one masked / head 1 %"]


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m labtorch.frontier", description=__doc__.split("\n")[0])
    ap.add_argument("roots", nargs="+", help="output folders of python -m labtorch (a sweep's, or one run's)")
    ap.add_argument("--markdown", action="store_true", help="a Markdown table instead of aligned columns")
    a = ap.parse_args(argv)
    table = [r for folder in settings(a.roots) for r in rows(folder)]
    if a.markdown:
        print("| " + " | ".join(HEAD) + " |")
        print("|" + "---|" * len(HEAD))
        for r in table:
            print("| " + " | ".join(r) + " |")
        return
    widths = [max(len(h), *(len(r[i]) for r in table)) for i, h in enumerate(HEAD)]
    for r in [HEAD] + table:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Summarise the scout sweeps that chose the default (tools/scout-results/, written by tools/scout.py of commit eeddc91) as a frontier table.

    python3 tools/scout_summary.py tools/scout-results/h200-round1.json tools/scout-results/h200-round2.json

One row per configuration (task, model, batch, schedule, objective, lr, weight decay, β2), over its seeds:
  steps      the steps every seed of the row ran (sweeps stopped at a time limit ran fewer than asked)
  reached    seeds whose held-out exact match reached 0.9, and the step at which each did ('-': not by then)
  copy@0.95  next-token rows: seeds whose teacher-forced accuracy at the position after the decision (the first
             Clever Hans copy) reached 0.95, and when
  final em   mean exact match at the last evaluation
"""
import collections
import json
import sys


def load(path):
    runs = json.load(open(path))
    for r in runs:
        if "history" in r:  # the scout script's own --json
            r["evals"] = [[h["step"], h["em"], h["tf"], h["fr"]] for h in r["history"]]
    return runs


def first(evals, test):
    return next((e[0] for e in evals if test(e)), None)


def main(paths):
    runs = [r for p in paths for r in load(p)]
    groups = collections.defaultdict(list)
    for r in runs:
        key = (tuple(r["task"]), tuple(r["model"]), r["batch"], r["schedule"], r["objective"], r["lr"], r["weightDecay"], r["beta2"])
        groups[key].append(r)
    print("| G(d,L,N) | model | batch | schedule | objective | lr | wd/β2 | steps | reached 0.9 | copy TF ≥ 0.95 | final em |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for key, rs in sorted(groups.items()):
        (d, L, N), (nl, c, nh), batch, sched, obj, lr, wd, b2 = key
        rs.sort(key=lambda r: r["seed"])
        steps = min(r["evals"][-1][0] for r in rs if r["evals"])
        reached = [first(r["evals"], lambda e: e[1] >= 0.9) for r in rs]
        n90 = sum(x is not None for x in reached)
        copy = ""
        if obj == "ntp" and L >= 4:
            cs = [first(r["evals"], lambda e: e[2][2] >= 0.95) for r in rs]
            copy = f"{sum(x is not None for x in cs)}/{len(rs)} ({', '.join('-' if x is None else str(x) for x in cs)})"
        em = sum(r["evals"][-1][1] for r in rs) / len(rs)
        at = ", ".join("-" if x is None else str(x) for x in reached)
        print(f"| G({d},{L},{N}) | {nl}/{c}/{nh} | {batch} | {sched} | {obj} | {lr:g} | {wd:g}/{b2:g} | {steps} | "
              f"{n90}/{len(rs)} ({at}) | {copy} | {em:.2f} |")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])

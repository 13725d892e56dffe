#!/bin/bash
# A prepared sweep: python/sweeps/NAME.json (the experiment and its seeds) with NAME-sweep.json (one entry a
# setting), every setting's seeds stacked (--stack). Needs Python 3 and PyTorch, nothing else; run it where there is
# a GPU. With CUDA it runs one torchrun rank per setting (RANKS, default: the number of settings), all on the GPU(s):
# these models are so small that each rank's Python, not the GPU, sets the pace, so the settings take about as long
# as one (not yet measured on a GPU).
#
#   bash python/sweeps/run.sh NAME OUT             # the sweep into OUT/<setting>/, then the frontier table
#   DRY=1 bash python/sweeps/run.sh NAME OUT       # 2 steps and 2 seeds per setting: checks that all of it runs
#
# The sweeps:
#   alternatives   the alternatives' frontier on the default graph G(2,5,10) (docs/results.md, "The alternatives, measured
#                  so far"): 21 settings (MLM-U, MDLM and HKUNLP diffusion at 2-4 layers, width 128 and 256, batch 64
#                  and 256, fresh graphs and a fixed set of 50k; multi-token heads mtp:2 and mtp:4 at 2 and 4 layers,
#                  and in Gloeckle et al.'s layout; token order prediction at 2 and 4 layers, fresh and fixed;
#                  teacherless; next-token and reversed as the baseline, fresh, fixed and at batch 256) × 8 seeds,
#                  16,000 steps of batch 64 unless said, evaluated every 2,000
#   default-copy   the batch-64 default's optimizer and model around its setting (8 settings × 16 seeds, ntp and
#                  reverse, 2,000 steps, evaluated every 100): where does next-token prediction learn the copy on every
#                  seed? (The default moved to batch 256 instead: docs/results.md, "Batch 256: the default".)
#
# An interrupted sweep continues where it stopped when run again (finished seeds are kept). The table alone:
#   python3 -m labtorch.frontier OUT --markdown        (from python/)
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:?usage: bash python/sweeps/run.sh NAME OUT (NAME: alternatives or default-copy)}
out=${2:?usage: bash python/sweeps/run.sh NAME OUT}
[ -f "sweeps/$name.json" ] && [ -f "sweeps/$name-sweep.json" ] ||
  { echo "run.sh: no sweep $name (python/sweeps/$name.json and $name-sweep.json)" >&2; exit 2; }
case $out in /*) ;; *) out=$OLDPWD/$out ;; esac
dry=()
[ -n "${DRY:-}" ] && dry=(--steps 2 --seeds 1..2)
runner=(python3)
if python3 -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)'; then
  settings=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))))' "sweeps/$name-sweep.json")
  runner=(torchrun --standalone --nproc_per_node="${RANKS:-$settings}")
fi
"${runner[@]}" -m labtorch "sweeps/$name.json" --sweep "sweeps/$name-sweep.json" --stack --out "$out" "${dry[@]}"
python3 -m labtorch.frontier "$out" --markdown | tee "$out/frontier.md"

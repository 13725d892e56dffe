#!/bin/bash
# The alternatives' frontier on the default graph G(2,5,10) (README, "The alternatives, measured"): 14 settings
# (python/sweeps/alternatives-sweep.json: MLM-U, MDLM and HKUNLP diffusion at 2-4 layers, width 128 and 256, fresh
# graphs and a fixed set of 50k; multi-token heads mtp:2 and mtp:4 at 2 and 4 layers, and in Gloeckle et al.'s
# layout; teacherless; next-token and reversed as the baseline) × 8 seeds, 16,000 steps of batch 64 (evaluated every
# 2,000), each setting's seeds stacked (--stack). Needs Python 3 and PyTorch, nothing else; run it where there is a GPU. With CUDA it runs one
# torchrun rank per setting (RANKS, default 14), all on the GPU(s): these models are so small that each rank's
# Python, not the GPU, sets the pace, so the 14 settings take about as long as one (not yet measured on a GPU).
#
#   bash python/sweeps/alternatives.sh OUT             # the sweep into OUT/<setting>/, then the frontier table
#   DRY=1 bash python/sweeps/alternatives.sh OUT       # 2 steps and 2 seeds per setting: checks that all of it runs
#
# An interrupted sweep continues where it stopped when run again (finished seeds are kept). The table alone:
#   python3 -m labtorch.frontier OUT --markdown        (from python/)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: bash python/sweeps/alternatives.sh OUT}
case $out in /*) ;; *) out=$OLDPWD/$out ;; esac
dry=()
[ -n "${DRY:-}" ] && dry=(--steps 2 --seeds 1..2)
runner=(python3)
if python3 -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)'; then
  runner=(torchrun --standalone --nproc_per_node="${RANKS:-14}")
fi
"${runner[@]}" -m labtorch sweeps/alternatives.json --sweep sweeps/alternatives-sweep.json --stack --out "$out" "${dry[@]}"
python3 -m labtorch.frontier "$out" --markdown | tee "$out/frontier.md"

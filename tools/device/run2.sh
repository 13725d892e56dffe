#!/bin/bash
# Device run 2 (NVIDIA H200): the lab's default experiment over three seeds on the real GPU (Node + Dawn/Vulkan),
# a second PyTorch scout sweep beside it, then the benchmark with what time is left. Everything goes under $OUT.
#   carry: .gl (Vulkan loader .debs), .device (node.xz, nm.tar.xz, bundle/lab.mjs), built today by
#   bench/gpu-check-prepare.sh (bench/gpu-check.sh supersedes this script)
set -u
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT" /tmp/sweep
START=$(date +%s)
DEADLINE=${DEADLINE:-450}
el() { echo $(($(date +%s) - START)); }
exec > >(tee -a "$OUT/run.log") 2>&1

echo "== [$(el)s] setup"
[ -n "${DRY:-}" ] || { for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig; }
mkdir -p /tmp/nodebin && xz -dc .device/node.xz >/tmp/nodebin/node && chmod +x /tmp/nodebin/node
export PATH=/tmp/nodebin:$PATH
tar -xJf .device/nm.tar.xz && echo "ok node_modules" || echo "FAIL node_modules"
ICD=${ICD:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
export VK_ICD_FILENAMES=$ICD VK_DRIVER_FILES=$ICD

# --- the lab: the default experiment (compare with no task or model options), three seeds side by side ------------
echo "== [$(el)s] lab compare, seeds 1-3"
for s in 1 2 3; do
  (timeout 330 node .device/bundle/lab.mjs compare --seed $s --log-every 100 \
    ${LAB_EXTRA:-} --json /tmp/compare-$s.json >/tmp/compare-$s.log 2>&1; echo "[$(el)s] compare seed $s exit $?") &
done

# --- the scout: three processes, three groups each --------------------------------------------------------------
group() {
  local name=$1 limit=$2
  shift 2
  PYTHONUNBUFFERED=1 python3 tools/scout.py "$@" --tf32 --eval-every 100 --eval-examples 512 \
    --time-limit "$limit" ${SCOUT_EXTRA:-} --json "/tmp/sweep/$name.json" --tag "$name" >"/tmp/sweep/$name.log" 2>&1
  local rc=$?
  echo "[$(el)s] group $name exit $rc: $(tail -1 /tmp/sweep/$name.log)"
}
C="--seeds 1-8 --schedule constant --warmup 20 --opt 0.1:0.95"
(
  group A1 72 --task 2,5,16 --model 2,128,4 --batch 128 --steps 2000 --objectives ntp,reverse,diffusion --lr 1e-3 $C
  group C1 72 --task 2,5,16 --model 2,128,4 --batch 128 --steps 2000 --objectives ntp,reverse --lr 1e-3 \
    --seeds 1-8 --schedule cosine --warmup 20 --opt 0.1:0.95
  group A3 72 --task 2,5,16 --model 2,128,4 --batch 32 --steps 5000 --objectives ntp,reverse --lr 5e-4,1e-3 $C
) &
(
  group A2 72 --task 2,5,16 --model 2,128,4 --batch 64 --steps 3000 --objectives ntp,reverse --lr 1e-3,2e-3 $C
  group B2 72 --task 2,5,16 --model 2,64,2 --batch 64 --steps 3000 --objectives ntp,reverse --lr 1e-3,2e-3 $C
  group D1 72 --task 2,4,16 --model 2,128,4 --batch 64 --steps 3000 --objectives ntp,reverse --lr 1e-3,2e-3 $C
) &
(
  group B1 72 --task 2,5,10 --model 2,128,4 --batch 64 --steps 3000 --objectives ntp,reverse --lr 1e-3,2e-3 $C
  group C2 72 --task 2,5,16 --model 2,128,4 --batch 128 --steps 2000 --objectives teacherless,mtp:2,mtp:4 --lr 1e-3 $C
  group D2 72 --task 2,5,16 --model 2,128,4 --batch 256 --steps 1500 --objectives ntp,reverse --lr 1e-3,2e-3 $C
) &

while [ "$(jobs -r | wc -l)" -gt 0 ] && [ "$(el)" -lt "$DEADLINE" ]; do sleep 3; done
echo "== [$(el)s] lab and sweep finished or stopped ($(jobs -r | wc -l) still running)"
pkill -INT -f tools/scout.py 2>/dev/null
pkill -f lab.mjs 2>/dev/null
sleep 2
python3 - <<'EOF'
import glob, json, os
out = os.environ.get("OUT", "/tmp/out")
runs = []
for f in sorted(glob.glob("/tmp/sweep/*.json")):
    try:
        runs += json.load(open(f))
    except Exception as e:
        print("could not read", f, e)
json.dump(runs, open(out + "/sweep.json", "w"))
print("sweep.json:", len(runs), "runs")
lab = {}
for f in sorted(glob.glob("/tmp/compare-*.json")):
    try:
        lab[os.path.basename(f)] = json.load(open(f))
    except Exception as e:
        print("could not read", f, e)
json.dump(lab, open(out + "/compare.json", "w"))
print("compare.json:", list(lab))
EOF
for f in /tmp/compare-*.log; do echo "### $f"; grep -v "step [0-9]* loss" "$f"; done >"$OUT/compare.log"
for f in /tmp/sweep/*.log; do echo "### $f"; grep -v '^step' "$f" | head -2; grep '^step' "$f" | tail -1; done >"$OUT/sweep.log"
grep -A4 "^objective" "$OUT/compare.log" | head -30

# --- the benchmark, alone on the GPU, with the time that is left ---------------------------------------------------
LEFT=$((${TOTAL:-520} - $(el)))
echo "== [$(el)s] bench (${LEFT}s left)"
if [ "$LEFT" -gt 40 ]; then
  timeout $((LEFT - 10)) node --expose-gc node_modules/.bin/vite-node --config vite.node.config.ts bench/run.ts -- \
    --no-browser --variants --runs 3 ${BENCH_EXTRA:-} --json "$OUT/bench.json" >"$OUT/bench.log" 2>&1
  echo "bench exit $?"
  tail -40 "$OUT/bench.log"
fi
echo "== [$(el)s] done"

#!/bin/bash
# Device run 1 (NVIDIA H200, no Node, no registry): a PyTorch scout sweep of the path-star contrast, and the lab's GPU
# tests over Dawn/Vulkan on the real GPU. Everything it learns goes under $OUT; each step says whether it worked.
#   carry: .gl (Vulkan loader .debs), .device (node.xz, nm.tar.xz: a pruned node_modules, bundle/lab.mjs); all built
#   today by bench/gpu-check-prepare.sh, whose bench/gpu-check.sh supersedes these two scripts
set -u
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT" /tmp/sweep
START=$(date +%s)
DEADLINE=${DEADLINE:-270}
el() { echo $(($(date +%s) - START)); }
exec > >(tee -a "$OUT/run.log") 2>&1

echo "== [$(el)s] host"
nvidia-smi -L || echo "FAIL nvidia-smi"
python3 -c "import torch; print('torch', torch.__version__, torch.cuda.is_available(), torch.cuda.get_device_name(0))" || echo "FAIL torch"

# --- the sweep: three processes, two groups each; each group stops at its time limit with what it reached -------
group() {
  local name=$1 limit=$2
  shift 2
  PYTHONUNBUFFERED=1 python3 tools/scout.py "$@" --tf32 --steps 3000 --eval-every 100 --eval-examples 512 \
    --time-limit "$limit" ${SCOUT_EXTRA:-} --json "/tmp/sweep/$name.json" --tag "$name" >"/tmp/sweep/$name.log" 2>&1
  local rc=$?
  echo "[$(el)s] group $name exit $rc: $(tail -1 /tmp/sweep/$name.log)"
}
BASE="--objectives ntp,reverse,diffusion --seeds 1-8 --batch 128 --schedule constant --warmup 20"
(
  group P1 115 --task 2,4,16 --model 2,64,2 $BASE --lr 1e-3,2e-3 --opt 0.1:0.95,0:0.999
  group P4 115 --task 2,5,16 --model 2,64,2 $BASE --lr 1e-3,2e-3 --opt 0.1:0.95,0:0.999
) &
(
  group P2 115 --task 2,4,10 --model 2,64,2 $BASE --lr 1e-3,2e-3 --opt 0.1:0.95,0:0.999
  group P5 115 --task 2,4,16 --model 2,64,2 --objectives teacherless,mtp:2,mtp:4 --seeds 1-8 --batch 128 \
    --schedule constant --warmup 20 --lr 1e-3,2e-3 --opt 0.1:0.95
) &
(
  group P3 115 --task 2,4,16 --model 2,128,4 $BASE --lr 5e-4,1e-3 --opt 0.1:0.95,0:0.999
  group P6 115 --task 2,4,16 --model 2,64,4 $BASE --lr 1e-3,2e-3 --opt 0.1:0.95,0:0.999
) &

# --- the lab on the real GPU: Node + Dawn over NVIDIA's Vulkan driver -------------------------------------------
echo "== [$(el)s] lab setup"
[ -n "${DRY:-}" ] || { for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig; }
ldconfig -p | grep -q libvulkan.so.1 && echo "ok libvulkan" || echo "FAIL libvulkan"
mkdir -p /tmp/nodebin && xz -dc .device/node.xz >/tmp/nodebin/node && chmod +x /tmp/nodebin/node
export PATH=/tmp/nodebin:$PATH
node --version || echo "FAIL node"
tar -xJf .device/nm.tar.xz && echo "ok node_modules" || echo "FAIL node_modules"
ICD=${ICD:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
ls -la $ICD || ls /usr/local/nvidia/share/vulkan/icd.d/ /usr/share/vulkan/icd.d/ 2>&1
export VK_ICD_FILENAMES=$ICD VK_DRIVER_FILES=$ICD
echo "== [$(el)s] lab smoke: 20 steps of the tiny model"
timeout 60 node .device/bundle/lab.mjs train --steps 20 --log-every 5 --eval-every 1000 --eval-examples 50 --batch-size 32 \
  && echo "ok lab train" || echo "FAIL lab train ($?)"
echo "== [$(el)s] GPU tests (vitest test/gpu, all but the ONNX export test)"
timeout 150 node node_modules/vitest/vitest.mjs run test/gpu --exclude test/gpu/export.test.ts >"$OUT/vitest.log" 2>&1
echo "vitest exit $? at $(el)s"
grep -E "Test Files|Tests |FAIL|✗|×" "$OUT/vitest.log" | head -40

# --- collect ------------------------------------------------------------------------------------------------------
while [ "$(jobs -r | wc -l)" -gt 0 ] && [ "$(el)" -lt "$DEADLINE" ]; do sleep 3; done
echo "== [$(el)s] collecting ($(jobs -r | wc -l) sweep processes still running)"
pkill -INT -f tools/scout.py 2>/dev/null
sleep 2
python3 - <<'EOF'
import glob, json, os
out = []
for f in sorted(glob.glob("/tmp/sweep/*.json")):
    try:
        out += json.load(open(f))
    except Exception as e:
        print("could not read", f, e)
json.dump(out, open(os.environ.get("OUT", "/tmp/out") + "/sweep.json", "w"))
print("sweep.json:", len(out), "runs")
EOF
for f in /tmp/sweep/*.log; do echo "### $f"; grep -v '^step' "$f" | head -3; grep '^step' "$f" | tail -2; done >"$OUT/sweep.log"
echo "== [$(el)s] done"

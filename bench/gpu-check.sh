#!/bin/bash
# The real-GPU check: the GPU tests, the benchmark in Node and the time to contrast, on a machine with a GPU and no
# Node, no registry (an NVIDIA H100 or H200 with Python and PyTorch), in under 8 minutes. Runs unchanged there:
#
#   bash bench/gpu-check-prepare.sh          # first, on a machine with the npm packages: builds .device/ and .gl/
#                                            # (git-ignored), about 41 MiB with the tree, to copy along
#   bash bench/gpu-check.sh                  # then on the GPU machine, in the copied tree
#
# and here as a dry run, against the packed files rather than this machine's node_modules where it can:
#
#   DRY=1 ICD=/usr/share/vulkan/icd.d/lvp_icd.json OUT=/tmp/gpucheck-out bash bench/gpu-check.sh
#
# Steps, each under its own time limit and each reported ok / FAIL / skipped at the end (bench/README.md, "The
# real-GPU check"):
#   setup      the Vulkan loader (.gl/*.deb, dpkg -x into /, not in a dry run), Node (.device/node.xz), the pruned
#              node_modules (.device/nm.tar.xz), the Vulkan driver (ICD=...), python3 with PyTorch
#   smoke      20 training steps of the lab's command line (names the adapter)
#   pytorch    PyTorch's half of the time to contrast, on the CPU, in the background from here on (beside the GPU
#              tests, which barely use the CPU; TORCH_THREADS of the cores)
#   tests      vitest run test/gpu, all but the PyTorch parity files (export.test.ts only where onnxruntime-node's
#              linux-x64 binary was packed; its own PyTorch comparison wants /usr/bin/python3 with torch)
#   tests-py   vitest run test/gpu/python-step.test.ts test/gpu/scale.test.ts (the lab against PyTorch, LAB_PYTHON)
#   bench      npm run bench -- --no-browser --variants --runs 3 --square 512,4096 (tokens/s at the three sizes,
#              every kernel, the 512³ and 4096³ squares, the 1,000-step memory check)
#   seeds      a run over seeds stacked against one seed and the seeds one after another (bench --seed-lanes)
#   lab        the lab's half of the time to contrast, alone on the GPU (bench --time-to-contrast --no-pytorch)
# Everything goes under $OUT (at most 8 files come back from the device): run.log (all of this, the summary at its
# end), vitest.log, bench.log, bench.json, contrast-lab.log, contrast-lab.json, contrast-pytorch.log, summary.json.
#
# Knobs (environment): OUT, ICD, DRY, TOTAL (seconds for everything, default 450), CAP_SMOKE, CAP_TESTS,
# CAP_TORCH_TESTS, CAP_BENCH, CAP_SEEDS, CAP_LAB (per-step limits), SEEDS_ARGS (the seeds step's bench options), GPU_TESTS (test files or folders), TORCH_TESTS (empty: none),
# BENCH_ARGS (the benchmark's options),
# PYTORCH (0: skip PyTorch), TORCH_THREADS, LAB_PYTHON, PEAK_TFLOPS (the GPU's float32 peak; the H200's ~67).
# DRY=1 shrinks every step so that it fits a 2-core machine (see the defaults below).
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
OUT=${OUT:-/tmp/gpu-check-out}
mkdir -p "$OUT"
DRY=${DRY:-}
START=$(date +%s)
if [ -n "$DRY" ]; then
  # A software adapter on 2 cores: one small test file, one size, one run, the 512³ square only; the time to
  # contrast is only started (it takes 15–30 minutes there): it must log its first evaluations.
  TOTAL=${TOTAL:-780}
  CAP_SMOKE=${CAP_SMOKE:-180} CAP_TESTS=${CAP_TESTS:-120} CAP_TORCH_TESTS=${CAP_TORCH_TESTS:-90} CAP_BENCH=${CAP_BENCH:-150}
  CAP_LAB=${CAP_LAB:-240} CAP_SEEDS=${CAP_SEEDS:-120} SEEDS_ARGS=${SEEDS_ARGS:---seed-lanes 2 --steps 3}
  GPU_TESTS=${GPU_TESTS:-test/gpu/attention.test.ts test/gpu/kernels.test.ts}
  TORCH_TESTS=${TORCH_TESTS-test/gpu/python-step.test.ts}
  BENCH_ARGS=${BENCH_ARGS:---no-browser --sizes 2/64/2 --runs 1 --memory-steps 0 --square 512 --lanes 1,2}
  TORCH_THREADS=${TORCH_THREADS:-1}
else
  TOTAL=${TOTAL:-450}
  CAP_SMOKE=${CAP_SMOKE:-60} CAP_TESTS=${CAP_TESTS:-150} CAP_TORCH_TESTS=${CAP_TORCH_TESTS:-90} CAP_BENCH=${CAP_BENCH:-120}
  CAP_LAB=${CAP_LAB:-150} CAP_SEEDS=${CAP_SEEDS:-60} SEEDS_ARGS=${SEEDS_ARGS:---seed-lanes 4 --steps 100}
  GPU_TESTS=${GPU_TESTS:-test/gpu}
  TORCH_TESTS=${TORCH_TESTS-test/gpu/python-step.test.ts test/gpu/scale.test.ts}
  BENCH_ARGS=${BENCH_ARGS:---no-browser --variants --runs 3 --square 512,4096}
  TORCH_THREADS=${TORCH_THREADS:-12}
fi
PYTORCH=${PYTORCH:-1}
PEAK_TFLOPS=${PEAK_TFLOPS:-67}
export NO_COLOR=1 FORCE_COLOR=0 PEAK_TFLOPS
el() { echo $(($(date +%s) - START)); }
# The limit of a step: its own cap, but never past TOTAL less what the later steps need at least (RESERVE).
cap() {
  local want=$1 reserve=${2:-0} left
  left=$((TOTAL - $(el) - reserve))
  [ "$left" -lt "$want" ] && want=$left
  [ "$want" -lt 5 ] && want=5
  echo "$want"
}
exec > >(tee -a "$OUT/run.log") 2>&1

STEPS=()
declare -A STATUS DETAIL
record() { # record STEP ok|FAIL|skipped DETAIL
  STEPS+=("$1")
  STATUS[$1]=$2
  DETAIL[$1]=$3
  echo "-- [$(el)s] $1: $2${3:+ ($3)}"
}
why() { # what an exit status means
  case $1 in 0) echo "exit 0" ;; 124) echo "stopped at its time limit" ;; 127) echo "command not found" ;; *) echo "exit $1" ;; esac
}

echo "== [$(el)s] gpu-check on $(hostname) — $(date -u +%FT%TZ)${DRY:+ — DRY RUN}; budget ${TOTAL}s"
echo "   steps' limits: smoke ${CAP_SMOKE}s, tests ${CAP_TESTS}s, tests-py ${CAP_TORCH_TESTS}s, bench ${CAP_BENCH}s, seeds ${CAP_SEEDS}s, lab ${CAP_LAB}s; pytorch in the background"
git log -1 --format='   commit %h %s' 2>/dev/null || true

# --- setup ----------------------------------------------------------------------------------------------------------
echo "== [$(el)s] setup"
problems=()
if command -v nvidia-smi >/dev/null; then nvidia-smi -L || problems+=("nvidia-smi failed"); else echo "no nvidia-smi"; fi
if [ -z "$DRY" ]; then
  if ls .gl/*.deb >/dev/null 2>&1; then
    for f in .gl/*.deb; do dpkg -x "$f" / || problems+=("dpkg -x $f"); done
    ldconfig
  else
    echo "no .gl/*.deb packed: relying on the machine's own Vulkan loader"
  fi
fi
if ldconfig -p | grep -q 'libvulkan.so.1'; then echo "libvulkan.so.1: $(ldconfig -p | grep -m1 'libvulkan.so.1' | sed 's/.*=> //')"; else problems+=("no libvulkan.so.1 (pack .gl, see bench/gpu-check-prepare.sh)"); fi
NODEDIR=/tmp/gpu-check-node
if [ -f .device/node.xz ]; then
  mkdir -p "$NODEDIR" && xz -dc .device/node.xz >"$NODEDIR/node" && chmod +x "$NODEDIR/node" && export PATH=$NODEDIR:$PATH ||
    problems+=("could not unpack .device/node.xz")
else
  echo "no .device/node.xz: using this machine's node ($(command -v node || echo none))"
fi
node --version >/dev/null 2>&1 && echo "node $(node --version) at $(command -v node)" || problems+=("no node")
if [ -f .device/nm.tar.xz ]; then
  if [ -e node_modules ] && [ ! -f node_modules/.gpu-check ]; then
    echo "node_modules exists and is not the packed one: using it as it is (remove it to test the archive)"
  else
    tar -xJf .device/nm.tar.xz && touch node_modules/.gpu-check && echo "node_modules: $(ls node_modules | wc -l) entries from .device/nm.tar.xz" ||
      problems+=("could not unpack .device/nm.tar.xz")
  fi
fi
[ -f node_modules/webgpu/package.json ] || problems+=("no node_modules/webgpu")
[ -f node_modules/vitest/vitest.mjs ] || problems+=("no node_modules/vitest")
[ -f .device/bundle/bench.mjs ] && [ -f .device/bundle/lab.mjs ] || problems+=("no .device/bundle/{bench,lab}.mjs")
ICD=${ICD:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
if [ -f "$ICD" ]; then
  echo "Vulkan driver: $ICD: $(tr -d '\n ' <"$ICD" | cut -c1-160)"
else
  problems+=("no Vulkan driver manifest $ICD")
  ls /usr/local/nvidia/share/vulkan/icd.d/ /usr/share/vulkan/icd.d/ /etc/vulkan/icd.d/ 2>&1 | head -20
fi
export VK_ICD_FILENAMES=$ICD VK_DRIVER_FILES=$ICD
# The first python3 with torch: LAB_PYTHON, the one on PATH (the H200's /opt/torch/.venv), Debian's.
PY=
for p in ${LAB_PYTHON:-} "$(command -v python3)" /opt/torch/.venv/bin/python3 /usr/bin/python3; do
  [ -n "$p" ] && [ -x "$p" ] || continue
  if TORCHV=$("$p" -c 'import torch; print(torch.__version__)' 2>/dev/null); then PY=$p; break; fi
done
if [ -n "$PY" ]; then
  echo "python: $PY, torch $TORCHV"
  export LAB_PYTHON=$PY # test/python-helpers.ts: the PyTorch parity tests run where torch is
else
  echo "python: no python3 with torch (LAB_PYTHON, python3, /opt/torch/.venv, /usr/bin): the PyTorch tests skip and its time to contrast too"
fi
echo "cpus: $(nproc); memory: $(free -g 2>/dev/null | awk '/Mem:/ {print $2 " GiB"}')"
if [ ${#problems[@]} -eq 0 ]; then record setup ok "node, node_modules, loader, driver manifest"; else record setup FAIL "$(IFS=';'; echo "${problems[*]}")"; fi

# --- smoke: the command line trains 20 steps and names the adapter --------------------------------------------------
echo "== [$(el)s] smoke: 20 training steps of the lab's command line (2/64/2, batch 16)"
timeout "$(cap "$CAP_SMOKE" 300)" node .device/bundle/lab.mjs train --preset tiny --steps 20 --log-every 10 --eval-every 1000 \
  --eval-examples 50 --batch-size 16 >/tmp/gpu-check-smoke.log 2>&1
rc=$?
cat /tmp/gpu-check-smoke.log
ADAPTER=$(grep -m1 '^adapter:' /tmp/gpu-check-smoke.log | sed 's/^adapter: *//')
[ $rc = 0 ] && record smoke ok "adapter: ${ADAPTER:-?}" || record smoke FAIL "$(why $rc)"

# --- pytorch: the time to contrast on the CPU, in the background ----------------------------------------------------
PYPID=
PYDIR=/tmp/gpu-check-contrast
if [ "$PYTORCH" = 0 ]; then
  record pytorch skipped "PYTORCH=0"
elif [ -z "$PY" ]; then
  record pytorch skipped "no python3 with torch"
elif [ ! -f .device/contrast/experiment.json ]; then
  record pytorch FAIL "no .device/contrast/experiment.json (bench/gpu-check-prepare.sh writes it)"
else
  rm -rf "$PYDIR" && cp -r .device/contrast "$PYDIR"
  PYCAP=$((TOTAL - $(el) - 15))
  echo "== [$(el)s] pytorch: time to contrast on the CPU in the background (${TORCH_THREADS} threads, at most ${PYCAP}s)"
  (
    cd "$PYDIR" && OMP_NUM_THREADS=$TORCH_THREADS PYTHONUNBUFFERED=1 timeout "$PYCAP" "$PY" -m labtorch experiment.json --out runs/ \
      --device cpu --until-contrast >"$OUT/contrast-pytorch.log" 2>&1
    echo $? >"$PYDIR/rc"
  ) &
  PYPID=$!
  PYSTART=$(el)
fi

# --- tests: vitest run test/gpu, the GPU's own tests, then the PyTorch parity tests ----------------------------------
# python-step and scale compare with PyTorch on the CPU (LAB_PYTHON) and run apart, under their own limit, so that a
# slow or stuck torchrun cannot cost the GPU tests' result.
TORCHFILES="test/gpu/python-step.test.ts test/gpu/scale.test.ts"
EXCL=(--exclude test/gpu/python-step.test.ts --exclude test/gpu/scale.test.ts)
if [ ! -e node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node ]; then
  EXCL+=(--exclude test/gpu/export.test.ts)
  echo "(test/gpu/export.test.ts excluded: onnxruntime-node's linux-x64 binary (45 MB) is not packed — WITH_ORT=1 in the prepare script packs it)"
fi
vitest_step() { # vitest_step NAME LIMIT ARGS...: one vitest run, its log appended to $OUT/vitest.log
  local name=$1 limit=$2 rc files tests
  shift 2
  echo "== [$(el)s] $name: vitest run $* (at most ${limit}s)"
  timeout "$limit" node node_modules/vitest/vitest.mjs run "$@" >"/tmp/gpu-check-$name.log" 2>&1
  rc=$?
  { echo "######## $name: vitest run $* — $(why $rc)"; cat "/tmp/gpu-check-$name.log"; } >>"$OUT/vitest.log"
  grep -E '^ *(✓|×|↓|❯|FAIL) .*test\.ts|Test Files|Tests  |Duration' "/tmp/gpu-check-$name.log" | head -30
  tests=$(grep -E '^ *Tests  ' "/tmp/gpu-check-$name.log" | tail -1 | sed 's/^ *Tests *//')
  files=$(grep -E '^ *Test Files ' "/tmp/gpu-check-$name.log" | tail -1 | sed 's/^ *Test Files *//')
  if [ $rc = 0 ]; then
    record "$name" ok "files: ${files:-?}; tests: ${tests:-?}"
  else
    record "$name" FAIL "$(why $rc); files: ${files:-?}; tests: ${tests:-?}"
    grep -E -A8 'FAIL|AssertionError|Error:' "/tmp/gpu-check-$name.log" | head -40
  fi
}
# shellcheck disable=SC2086
vitest_step tests "$(cap "$CAP_TESTS" 220)" $GPU_TESTS "${EXCL[@]}"
if [ -z "$PY" ]; then
  record tests-py skipped "no python3 with torch"
elif [ -z "$TORCH_TESTS" ]; then
  record tests-py skipped "TORCH_TESTS empty"
else
  # shellcheck disable=SC2086
  vitest_step tests-py "$(cap "$CAP_TORCH_TESTS" 190)" $TORCH_TESTS
fi

# --- bench: the benchmark in Node -----------------------------------------------------------------------------------
PYBUSY=
[ -n "$PYPID" ] && kill -0 "$PYPID" 2>/dev/null && PYBUSY=" (PyTorch was still running on the CPU beside it)"
echo "== [$(el)s] bench: $BENCH_ARGS$PYBUSY"
# shellcheck disable=SC2086
timeout "$(cap "$CAP_BENCH" 100)" node --expose-gc .device/bundle/bench.mjs $BENCH_ARGS --json "$OUT/bench.json" >"$OUT/bench.log" 2>&1
rc=$?
grep -vE '^ {2}[a-z_.]+ (forward|dinp|dW)|^ {2}(attention|layernorm)' "$OUT/bench.log" | head -60
[ $rc = 0 ] && [ -f "$OUT/bench.json" ] && record bench ok "$BENCH_ARGS$PYBUSY" || { record bench FAIL "$(why $rc)"; tail -20 "$OUT/bench.log"; }

# --- seeds: a run over seeds, every seed's lanes stacked, against one seed and the seeds one after another ----------
SEEDSCAP=$(cap "$CAP_SEEDS" 10)
echo "== [$(el)s] seeds: bench $SEEDS_ARGS (at most ${SEEDSCAP}s)"
timeout "$SEEDSCAP" node .device/bundle/bench.mjs $SEEDS_ARGS --json "$OUT/seeds.json" >"$OUT/seeds.log" 2>&1
rc=$?
grep -E 'seed|workload' "$OUT/seeds.log" | head -8
if [ $rc = 0 ] && grep -q 'one after another' "$OUT/seeds.log"; then
  record seeds ok "$(grep -E 'stacked|one after another' "$OUT/seeds.log" | tr '\n' ';' | sed 's/;$//')"
else
  record seeds FAIL "$(why $rc)"
fi

# --- lab: the lab's time to contrast, on the GPU --------------------------------------------------------------------
PYBUSY=
[ -n "$PYPID" ] && kill -0 "$PYPID" 2>/dev/null && PYBUSY=" (PyTorch was still running on the CPU beside it)"
LABCAP=$(cap "$CAP_LAB" 10)
echo "== [$(el)s] lab: time to contrast of the default experiment (at most ${LABCAP}s)$PYBUSY"
timeout "$LABCAP" node .device/bundle/bench.mjs --time-to-contrast --no-pytorch --json "$OUT/contrast-lab.json" >"$OUT/contrast-lab.log" 2>&1
rc=$?
cat "$OUT/contrast-lab.log" | head -40
EVALS=$(grep -c ' step [0-9]*: exact' "$OUT/contrast-lab.log")
if [ $rc = 0 ] && grep -q '^lab: .*reached 90%' "$OUT/contrast-lab.log"; then
  record lab ok "$(grep -m1 '^lab: .*reached' "$OUT/contrast-lab.log" | sed 's/^lab: //')$PYBUSY"
elif [ $rc = 124 ] && [ -n "$DRY" ] && [ "$EVALS" -gt 0 ]; then
  record lab ok "dry run: stopped at its limit as planned after $EVALS evaluation(s): $(grep ' step [0-9]*: exact' "$OUT/contrast-lab.log" | tail -1 | sed 's/^ *//')"
else
  record lab FAIL "$(why $rc), $EVALS evaluation(s) logged"
fi

# --- pytorch: wait for it, at most until the budget is spent ---------------------------------------------------------
if [ -n "$PYPID" ]; then
  echo "== [$(el)s] pytorch: waiting (started at ${PYSTART}s)"
  while kill -0 "$PYPID" 2>/dev/null && [ "$(el)" -lt $((TOTAL - 5)) ]; do sleep 2; done
  rc=$(cat "$PYDIR/rc" 2>/dev/null || echo 124)
  grep -E 'eval step|time to contrast|Error|error' "$OUT/contrast-pytorch.log" | tail -15
  PEVALS=$(grep -c 'eval step' "$OUT/contrast-pytorch.log")
  if [ "$rc" = 0 ] && grep -q 'time to contrast:' "$OUT/contrast-pytorch.log"; then
    record pytorch ok "$(grep -m1 'time to contrast:' "$OUT/contrast-pytorch.log" | sed 's/^ *//'), ${TORCH_THREADS} threads"
  elif [ "$rc" = 124 ] && [ -n "$DRY" ] && [ "$PEVALS" -gt 0 ]; then
    record pytorch ok "dry run: stopped at its limit as planned after $PEVALS evaluation(s)"
  else
    record pytorch FAIL "$(why "$rc"), $PEVALS evaluation(s) logged"
  fi
fi

# --- summary ----------------------------------------------------------------------------------------------------------
echo
echo "================ gpu-check summary ($(el)s of ${TOTAL}s${DRY:+, DRY RUN}) ================"
for s in "${STEPS[@]}"; do printf '%-8s %-7s %s\n' "$s" "${STATUS[$s]}" "${DETAIL[$s]}"; done
export GC_OUT=$OUT GC_PYRESULTS=$PYDIR/runs/results.json GC_ADAPTER=${ADAPTER:-} GC_TORCH=${TORCHV:-} GC_THREADS=$TORCH_THREADS
node - <<'EOF' || echo "(no figures: node could not read the results)"
const fs = require('node:fs');
const env = process.env;
const read = (f) => { try { return JSON.parse(fs.readFileSync(f, 'utf8')); } catch { return null; } };
const bench = read(`${env.GC_OUT}/bench.json`);
const lab = read(`${env.GC_OUT}/contrast-lab.json`);
const py = read(env.GC_PYRESULTS);
const peak = Number(env.PEAK_TFLOPS) * 1e3; // GFLOP/s
const s = { peakTflops: Number(env.PEAK_TFLOPS) };
const a = bench?.node?.adapter;
s.adapter = a ? `${a.vendor} / ${a.architecture} (${a.description})` : env.GC_ADAPTER || null;
s.matmulVariant = bench?.node?.matmulVariant ?? null;
s.reductionVariant = bench?.node?.reductionVariant ?? null;
// Milliseconds per round of N lanes: each submitted alone, in one command buffer, stacked in the same dispatches.
s.lanes = (bench?.node?.lanes ?? []).map((l) => ({ size: l.size, lanes: l.lanes, separateMs: l.separateMs.median, togetherMs: l.togetherMs.median, stackedMs: l.stackedMs?.median ?? null }));
s.tokensPerSecond = Object.fromEntries((bench?.node?.training ?? []).map((t) => [t.size, Math.round(t.tokensPerSecond.median)]));
s.squares = {};
for (const [k, list] of Object.entries(bench?.node ?? {})) {
  if (!/^square\d+$/.test(k)) continue;
  const best = [...list].sort((x, y) => y.gflops.median - x.gflops.median)[0];
  const chosen = list.filter((r) => r.op.startsWith(`${s.matmulVariant} `));
  s.squares[k.slice(6)] = {
    best: { op: best.op, gflops: best.gflops.median, fractionOfPeak: best.gflops.median / peak },
    chosen: chosen.map((r) => ({ op: r.op, gflops: r.gflops.median, fractionOfPeak: r.gflops.median / peak })),
  };
}
s.memory = bench?.node?.memory ? { ok: bench.node.memory.ok, steps: bench.node.memory.steps } : null;
// What one near-empty dispatch costs (bench/kernels.ts, benchDispatch): against the dispatches per step, the most
// that fusing kernels or stacking lanes could save here.
const d = bench?.node?.kernels?.dispatch?.[0];
s.dispatchMicroseconds = d ? d.ms.median * 1000 : null;
s.dispatchesPerStep = Object.fromEntries((bench?.node?.training ?? []).map((t) => [t.size, t.dispatchesPerStep ?? null]));
// The variant probe's milliseconds for the tiled kernels with and without each LayerNorm fused into the forward
// product that reads it (docs/kernel-notes.md, "LayerNorm fused into the tiled matmul"): whether the fusion pays here.
const probe = Object.fromEntries((bench?.node?.variantTimings ?? []).map((t) => [t.variant, t.ms]));
s.layerNormFusion = ['tiled64', 'tiled64+splitK']
  .filter((v) => v in probe && `${v}+ln` in probe)
  .map((v) => ({ variant: v, ms: probe[v], fusedMs: probe[`${v}+ln`] }));
s.timeToContrast = { lab: lab?.timeToContrast?.lab ?? null, pytorch: null };
const c = py?.runs?.[0]?.timeToContrast;
if (c) s.timeToContrast.pytorch = { seconds: c.seconds, steps: c.step, objective: c.objective, device: py.adapter, torch: env.GC_TORCH, threads: Number(env.GC_THREADS) };
fs.writeFileSync(`${env.GC_OUT}/summary.json`, JSON.stringify(s, null, 2));
const pct = (f) => `${(100 * f).toPrecision(2)}%`;
const rate = (g) => (g >= 1000 ? `${(g / 1e3).toFixed(2)} TFLOP/s` : `${g.toFixed(1)} GFLOP/s`);
console.log(`adapter  ${s.adapter ?? '?'}; matmul variant ${s.matmulVariant ?? '?'}; row reductions ${s.reductionVariant ?? '?'}`);
console.log(`tok/s    ${Object.entries(s.tokensPerSecond).map(([k, v]) => `${k} ${v.toLocaleString('en')}`).join(' · ') || '?'}`);
if (s.dispatchMicroseconds !== null) console.log(`dispatch ${s.dispatchMicroseconds.toFixed(1)} µs each; per step ${Object.entries(s.dispatchesPerStep).map(([k, v]) => `${k} ${v ?? '?'}`).join(' · ')}`);
if (s.layerNormFusion.length) console.log(`ln fused ${s.layerNormFusion.map((f) => `${f.variant} ${f.ms.toFixed(2)} ms, +ln ${f.fusedMs.toFixed(2)} ms`).join(' · ')} (variant probe)`);
for (const [n, q] of Object.entries(s.squares)) {
  console.log(`${n}³     best ${rate(q.best.gflops)} (${q.best.op}) = ${pct(q.best.fractionOfPeak)} of ${env.PEAK_TFLOPS} TFLOP/s f32 peak`);
  if (q.chosen.length) console.log(`         ${s.matmulVariant}: ${q.chosen.map((r) => `${r.op.split(' ')[1]} ${rate(r.gflops)} (${pct(r.fractionOfPeak)})`).join(', ')}`);
}
if (!Object.keys(s.squares).includes('4096')) console.log('4096³    not measured (BENCH_ARGS without --square 4096, or the bench failed)');
const one = s.lanes.find((l) => l.lanes === 1);
if (s.lanes.length) console.log(`lanes    ${s.lanes[0].size}: ${s.lanes.map((l) => `${l.lanes} alone ${l.separateMs.toFixed(1)} ms, stacked ${l.stackedMs === null ? '?' : l.stackedMs.toFixed(1)} ms${one && l.lanes > 1 && l.stackedMs !== null ? ` = ${(l.stackedMs / one.separateMs).toFixed(2)}× one` : ''}`).join(' · ')}`);
if (s.memory) console.log(`memory   ${s.memory.steps} steps: ${s.memory.ok ? 'no buffer, no byte added' : 'FAILED'}`);
const t = (r, extra) => (r ? `${r.objective} ≥90% at step ${r.steps}, ${r.seconds.toFixed(1)} s${extra}` : 'not reached (see its log)');
console.log(`contrast lab     ${t(s.timeToContrast.lab, lab?.timeToContrast?.lab ? ` (${lab.timeToContrast.lab.adapter})` : '')}`);
console.log(`contrast pytorch ${t(s.timeToContrast.pytorch, c ? ` (${py.adapter}, torch ${env.GC_TORCH})` : '')}`);
EOF
echo "files in $OUT: $(ls "$OUT" | tr '\n' ' ')"
fail=0
for s in "${STEPS[@]}"; do [ "${STATUS[$s]}" = FAIL ] && fail=1; done
exit $fail

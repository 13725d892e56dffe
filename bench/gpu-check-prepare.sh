#!/bin/bash
# Builds what bench/gpu-check.sh needs on a GPU machine that has no Node, no browser and no registry, into two
# git-ignored folders, each step checked, then prints their sizes and the command to run there. Run it in the
# checkout that is copied to the GPU machine:
#
#   bash bench/gpu-check-prepare.sh            # REBUILD=1 rebuilds node.xz and nm.tar.xz even if up to date
#                                              # WITH_ORT=1 also carries onnxruntime-node's linux-x64 binary
# .device/
#   bundle/lab.mjs, bundle/bench.mjs (+ assets/)  the command line and the benchmark bundled for Node by Vite
#                                                 (bench/gpu-check.bundle.config.ts)
#   contrast/                                     the default experiment's exported PyTorch project (seed 1)
#   node.xz                                       this machine's node, xz -9
#   nm.tar.xz                                     a pruned node_modules: vitest and what it needs, `webgpu` with
#                                                 only its linux-x64 Dawn, the project's runtime dependencies
# .gl/libvulkan1_*.deb                            the Vulkan loader (apt-get download, amd64)
set -u
cd "$(dirname "$0")/.." || exit 1
LIMIT_MIB=64
step() { # step NAME COMMAND...: run it, say ok or FAIL, stop on FAIL
  local name=$1
  shift
  local t0=$SECONDS
  if "$@"; then
    echo "ok   $name ($((SECONDS - t0)) s)"
  else
    echo "FAIL $name (exit $?): stopping"
    exit 1
  fi
}
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
bytes() { du -sb --apparent-size "$@" 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'; }

[ "$(uname -m)" = x86_64 ] || { echo "FAIL: this machine is $(uname -m); the device is x86-64 and needs x86-64 node and binaries"; exit 1; }
for tool in node npx xz tar apt-get git; do command -v $tool >/dev/null || { echo "FAIL: no $tool"; exit 1; }; done
[ -d node_modules/vitest ] && [ -d node_modules/webgpu/dist/linux-x64 ] || { echo "FAIL: run npm ci first (no node_modules/vitest or webgpu's linux-x64)"; exit 1; }
for p in .device .gl; do
  git check-ignore -q "$p/x" || { echo "FAIL: $p/ is not ignored by git (add /$p/ to .gitignore)"; exit 1; }
done
mkdir -p .device .gl

bundle() {
  npx vite build --config bench/gpu-check.bundle.config.ts >/tmp/gpu-check-bundle.log 2>&1 || { tail -30 /tmp/gpu-check-bundle.log; return 1; }
  node .device/bundle/bench.mjs --help >/dev/null 2>&1 && node .device/bundle/lab.mjs --help >/dev/null 2>&1 ||
    { echo "the bundles do not start: node .device/bundle/bench.mjs --help"; return 1; }
}
step "bundle .device/bundle/{lab,bench}.mjs" bundle

contrast() {
  rm -rf .device/contrast &&
    npx vite-node --config vite.node.config.ts bench/gpu-check-project.ts -- .device/contrast 1 &&
    [ -f .device/contrast/experiment.json ] && [ -f .device/contrast/labtorch/__main__.py ]
}
step "PyTorch project of the default experiment in .device/contrast" contrast

NODE_BIN=$(readlink -f "$(command -v node)")
nodexz() {
  local key
  key="$(node --version) $(stat -c '%s %Y' "$NODE_BIN")"
  if [ -z "${REBUILD:-}" ] && [ -f .device/node.xz ] && [ "$(cat .device/node.key 2>/dev/null)" = "$key" ]; then
    echo "     .device/node.xz is up to date ($(node --version))"
    return 0
  fi
  xz -9 -T2 -c "$NODE_BIN" >.device/node.xz.tmp && mv .device/node.xz.tmp .device/node.xz && echo "$key" >.device/node.key &&
    [ "$(xz -dc .device/node.xz | cmp - "$NODE_BIN" && echo same)" = same ]
}
step "node.xz ($(node --version), $NODE_BIN)" nodexz

nm() {
  local with=() list key
  [ -n "${WITH_ORT:-}" ] && with=(--with onnxruntime-node)
  list=$(node bench/gpu-check-nm.mjs "${with[@]}") || return 1
  key=$( (echo "$list"; cat package-lock.json; echo "ort=${WITH_ORT:-}") | sha256sum | cut -c1-16)
  if [ -z "${REBUILD:-}" ] && [ -f .device/nm.tar.xz ] && [ "$(cat .device/nm.key 2>/dev/null)" = "$key" ]; then
    echo "     .device/nm.tar.xz is up to date ($(echo "$list" | wc -l) packages)"
    return 0
  fi
  # Dawn for other platforms, onnxruntime-node's other platforms, source maps and type declarations stay behind.
  echo "$list" | tar -c --exclude='node_modules/webgpu/dist/darwin-*' --exclude='node_modules/webgpu/dist/win32-*' \
    --exclude='node_modules/webgpu/dist/linux-arm64' --exclude='node_modules/onnxruntime-node/bin/napi-v*/darwin' \
    --exclude='node_modules/onnxruntime-node/bin/napi-v*/win32' --exclude='node_modules/onnxruntime-node/bin/napi-v*/linux/arm64' \
    --exclude='*.map' --exclude='*.d.ts' --exclude='*.d.mts' --exclude='*.d.cts' -T - -f - | xz -9 -T2 >.device/nm.tar.xz.tmp &&
    mv .device/nm.tar.xz.tmp .device/nm.tar.xz && echo "$key" >.device/nm.key &&
    echo "     $(echo "$list" | wc -l) packages; $(tar -tJf .device/nm.tar.xz | wc -l) entries" &&
    tar -tJf .device/nm.tar.xz | grep -q '^node_modules/webgpu/dist/linux-x64/' && tar -tJf .device/nm.tar.xz | grep -q '^node_modules/vitest/vitest.mjs$'
}
step "nm.tar.xz (pruned node_modules${WITH_ORT:+ with onnxruntime-node})" nm

gl() {
  if ls .gl/libvulkan1_*_amd64.deb >/dev/null 2>&1; then
    echo "     $(ls .gl/*.deb | xargs -n1 basename | tr '\n' ' ')already there"
    return 0
  fi
  local o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  mkdir -p /tmp/amd64/partial &&
    # shellcheck disable=SC2086
    apt-get $o update >/tmp/gpu-check-apt.log 2>&1 && (cd .gl && apt-get $o download libvulkan1 >>/tmp/gpu-check-apt.log 2>&1) &&
    ls .gl/libvulkan1_*_amd64.deb || { tail -5 /tmp/gpu-check-apt.log; return 1; }
}
step "Vulkan loader .gl/libvulkan1_*.deb" gl

# --- sizes: the tracked and untracked-not-ignored files plus .device/ and .gl/, what the GPU machine needs ------
tree=$(git ls-files -z --cached --others --exclude-standard | du -cb --apparent-size --files0-from=- 2>/dev/null | tail -1 | cut -f1)
dev=$(bytes .device)
glb=$(bytes .gl)
total=$((tree + dev + glb))
echo
echo "sizes:"
for f in .device/node.xz .device/nm.tar.xz .device/bundle .device/contrast .gl; do printf '  %-20s %s\n' "$f" "$(mib "$(bytes $f)")"; done
printf '  %-20s %s\n' "working tree" "$(mib "$tree")" "total" "$(mib "$total") of $LIMIT_MIB MiB"
if [ "$total" -ge $((LIMIT_MIB * 1048576)) ]; then
  echo "FAIL: over $LIMIT_MIB MiB, the most this package is meant to weigh with the tree"
  exit 1
fi
cat <<'EOF'

Ready. Dry run here first (a few minutes on a software adapter):
  DRY=1 ICD=/usr/share/vulkan/icd.d/lvp_icd.json OUT=/tmp/gpucheck-out bash bench/gpu-check.sh
Then, on the GPU machine, with this tree and the folders .device/ and .gl/ copied there:
  bash bench/gpu-check.sh
It prints each step's ok/FAIL and a summary (adapter, tok/s, 4096³ against PEAK_TFLOPS, time to contrast);
its files go to $OUT (default /tmp/gpu-check-out): run.log, vitest.log, bench.log, bench.json, contrast-lab.log,
contrast-lab.json, contrast-pytorch.log, summary.json.
EOF

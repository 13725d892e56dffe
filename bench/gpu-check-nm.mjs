// Lists the node_modules folders that the GPU check needs on a machine with no registry: the closure of the
// packages named on the command line (default: vitest, webgpu and the project's own runtime dependencies, less
// onnxruntime-web, which only the page's ONNX check imports) over dependencies, optionalDependencies that are
// installed, and peerDependencies that are installed and not marked optional. Prints one path a line, relative to
// the repository root, for `tar -T -`. Used by bench/gpu-check-prepare.sh.
//   node bench/gpu-check-nm.mjs [--with NAME]... [--without NAME]...
/* global process, console */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const root = process.cwd();
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const args = process.argv.slice(2);
const opt = (name) => args.flatMap((a, i) => (a === name ? [args[i + 1]] : []));
const without = new Set(['onnxruntime-web', ...opt('--without')]);
const roots = ['vitest', 'webgpu', ...Object.keys(pkg.dependencies ?? {}), ...opt('--with')].filter(
  (n) => !without.has(n),
);

/** Node's lookup: FROM/node_modules/NAME, then each parent folder's node_modules, up to the root. */
function resolve(name, from) {
  for (let d = from; ; d = dirname(d)) {
    const p = join(d, 'node_modules', name);
    if (existsSync(join(p, 'package.json'))) return p;
    if (d === root || dirname(d) === d) return null;
  }
}

const seen = new Set();
const missing = [];
const queue = roots.map((n) => [n, root, true]);
while (queue.length) {
  const [name, from, required] = queue.shift();
  if (without.has(name)) continue;
  const dir = resolve(name, from);
  if (!dir) {
    if (required) missing.push(`${name} (from ${relative(root, from) || '.'})`);
    continue;
  }
  if (seen.has(dir)) continue;
  seen.add(dir);
  const p = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  for (const d of Object.keys(p.dependencies ?? {})) queue.push([d, dir, true]);
  for (const d of Object.keys(p.optionalDependencies ?? {})) queue.push([d, dir, false]);
  const optionalPeers = p.peerDependenciesMeta ?? {};
  for (const d of Object.keys(p.peerDependencies ?? {})) if (!optionalPeers[d]?.optional) queue.push([d, dir, false]);
}
if (missing.length) {
  console.error(`gpu-check-nm: not installed: ${missing.join(', ')}`);
  process.exit(1);
}
for (const d of [...seen].sort()) console.log(relative(root, d));

// Writes the exported PyTorch project of the default experiment (what `npm run bench -- --time-to-contrast` runs as
// `python -m labtorch experiment.json --out runs/ --device cpu --until-contrast`) into a folder, so that
// bench/gpu-check.sh can run PyTorch's half of the time to contrast by itself, under its own time limit and with its
// output streamed to a log. Run by bench/gpu-check-prepare.sh:
//   vite-node --config vite.node.config.ts bench/gpu-check-project.ts -- DIR [SEED]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ExperimentSpec } from '../src/lab/api';
import { DEFAULT_EXPERIMENT } from '../src/lab/experiments';
import { scaleProject } from '../src/lab/scale';

const [dir, seedArg] = process.argv.slice(2).filter((x) => x !== '--');
if (!dir) {
  console.error('usage: bench/gpu-check-project.ts DIR [SEED]');
  process.exit(2);
}
const seed = Number(seedArg ?? 1);
const spec: ExperimentSpec = { ...DEFAULT_EXPERIMENT, train: { ...DEFAULT_EXPERIMENT.train, seed } };
for (const f of scaleProject(spec, [seed])) {
  mkdirSync(dirname(join(dir, f.name)), { recursive: true });
  writeFileSync(join(dir, f.name), f.text);
}
console.log(`wrote the default experiment's PyTorch project (seed ${seed}) to ${dir}`);

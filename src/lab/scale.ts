// "Run at scale": an experiment as a small PyTorch project for torchrun. The Python package (python/labtorch) is
// fixed code that reads the spec from experiment.json, so one copy serves every experiment; only experiment.json and
// the README's commands depend on the spec. The command line writes the project into a folder
// (`npm run lab -- export-experiment --out DIR`), the page into a zip.
import type { ExperimentSpec } from './api';
import { formatObjective } from '../objectives';

const SOURCES = import.meta.glob('../../python/labtorch/*.py', {
  query: '?raw',
  import: 'default',
  eager: true,
}) as Record<string, string>;

export interface ProjectFile {
  /** Path inside the project, e.g. `labtorch/train.py`. */
  name: string;
  text: string;
}

/** The experiment a PyTorch run reads: the spec and the seeds to run. */
export function experimentJson(spec: ExperimentSpec, seeds: number[]): string {
  return `${JSON.stringify({ format: 'webgpu-lab-experiment/1', spec, seeds }, null, 2)}\n`;
}

function objectiveList(spec: ExperimentSpec): string {
  return spec.objectives.map(formatObjective).join(', ');
}

/** The project's README: what it runs, the one torchrun command, and how the results come back to the lab. */
export function scaleReadme(spec: ExperimentSpec, seeds: number[]): string {
  const t = spec.task;
  const task =
    t.kind === 'path-star'
      ? `path-star G(${t.degree},${t.pathLength},${t.nodes})`
      : t.kind === 'addition'
        ? `${t.digits}-digit addition`
        : 'custom pairs';
  const seedText = seeds.length > 1 ? `${seeds[0]}..${seeds[seeds.length - 1]}` : String(seeds[0] ?? spec.train.seed);
  return `# ${task}: ${objectiveList(spec)} — at scale with PyTorch

Written by the WebGPU training lab. \`experiment.json\` holds the experiment exactly as the lab ran it (task,
objectives, model ${spec.model.nLayer}/${spec.model.nEmbd}/${spec.model.nHead}, batch ${spec.train.batchSize}, ${spec.train.steps} steps, lr ${spec.train.lr}
${spec.train.schedule ?? 'cosine'}) and the seeds; \`labtorch/\` is the lab's data, objectives, model, optimizer and evaluation in plain
PyTorch. The same seed gives the same examples, batches and masks as the lab, bit for bit.

Needs Python 3.9+ and PyTorch 1.13+. On one GPU, or the CPU:

\`\`\`sh
python -m labtorch experiment.json --out runs/
\`\`\`

On every GPU of a machine (DDP; with several seeds, each GPU trains its share of them):

\`\`\`sh
torchrun --standalone --nproc_per_node=gpu -m labtorch experiment.json --out runs/ --seeds ${seedText}
\`\`\`

On the CPU, \`--nproc_per_node=N\` runs N ranks (gloo), one thread each. PyTorch 1.13 on Python 3.11 (Debian 12's
\`python3-torch\`) has a torchrun bug that stops it before the first rank starts (\`'NoneType' object has no
attribute 'get'\`); add \`--redirects 1 --tee 1\` after \`torchrun\` there (each rank's output is then prefixed
with its rank).

The same command again continues an interrupted run of many seeds: a seed whose \`runs/seed-S.json\` holds its
finished run is kept, the others train, and \`results.json\` covers them all (\`--redo\` trains every seed anew).

Other options: \`--steps N\` (a bigger budget), \`--sweep sweep.json\` (a list of overrides such as
\`{"name": "lr3e-3", "train": {"lr": 0.003}}\`, one run each), \`--save-every N\`, \`--resume runs/seed-1/lane0-ntp.safetensors …\`
(one file per lane; the optimizer files beside them continue the run exactly, also a run started in the lab).

What comes back: \`runs/results.json\` in the schema of \`npm run lab -- compare --json\` (each seed's runs with
their loss and evaluation history, and the mean and spread over seeds), and per seed the lane checkpoints
\`runs/seed-S/laneN-OBJECTIVE.safetensors\` with their optimizer files. In the lab's page, "Open results" shows the
JSON's charts, Clever Hans view and tables, and with the checkpoints its examples and ONNX export;
\`npm run lab -- evaluate --checkpoint runs/seed-1/\` evaluates them with the lab's own engine.
`;
}

/** Every file of the project: experiment.json, README.md and the labtorch package. */
export function scaleProject(spec: ExperimentSpec, seeds: number[]): ProjectFile[] {
  const files: ProjectFile[] = [
    { name: 'experiment.json', text: experimentJson(spec, seeds) },
    { name: 'README.md', text: scaleReadme(spec, seeds) },
  ];
  for (const [path, text] of Object.entries(SOURCES).sort(([a], [b]) => a.localeCompare(b))) {
    files.push({ name: `labtorch/${path.split('/').pop()!}`, text });
  }
  return files;
}

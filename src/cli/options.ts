// Command-line options: one table gives each option's type, default and help, so parsing, validation and --help
// cannot drift apart. Every bad value is reported with the option's name, what was given and what is allowed.
import { parseArgs } from 'node:util';
import { DEFAULT_EXPERIMENT, EXPERIMENT_PRESETS } from '../lab/experiments';
import { LR_SCHEDULES } from '../model/config';

/** The experiment the command line runs when no --experiment is given. */
export const DEFAULT_PRESET_ID = 'clever-hans';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

type Kind = 'int' | 'number' | 'string' | 'flag';

export interface OptionSpec {
  kind: Kind;
  help: string;
  default?: string | number | boolean;
  /** Allowed values for a string option. */
  choices?: readonly string[];
  min?: number;
  max?: number;
  /** Commands that accept it; absent = every command. */
  commands?: readonly string[];
}

export const OPTIONS = {
  // the experiment every other option starts from
  experiment: {
    kind: 'string',
    choices: EXPERIMENT_PRESETS.map((p) => p.id),
    default: DEFAULT_PRESET_ID,
    help: 'named experiment to start from; the options below override its settings',
  },
  // task
  task: {
    kind: 'string',
    choices: ['path-star', 'addition', 'custom'],
    help: "task to train on (default: the experiment's)",
  },
  degree: { kind: 'int', min: 2, max: 64, help: 'path-star: arms leaving the source' },
  'path-length': { kind: 'int', min: 2, max: 64, help: 'path-star: nodes from source to goal, both included' },
  nodes: { kind: 'int', min: 3, max: 4096, help: 'path-star: size of the node-label pool' },
  'train-size': {
    kind: 'int',
    min: 0,
    max: 10_000_000,
    help: 'fixed training-set size (0: fresh examples every step)',
  },
  'test-size': { kind: 'int', min: 1, max: 100_000, help: 'held-out test examples' },
  digits: { kind: 'int', min: 1, max: 30, help: 'addition: digits per operand' },
  reversed: { kind: 'flag', default: false, help: 'addition: write the sum least-significant digit first' },
  data: { kind: 'string', help: 'custom: file with one `prompt<TAB>target` (or `prompt => target`) pair a line' },
  'test-fraction': { kind: 'number', min: 0.01, max: 0.9, help: 'custom: fraction of pairs held out (default 0.2)' },
  // model
  preset: {
    kind: 'string',
    choices: ['tiny', 'small', 'medium'],
    help: 'model size: tiny 2/64/2, small 4/128/4, medium 6/256/8 (layers/width/heads)',
  },
  layers: { kind: 'int', min: 1, max: 48, help: 'transformer blocks' },
  width: { kind: 'int', min: 4, max: 4096, help: 'n_embd' },
  heads: { kind: 'int', min: 1, max: 64, help: 'attention heads' },
  // objectives
  objective: {
    kind: 'string',
    default: 'ntp',
    help: 'train: objective (ntp, reverse, teacherless, mtp[:heads], diffusion[:variant][:steps], top)',
    commands: ['train'],
  },
  objectives: {
    kind: 'string',
    help: "compare, export-experiment: comma-separated objectives (default: the experiment's)",
    commands: ['compare', 'export-experiment'],
  },
  // training
  steps: { kind: 'int', min: 1, max: 10_000_000, help: 'optimizer steps' },
  'batch-size': { kind: 'int', min: 1, max: 4096, help: 'sequences per step' },
  lr: { kind: 'number', min: 1e-7, max: 10, help: 'peak learning rate' },
  schedule: { kind: 'string', choices: LR_SCHEDULES, help: 'after warmup: constant lr, or cosine decay to lr/10' },
  warmup: { kind: 'int', min: 0, max: 10_000_000, help: 'linear warmup steps' },
  'weight-decay': { kind: 'number', min: 0, max: 10, help: 'AdamW decoupled weight decay (2-D weights)' },
  'grad-clip': { kind: 'number', min: 0, max: 1e6, help: 'clip the global gradient norm (0: off)' },
  'stop-at': {
    kind: 'int',
    min: 1,
    max: 10_000_000,
    help: 'stop after this step (the schedule still spans --steps), e.g. to checkpoint midway',
  },
  seed: { kind: 'int', min: 0, max: 2 ** 32 - 1, help: 'seed of weights and data (default 1)' },
  seeds: {
    kind: 'string',
    help: 'compare: run once per seed, e.g. 1,2,3 or 1-5, and report mean and spread per objective; export-experiment: the seeds to run',
    commands: ['compare', 'export-experiment'],
  },
  'eval-every': { kind: 'int', min: 1, max: 10_000_000, help: 'evaluate on the test set every N steps' },
  'eval-examples': { kind: 'int', min: 1, max: 100_000, help: 'test examples per evaluation' },
  'log-every': { kind: 'int', min: 1, max: 10_000_000, default: 10, help: 'print a progress line every N steps' },
  // files
  out: {
    kind: 'string',
    help: 'write checkpoints (safetensors, optimizer state, ONNX) into this folder; export-experiment: the project folder',
  },
  json: {
    kind: 'string',
    help: 'compare, evaluate: write the results as JSON to this file; compare keeps the seeds it already holds for the same experiment and runs the others',
    commands: ['compare', 'evaluate'],
  },
  resume: {
    kind: 'string',
    help: 'train: continue from a model checkpoint written by --out (its .optimizer.safetensors beside it)',
    commands: ['train'],
  },
  checkpoint: {
    kind: 'string',
    help: 'export: the model checkpoint (.safetensors) to convert; evaluate: lane checkpoints, comma-separated, or a folder of them',
    commands: ['export', 'evaluate'],
  },
  format: {
    kind: 'string',
    choices: ['onnx', 'safetensors'],
    default: 'onnx',
    help: 'export: output format',
    commands: ['export'],
  },
  help: { kind: 'flag', default: false, help: 'show this help' },
} as const satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof OPTIONS;
export type Parsed = { command: string; values: Partial<Record<OptionName, string | number | boolean>> };

export const COMMANDS: Record<string, string> = {
  train: 'train one objective and print progress lines (step N loss X tok/s Y)',
  compare: 'train several objectives side by side on one task and seed, then print a results table',
  evaluate: "evaluate lane checkpoints (the lab's or PyTorch's) on their experiment's test set with this engine",
  export: 'convert a stored checkpoint to ONNX or safetensors',
  'export-experiment': 'write the experiment as a PyTorch project for torchrun (python -m labtorch) into --out',
};

function convert(name: OptionName, raw: string | boolean): string | number | boolean {
  const spec: OptionSpec = OPTIONS[name];
  if (spec.kind === 'flag') return raw;
  const s = String(raw);
  if (spec.kind === 'string') {
    if (spec.choices && !spec.choices.includes(s)) {
      throw new UsageError(`--${name} must be one of ${spec.choices.join(', ')}, got '${s}'`);
    }
    if (s === '') throw new UsageError(`--${name} needs a value`);
    return s;
  }
  const n = Number(s);
  if (s.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got '${s}'`);
  if (spec.kind === 'int' && !Number.isInteger(n)) throw new UsageError(`--${name} must be a whole number, got '${s}'`);
  if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
    throw new UsageError(`--${name} must be between ${spec.min} and ${spec.max}, got ${s}`);
  }
  return n;
}

export function parseCommandLine(argv: string[]): Parsed {
  const options: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const [name, spec] of Object.entries(OPTIONS))
    options[name] = { type: spec.kind === 'flag' ? 'boolean' : 'string' };
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    const msg = (e as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    throw new UsageError(msg.replace(/^Unknown option '(.*)'$/, "unknown option '$1' (see --help)"));
  }
  const [command = 'help', ...extra] = parsed.positionals;
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}' (options start with --)`);
  if (command !== 'help' && !(command in COMMANDS)) {
    throw new UsageError(`unknown command '${command}'; commands: ${Object.keys(COMMANDS).join(', ')}`);
  }
  const values: Parsed['values'] = {};
  for (const [name, raw] of Object.entries(parsed.values)) {
    const spec: OptionSpec = OPTIONS[name as OptionName];
    if (raw === undefined) continue;
    if (spec.commands && !spec.commands.includes(command)) {
      throw new UsageError(`--${name} is for ${spec.commands.join(', ')}, not ${command}`);
    }
    values[name as OptionName] = convert(name as OptionName, raw as string | boolean);
  }
  for (const [name, spec] of Object.entries(OPTIONS) as [OptionName, OptionSpec][]) {
    if (
      values[name] === undefined &&
      spec.default !== undefined &&
      (!spec.commands || spec.commands.includes(command))
    ) {
      values[name] = spec.default;
    }
  }
  return { command, values };
}

export function helpText(): string {
  const lines = ['Usage: npm run lab -- <command> [options]', '', 'Commands:'];
  for (const [c, h] of Object.entries(COMMANDS)) lines.push(`  ${c.padEnd(9)} ${h}`);
  lines.push('', 'Options:');
  for (const [name, spec] of Object.entries(OPTIONS) as [string, OptionSpec][]) {
    const arg =
      spec.kind === 'flag'
        ? ''
        : spec.choices
          ? ` <${spec.choices.join('|')}>`
          : spec.kind === 'string'
            ? ' <value>'
            : ' <n>';
    const def = spec.default !== undefined && spec.kind !== 'flag' ? ` (default ${spec.default})` : '';
    const only = spec.commands ? ` [${spec.commands.join(', ')}]` : '';
    lines.push(`  --${(name + arg).padEnd(36)} ${spec.help}${def}${only}`);
  }
  const d = DEFAULT_EXPERIMENT;
  const t = d.task.kind === 'path-star' ? `G(${d.task.degree},${d.task.pathLength},${d.task.nodes})` : d.task.kind;
  lines.push(
    '',
    'Experiments (--experiment):',
    ...EXPERIMENT_PRESETS.map((p) => `  ${p.id.padEnd(16)} ${p.title}. ${p.budget}`),
    '',
    `Without options, compare runs the default experiment: path-star ${t}, objectives ${d.objectives.map((o) => o.kind).join(',')},`,
    `model ${d.model.nLayer}/${d.model.nEmbd}/${d.model.nHead}, batch ${d.train.batchSize}, ${d.train.steps} steps, lr ${d.train.lr} (${d.train.schedule} after ${d.train.warmupSteps} warmup steps),`,
    `evaluated every ${d.evalEvery} steps on ${d.evalExamples} held-out examples.`,
    '',
    'Examples:',
    '  npm run lab -- compare                                     # the default experiment, seed 1',
    '  npm run lab -- compare --seeds 1,2,3 --json results.json   # the same over three seeds',
    '  npm run lab -- compare --experiment all-objectives --steps 3000',
    '  npm run lab -- train --objective reverse --steps 400 --out ckpt/',
    '  npm run lab -- export --checkpoint ckpt/lane0-reverse.safetensors --format onnx --out onnx/',
    '  npm run lab -- export-experiment --seeds 1-8 --out scale/     # then: torchrun … -m labtorch experiment.json',
    '  npm run lab -- evaluate --checkpoint scale/runs/seed-1/       # its checkpoints, evaluated by the lab',
  );
  return lines.join('\n');
}

// The page's one table of experiment fields: each number field's spec path (as SpecIssue.field names it), its
// query parameter in a shared link, its label and its range. The form, the URL codec and the client-side checks
// all read this table, so a field is described once. The lab's own `check(spec)` remains the authority (memory
// against the adapter's limits, task-specific rules); these checks only explain typos before a round trip.
import type { ExperimentSpec, ObjectiveSpec, SpecIssue, TaskSpec } from '../../lab/api';
import { ConfigError, validateModelConfig, validateTrainConfig } from '../../model/config';
import { DEFAULT_EXPERIMENT } from '../../lab/experiments';
import { DEFAULT_DECODE_STEPS, DEFAULT_MTP_HEADS, MAX_MTP_HEADS } from '../../objectives';
import type { ObjectiveName } from '../../objectives/types';
import { taskSpecIssues } from '../../tasks';

export interface NumberField {
  /** Dotted spec path, e.g. `task.degree`; objective knobs use `objectives.<kind>.<knob>`. */
  path: string;
  /** Query parameter in a shared link. */
  param: string;
  label: string;
  integer: boolean;
  min: number;
  max: number;
  /** The lower bound itself is not allowed (a learning rate of 0). */
  minExclusive?: boolean;
  help?: string;
}

const int = (path: string, param: string, label: string, min: number, max: number, help?: string): NumberField => ({
  path,
  param,
  label,
  integer: true,
  min,
  max,
  ...(help ? { help } : {}),
});

export const TASK_FIELDS: Record<TaskSpec['kind'], NumberField[]> = {
  'path-star': [
    int('task.degree', 'degree', 'Degree (arms)', 2, 64, 'Arms leaving the source.'),
    int('task.pathLength', 'pathLength', 'Path length', 2, 64, 'Nodes from source to goal, both included.'),
    int('task.nodes', 'nodes', 'Nodes (label pool)', 3, 4096),
    int('task.trainSize', 'trainSize', 'Training graphs', 0, 1_000_000, '0 = fresh graphs every step.'),
    int('task.testSize', 'testSize', 'Test graphs', 1, 100_000),
  ],
  addition: [
    int('task.digits', 'digits', 'Digits per operand', 1, 32),
    int('task.trainSize', 'trainSize', 'Training sums', 0, 1_000_000, '0 = fresh sums every step.'),
    int('task.testSize', 'testSize', 'Test sums', 1, 100_000),
  ],
  custom: [
    {
      path: 'task.testFraction',
      param: 'testFraction',
      label: 'Held-out fraction',
      integer: false,
      min: 0,
      max: 1,
      minExclusive: true,
      help: 'Share of distinct prompts kept for testing.',
    },
  ],
};

export const MODEL_FIELDS: NumberField[] = [
  int('model.nLayer', 'layers', 'Layers', 1, 48),
  int('model.nEmbd', 'width', 'Width', 4, 4096, 'Residual width; a multiple of 4 and of heads.'),
  int('model.nHead', 'heads', 'Heads', 1, 64),
];

export const TRAIN_FIELDS: NumberField[] = [
  int('train.steps', 'steps', 'Steps', 1, 10_000_000),
  int('train.batchSize', 'batch', 'Batch size', 1, 4096),
  { path: 'train.lr', param: 'lr', label: 'Learning rate', integer: false, min: 0, max: 10, minExclusive: true },
  int('train.warmupSteps', 'warmup', 'Warmup steps', 0, 10_000_000),
  int('train.seed', 'seed', 'Seed', 0, 2 ** 32 - 1, 'Same seed: same weights and batches for every lane.'),
  int('evalEvery', 'evalEvery', 'Evaluate every', 1, 10_000_000, 'Steps between test evaluations.'),
  int('evalExamples', 'evalExamples', 'Test examples per eval', 1, 100_000),
];

export const OBJECTIVE_FIELDS = {
  mtp: int('objectives.mtp.heads', 'mtpHeads', 'MTP heads', 2, MAX_MTP_HEADS, 'Heads in all, the next-token head included.'),
  diffusion: int('objectives.diffusion.decodeSteps', 'diffusionSteps', 'Decode steps', 1, 4096),
} as const;

export const OBJECTIVE_KINDS: ObjectiveName[] = ['ntp', 'reverse', 'teacherless', 'mtp', 'diffusion'];
export const DIFFUSION_VARIANTS = ['mdlm', 'hkunlp'] as const;

/** A default objective spec of each kind (the knobs' defaults are the objectives' own). */
export function defaultObjective(kind: ObjectiveName): ObjectiveSpec {
  if (kind === 'mtp') return { kind, heads: DEFAULT_MTP_HEADS };
  if (kind === 'diffusion') return { kind, decodeSteps: DEFAULT_DECODE_STEPS, variant: 'mdlm' };
  return { kind };
}

/** Sample pasted data for the custom task: reverse a three-letter word. */
function sampleCustomText(): string {
  const letters = 'abcdefgh';
  const lines: string[] = [];
  for (let i = 0; i < 96; i++) {
    const w = [letters[i % 8], letters[(i * 3 + 1) % 8], letters[(i * 5 + 2) % 8]].join('');
    lines.push(`${w}\t${[...w].reverse().join('')}`);
  }
  return [...new Set(lines)].join('\n');
}

/** Default task of each kind; path-star is the headline experiment's graph (src/lab/experiments.ts). */
export const DEFAULT_TASKS: { [K in TaskSpec['kind']]: Extract<TaskSpec, { kind: K }> } = {
  'path-star': DEFAULT_EXPERIMENT.task as Extract<TaskSpec, { kind: 'path-star' }>,
  addition: { kind: 'addition', digits: 3, reversed: true, trainSize: 0, testSize: 1000 },
  custom: { kind: 'custom', text: sampleCustomText(), testFraction: 0.2 },
};

/** The page's default: the headline experiment, the Clever Hans contrast. */
export const DEFAULT_SPEC: ExperimentSpec = DEFAULT_EXPERIMENT;

/** The number at a field's path (objective knobs: of that objective, if selected, else its default). */
export function getNumber(spec: ExperimentSpec, path: string): number {
  const [head, key, knob] = path.split('.') as [string, string, string?];
  if (head === 'objectives') {
    const o = spec.objectives.find((x) => x.kind === key) ?? defaultObjective(key as ObjectiveName);
    return (o as unknown as Record<string, number>)[knob!]!;
  }
  if (head === 'evalEvery' || head === 'evalExamples') return spec[head];
  const group = spec[head as 'task' | 'model' | 'train'] as unknown as Record<string, number>;
  return group[key];
}

/** A copy of the spec with the number at a path replaced. */
export function setNumber(spec: ExperimentSpec, path: string, value: number): ExperimentSpec {
  const [head, key, knob] = path.split('.') as [string, string, string?];
  if (head === 'objectives') {
    return { ...spec, objectives: spec.objectives.map((o) => (o.kind === key ? { ...o, [knob!]: value } : o)) };
  }
  if (head === 'evalEvery' || head === 'evalExamples') return { ...spec, [head]: value };
  const group = head as 'task' | 'model' | 'train';
  return { ...spec, [group]: { ...spec[group], [key]: value } } as ExperimentSpec;
}

const show = (n: number): string => (Math.abs(n) >= 10_000 ? n.toLocaleString('en-US') : String(n));

/** What is wrong with one number, or null. */
export function numberProblem(f: NumberField, v: number): string | null {
  if (typeof v !== 'number' || Number.isNaN(v)) return 'enter a number';
  if (!Number.isFinite(v)) return `must be a finite number, got ${v}`;
  if (f.integer && !Number.isInteger(v)) return `must be a whole number, got ${v}`;
  const low = f.minExclusive ? v <= f.min : v < f.min;
  if (low || v > f.max) {
    return f.minExclusive
      ? `must be greater than ${show(f.min)} and at most ${show(f.max)}, got ${show(v)}`
      : `must be between ${show(f.min)} and ${show(f.max)}, got ${show(v)}`;
  }
  return null;
}

/** A field's label for a spec path ('' when the path is not a number field). */
export function fieldLabel(path: string): string {
  const all = [
    ...Object.values(TASK_FIELDS).flat(),
    ...MODEL_FIELDS,
    ...TRAIN_FIELDS,
    ...Object.values(OBJECTIVE_FIELDS),
  ];
  return all.find((f) => f.path === path)?.label ?? '';
}

/** Every number field that applies to this spec (task fields of its kind, selected objectives' knobs). */
export function activeFields(spec: ExperimentSpec): NumberField[] {
  const knobs = spec.objectives.flatMap((o) =>
    o.kind === 'mtp' || o.kind === 'diffusion' ? [OBJECTIVE_FIELDS[o.kind]] : [],
  );
  return [...TASK_FIELDS[spec.task.kind], ...MODEL_FIELDS, ...TRAIN_FIELDS, ...knobs];
}

/**
 * Client-side problems with a spec, one per field at most: ranges from the table first, then the task, model and
 * training validators the lab itself uses (they stop at their first problem).
 */
export function clientIssues(spec: ExperimentSpec): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const add = (field: string, message: string) => {
    if (!issues.some((i) => i.field === field)) issues.push({ field, message });
  };
  for (const f of activeFields(spec)) {
    const problem = numberProblem(f, getNumber(spec, f.path));
    if (problem) add(f.path, problem);
  }
  if (spec.objectives.length === 0) add('objectives', 'choose at least one objective');
  if (issues.some((i) => i.field.startsWith('task.')) === false) {
    for (const i of taskSpecIssues(spec.task)) add(i.field, i.message);
  }
  const guard = (prefix: string, check: () => void) => {
    try {
      check();
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      add(`${prefix}.${e.field}`, e.message.slice(e.field.length + 2));
    }
  };
  guard('model', () =>
    validateModelConfig({ ...spec.model, vocabSize: 2, blockSize: 1, extraHeads: 0, attention: 'causal' }),
  );
  guard('train', () => validateTrainConfig(spec.train));
  return issues;
}

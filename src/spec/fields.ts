// The one table of an experiment's number fields: each field's spec path (as SpecIssue.field names it), its query
// parameter in a shared link, its label, its range and, for objective knobs, its default. The page's form and URL
// codec, the task and objective validators and src/spec/check.ts all read it, so a range is written once.
import type { ObjectiveName } from '../objectives/types';
import type { DiffusionVariant, ExperimentSpec, ObjectiveSpec, TaskSpec } from './types';

/**
 * Heads of mtp when not given, the next-token head included (as Gloeckle et al. and the TOP paper count them): four
 * heads predict tokens t+1…t+4.
 */
export const DEFAULT_MTP_HEADS = 4;
/** The most heads mtp takes: the model config allows 16 extra heads (validateModelConfig). */
export const MAX_MTP_HEADS = 17;
/**
 * Unmasking steps of diffusion when not given. At least the target length of every preset, so decoding commits
 * one token per step (the most careful order); a step count below the target length commits several at once.
 */
export const DEFAULT_DECODE_STEPS = 16;

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
  /** The upper bound itself is not allowed (a held-out fraction of 1 leaves nothing to train on). */
  maxExclusive?: boolean;
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
      maxExclusive: true,
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
  mtp: int(
    'objectives.mtp.heads',
    'mtpHeads',
    'MTP heads',
    2,
    MAX_MTP_HEADS,
    'Heads in all, the next-token head included.',
  ),
  diffusion: int('objectives.diffusion.decodeSteps', 'diffusionSteps', 'Decode steps', 1, 4096),
} as const;

export const OBJECTIVE_KINDS: ObjectiveName[] = ['ntp', 'reverse', 'teacherless', 'mtp', 'diffusion', 'top'];
export const DIFFUSION_VARIANTS: readonly DiffusionVariant[] = ['mdlm', 'hkunlp', 'mlmu'];

/** A default objective spec of each kind (the knobs' defaults are the objectives' own). */
export function defaultObjective(kind: ObjectiveName): ObjectiveSpec {
  if (kind === 'mtp') return { kind, heads: DEFAULT_MTP_HEADS };
  if (kind === 'diffusion') return { kind, decodeSteps: DEFAULT_DECODE_STEPS, variant: 'mdlm' };
  return { kind };
}

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

/** What is wrong with one number, or null. NaN is an empty or unreadable field in the form. */
export function numberProblem(f: NumberField, v: unknown): string | null {
  if (typeof v !== 'number') return `must be a number, got ${JSON.stringify(v) ?? String(v)}`;
  if (Number.isNaN(v)) return 'enter a number';
  if (!Number.isFinite(v)) return `must be a finite number, got ${v}`;
  if (f.integer && !Number.isInteger(v)) return `must be a whole number, got ${v}`;
  const low = f.minExclusive ? v <= f.min : v < f.min;
  const high = f.maxExclusive ? v >= f.max : v > f.max;
  if (low || high) {
    if (f.minExclusive && f.maxExclusive)
      return `must be between ${show(f.min)} and ${show(f.max)} (exclusive), got ${show(v)}`;
    return f.minExclusive
      ? `must be greater than ${show(f.min)} and at most ${show(f.max)}, got ${show(v)}`
      : `must be between ${show(f.min)} and ${show(f.max)}, got ${show(v)}`;
  }
  return null;
}

const ALL_FIELDS: readonly NumberField[] = [
  ...Object.values(TASK_FIELDS).flat(),
  ...MODEL_FIELDS,
  ...TRAIN_FIELDS,
  ...Object.values(OBJECTIVE_FIELDS),
];

/** The field at a spec path; throws for a path the table does not hold (a programming error, not bad input). */
export function field(path: string): NumberField {
  const f = ALL_FIELDS.find((x) => x.path === path);
  if (!f) throw new Error(`no spec field ${path}`);
  return f;
}

/** A field's label for a spec path ('' when the path is not a number field). */
export function fieldLabel(path: string): string {
  return ALL_FIELDS.find((f) => f.path === path)?.label ?? '';
}

/** Every number field that applies to this spec (task fields of its kind, selected objectives' knobs). */
export function activeFields(spec: ExperimentSpec): NumberField[] {
  const knobs = spec.objectives.flatMap((o) =>
    o.kind === 'mtp' || o.kind === 'diffusion' ? [OBJECTIVE_FIELDS[o.kind]] : [],
  );
  return [...TASK_FIELDS[spec.task.kind], ...MODEL_FIELDS, ...TRAIN_FIELDS, ...knobs];
}

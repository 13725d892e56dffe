// Objectives by spec, the defaults the lab compares, and the command line's `ntp,reverse,mtp:2,diffusion` syntax.
import {
  DEFAULT_DECODE_STEPS,
  DEFAULT_MTP_HEADS,
  DIFFUSION_VARIANTS,
  MAX_MTP_HEADS,
  numberProblem,
  OBJECTIVE_FIELDS,
} from '../spec/fields';
import type { DiffusionVariant, ModelSize, ObjectiveSpec } from '../spec/types';
import type { Task } from '../tasks/types';
import { ConfigError, validateModelConfig, type ModelConfig } from '../model/config';
import { diffusionObjective } from './diffusion';
import { multiTokenObjective } from './mtp';
import { nextTokenObjective } from './ntp';
import { reverseObjective } from './reverse';
import { teacherlessObjective } from './teacherless';
import { tokenOrderObjective } from './top';
import type { Objective, ObjectiveName } from './types';

export type { DecodeResult, Objective, ObjectiveName } from './types';
export { DEFAULT_DECODE_STEPS, DEFAULT_MTP_HEADS, MAX_MTP_HEADS } from '../spec/fields';

/** A bad objective spec or name list; `field` is e.g. `objectives[3].heads`, `reason` the bare message. */
export class ObjectiveSpecError extends ConfigError {
  constructor(
    field: string,
    readonly reason: string,
  ) {
    super(field, reason);
    this.name = 'ObjectiveSpecError';
  }
}

export const OBJECTIVE_NAMES: readonly ObjectiveName[] = ['ntp', 'reverse', 'teacherless', 'mtp', 'diffusion', 'top'];

/** The lab's comparison: every objective but TOP, with its default settings, in the order the lab shows them. */
export const DEFAULT_OBJECTIVES: readonly ObjectiveSpec[] = [
  { kind: 'ntp' },
  { kind: 'reverse' },
  { kind: 'teacherless' },
  { kind: 'mtp', heads: DEFAULT_MTP_HEADS },
  { kind: 'diffusion', decodeSteps: DEFAULT_DECODE_STEPS, variant: 'mdlm' },
];

/** The knob's value, or ObjectiveSpecError at `field` when it is outside its range in the spec's field table. */
function checkKnob(field: string, knob: keyof typeof OBJECTIVE_FIELDS, v: unknown): number {
  const f = OBJECTIVE_FIELDS[knob];
  if (numberProblem(f, v) !== null) {
    throw new ObjectiveSpecError(field, `must be a whole number from ${f.min} to ${f.max}, got ${JSON.stringify(v)}`);
  }
  return v as number;
}

/** Build an objective; throws ObjectiveSpecError for a bad spec (`field` prefixed by `prefix`, e.g. `objectives[0]`). */
export function makeObjective(spec: ObjectiveSpec, prefix = 'objective'): Objective {
  switch (spec.kind) {
    case 'ntp':
      return nextTokenObjective();
    case 'reverse':
      return reverseObjective();
    case 'teacherless':
      return teacherlessObjective();
    case 'top':
      return tokenOrderObjective();
    case 'mtp': {
      if (spec.layout !== undefined && spec.layout !== 'gloeckle') {
        throw new ObjectiveSpecError(
          `${prefix}.layout`,
          `must be "gloeckle" or absent, got ${JSON.stringify(spec.layout)}`,
        );
      }
      const heads = checkKnob(`${prefix}.heads`, 'mtp', spec.heads);
      // Every head a block of its own: one block more than the trunk-headed layout, within the model's 16.
      if (spec.layout === 'gloeckle' && heads > MAX_MTP_HEADS - 1)
        throw new ObjectiveSpecError(`${prefix}.heads`, `must be at most ${MAX_MTP_HEADS - 1} with layout "gloeckle"`);
      return multiTokenObjective(heads, spec.layout);
    }
    case 'diffusion':
      if (!DIFFUSION_VARIANTS.includes(spec.variant)) {
        throw new ObjectiveSpecError(
          `${prefix}.variant`,
          `must be one of ${DIFFUSION_VARIANTS.map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(spec.variant)}`,
        );
      }
      return diffusionObjective(checkKnob(`${prefix}.decodeSteps`, 'diffusion', spec.decodeSteps), spec.variant);
    default:
      throw new ObjectiveSpecError(
        `${prefix}.kind`,
        `must be one of ${OBJECTIVE_NAMES.join(', ')}, got ${JSON.stringify((spec as { kind?: unknown }).kind)}`,
      );
  }
}

/**
 * Parse a comma-separated list such as `ntp,reverse,teacherless,mtp,diffusion,top`. Options follow a colon:
 * `mtp:2` (heads in all, the next-token head included), `mtp:4:gloeckle` (every head its own block), `diffusion:hkunlp`, `diffusion:mlmu`, `diffusion:8` (decode steps), `diffusion:mlmu:8`. Throws
 * ObjectiveSpecError (field `objectives`) naming the bad entry.
 */
export function parseObjectives(list: string): ObjectiveSpec[] {
  const entries = list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (entries.length === 0) {
    throw new ObjectiveSpecError('objectives', `is empty; name some of ${OBJECTIVE_NAMES.join(', ')}`);
  }
  return entries.map((entry) => {
    const [name, ...options] = entry.split(':').map((s) => s.trim());
    const bad = (why: string) => new ObjectiveSpecError('objectives', `${JSON.stringify(entry)}: ${why}`);
    const int = (s: string) => (/^\d+$/.test(s) ? Number(s) : NaN);
    switch (name) {
      case 'ntp':
      case 'reverse':
      case 'teacherless':
      case 'top':
        if (options.length > 0) throw bad(`${name} takes no options`);
        return { kind: name };
      case 'mtp': {
        const gloeckle = options.includes('gloeckle');
        const rest = options.filter((o) => o !== 'gloeckle');
        if (rest.length > 1 || (gloeckle && options.filter((o) => o === 'gloeckle').length > 1))
          throw bad('mtp takes the number of heads in all and gloeckle (e.g. mtp:4, mtp:4:gloeckle)');
        const heads = rest.length === 0 ? DEFAULT_MTP_HEADS : int(rest[0]!);
        if (numberProblem(OBJECTIVE_FIELDS.mtp, heads) !== null) {
          throw bad(
            `heads (the next-token head included) must be a whole number from ${OBJECTIVE_FIELDS.mtp.min} to ${MAX_MTP_HEADS}`,
          );
        }
        return gloeckle ? { kind: 'mtp', heads, layout: 'gloeckle' } : { kind: 'mtp', heads };
      }
      case 'diffusion': {
        let variant: DiffusionVariant = 'mdlm';
        let decodeSteps = DEFAULT_DECODE_STEPS;
        for (const o of options) {
          if ((DIFFUSION_VARIANTS as readonly string[]).includes(o)) variant = o as DiffusionVariant;
          else if (numberProblem(OBJECTIVE_FIELDS.diffusion, int(o)) === null) decodeSteps = int(o);
          else
            throw bad(
              `unknown option ${JSON.stringify(o)}; use ${DIFFUSION_VARIANTS.join(', ')} or a step count from ${OBJECTIVE_FIELDS.diffusion.min} to ${OBJECTIVE_FIELDS.diffusion.max}`,
            );
        }
        return { kind: 'diffusion', decodeSteps, variant };
      }
      default:
        throw bad(`unknown objective; one of ${OBJECTIVE_NAMES.join(', ')}`);
    }
  });
}

/** The inverse of parseObjectives for one spec, e.g. `mtp:4`, `diffusion:mdlm:16`. */
export function formatObjective(spec: ObjectiveSpec): string {
  switch (spec.kind) {
    case 'mtp':
      return `mtp:${spec.heads}${spec.layout ? `:${spec.layout}` : ''}`;
    case 'diffusion':
      return `diffusion:${spec.variant}:${spec.decodeSteps}`;
    default:
      return spec.kind;
  }
}

/** The model config an objective needs on a task, at a given size. */
export function laneModelConfig(task: Task, objective: Objective, size: ModelSize): ModelConfig {
  return validateModelConfig({
    vocabSize: task.vocab.length,
    blockSize: objective.seqLen(task),
    nLayer: size.nLayer,
    nHead: size.nHead,
    nEmbd: size.nEmbd,
    attention: objective.attention,
    extraHeads: objective.extraHeads,
    ...(objective.topHead ? { topHead: true } : {}),
  });
}

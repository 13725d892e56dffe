// Objectives by spec, the defaults the lab compares, and the command line's `ntp,reverse,mtp:2,diffusion` syntax.
import type { ObjectiveSpec } from '../lab/api';
import { ConfigError } from '../model/config';
import { diffusionObjective } from './diffusion';
import { multiTokenObjective } from './mtp';
import { nextTokenObjective } from './ntp';
import { reverseObjective } from './reverse';
import { teacherlessObjective } from './teacherless';
import type { Objective, ObjectiveName } from './types';

export type { DecodeResult, Objective, ObjectiveName } from './types';

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

export const OBJECTIVE_NAMES: readonly ObjectiveName[] = ['ntp', 'reverse', 'teacherless', 'mtp', 'diffusion'];

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

/** Every objective with its default settings, in the order the lab shows them. */
export const DEFAULT_OBJECTIVES: readonly ObjectiveSpec[] = [
  { kind: 'ntp' },
  { kind: 'reverse' },
  { kind: 'teacherless' },
  { kind: 'mtp', heads: DEFAULT_MTP_HEADS },
  { kind: 'diffusion', decodeSteps: DEFAULT_DECODE_STEPS, variant: 'mdlm' },
];

function checkInt(field: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ObjectiveSpecError(field, `must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`);
  }
  return v;
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
    case 'mtp':
      return multiTokenObjective(checkInt(`${prefix}.heads`, spec.heads, 2, MAX_MTP_HEADS));
    case 'diffusion':
      if (spec.variant !== 'mdlm' && spec.variant !== 'hkunlp') {
        throw new ObjectiveSpecError(
          `${prefix}.variant`,
          `must be "mdlm" or "hkunlp", got ${JSON.stringify(spec.variant)}`,
        );
      }
      return diffusionObjective(checkInt(`${prefix}.decodeSteps`, spec.decodeSteps, 1, 4096), spec.variant);
    default:
      throw new ObjectiveSpecError(
        `${prefix}.kind`,
        `must be one of ${OBJECTIVE_NAMES.join(', ')}, got ${JSON.stringify((spec as { kind?: unknown }).kind)}`,
      );
  }
}

/**
 * Parse a comma-separated list such as `ntp,reverse,teacherless,mtp,diffusion`. Options follow a colon:
 * `mtp:2` (heads in all, the next-token head included), `diffusion:hkunlp`, `diffusion:8` (decode steps), `diffusion:hkunlp:8`. Throws
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
        if (options.length > 0) throw bad(`${name} takes no options`);
        return { kind: name };
      case 'mtp': {
        if (options.length > 1) throw bad('mtp takes one option, the number of heads in all (e.g. mtp:4)');
        const heads = options.length === 0 ? DEFAULT_MTP_HEADS : int(options[0]!);
        if (!(heads >= 2 && heads <= MAX_MTP_HEADS)) {
          throw bad(`heads (the next-token head included) must be a whole number from 2 to ${MAX_MTP_HEADS}`);
        }
        return { kind: 'mtp', heads };
      }
      case 'diffusion': {
        let variant: 'mdlm' | 'hkunlp' = 'mdlm';
        let decodeSteps = DEFAULT_DECODE_STEPS;
        for (const o of options) {
          if (o === 'mdlm' || o === 'hkunlp') variant = o;
          else if (int(o) >= 1 && int(o) <= 4096) decodeSteps = int(o);
          else throw bad(`unknown option ${JSON.stringify(o)}; use mdlm, hkunlp or a step count from 1 to 4096`);
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
      return `mtp:${spec.heads}`;
    case 'diffusion':
      return `diffusion:${spec.variant}:${spec.decodeSteps}`;
    default:
      return spec.kind;
  }
}

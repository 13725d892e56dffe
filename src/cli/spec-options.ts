// The command line's experiment options as a spec: --experiment NAME, then --task, --degree, --model, --lr, … over
// it, and --seeds lists. Checked by src/spec/check.ts like any other spec.
import { existsSync, readFileSync } from 'node:fs';
import type { ExperimentSpec, TaskSpec } from '../lab/api';
import { experimentPreset } from '../lab/experiments';
import { parseSeedList } from '../lab/seeds';
import { MODEL_PRESETS, type LrSchedule, type ModelPresetName } from '../model/config';
import { parseObjectives } from '../objectives';
import { UsageError, type Parsed } from './options';

type Values = Parsed['values'];

export const num = (v: Values, k: keyof Values): number => v[k] as number;
export const str = (v: Values, k: keyof Values): string => v[k] as string;
export const opt = (v: Values, k: keyof Values): number | undefined => v[k] as number | undefined;

/** Task defaults when --task names another kind than the experiment's. */
const TASK_DEFAULTS = {
  'path-star': { kind: 'path-star', degree: 2, pathLength: 5, nodes: 16, trainSize: 0, testSize: 1000 },
  addition: { kind: 'addition', digits: 3, reversed: false, trainSize: 0, testSize: 1000 },
  custom: { kind: 'custom', text: '', testFraction: 0.2 },
} as const satisfies { [K in TaskSpec['kind']]: Extract<TaskSpec, { kind: K }> };

/** The experiment's task with the command line's task options applied. */
function taskSpec(v: Values, base: TaskSpec): TaskSpec {
  const kind = (v.task as TaskSpec['kind'] | undefined) ?? base.kind;
  const from: TaskSpec = kind === base.kind ? base : { ...TASK_DEFAULTS[kind] };
  switch (from.kind) {
    case 'addition':
      return {
        ...from,
        digits: opt(v, 'digits') ?? from.digits,
        reversed: v.reversed ? true : from.reversed,
        trainSize: opt(v, 'train-size') ?? from.trainSize,
        testSize: opt(v, 'test-size') ?? from.testSize,
      };
    case 'custom': {
      const file = v.data as string | undefined;
      if (!file) throw new UsageError('--task custom needs --data FILE (one `prompt<TAB>target` pair a line)');
      if (!existsSync(file)) throw new UsageError(`--data: no such file '${file}'`);
      return {
        kind: 'custom',
        text: readFileSync(file, 'utf8'),
        testFraction: opt(v, 'test-fraction') ?? from.testFraction,
      };
    }
    default:
      return {
        ...from,
        degree: opt(v, 'degree') ?? from.degree,
        pathLength: opt(v, 'path-length') ?? from.pathLength,
        nodes: opt(v, 'nodes') ?? from.nodes,
        trainSize: opt(v, 'train-size') ?? from.trainSize,
        testSize: opt(v, 'test-size') ?? from.testSize,
      };
  }
}

/** The named experiment (default: the headline contrast) with every given option applied on top. */
export function experimentSpec(v: Values, command: string): ExperimentSpec {
  const base = experimentPreset(str(v, 'experiment'))!.spec;
  const preset = v.preset ? MODEL_PRESETS[str(v, 'preset') as ModelPresetName] : base.model;
  let objectives = base.objectives;
  const list = command === 'train' ? str(v, 'objective') : (v.objectives as string | undefined);
  if (list !== undefined) {
    try {
      objectives = parseObjectives(list);
    } catch (e) {
      throw new UsageError(`--${command === 'train' ? 'objective' : 'objectives'}: ${(e as Error).message}`);
    }
  }
  if (command === 'train' && objectives.length !== 1)
    throw new UsageError('--objective takes one objective; use compare for several');
  const steps = opt(v, 'steps') ?? base.train.steps;
  return {
    task: taskSpec(v, base.task),
    objectives,
    model: {
      nLayer: opt(v, 'layers') ?? preset.nLayer,
      nEmbd: opt(v, 'width') ?? preset.nEmbd,
      nHead: opt(v, 'heads') ?? preset.nHead,
    },
    train: {
      ...base.train,
      steps,
      batchSize: opt(v, 'batch-size') ?? base.train.batchSize,
      lr: opt(v, 'lr') ?? base.train.lr,
      schedule: (v.schedule as LrSchedule | undefined) ?? base.train.schedule ?? 'cosine',
      warmupSteps: Math.min(opt(v, 'warmup') ?? base.train.warmupSteps, steps),
      weightDecay: opt(v, 'weight-decay') ?? base.train.weightDecay,
      gradClip: opt(v, 'grad-clip') ?? base.train.gradClip,
      seed: opt(v, 'seed') ?? base.train.seed,
    },
    evalEvery: opt(v, 'eval-every') ?? base.evalEvery,
    evalExamples: opt(v, 'eval-examples') ?? base.evalExamples,
  };
}

/** `--seeds 1,2,3` or `1-5` (or a mix): distinct seeds in the order given. */
export function parseSeeds(text: string): number[] {
  try {
    return parseSeedList(text);
  } catch (e) {
    throw new UsageError(`--seeds: ${(e as Error).message} (in '${text}')`);
  }
}

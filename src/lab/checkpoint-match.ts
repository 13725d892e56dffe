// Does an imported checkpoint fit a lane of a spec? A lane's model config follows from the task (its vocabulary and
// sequence length), the objective (attention, extra heads) and the model size, exactly as the lab builds it
// (laneModelConfig); weights can only be evaluated in a lane whose config is the checkpoint's. The page asks through
// LabApi.matchCheckpoint, so that tasks are built in the worker, never on the page's thread.
import { configDiff } from '../checkpoint/config-json';
import type { ModelConfig } from '../model/config';
import { laneModelConfig, makeObjective } from '../objectives';
import type { ExperimentSpec } from '../spec/types';
import { makeTask } from '../tasks';
import type { CheckpointMatch } from './api';

/** The fields the page names, in the words of its model form. */
const FIELDS: [keyof ModelConfig, string][] = [
  ['nLayer', 'layers'],
  ['nEmbd', 'width'],
  ['nHead', 'heads'],
  ['vocabSize', 'vocabulary size'],
  ['blockSize', 'sequence length'],
  ['attention', 'attention'],
  ['extraHeads', 'extra heads'],
];

/** What differs, e.g. "width 64 here, 16 in the checkpoint; vocabulary size 34 here, 13 in the checkpoint". */
function differences(here: ModelConfig, file: ModelConfig): string {
  return configDiff(here, file, FIELDS, (label, h, f) => `${label} ${h} here, ${f} in the checkpoint`);
}

let cached: { key: string; configs: ModelConfig[] | string } | null = null;

/** The model config of each lane the spec would build, or why the spec builds none (the last spec's is kept). */
function laneConfigs(spec: ExperimentSpec): ModelConfig[] | string {
  const key = JSON.stringify([spec.task, spec.objectives, spec.model, spec.train.seed]);
  if (cached?.key === key) return cached.configs;
  let configs: ModelConfig[] | string;
  try {
    const task = makeTask(spec.task, spec.train.seed);
    configs = spec.objectives.map((o, i) => laneModelConfig(task, makeObjective(o, `objectives[${i}]`), spec.model));
  } catch (e) {
    configs = `the current setup cannot build a model (${e instanceof Error ? e.message : e}); fix it first`;
  }
  cached = { key, configs };
  return configs;
}

/**
 * The objective of the spec whose lane the checkpoint fits (the checkpoint's own objective when it names one), or
 * why none does.
 */
export function matchCheckpoint(
  spec: ExperimentSpec,
  ckpt: { config: ModelConfig; objective: string | null },
): CheckpointMatch {
  const configs = laneConfigs(spec);
  if (typeof configs === 'string') return { problem: configs };
  const candidates = spec.objectives
    .map((objective, i) => ({ objective, config: configs[i]! }))
    .filter((c) => ckpt.objective === null || c.objective.kind === ckpt.objective);
  if (candidates.length === 0) {
    return {
      problem: `the checkpoint was trained with ${ckpt.objective}, and the current setup has no ${ckpt.objective} lane; select that objective first`,
    };
  }
  const fit = candidates.find((c) => differences(c.config, ckpt.config) === '');
  if (fit) return { objective: fit.objective };
  const c = candidates[0]!;
  return {
    problem:
      `the checkpoint does not fit the ${c.objective.kind} lane of the current setup: ${differences(c.config, ckpt.config)}. ` +
      'Set the task and model in the form to the checkpoint’s, or continue its own run with its optimizer file',
  };
}

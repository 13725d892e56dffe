// Does an imported checkpoint fit a lane of the current setup? The lane's model config follows from the task (its
// vocabulary and sequence length), the objective (attention, extra heads) and the model size, exactly as the lab
// builds it (laneModelConfig); weights can only be evaluated in a lane whose config is the checkpoint's.
import type { ExperimentSpec, ImportedCheckpoint, ObjectiveSpec } from '../../lab/api';
import { laneModelConfig } from '../../lab/lane';
import type { ModelConfig } from '../../model/config';
import { makeObjective } from '../../objectives';
import { makeTask } from '../../tasks';

const FIELDS: [keyof ModelConfig, string][] = [
  ['nLayer', 'layers'],
  ['nEmbd', 'width'],
  ['nHead', 'heads'],
  ['vocabSize', 'vocabulary size'],
  ['blockSize', 'sequence length'],
  ['attention', 'attention'],
  ['extraHeads', 'extra heads'],
];

/** The config in a line: "1 layer, width 16, 1 head · vocabulary 13, sequence 9, causal attention". */
export function configText(c: ModelConfig): string {
  const extra = c.extraHeads > 0 ? `, ${c.extraHeads} extra heads` : '';
  return (
    `${c.nLayer} layer${c.nLayer > 1 ? 's' : ''}, width ${c.nEmbd}, ${c.nHead} head${c.nHead > 1 ? 's' : ''}${extra}` +
    ` · vocabulary ${c.vocabSize}, sequence ${c.blockSize}, ${c.attention} attention`
  );
}

/** What differs, e.g. "width 64 here, 16 in the checkpoint; vocabulary size 34 here, 13 in the checkpoint". */
function differences(here: ModelConfig, file: ModelConfig): string {
  return FIELDS.filter(([k]) => here[k] !== file[k])
    .map(([k, label]) => `${label} ${here[k]} here, ${file[k]} in the checkpoint`)
    .join('; ');
}

let cached: { key: string; configs: ModelConfig[] | string } | null = null;

/** The model config of each lane the spec would build, or why the spec builds none. */
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
 * The objective of the current spec whose lane the checkpoint fits (the checkpoint's own objective when it names
 * one), or why none does.
 */
export function matchLane(
  spec: ExperimentSpec,
  ckpt: Pick<ImportedCheckpoint, 'config' | 'objective'>,
): { objective: ObjectiveSpec } | { problem: string } {
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

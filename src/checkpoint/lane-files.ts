// A lane's state as files: the model (safetensors, loads into nanoGPT), the optimizer state (safetensors: AdamW
// moments, step, RNG states, the experiment spec) and the ONNX graph. The page's download and the command line's
// --out and --resume both go through here.
import type { ExperimentSpec, ObjectiveSpec } from '../spec/types';
import type { LaneState } from './lane-state';
import type { ObjectiveName } from '../objectives/types';
import { exportOnnx } from './onnx';
import { exportModel, importModel } from './model-file';
import { exportOptimizer, importOptimizer } from './optimizer-file';
import { CheckpointError } from './safetensors';

export interface LaneFiles {
  model: Uint8Array;
  optimizer: Uint8Array;
  onnx: Uint8Array;
}

export function laneFileStem(state: Pick<LaneState, 'lane' | 'objective'>): string {
  return `lane${state.lane}-${state.objective}`;
}

export function laneToFiles(state: LaneState, spec: ExperimentSpec, vocab: string[]): LaneFiles {
  const model = exportModel(state.config, state.params, {
    objective: state.objective,
    step: state.step,
    task: spec.task,
    vocab,
  });
  const optimizer = exportOptimizer(state.config, state.adamM, state.adamV, {
    step: state.step,
    rngState: [state.rng.data, state.rng.objective],
    extra: { spec, lane: state.lane, objectiveSpec: state.objectiveSpec, seconds: state.seconds ?? 0 },
  });
  return { model, optimizer, onnx: exportOnnx(state.config, state.params, { producer: 'webgpu-training-lab' }) };
}

/** Rebuild a lane's state from its model and optimizer files; also returns the experiment spec stored with it. */
export function filesToLaneState(
  modelBytes: Uint8Array,
  optimizerBytes: Uint8Array,
): { state: LaneState; spec: ExperimentSpec } {
  const { cfg, params, meta } = importModel(modelBytes);
  const { m, v, state } = importOptimizer(optimizerBytes, cfg);
  const extra = state.extra as
    { spec?: ExperimentSpec; lane?: number; objectiveSpec?: ObjectiveSpec; seconds?: number } | undefined;
  if (!extra?.spec || !extra.objectiveSpec || typeof extra.lane !== 'number') {
    throw new CheckpointError(
      'optimizer file has no experiment spec: it was not written by this lab, so the run cannot be resumed',
    );
  }
  if (state.rngState.length !== 2)
    throw new CheckpointError(`optimizer file has ${state.rngState.length} RNG states, expected 2`);
  return {
    spec: extra.spec,
    state: {
      lane: extra.lane,
      objective: (meta.objective ?? extra.objectiveSpec.kind) as ObjectiveName,
      objectiveSpec: extra.objectiveSpec,
      config: cfg,
      step: state.step,
      params,
      adamM: m,
      adamV: v,
      rng: { data: state.rngState[0]!, objective: state.rngState[1]! },
      ...(typeof extra.seconds === 'number' ? { seconds: extra.seconds } : {}),
    },
  };
}

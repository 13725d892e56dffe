// The state of one lane that checkpoints and autosaves carry: the lab produces it, src/checkpoint serialises it.
import type { ModelConfig } from '../model/config';
import type { ObjectiveName } from '../objectives/types';
import type { ObjectiveSpec } from '../spec/types';

/**
 * Everything needed to continue a lane exactly where it stopped: weights, AdamW moments, step, and the states of
 * the data and objective random streams. Checkpoint files (src/checkpoint) serialise it.
 */
export interface LaneState {
  lane: number;
  objective: ObjectiveName;
  objectiveSpec: ObjectiveSpec;
  config: ModelConfig;
  step: number;
  params: Float32Array;
  adamM: Float32Array;
  adamV: Float32Array;
  rng: { data: number; objective: number };
  /** Training wall seconds so far (for continuous time axes after a resume). */
  seconds?: number;
}

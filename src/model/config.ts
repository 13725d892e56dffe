// The model and training configuration: one typed, documented place, with presets and validation.
// Field names mirror nanoGPT's GPTConfig (`model.py`) where one exists, so a checkpoint's config maps 1:1.

/** Causal attention is nanoGPT's; bidirectional is what masked diffusion needs (every position sees all). */
export type AttentionMode = 'causal' | 'bidirectional';

export interface ModelConfig {
  /** Number of token ids (nanoGPT `vocab_size`). */
  vocabSize: number;
  /** Longest sequence the model holds; sizes the position embedding (nanoGPT `block_size`). */
  blockSize: number;
  /** Transformer blocks in the trunk (nanoGPT `n_layer`). */
  nLayer: number;
  /** Attention heads per block; must divide nEmbd (nanoGPT `n_head`). */
  nHead: number;
  /** Residual stream width (nanoGPT `n_embd`). */
  nEmbd: number;
  /** Causal (next-token style) or bidirectional (masked diffusion) attention, for every block. */
  attention: AttentionMode;
  /**
   * Extra multi-token-prediction heads (Gloeckle et al. 2024): each is one more transformer block fed by the
   * trunk's output, followed by the shared ln_f and the tied unembedding. Head k (1-based) predicts token t+1+k.
   * 0 gives exactly nanoGPT's GPT.
   */
  extraHeads: number;
  /**
   * Token order prediction (Zuhri et al. 2025): a second unembedding `top_head.weight` (V,C), untied and without a
   * bias, on the same ln_f output as the lm_head, trained on Batch.top's soft targets and never used to decode.
   * Absent or false: no such head.
   */
  topHead?: boolean;
}

/** Model sizes offered by name; vocabSize, blockSize, attention and extraHeads come from the task and objective. */
export const MODEL_PRESETS = {
  tiny: { nLayer: 2, nEmbd: 64, nHead: 2 },
  small: { nLayer: 4, nEmbd: 128, nHead: 4 },
  medium: { nLayer: 6, nEmbd: 256, nHead: 8 },
} as const satisfies Record<string, Pick<ModelConfig, 'nLayer' | 'nEmbd' | 'nHead'>>;
export type ModelPresetName = keyof typeof MODEL_PRESETS;

export type LrSchedule = 'constant' | 'cosine';
export const LR_SCHEDULES: readonly LrSchedule[] = ['constant', 'cosine'];

export interface TrainConfig {
  /** Sequences per optimizer step. */
  batchSize: number;
  /** Optimizer steps to run. */
  steps: number;
  /** Peak learning rate (after warmup). */
  lr: number;
  /**
   * After warmup: 'constant' keeps lr; 'cosine' decays it to lr·minLrRatio at the last step (nanoGPT's get_lr).
   * Absent (specs saved before the field existed) means cosine, which is what those runs used.
   */
  schedule?: LrSchedule;
  /** Learning rate at the end of the cosine decay, as a fraction of lr (nanoGPT uses 0.1). */
  minLrRatio: number;
  /** Linear warmup steps from 0 to lr. */
  warmupSteps: number;
  /** AdamW decoupled weight decay, applied to 2-D weights only (as nanoGPT's configure_optimizers). */
  weightDecay: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Clip the global gradient norm to this value; 0 disables clipping. */
  gradClip: number;
  /** Seeds initialisation and data: the same seed gives the same weights and batches everywhere. */
  seed: number;
}

export const DEFAULT_TRAIN: TrainConfig = {
  batchSize: 32,
  steps: 200,
  lr: 1e-3,
  schedule: 'constant',
  minLrRatio: 0.1,
  warmupSteps: 20,
  weightDecay: 0.1,
  beta1: 0.9,
  beta2: 0.95,
  eps: 1e-8,
  gradClip: 1.0,
  seed: 1,
};

/** A config problem: which field, what is wrong, and what would be right. */
export class ConfigError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'ConfigError';
  }
}

function checkInt(field: string, v: unknown, min: number, max: number): void {
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new ConfigError(field, `must be a whole number, got ${JSON.stringify(v)}`);
  }
  if (v < min || v > max) throw new ConfigError(field, `must be between ${min} and ${max}, got ${v}`);
}

function checkNum(field: string, v: unknown, min: number, max: number, minExclusive = false): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new ConfigError(field, `must be a finite number, got ${JSON.stringify(v)}`);
  }
  if (v < min || v > max || (minExclusive && v === min)) {
    throw new ConfigError(field, `must be ${minExclusive ? '>' : '>='} ${min} and <= ${max}, got ${v}`);
  }
}

/** Throws ConfigError naming the first bad field; returns the config unchanged when valid. */
export function validateModelConfig(cfg: ModelConfig): ModelConfig {
  checkInt('vocabSize', cfg.vocabSize, 2, 65536);
  checkInt('blockSize', cfg.blockSize, 1, 4096);
  checkInt('nLayer', cfg.nLayer, 1, 48);
  checkInt('nHead', cfg.nHead, 1, 64);
  checkInt('nEmbd', cfg.nEmbd, 1, 4096);
  checkInt('extraHeads', cfg.extraHeads, 0, 16);
  if (cfg.nEmbd % cfg.nHead !== 0) {
    const near = [cfg.nHead * Math.max(1, Math.round(cfg.nEmbd / cfg.nHead))];
    throw new ConfigError('nEmbd', `must be a multiple of nHead (${cfg.nHead}); try ${near[0]}`);
  }
  if (cfg.nEmbd % 4 !== 0) {
    // The matmul kernels read four floats at a time along the inner dimension.
    throw new ConfigError('nEmbd', `must be a multiple of 4, got ${cfg.nEmbd}; try ${4 * Math.ceil(cfg.nEmbd / 4)}`);
  }
  if (cfg.attention !== 'causal' && cfg.attention !== 'bidirectional') {
    throw new ConfigError('attention', `must be "causal" or "bidirectional", got ${JSON.stringify(cfg.attention)}`);
  }
  if (cfg.topHead !== undefined && typeof cfg.topHead !== 'boolean') {
    throw new ConfigError('topHead', `must be true, false or absent, got ${JSON.stringify(cfg.topHead)}`);
  }
  return cfg;
}

export function validateTrainConfig(t: TrainConfig): TrainConfig {
  checkInt('batchSize', t.batchSize, 1, 4096);
  checkInt('steps', t.steps, 1, 10_000_000);
  checkNum('lr', t.lr, 0, 10, true);
  if (t.schedule !== undefined && !LR_SCHEDULES.includes(t.schedule)) {
    throw new ConfigError('schedule', `must be ${LR_SCHEDULES.join(' or ')}, got ${JSON.stringify(t.schedule)}`);
  }
  checkNum('minLrRatio', t.minLrRatio, 0, 1);
  checkInt('warmupSteps', t.warmupSteps, 0, 10_000_000);
  checkNum('weightDecay', t.weightDecay, 0, 10);
  checkNum('beta1', t.beta1, 0, 1);
  checkNum('beta2', t.beta2, 0, 1);
  if (t.beta1 >= 1) throw new ConfigError('beta1', `must be < 1, got ${t.beta1}`);
  if (t.beta2 >= 1) throw new ConfigError('beta2', `must be < 1, got ${t.beta2}`);
  checkNum('eps', t.eps, 0, 1, true);
  checkNum('gradClip', t.gradClip, 0, 1e6);
  checkInt('seed', t.seed, 0, 2 ** 32 - 1);
  return t;
}

/**
 * Learning rate at a 0-based step: linear warmup to lr over warmupSteps, then either constant or a cosine decay to
 * lr·minLrRatio at the last step (nanoGPT's get_lr, with the decay ending at `steps`).
 */
export function learningRate(t: TrainConfig, step: number): number {
  if (step < t.warmupSteps) return (t.lr * (step + 1)) / t.warmupSteps;
  if (t.schedule === 'constant') return t.lr;
  const decaySteps = Math.max(1, t.steps - t.warmupSteps);
  const ratio = Math.min(1, (step - t.warmupSteps) / decaySteps);
  const coeff = 0.5 * (1 + Math.cos(Math.PI * ratio));
  const minLr = t.lr * t.minLrRatio;
  return minLr + coeff * (t.lr - minLr);
}

// Masked (absorbing-state) diffusion: a bidirectional model sees the prompt and a partly masked target and predicts
// every masked target token at its own position; decoding unmasks the most confident positions first.
//
// Sequence (T = P+L):  prompt ++ target with some tokens replaced by [MASK];  head 0 at P+i predicts target[i].
//
// 'mdlm' (Sahoo et al. 2024, "Simple and Effective Masked Diffusion Language Models"; kuleshov-group/mdlm), in its
//   any-order form. MDLM's continuous-time ELBO with the log-linear schedule masks each token with probability
//   t ~ U(0,1] and weights a masked token's cross-entropy by 1/t. Integrating t out, a masked set S of size k has
//   weight ∫ t^(k−1)(1−t)^(L−k) dt = 1/(k·C(L,k)), so per token the ELBO is
//       E_{k ~ U{1..L}} E_{S uniform of size k} [ (1/k) Σ_{i∈S} CE_i(S) ].
//   That is what is sampled here: k_b = 1 + ⌊((u + b/n) mod 1)·L⌋ per example (one uniform u shifted by b/n,
//   stratified across the batch like MDLM's antithetic t), k distinct target tokens masked, each weighted 1/(n·k).
//   The estimate is unbiased, every example contributes (k ≥ 1), and no weight exceeds 1/n — unlike sampling t and
//   forcing one mask when none fell, which biases the estimate and lets a nearly clean example weigh up to 1/t_min.
// 'hkunlp' (Ye et al. 2025, "Beyond Autoregression: Discrete Diffusion for Complex Reasoning and Planning";
//   HKUNLP/diffusion-vs-ar, `src/llmtuner/tuner/mdm/trainer.py` with `scripts/path/train-mdm.sh`'s options): T=20
//   discrete steps, s ∈ {0..19} per example (stratified across the batch as above), each target token masked with
//   probability r = (s+1)/20, the "linear" time weight T−s on each masked token, and the sum divided by the
//   batch's masked tokens M, and their adaptive token reweighting α(1−e^{−ℓ})^γ·ℓ with the path task's α 0.25, γ 1,
//   differentiated through: weight α(T−s)/M (an example with nothing masked contributes 0), and the batch's loss
//   shape focalGamma γ (src/model/batch.ts, LossShape), which the cross-entropy kernel applies to each ℓ.
//
// 'mlmu' (Kitouni et al. 2024, "The Factorization Curse"; facebookresearch/maze_navigation_MLMU, `recipe/models/
//   past.py`, mode "absorbing"): one rate r per example (stratified across the batch as above), and every token of
//   the whole sequence, prompt included, masked with probability r; the loss is the plain mean cross-entropy over
//   the batch's masked tokens (weight 1/M for M masked tokens), no 1/r. Masked prompt tokens are predicted at their
//   own positions, so the model is trained to recover an edge from its other end and the query from the graph, in
//   every direction; decoding reveals the whole prompt, as for the other variants. (Their code keeps the first
//   token always visible, a guard against an empty context that this model does not need.)
//
// 'mdlm' alone trains with MDLM's SUBS parameterisation: the softmax leaves [MASK] out (loss shape `exclude`), so
// the model is never trained to put probability on it, as no decoder ever predicts it; HKUNLP's and Kitouni's code
// take the softmax over the whole vocabulary, and so do those variants here.
//
// L above counts an example's non-pad target tokens (custom tasks pad short targets). Pad positions are always
// masked, as they are when decoding starts, and carry weight 0.
import type { Batch, ForwardFn, LossShape } from '../model/batch';
import { emptyBatch } from '../model/batch';
import type { Rng } from '../model/rng';
import type { DiffusionVariant } from '../spec/types';
import type { Example, Task } from '../tasks/types';
import { Logits } from './logits';
import type { DecodeResult, Objective, ProbePredictions, TeacherForced } from './types';

export type { DiffusionVariant } from '../spec/types';

/** HKUNLP's number of discrete diffusion steps. */
export const HKUNLP_STEPS = 20;
/** HKUNLP's token reweighting on the path task (`scripts/path/train-mdm.sh`: --alpha 0.25 --gamma 1). */
export const HKUNLP_FOCAL = { alpha: 0.25, gamma: 1 } as const;

/** One uniform u shifted by b/n for each of n examples: stratified draws that cover [0,1) evenly. */
function stratified(n: number, rng: Rng): number[] {
  const u = rng.next();
  return Array.from({ length: n }, (_, b) => (u + b / n) % 1);
}

/**
 * Which target positions of one example to mask, and the weight of each masked token before the batch's
 * normaliser (mdlm: 1/n; hkunlp: 1/M, the batch's masked tokens). `draw` is the example's stratified uniform;
 * `content` its non-pad positions.
 */
function maskExample(
  variant: 'mdlm' | 'hkunlp',
  draw: number,
  content: number[],
  rng: Rng,
): { masked: number[]; weight: number } {
  const L = content.length;
  if (L === 0) return { masked: [], weight: 0 };
  if (variant === 'mdlm') {
    const k = 1 + Math.min(L - 1, Math.floor(draw * L));
    const order = rng.shuffle([...content]);
    return { masked: order.slice(0, k), weight: 1 / k };
  }
  const step = Math.min(HKUNLP_STEPS - 1, Math.floor(draw * HKUNLP_STEPS));
  const r = (step + 1) / HKUNLP_STEPS;
  return { masked: content.filter(() => rng.next() < r), weight: HKUNLP_FOCAL.alpha * (HKUNLP_STEPS - step) };
}

/**
 * MLM-U's batch: example b's tokens (prompt, then its non-pad target tokens) each masked with probability draws[b],
 * in order, one uniform each; every masked token weighted 1/M, M the batch's masked tokens.
 */
function mlmuBatch(task: Task, examples: Example[], rng: Rng): Batch {
  const P = task.promptLength;
  const T = P + task.targetLength;
  const { pad, mask } = task.special;
  const batch = emptyBatch(examples.length, T, 1);
  const draws = stratified(examples.length, rng);
  const masked: { o: number; token: number }[] = [];
  examples.forEach((e, b) => {
    const row = [...e.prompt, ...e.target];
    row.forEach((tok, j) => {
      const o = b * T + j;
      if (tok === pad) {
        batch.tokens[o] = mask;
        return;
      }
      batch.tokens[o] = tok;
      if (rng.next() < draws[b]!) masked.push({ o, token: tok });
    });
  });
  for (const { o, token } of masked) {
    batch.tokens[o] = mask;
    batch.targets[o] = token;
    batch.weights[o] = 1 / masked.length;
  }
  return batch;
}

/** The shape of a variant's training loss (see the top of this file); undefined: the plain cross-entropy. */
function diffusionLoss(task: Task, variant: DiffusionVariant): LossShape | undefined {
  if (variant === 'mdlm') return { exclude: task.special.mask, focalGamma: 0 };
  if (variant === 'hkunlp') return { exclude: -1, focalGamma: HKUNLP_FOCAL.gamma };
  return undefined;
}

/** A training batch of masked tokens; exported for the tests of the estimator's expectation. */
export function diffusionBatch(task: Task, examples: Example[], rng: Rng, variant: DiffusionVariant): Batch {
  if (variant === 'mlmu') return mlmuBatch(task, examples, rng);
  const P = task.promptLength;
  const L = task.targetLength;
  const n = examples.length;
  const T = P + L;
  const { pad, mask } = task.special;
  const batch = emptyBatch(n, T, 1);
  const draws = stratified(n, rng);
  const drawn = examples.map((e, b) => {
    const content = e.target.flatMap((tok, i) => (tok === pad ? [] : [i]));
    return maskExample(variant, draws[b]!, content, rng);
  });
  const norm = variant === 'mdlm' ? n : drawn.reduce((a, d) => a + d.masked.length, 0);
  batch.loss = diffusionLoss(task, variant);
  examples.forEach((e, b) => {
    const { masked, weight } = drawn[b]!;
    batch.tokens.set(e.prompt, b * T);
    e.target.forEach((tok, i) => (batch.tokens[b * T + P + i] = tok === pad ? mask : tok));
    for (const i of masked) {
      const o = b * T + P + i;
      batch.tokens[o] = mask;
      batch.targets[o] = e.target[i]!;
      batch.weights[o] = weight / norm;
    }
  });
  return batch;
}

/**
 * Where both decoders start: each example's prompt followed by its whole target masked, (n, T = P+L); nothing
 * committed yet; and `result`, the targets as they stand with the step each was committed at.
 */
function decodeStart(task: Task, examples: Example[]) {
  const P = task.promptLength;
  const L = task.targetLength;
  const n = examples.length;
  const T = P + L;
  const { mask } = task.special;
  const tokens = new Int32Array(n * T).fill(mask);
  examples.forEach((e, b) => tokens.set(e.prompt, b * T));
  const commitStep = examples.map(() => new Array<number>(L).fill(-1));
  const result = (): DecodeResult => ({
    predictions: examples.map((_, b) => Array.from(tokens.subarray(b * T + P, b * T + T))),
    commitStep,
  });
  return { P, L, n, T, mask, tokens, commitStep, result };
}

/**
 * Iterative unmasking over K steps: all target positions start masked; each step runs one forward pass, takes the
 * argmax (never [MASK]) and its probability at every masked position, and commits the ceil(remaining/stepsLeft)
 * most confident ones (ties: leftmost first). K ≥ L commits one token per step (L passes).
 */
async function unmaskDecode(task: Task, examples: Example[], forward: ForwardFn, K: number): Promise<DecodeResult> {
  const { P, L, n, T, mask, tokens, commitStep, result } = decodeStart(task, examples);
  for (let k = 0; k < K; k++) {
    if (commitStep.every((steps) => !steps.includes(-1))) break;
    const logits = await Logits.of(forward, tokens, n, T, 1, task.vocab.length);
    for (let b = 0; b < n; b++) {
      const candidates: { i: number; token: number; prob: number }[] = [];
      for (let i = 0; i < L; i++) {
        if (commitStep[b]![i] === -1) candidates.push({ i, ...logits.confident(0, b, P + i, mask) });
      }
      if (candidates.length === 0) continue;
      candidates.sort((x, y) => y.prob - x.prob || x.i - y.i);
      const commits = Math.ceil(candidates.length / (K - k));
      for (const c of candidates.slice(0, commits)) {
        tokens[b * T + P + c.i] = c.token;
        commitStep[b]![c.i] = k;
      }
    }
  }
  return result();
}

/**
 * HKUNLP's decoder (`topk_decoding` in their trainer, with the linear schedule), which re-masks: passes t = K−1 … 0,
 * each predicting every target position (argmax, never [MASK]; a visible position's prediction replaces its token
 * too, as theirs does) with its probability as its score, and, while t > 0, masking again the positions that score
 * below the ⌊L·t/K⌋-th lowest (their topk_masking: ties at the cutoff stay visible), committed tokens included. Their
 * default adds Gumbel noise of scale 0.5·t/K to the scores ("stochastic0.5-linear"); this is their "deterministic"
 * mode, so that an evaluation is reproducible. commitStep: the pass after which each position stayed visible.
 */
async function remaskDecode(task: Task, examples: Example[], forward: ForwardFn, K: number): Promise<DecodeResult> {
  const { P, L, n, T, mask, tokens, commitStep, result } = decodeStart(task, examples);
  for (let pass = 0; pass < K; pass++) {
    const t = K - 1 - pass;
    const logits = await Logits.of(forward, tokens, n, T, 1, task.vocab.length);
    for (let b = 0; b < n; b++) {
      const best = Array.from({ length: L }, (_, i) => logits.confident(0, b, P + i, mask));
      const cutoffLen = Math.floor((L * t) / K);
      const cutoff = best.map((c) => c.prob).sort((x, y) => x - y)[cutoffLen]!;
      best.forEach((c, i) => {
        const o = b * T + P + i;
        const masked = t > 0 && c.prob < cutoff;
        if (!masked && tokens[o] === mask) commitStep[b]![i] = pass;
        if (masked) commitStep[b]![i] = -1;
        tokens[o] = masked ? mask : c.token;
      });
    }
  }
  return result();
}

/**
 * One forward pass (of n sequences) per target position i: the true target tokens at the positions j where
 * `revealed(i, j)` is true are given, the rest masked; the prediction at i (never [MASK]) and the true token's
 * log-probability are read. Pad positions stay masked, as in training.
 */
async function revealedPasses(
  task: Task,
  examples: Example[],
  forward: ForwardFn,
  revealed: (i: number, j: number) => boolean,
): Promise<TeacherForced> {
  const P = task.promptLength;
  const L = task.targetLength;
  const n = examples.length;
  const T = P + L;
  const { mask, pad } = task.special;
  const out = examples.map(() => new Array<number>(L));
  const logProbs = examples.map(() => new Array<number>(L).fill(0));
  const tokens = new Int32Array(n * T);
  for (let i = 0; i < L; i++) {
    tokens.fill(mask);
    examples.forEach((e, b) => {
      tokens.set(e.prompt, b * T);
      e.target.forEach((tok, j) => {
        if (tok !== pad && revealed(i, j)) tokens[b * T + P + j] = tok;
      });
    });
    const logits = await Logits.of(forward, tokens, n, T, 1, task.vocab.length);
    for (let b = 0; b < n; b++) {
      out[b]![i] = logits.argmax(0, b, P + i, mask);
      const truth = examples[b]!.target[i]!;
      if (truth !== pad) logProbs[b]![i] = logits.logProb(0, b, P + i, truth, mask);
    }
  }
  return { predictions: out, logProbs };
}

/** Teacher-forced analog: the true tokens left of i revealed, i and everything right of it masked. */
const leftRevealed = (task: Task, examples: Example[], forward: ForwardFn) =>
  revealedPasses(task, examples, forward, (i, j) => j < i);

/**
 * The probes: goal-side (the tokens right of i revealed: the look-up from the goal's side, which a model that
 * decodes backward needs) and single-mask (every target token but i revealed: can it find i from both
 * neighbours?).
 */
async function diffusionProbes(task: Task, examples: Example[], forward: ForwardFn): Promise<ProbePredictions> {
  const goalSide = await revealedPasses(task, examples, forward, (i, j) => j > i);
  const singleMask = await revealedPasses(task, examples, forward, (i, j) => j !== i);
  return { goalSide: goalSide.predictions, singleMask: singleMask.predictions };
}

export function diffusionObjective(decodeSteps: number, variant: DiffusionVariant): Objective {
  const about = {
    mdlm: 'masked diffusion (MDLM, any-order form): k of L target tokens masked, k uniform, each weighted 1/k; [MASK] never predicted',
    hkunlp:
      'masked diffusion (HKUNLP): masking rate (s+1)/20, time weight 20−s, focal reweighting, mean over the masked tokens',
    mlmu: 'masked diffusion (MLM-U): the whole sequence, prompt included, masked at one uniform rate; mean cross-entropy',
  }[variant];
  const decoding =
    variant === 'hkunlp'
      ? `decodes over ${decodeSteps} steps, each predicting every target token and masking the least confident again`
      : `decodes by unmasking the most confident tokens over ${decodeSteps} steps`;
  return {
    name: 'diffusion',
    description: `${about}; ${decoding}`,
    attention: 'bidirectional',
    extraHeads: 0,
    seqLen: (task) => task.promptLength + task.targetLength,
    makeBatch: (task, examples, rng) => diffusionBatch(task, examples, rng, variant),
    loss: (task) => diffusionLoss(task, variant),
    decode: (task, examples, forward) =>
      (variant === 'hkunlp' ? remaskDecode : unmaskDecode)(task, examples, forward, decodeSteps),
    teacherForced: leftRevealed,
    probes: (task, examples, forward) => diffusionProbes(task, examples, forward),
  };
}

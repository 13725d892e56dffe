// Masked (absorbing-state) diffusion: a bidirectional model sees the prompt and a partly masked target and predicts
// every masked target token at its own position; decoding unmasks the most confident positions first.
//
// Sequence (T = P+L):  prompt ++ target with some tokens replaced by [MASK];  head 0 at P+i predicts target[i].
//
// 'mdlm' (Sahoo et al. 2024, "Simple and Effective Masked Diffusion Language Models"; kuleshov-group/mdlm): per
//   example t ~ U(0,1) by low-discrepancy (antithetic) sampling across the batch, t_b = (u + b/n) mod 1, clamped to
//   ≥ 1e-3; each target token is masked with probability t; the continuous-time ELBO with the log-linear schedule
//   weights a masked token's cross-entropy by 1/t. Weight here: (1/t)/(n·L_eff) on masked tokens, 0 elsewhere.
// 'hkunlp' (Ye et al. 2025, "Beyond Autoregression: Discrete Diffusion for Complex Reasoning and Planning"): T=20
//   discrete steps, s ∈ {0..19} (stratified across the batch like t above), masking rate r = (s+1)/20, weight
//   (1/r)/(n·L_eff). Their adaptive token reweighting α(1−e^{−ℓ})^γ needs each token's loss ℓ at training time,
//   which the engine computes but does not let a batch depend on; here it is approximated by the constant 1 (α only
//   rescales the loss, which AdamW all but ignores). An exact version would need the engine to apply the factor in
//   its cross-entropy kernel (e.g. a per-batch `focal: {alpha, gamma}` field in Batch).
//
// Pad targets (custom tasks) are masked like any other target token, as they are all masked when decoding starts,
// but carry weight 0; at least one non-pad token per example is masked so that every example contributes.
import type { Batch, ForwardFn } from '../model/batch';
import { emptyBatch } from '../model/batch';
import type { Rng } from '../model/rng';
import type { Example, Task } from '../tasks/types';
import { targetTokens } from './causal';
import { Logits } from './logits';
import type { DecodeResult, Objective } from './types';

export type DiffusionVariant = 'mdlm' | 'hkunlp';

/** Smallest masking rate t: keeps the 1/t weight finite (MDLM samples t from [ε, 1]). */
export const MIN_MASK_RATE = 1e-3;
/** HKUNLP's number of discrete diffusion steps. */
export const HKUNLP_STEPS = 20;

/**
 * Per-example masking rates for a batch of n: one uniform u shifted by b/n (stratified, "antithetic" in MDLM's
 * code), so the batch covers (0,1) evenly. mdlm: t itself (≥ MIN_MASK_RATE); hkunlp: (s+1)/20 for the step s that
 * t falls in.
 */
export function maskRates(variant: DiffusionVariant, n: number, rng: Rng): number[] {
  const u = rng.next();
  return Array.from({ length: n }, (_, b) => {
    const t = (u + b / n) % 1;
    if (variant === 'mdlm') return Math.max(t, MIN_MASK_RATE);
    const s = Math.min(HKUNLP_STEPS - 1, Math.floor(t * HKUNLP_STEPS));
    return (s + 1) / HKUNLP_STEPS;
  });
}

function diffusionBatch(task: Task, examples: Example[], rng: Rng, variant: DiffusionVariant): Batch {
  const P = task.promptLength;
  const L = task.targetLength;
  const n = examples.length;
  const T = P + L;
  const { pad, mask } = task.special;
  const batch = emptyBatch(n, T, 1);
  const rates = maskRates(variant, n, rng);
  examples.forEach((e, b) => {
    const t = rates[b]!;
    const masked = e.target.map(() => rng.next() < t);
    const content = e.target.flatMap((tok, i) => (tok === pad ? [] : [i]));
    if (!content.some((i) => masked[i])) masked[content[rng.int(content.length)]!] = true;
    const w = 1 / t / (n * targetTokens(e.target, pad));
    batch.tokens.set(e.prompt, b * T);
    e.target.forEach((tok, i) => {
      const o = b * T + P + i;
      batch.tokens[o] = masked[i] ? mask : tok;
      if (masked[i] && tok !== pad) {
        batch.targets[o] = tok;
        batch.weights[o] = w;
      }
    });
  });
  return batch;
}

/**
 * Iterative unmasking over K steps: all target positions start masked; each step runs one forward pass, takes the
 * argmax (never [MASK]) and its probability at every masked position, and commits the ceil(remaining/stepsLeft)
 * most confident ones (ties: leftmost first). K ≥ L commits one token per step (L passes).
 */
async function unmaskDecode(task: Task, examples: Example[], forward: ForwardFn, K: number): Promise<DecodeResult> {
  const P = task.promptLength;
  const L = task.targetLength;
  const n = examples.length;
  const T = P + L;
  const { mask } = task.special;
  const tokens = new Int32Array(n * T).fill(mask);
  examples.forEach((e, b) => tokens.set(e.prompt, b * T));
  const commitStep = examples.map(() => new Array<number>(L).fill(-1));
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
  const predictions = examples.map((_, b) => Array.from(tokens.subarray(b * T + P, b * T + T)));
  return { predictions, commitStep };
}

/**
 * Teacher-forced analog: for target position i, the true tokens left of i are revealed and i and everything right
 * of it masked; the prediction at i is read. One forward pass (of n sequences) per target position.
 */
async function leftRevealedPredictions(task: Task, examples: Example[], forward: ForwardFn): Promise<number[][]> {
  const P = task.promptLength;
  const L = task.targetLength;
  const n = examples.length;
  const T = P + L;
  const { mask } = task.special;
  const out = examples.map(() => new Array<number>(L));
  const tokens = new Int32Array(n * T);
  for (let i = 0; i < L; i++) {
    tokens.fill(mask);
    examples.forEach((e, b) => {
      tokens.set(e.prompt, b * T);
      tokens.set(e.target.slice(0, i), b * T + P);
    });
    const logits = await Logits.of(forward, tokens, n, T, 1, task.vocab.length);
    for (let b = 0; b < n; b++) out[b]![i] = logits.argmax(0, b, P + i, mask);
  }
  return out;
}

export function diffusionObjective(decodeSteps: number, variant: DiffusionVariant): Objective {
  const about =
    variant === 'mdlm'
      ? 'masked diffusion (MDLM): random masking rate t, 1/t-weighted loss on masked tokens'
      : 'masked diffusion (HKUNLP): masking rate (s+1)/20, adaptive reweighting approximated by 1/rate';
  return {
    name: 'diffusion',
    description: `${about}; decodes by unmasking the most confident tokens over ${decodeSteps} steps`,
    attention: 'bidirectional',
    extraHeads: 0,
    seqLen: (task) => task.promptLength + task.targetLength,
    makeBatch: (task, examples, rng) => diffusionBatch(task, examples, rng, variant),
    decode: (task, examples, forward) => unmaskDecode(task, examples, forward, decodeSteps),
    teacherForcedPredictions: leftRevealedPredictions,
  };
}

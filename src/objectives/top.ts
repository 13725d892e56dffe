// Token order prediction (Zuhri et al. 2025, "Predicting the Order of Upcoming Tokens Improves Language Modeling",
// arXiv 2508.19228): next-token prediction with teacher forcing, exactly as ntp, plus a second unembedding (the TOP
// head, top_head.weight) on the same ln_f output. At each supervised position the TOP head is trained to rank the
// vocabulary by how soon each token next occurs among the upcoming target tokens: score_v = W − dist_v, where dist_v
// is how many steps ahead v first occurs (0: the next token itself) and −∞ where v does not occur; its target is
// q = softmax(score), and its loss ListNet's −Σ_v q_v·log softmax(ŷ)_v, added to the next-token loss. Their star-
// graph trainer takes W as the sequence length, so every later target token counts; softmax is shift-invariant, so
// q_v = e^{−dist_v} / Σ_u e^{−dist_u} and W drops out. Decoding, evaluation and probes are ntp's: the TOP head is
// used only in training (its argmax is never read).
import type { TopTargets } from '../model/batch';
import type { Task } from '../tasks/types';
import { nextTokenObjective } from './ntp';
import type { Objective } from './types';

/**
 * The TOP head's soft targets for a causal batch whose head 0 is next-token prediction on `ordered` (causal.ts's
 * layout: target[i] at position P−1+i): at each position head 0 supervises, q over the V tokens as above and head
 * 0's weight there (1/(n·L_eff)), so that the two losses are averaged alike. Pad targets never count as
 * occurrences. `weights` is head 0's (n,T) loss weights.
 */
export function topTargets(task: Task, ordered: number[][], weights: Float32Array, T: number): TopTargets {
  const P = task.promptLength;
  const L = task.targetLength;
  const V = task.vocab.length;
  const n = ordered.length;
  const pad = task.special.pad;
  const probs = new Float32Array(n * T * V);
  const out = new Float32Array(n * T);
  const dist = new Float64Array(V);
  ordered.forEach((target, b) => {
    // The first occurrence at or after i of each token, as i walks back from the end: −1 where none.
    const next = new Int32Array(V).fill(-1);
    for (let i = L - 1; i >= 0; i--) {
      const t = target[i]!;
      if (t === pad) continue;
      next[t] = i;
      const p = b * T + P - 1 + i;
      out[p] = weights[p]!;
      if (out[p] === 0) continue;
      // Summed in vocabulary order, each term e^{−dist} computed in float64, then rounded once: what
      // python/labtorch/objectives.py computes too, to the bit.
      let sum = 0;
      for (let v = 0; v < V; v++) {
        dist[v] = next[v]! < 0 ? -1 : next[v]! - i;
        if (dist[v]! >= 0) sum += Math.exp(-dist[v]!);
      }
      for (let v = 0; v < V; v++) if (dist[v]! >= 0) probs[p * V + v] = Math.exp(-dist[v]!) / sum;
    }
  });
  return { probs, weights: out };
}

export function tokenOrderObjective(): Objective {
  const ntp = nextTokenObjective();
  return {
    // Decoding and teacher forcing are ntp's: the TOP head is read only by the loss.
    ...ntp,
    name: 'top',
    description:
      'token order prediction: next-token prediction plus a head that ranks the upcoming tokens by how soon each occurs (ListNet); greedy next-token decoding',
    topHead: true,
    makeBatch(task, examples, rng) {
      const batch = ntp.makeBatch(task, examples, rng);
      // Head 0's weights are the batch's first n·T (one head).
      return {
        ...batch,
        top: topTargets(
          task,
          examples.map((e) => e.target),
          batch.weights,
          batch.T,
        ),
      };
    },
  };
}

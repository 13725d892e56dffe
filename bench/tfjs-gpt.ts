// The lab's GPT written with TensorFlow.js, for the benchmark's comparison: nanoGPT's model (token and position
// embedding, pre-LN blocks of causal self-attention and a GELU MLP, final LayerNorm, lm_head tied to the token
// embedding), softmax cross-entropy, global-norm clipping and AdamW with decoupled weight decay on 2-D weights —
// the same shapes, FLOPs and update as src/engine/model.ts. Written as TF.js users would, with tf ops and
// tf.variableGrads; TF.js picks its own kernels on whichever backend is active (the benchmark sets 'webgpu').
//
// Legend: B batch, T sequence, C width, NH heads, hs = C/NH, V vocab.
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig, TrainConfig } from '../src/model/config';
import { Rng } from '../src/model/rng';

let instances = 0;

export class TfGpt {
  private readonly vars = new Map<string, tf.Variable>();
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  /** Names of the 2-D weights that get weight decay (nanoGPT's configure_optimizers). */
  private readonly decay = new Set<string>();
  private readonly mask: tf.Tensor2D;
  private readonly prefix: string;
  private steps = 0;

  constructor(
    readonly cfg: ModelConfig,
    seed: number,
  ) {
    this.prefix = `tfgpt${instances++}.`;
    const rng = new Rng(seed);
    const { nEmbd: C, nLayer: L, vocabSize: V, blockSize } = cfg;
    // nanoGPT's init: N(0, 0.02), residual projections N(0, 0.02/sqrt(2L)), biases 0, LayerNorm (1, 0).
    const normal = (shape: number[], std: number) =>
      tf.tensor(
        Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => std * rng.normal()),
        shape,
      );
    const add = (name: string, init: tf.Tensor, decay: boolean) => {
      this.vars.set(name, tf.variable(init, true, this.prefix + name));
      this.m.set(name, tf.variable(tf.zerosLike(init), false));
      this.v.set(name, tf.variable(tf.zerosLike(init), false));
      if (decay) this.decay.add(name);
      init.dispose();
    };
    add('wte', normal([V, C], 0.02), true);
    add('wpe', normal([blockSize, C], 0.02), true);
    const proj = 0.02 / Math.sqrt(2 * L);
    for (let l = 0; l < L; l++) {
      const p = `h${l}.`;
      add(p + 'ln1.w', tf.ones([C]), false);
      add(p + 'ln1.b', tf.zeros([C]), false);
      // TF.js convention: y = x·W with W (in, out).
      add(p + 'attn.w', normal([C, 3 * C], 0.02), true);
      add(p + 'attn.b', tf.zeros([3 * C]), false);
      add(p + 'attnproj.w', normal([C, C], proj), true);
      add(p + 'attnproj.b', tf.zeros([C]), false);
      add(p + 'ln2.w', tf.ones([C]), false);
      add(p + 'ln2.b', tf.zeros([C]), false);
      add(p + 'fc.w', normal([C, 4 * C], 0.02), true);
      add(p + 'fc.b', tf.zeros([4 * C]), false);
      add(p + 'mlpproj.w', normal([4 * C, C], proj), true);
      add(p + 'mlpproj.b', tf.zeros([C]), false);
    }
    add('lnf.w', tf.ones([C]), false);
    add('lnf.b', tf.zeros([C]), false);
    // Causal mask added to the scores: 0 on and below the diagonal, -1e9 above (softmax gives exactly 0 there).
    this.mask = tf.tidy(
      () => tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([blockSize, blockSize]), -1, 0)), -1e9) as tf.Tensor2D,
    );
  }

  private p(name: string): tf.Variable {
    return this.vars.get(name)!;
  }

  private layerNorm(x: tf.Tensor2D, name: string): tf.Tensor2D {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(
      tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5))), this.p(name + '.w')),
      this.p(name + '.b'),
    );
  }

  private linear(x: tf.Tensor2D, name: string): tf.Tensor2D {
    return tf.add(tf.matMul(x, this.p(name + '.w') as tf.Tensor2D), this.p(name + '.b'));
  }

  /** Mean cross-entropy of next-token prediction. tokens (B,T), targets (B·T). */
  loss(tokens: tf.Tensor2D, targets: tf.Tensor1D): tf.Scalar {
    const [B, T] = tokens.shape;
    const { nEmbd: C, nHead: NH, nLayer: L, vocabSize: V } = this.cfg;
    const hs = C / NH;
    const N = B * T;
    const heads = (x: tf.Tensor2D) => tf.transpose(tf.reshape(x, [B, T, NH, hs]), [0, 2, 1, 3]); // (B,NH,T,hs)
    const pos = tf.slice(this.p('wpe'), [0, 0], [T, C]);
    let x = tf.reshape(tf.add(tf.gather(this.p('wte'), tokens), pos), [N, C]) as tf.Tensor2D; // (BT,C)
    const mask = tf.slice(this.mask, [0, 0], [T, T]);
    for (let l = 0; l < L; l++) {
      const p = `h${l}.`;
      const qkv = this.linear(this.layerNorm(x, p + 'ln1'), p + 'attn'); // (BT,3C)
      const [q, k, v] = tf.split(qkv, 3, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
      const scores = tf.add(tf.mul(tf.matMul(heads(q), heads(k), false, true), 1 / Math.sqrt(hs)), mask); // (B,NH,T,T)
      const y = tf.matMul(tf.softmax(scores), heads(v)); // (B,NH,T,hs)
      const merged = tf.reshape(tf.transpose(y, [0, 2, 1, 3]), [N, C]) as tf.Tensor2D;
      x = tf.add(x, this.linear(merged, p + 'attnproj'));
      const f = this.linear(this.layerNorm(x, p + 'ln2'), p + 'fc'); // (BT,4C)
      const gelu = tf.mul(tf.mul(f, 0.5), tf.add(1, tf.erf(tf.mul(f, Math.SQRT1_2)))); // exact GELU
      x = tf.add(x, this.linear(gelu as tf.Tensor2D, p + 'mlpproj'));
    }
    const logits = tf.matMul(this.layerNorm(x, 'lnf'), this.p('wte') as tf.Tensor2D, false, true); // (BT,V)
    return tf.losses.softmaxCrossEntropy(tf.oneHot(targets, V), logits) as tf.Scalar;
  }

  /**
   * One optimizer step; resolves with the loss once TF.js has finished the step's work (reading the loss back
   * waits for the GPU). lr constant; clip the global gradient norm; AdamW as torch.optim.AdamW.
   */
  async step(tokens: tf.Tensor2D, targets: tf.Tensor1D, lr: number, train: TrainConfig): Promise<number> {
    const t = ++this.steps;
    const loss = tf.tidy(() => {
      const names = [...this.vars.keys()];
      const { value, grads } = tf.variableGrads(
        () => this.loss(tokens, targets),
        names.map((n) => this.p(n)),
      );
      const g = (n: string) => grads[this.prefix + n]!;
      // Summed pairwise: tf.addN over every tensor would bind more storage buffers than a WebGPU device allows.
      const norm = tf.sqrt(names.map((n) => tf.sum(tf.square(g(n)))).reduce((a, b) => tf.add(a, b)));
      const scale = train.gradClip > 0 ? tf.minimum(1, tf.div(train.gradClip, tf.add(norm, 1e-6))) : tf.scalar(1);
      const bc1 = 1 - train.beta1 ** t;
      const bc2 = 1 - train.beta2 ** t;
      for (const n of names) {
        const gn = tf.mul(g(n), scale);
        const m = tf.add(tf.mul(this.m.get(n)!, train.beta1), tf.mul(gn, 1 - train.beta1));
        const v = tf.add(tf.mul(this.v.get(n)!, train.beta2), tf.mul(tf.square(gn), 1 - train.beta2));
        this.m.get(n)!.assign(m);
        this.v.get(n)!.assign(v);
        const p = this.p(n);
        const decayed = this.decay.has(n) ? tf.mul(p, 1 - lr * train.weightDecay) : p;
        p.assign(tf.sub(decayed, tf.div(tf.mul(m, lr / bc1), tf.add(tf.sqrt(tf.div(v, bc2)), train.eps))));
      }
      return value;
    });
    const out = (await loss.data())[0]!;
    loss.dispose();
    return out;
  }

  dispose(): void {
    for (const map of [this.vars, this.m, this.v]) for (const x of map.values()) x.dispose();
    this.mask.dispose();
  }
}

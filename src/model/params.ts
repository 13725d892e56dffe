// The one parameter table. It names every tensor (nanoGPT's state-dict names and PyTorch layouts), gives its
// shape and its offset in the single flat parameter buffer, and says how it is initialised and whether weight
// decay applies. Initialisation, the optimizer, the GPU plan and checkpoint export/import all read this table, so
// a name is written once.
import type { ModelConfig } from './config';
import { Rng } from './rng';

export type InitKind =
  | 'normal' // N(0, 0.02), nanoGPT's default for Linear and Embedding weights
  | 'residual' // N(0, 0.02/sqrt(2·n_layer)), nanoGPT's special init of the residual projections c_proj
  | 'zeros' // biases
  | 'ones'; // LayerNorm weights

export interface ParamSpec {
  /** State-dict name, e.g. `transformer.h.0.attn.c_attn.weight`. */
  name: string;
  /** PyTorch layout: Linear weights are [out, in]. */
  shape: number[];
  /** Number of elements. */
  size: number;
  /** Offset in floats into the flat parameter buffer (aligned, see PARAM_ALIGN). */
  offset: number;
  init: InitKind;
  /** AdamW weight decay applies (2-D tensors only, as nanoGPT's configure_optimizers). */
  decay: boolean;
}

/**
 * Offsets are multiples of 64 floats (256 bytes) so that each tensor can be bound on its own as a storage-buffer
 * range: WebGPU requires binding offsets aligned to minStorageBufferOffsetAlignment, which is at most 256.
 */
export const PARAM_ALIGN = 64;
/** n rounded up to a multiple of a (PARAM_ALIGN floats: 256 bytes, a valid binding offset on every device). */
export const align = (n: number, a = PARAM_ALIGN): number => Math.ceil(n / a) * a;

/** A LayerNorm's or Linear's tensors: `module.weight` and `module.bias`. */
export interface ModuleParams {
  /** State-dict module name, e.g. `transformer.h.0.attn.c_attn`. */
  module: string;
  weight: string;
  bias: string;
}

const moduleParams = (module: string): ModuleParams => ({ module, weight: `${module}.weight`, bias: `${module}.bias` });

/** The modules of one transformer block, by nanoGPT's names. */
export interface BlockParams {
  ln1: ModuleParams; // ln_1
  cAttn: ModuleParams; // attn.c_attn: (3C,C), q, k, v in that order
  attnProj: ModuleParams; // attn.c_proj: (C,C)
  ln2: ModuleParams; // ln_2
  cFc: ModuleParams; // mlp.c_fc: (4C,C)
  mlpProj: ModuleParams; // mlp.c_proj: (C,4C)
}

/** The names of a block's tensors under `prefix` (blockPrefix(i), headPrefix(k), or '' for the bare names). */
export function blockParams(prefix: string): BlockParams {
  return {
    ln1: moduleParams(`${prefix}ln_1`),
    cAttn: moduleParams(`${prefix}attn.c_attn`),
    attnProj: moduleParams(`${prefix}attn.c_proj`),
    ln2: moduleParams(`${prefix}ln_2`),
    cFc: moduleParams(`${prefix}mlp.c_fc`),
    mlpProj: moduleParams(`${prefix}mlp.c_proj`),
  };
}

/**
 * Rows of the tied lm_head as the GPU computes it: the vocabulary rounded up to a multiple of 4. The vectorised
 * matmul kernels need the logits' width (and so the weight's rows) in multiples of 4; wte's slot in the flat buffer
 * reserves these rows, the ones past the vocabulary zero, so that an odd vocabulary (the addition task's 15) takes
 * those kernels too. The pad logits are exactly 0 (zero weights), the loss ignores them and writes them a zero
 * gradient (shaders/crossentropy.wgsl), so the pad rows get a zero gradient and AdamW leaves them zero. Checkpoints
 * and every reader of the table see (V, C).
 */
export const lmHeadRows = (vocabSize: number): number => Math.ceil(vocabSize / 4) * 4;

/**
 * The tensors outside the blocks. lm_head.weight is tied to wte and has no entry of its own. top_head.weight is the
 * token-order head's unembedding (ModelConfig.topHead), untied, the table's last entry.
 */
export const MODEL_PARAMS = {
  wte: 'transformer.wte.weight', // (V,C)
  wpe: 'transformer.wpe.weight', // (blockSize,C)
  lnF: moduleParams('transformer.ln_f'),
  topHead: 'top_head.weight', // (V,C)
} as const;

/** Tensors whose slot reserves lmHeadRows(V) rows, zeros past the vocabulary: the unembeddings the GPU multiplies. */
const UNEMBEDDINGS: readonly string[] = [MODEL_PARAMS.wte, MODEL_PARAMS.topHead];

/** Names of one transformer block's tensors, in nanoGPT's order, with shapes for width C. */
export function blockParamShapes(C: number): [string, number[], InitKind][] {
  const p = blockParams('');
  return [
    [p.ln1.weight, [C], 'ones'],
    [p.ln1.bias, [C], 'zeros'],
    [p.cAttn.weight, [3 * C, C], 'normal'],
    [p.cAttn.bias, [3 * C], 'zeros'],
    [p.attnProj.weight, [C, C], 'residual'],
    [p.attnProj.bias, [C], 'zeros'],
    [p.ln2.weight, [C], 'ones'],
    [p.ln2.bias, [C], 'zeros'],
    [p.cFc.weight, [4 * C, C], 'normal'],
    [p.cFc.bias, [4 * C], 'zeros'],
    [p.mlpProj.weight, [C, 4 * C], 'residual'],
    [p.mlpProj.bias, [C], 'zeros'],
  ];
}

/** Prefix of trunk block i, and of extra head k (1-based; head k predicts token t+1+k). */
export const blockPrefix = (i: number): string => `transformer.h.${i}.`;
export const headPrefix = (k: number): string => `mtp_heads.${k - 1}.`;

export interface ParamTable {
  specs: ParamSpec[];
  /** Floats in the flat buffer, padding included. */
  total: number;
  /** Look up a tensor by name; throws if it does not exist. */
  get(name: string): ParamSpec;
}

/**
 * The table for a config. lm_head.weight is tied to transformer.wte.weight (nanoGPT's weight tying) and so has no
 * entry of its own; checkpoint export writes it as a copy.
 */
export function paramTable(cfg: ModelConfig): ParamTable {
  const C = cfg.nEmbd;
  const entries: [string, number[], InitKind][] = [
    [MODEL_PARAMS.wte, [cfg.vocabSize, C], 'normal'],
    [MODEL_PARAMS.wpe, [cfg.blockSize, C], 'normal'],
  ];
  for (let i = 0; i < cfg.nLayer; i++) {
    for (const [n, s, init] of blockParamShapes(C)) entries.push([blockPrefix(i) + n, s, init]);
  }
  entries.push([MODEL_PARAMS.lnF.weight, [C], 'ones'], [MODEL_PARAMS.lnF.bias, [C], 'zeros']);
  for (let k = 1; k <= cfg.extraHeads; k++) {
    for (const [n, s, init] of blockParamShapes(C)) entries.push([headPrefix(k) + n, s, init]);
  }
  // Last, so that a model without it draws the same weights for every other tensor (a Linear: N(0, 0.02), decayed).
  if (cfg.topHead) entries.push([MODEL_PARAMS.topHead, [cfg.vocabSize, C], 'normal']);
  const specs: ParamSpec[] = [];
  let offset = 0;
  for (const [name, shape, init] of entries) {
    const size = shape.reduce((a, b) => a * b, 1);
    specs.push({ name, shape, size, offset, init, decay: shape.length >= 2 });
    // wte's slot holds the lm_head's padded rows (lmHeadRows), zeros past the vocabulary; so does top_head's.
    const reserved = UNEMBEDDINGS.includes(name) ? lmHeadRows(cfg.vocabSize) * C : size;
    offset += align(reserved);
  }
  const byName = new Map(specs.map((s) => [s.name, s]));
  return {
    specs,
    total: offset,
    get(name) {
      const s = byName.get(name);
      if (!s) throw new Error(`no parameter named ${name}`);
      return s;
    },
  };
}

/** Number of trainable parameters (padding excluded), as nanoGPT counts them (tied lm_head counted once). */
export function countParams(table: ParamTable): number {
  return table.specs.reduce((a, s) => a + s.size, 0);
}

/**
 * nanoGPT's initialisation, deterministic in the seed: tensors are filled in table order from one generator, so
 * the same config and seed give bit-identical weights on every machine. The residual projections use
 * std 0.02/sqrt(2·n_layer), with n_layer the trunk depth (the extra heads share it, as they are trunk-like blocks).
 */
export function initParams(cfg: ModelConfig, seed: number, table = paramTable(cfg)): Float32Array {
  const out = new Float32Array(table.total);
  const rng = new Rng(seed);
  const residualStd = 0.02 / Math.sqrt(2 * cfg.nLayer);
  for (const s of table.specs) {
    const view = out.subarray(s.offset, s.offset + s.size);
    switch (s.init) {
      case 'normal':
        for (let i = 0; i < s.size; i++) view[i] = 0.02 * rng.normal();
        break;
      case 'residual':
        for (let i = 0; i < s.size; i++) view[i] = residualStd * rng.normal();
        break;
      case 'ones':
        view.fill(1);
        break;
      case 'zeros':
        break;
    }
  }
  return out;
}

/** The tensor `name` of a flat parameter (or gradient) array, as a view. */
export function tensorView<T extends Float32Array | Float64Array>(flat: T, table: ParamTable, name: string): T {
  const s = table.get(name);
  return flat.subarray(s.offset, s.offset + s.size) as T;
}

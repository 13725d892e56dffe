// ONNX export (opset 17, IR version 8) of the lab's GPT, written with onnx-proto's protobufjs classes.
//
// Legend: B = batch, T = sequence length (both symbolic; T <= blockSize), C = nEmbd, nh = nHead, hs = C/nh,
// V = vocabSize.
//
// The graph is nanoGPT's GPT.forward (bias=True, dropout=0):
//   x = wte[input_ids] + wpe[:T]
//   per block: x = x + attn(ln_1(x)); x = x + mlp(ln_2(x))
//   head 0: logits = ln_f(z) @ wte^T; extra head k: logits_head{k} = ln_f(block_k(z)) @ wte^T, with z the trunk
//   output before ln_f (multi-token prediction heads, see ModelConfig.extraHeads); with the token-order head,
//   logits_top = ln_f(z) @ top_head.weight^T (ModelConfig.topHead; trained only, it decodes nothing).
// Initializers are the state-dict tensors under their own names and PyTorch layouts (Linear weight [out, in]); each
// Linear is MatMul(x, Transpose(W)) + b, and runtimes fold the constant Transpose once at load. The tied lm_head is
// Transpose(wte), so the embedding is stored once.
import onnxProto from 'onnx-proto';
import type { ModelConfig } from '../model/config';
import {
  blockParams,
  blockPrefix,
  headPrefix,
  MODEL_PARAMS,
  paramTable,
  type ModuleParams,
  type ParamTable,
} from '../model/params';
import { configToJson, labConfigToJson } from './config-json';
import { MODEL_FORMAT } from './model-file';

const { onnx } = onnxProto;
type INodeProto = onnxProto.onnx.INodeProto;
type ITensorProto = onnxProto.onnx.ITensorProto;
type IAttributeProto = onnxProto.onnx.IAttributeProto;

export const ONNX_OPSET = 17;
const LN_EPS = 1e-5; // nanoGPT's LayerNorm uses F.layer_norm's default eps

type AttrValue = number | number[] | string;
const INT_ATTRS = new Set(['axis', 'perm', 'upper', 'to', 'keepdims', 'start', 'end', 'stash_type']);

/** Collects nodes and initializers with unique value names. */
class GraphBuilder {
  readonly nodes: INodeProto[] = [];
  readonly initializers: ITensorProto[] = [];
  private count = 0;

  private fresh(hint: string): string {
    return `${hint}_${this.count++}`;
  }

  /** Add a node and return the names of its outputs. */
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, nOut = 1, name = opType): string[] {
    const outputs = Array.from({ length: nOut }, () => this.fresh(name));
    const attribute: IAttributeProto[] = Object.entries(attrs).map(([k, v]) => attr(k, v));
    this.nodes.push({ opType, input: inputs, output: outputs, name: this.fresh(`node_${name}`), attribute });
    return outputs;
  }

  /** Single-output shorthand. */
  op1(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, name = opType): string {
    return this.op(opType, inputs, attrs, 1, name)[0];
  }

  floatInit(name: string, dims: number[], data: Float32Array): string {
    // rawData is little-endian by spec (onnx.proto, TensorProto.raw_data); copy so the proto owns its bytes.
    const raw = new Uint8Array(data.byteLength);
    const dv = new DataView(raw.buffer);
    for (let i = 0; i < data.length; i++) dv.setFloat32(4 * i, data[i], true);
    this.initializers.push({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: raw });
    return name;
  }

  int64Init(name: string, dims: number[], values: number[]): string {
    const raw = new Uint8Array(8 * values.length);
    const dv = new DataView(raw.buffer);
    values.forEach((v, i) => dv.setBigInt64(8 * i, BigInt(v), true));
    this.initializers.push({ name, dims, dataType: onnx.TensorProto.DataType.INT64, rawData: raw });
    return name;
  }
}

function attr(name: string, v: AttrValue): IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  if (INT_ATTRS.has(name)) return { name, type: T.INT, i: v };
  return { name, type: T.FLOAT, f: v };
}

/** Emits the graph of one config's model, reading weights from the flat parameter buffer. */
class GptGraph {
  readonly g = new GraphBuilder();
  private readonly C: number;
  private readonly hs: number;
  private weightT = new Map<string, string>();

  constructor(
    private readonly cfg: ModelConfig,
    params: Float32Array,
    table: ParamTable,
  ) {
    this.C = cfg.nEmbd;
    this.hs = cfg.nEmbd / cfg.nHead;
    for (const s of table.specs) this.g.floatInit(s.name, s.shape, params.subarray(s.offset, s.offset + s.size));
  }

  /** A float scalar constant. */
  scalar(name: string, v: number): string {
    return this.g.floatInit(name, [], new Float32Array([v]));
  }

  /** y = x W^T + b for nn.Linear weight W [out, in] and bias b [out]. */
  linear(x: string, m: ModuleParams): string {
    let wT = this.weightT.get(m.weight);
    if (!wT) {
      wT = this.g.op1('Transpose', [m.weight], { perm: [1, 0] }, `${m.weight}_T`);
      this.weightT.set(m.weight, wT);
    }
    const xw = this.g.op1('MatMul', [x, wT], {}, `${m.module}.matmul`);
    return this.g.op1('Add', [xw, m.bias], {}, `${m.module}.add`);
  }

  layerNorm(x: string, m: ModuleParams): string {
    return this.g.op1('LayerNormalization', [x, m.weight, m.bias], { axis: -1, epsilon: LN_EPS }, m.module);
  }

  /** Exact GELU, 0.5·x·(1 + erf(x/√2)) (nn.GELU's default, approximate='none'). */
  gelu(x: string, p: string): string {
    const e = this.g.op1('Erf', [this.g.op1('Mul', [x, 'const.rsqrt2'], {}, `${p}.gelu`)], {}, `${p}.gelu`);
    const onePlus = this.g.op1('Add', [e, 'const.one'], {}, `${p}.gelu`);
    return this.g.op1('Mul', [this.g.op1('Mul', [x, onePlus], {}, `${p}.gelu`), 'const.half'], {}, `${p}.gelu`);
  }

  /** Causal self-attention of nanoGPT (q, k, v split in that order from c_attn), mask additive or absent. */
  attention(x: string, p: string, mask: string | null): string {
    const { g } = this;
    const qkv = this.linear(x, blockParams(p).cAttn); // (B,T,3C)
    const [q, k, v] = g.op('Split', [qkv, 'const.split_qkv'], { axis: 2 }, 3, `${p}attn.split`); // 3 × (B,T,C)
    const heads = (t: string, perm: number[]): string =>
      g.op1('Transpose', [g.op1('Reshape', [t, 'const.heads_shape'], {}, `${p}attn.view`)], { perm }, `${p}attn.heads`);
    const qh = heads(q, [0, 2, 1, 3]); // (B,nh,T,hs)
    const kT = heads(k, [0, 2, 3, 1]); // (B,nh,hs,T)
    const vh = heads(v, [0, 2, 1, 3]); // (B,nh,T,hs)
    let att = g.op1(
      'Mul',
      [g.op1('MatMul', [qh, kT], {}, `${p}attn.scores`), 'const.attn_scale'],
      {},
      `${p}attn.scale`,
    ); // (B,nh,T,T)
    if (mask) att = g.op1('Add', [att, mask], {}, `${p}attn.mask`);
    att = g.op1('Softmax', [att], { axis: -1 }, `${p}attn.softmax`);
    const y = g.op1('MatMul', [att, vh], {}, `${p}attn.av`); // (B,nh,T,hs)
    const yT = g.op1('Transpose', [y], { perm: [0, 2, 1, 3] }, `${p}attn.merge`); // (B,T,nh,hs)
    const merged = g.op1('Reshape', [yT, 'const.merge_shape'], {}, `${p}attn.merge`); // (B,T,C)
    return this.linear(merged, blockParams(p).attnProj);
  }

  block(x: string, p: string, mask: string | null): string {
    const m = blockParams(p);
    const a = this.attention(this.layerNorm(x, m.ln1), p, mask);
    const x1 = this.g.op1('Add', [x, a], {}, `${p}residual`);
    const h = this.gelu(this.linear(this.layerNorm(x1, m.ln2), m.cFc), `${p}mlp`); // (B,T,4C)
    return this.g.op1('Add', [x1, this.linear(h, m.mlpProj)], {}, `${p}residual`);
  }

  /** Builds the whole graph; returns the output value names, head 0 first. */
  build(): string[] {
    const { g, cfg, C, hs } = this;
    g.int64Init('const.split_qkv', [3], [C, C, C]);
    g.int64Init('const.heads_shape', [4], [0, 0, cfg.nHead, hs]); // 0 copies B and T (Reshape, allowzero=0)
    g.int64Init('const.merge_shape', [3], [0, 0, C]);
    g.int64Init('const.zero1', [1], [0]);
    this.scalar('const.attn_scale', 1 / Math.sqrt(hs));
    this.scalar('const.rsqrt2', Math.SQRT1_2);
    this.scalar('const.one', 1);
    this.scalar('const.half', 0.5);

    const seq = g.op1('Shape', ['input_ids'], { start: 1, end: 2 }, 'seq_len'); // [T]
    const tokEmb = g.op1('Gather', [MODEL_PARAMS.wte, 'input_ids'], { axis: 0 }, 'tok_emb'); // (B,T,C)
    const posEmb = g.op1('Slice', [MODEL_PARAMS.wpe, 'const.zero1', seq, 'const.zero1'], {}, 'pos_emb'); // (T,C)
    let x = g.op1('Add', [tokEmb, posEmb], {}, 'embed'); // (B,T,C)

    let mask: string | null = null;
    if (cfg.attention === 'causal') {
      // -inf strictly above the diagonal, 0 elsewhere: Trilu keeps the upper triangle from k=1 and zeroes the rest.
      this.scalar('const.neg_inf', -Infinity);
      g.int64Init('const.k_one', [], [1]);
      const tt = g.op1('Concat', [seq, seq], { axis: 0 }, 'mask_shape'); // [T, T]
      const full = g.op1('Expand', ['const.neg_inf', tt], {}, 'mask_fill'); // (T,T)
      mask = g.op1('Trilu', [full, 'const.k_one'], { upper: 1 }, 'causal_mask'); // (T,T)
    }

    for (let i = 0; i < cfg.nLayer; i++) x = this.block(x, blockPrefix(i), mask);
    const z = x; // trunk output, before ln_f

    const lmHeadT = g.op1('Transpose', [MODEL_PARAMS.wte], { perm: [1, 0] }, 'lm_head.weight_T'); // (C,V)
    const logits = (h: string, out: string): string => {
      g.nodes.push({
        opType: 'MatMul',
        input: [this.layerNorm(h, MODEL_PARAMS.lnF), lmHeadT],
        output: [out],
        name: `node_${out}`,
      });
      return out;
    };
    const lnf = this.layerNorm(z, MODEL_PARAMS.lnF);
    g.nodes.push({ opType: 'MatMul', input: [lnf, lmHeadT], output: ['logits'], name: 'node_logits' });
    const outputs = ['logits'];
    for (let k = 1; k <= cfg.extraHeads; k++) {
      const p = headPrefix(k);
      outputs.push(logits(this.block(z, p, mask), `logits_head${k}`));
    }
    if (cfg.topHead) {
      // The token-order head on the same ln_f output as head 0: logits_top = ln_f(z) @ top_head.weight^T (C,V).
      const topT = g.op1('Transpose', [MODEL_PARAMS.topHead], { perm: [1, 0] }, 'top_head.weight_T');
      g.nodes.push({ opType: 'MatMul', input: [lnf, topT], output: ['logits_top'], name: 'node_logits_top' });
      outputs.push('logits_top');
    }
    return outputs;
  }
}

function tensorType(elemType: number, dims: (number | string)[]): onnxProto.onnx.ITypeProto {
  return {
    tensorType: {
      elemType,
      shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
    },
  };
}

/**
 * Serialise the model as ONNX: input `input_ids` int64 (batch, seq), outputs `logits` float (batch, seq, vocab) and
 * `logits_head{k}` for each extra head, and `logits_top` with the token-order head. seq may be at most cfg.blockSize
 * (the position table's length).
 */
export function exportOnnx(cfg: ModelConfig, params: Float32Array, opts: { producer?: string } = {}): Uint8Array {
  const table = paramTable(cfg);
  if (params.length !== table.total) {
    throw new Error(`params hold ${params.length} floats, the table for this config needs ${table.total}`);
  }
  const gg = new GptGraph(cfg, params, table);
  const outputs = gg.build();
  const F = onnx.TensorProto.DataType.FLOAT;
  const graph: onnxProto.onnx.IGraphProto = {
    name: 'gpt',
    node: gg.g.nodes,
    initializer: gg.g.initializers,
    input: [{ name: 'input_ids', type: tensorType(onnx.TensorProto.DataType.INT64, ['batch', 'seq']) }],
    output: outputs.map((name) => ({ name, type: tensorType(F, ['batch', 'seq', cfg.vocabSize]) })),
    docString: `nanoGPT GPT (${cfg.attention} attention, ${cfg.extraHeads} extra heads); seq <= ${cfg.blockSize}`,
  };
  const model: onnxProto.onnx.IModelProto = {
    irVersion: 8, // the IR version that opset 17 ships with (ONNX 1.12)
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: opts.producer ?? 'webgpu-training-lab',
    producerVersion: MODEL_FORMAT,
    graph,
    metadataProps: [
      { key: 'config', value: JSON.stringify(configToJson(cfg)) },
      { key: 'lab_config', value: JSON.stringify(labConfigToJson(cfg)) },
    ],
  };
  const err = onnx.ModelProto.verify(model);
  if (err) throw new Error(`ONNX model does not fit the schema: ${err}`);
  return onnx.ModelProto.encode(model).finish();
}

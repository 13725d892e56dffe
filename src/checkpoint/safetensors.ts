// Checkpoints in Hugging Face's safetensors format (https://github.com/huggingface/safetensors, "Format"):
//
//   [u64 little-endian N][N bytes of UTF-8 JSON header, space-padded to a multiple of 8][raw little-endian data]
//
// The header maps each tensor name to {dtype, shape, data_offsets: [begin, end]} (byte offsets into the data
// section) and may hold "__metadata__": {string: string}. Tensors must tile the data section exactly: no gaps, no
// overlaps, no trailing bytes (the reference reader rejects all three, and so do we).
//
// A model checkpoint holds every tensor of paramTable(cfg) under its nanoGPT state-dict name and PyTorch layout,
// plus `lm_head.weight` as a copy of `transformer.wte.weight` (nanoGPT ties them, and its state_dict lists both), so
// nanoGPT's GPT.load_state_dict reads it directly. Architecture comes from the checkpoint, as in nanoGPT's resume.
import { ConfigError, validateModelConfig, type AttentionMode, type ModelConfig } from '../model/config';
import { paramTable, type ParamTable } from '../model/params';

/** A checkpoint could not be read or does not fit the model: what is wrong, naming the tensor or field. */
export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

export interface NamedTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface ReadTensor {
  shape: number[];
  /** The dtype as stored; the data is always converted to float32. */
  dtype: string;
  data: Float32Array;
}

export interface Safetensors {
  tensors: Map<string, ReadTensor>;
  metadata: Record<string, string>;
}

/** Bytes per element of the dtypes this reader converts to float32. */
const DTYPE_BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2 };

/** The reference implementation refuses headers above 100 MB; so do we, before allocating anything. */
const MAX_HEADER_BYTES = 100_000_000;

const METADATA_KEY = '__metadata__';

/** Every browser and Node platform we run on is little-endian; the bulk copies below rely on it (checked). */
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const numel = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);
const shapeStr = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

/**
 * Encode tensors (float32, in the given order) and string metadata. The header lists `__metadata__` first, then
 * the tensors in order, each as {"dtype","shape","data_offsets"}; it is written by hand rather than with one
 * JSON.stringify of an object so that integer-like names cannot reorder keys.
 */
export function writeSafetensors(tensors: NamedTensor[], metadata: Record<string, string>): Uint8Array {
  const seen = new Set<string>();
  const entries: string[] = [];
  if (Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new CheckpointError(`metadata "${k}" must be a string, got ${typeof v}`);
    }
    entries.push(`${JSON.stringify(METADATA_KEY)}:${JSON.stringify(metadata)}`);
  }
  let offset = 0;
  for (const t of tensors) {
    if (t.name === METADATA_KEY) throw new CheckpointError(`"${METADATA_KEY}" is reserved and cannot name a tensor`);
    if (seen.has(t.name)) throw new CheckpointError(`tensor ${t.name} is listed twice`);
    seen.add(t.name);
    if (!t.shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new CheckpointError(`tensor ${t.name}: shape ${shapeStr(t.shape)} must hold whole numbers >= 0`);
    }
    if (numel(t.shape) !== t.data.length) {
      throw new CheckpointError(
        `tensor ${t.name}: shape ${shapeStr(t.shape)} needs ${numel(t.shape)} values, got ${t.data.length}`,
      );
    }
    const end = offset + 4 * t.data.length;
    entries.push(
      `${JSON.stringify(t.name)}:{"dtype":"F32","shape":${JSON.stringify(t.shape)},"data_offsets":[${offset},${end}]}`,
    );
    offset = end;
  }
  const json = new TextEncoder().encode(`{${entries.join(',')}}`);
  const headerLen = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLen + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLen), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLen); // space padding keeps the data section 8-byte aligned
  const dv = new DataView(out.buffer, 8 + headerLen);
  let p = 0;
  for (const t of tensors) {
    if (HOST_LITTLE_ENDIAN) {
      out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), 8 + headerLen + p);
      p += t.data.byteLength;
    } else {
      for (let i = 0; i < t.data.length; i++, p += 4) dv.setFloat32(p, t.data[i], true);
    }
  }
  return out;
}

/** IEEE half → float (exact: every f16 value is representable in f32). */
function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // zero and subnormals
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function decodeTensor(bytes: Uint8Array, begin: number, dtype: string, n: number): Float32Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset + begin, n * DTYPE_BYTES[dtype]);
  const out = new Float32Array(n);
  if (dtype === 'F32' && HOST_LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(bytes.subarray(begin, begin + 4 * n));
  } else if (dtype === 'F32') {
    for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true);
  } else if (dtype === 'BF16') {
    // bfloat16 is the top half of a float32.
    const u = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) u[i] = dv.getUint16(2 * i, true) << 16;
  } else {
    for (let i = 0; i < n; i++) out[i] = f16ToF32(dv.getUint16(2 * i, true));
  }
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parse and fully validate a safetensors file; data is copied out as float32. */
export function readSafetensors(bytes: Uint8Array): Safetensors {
  if (bytes.length < 8) {
    throw new CheckpointError(`truncated file: ${bytes.length} bytes, shorter than the 8-byte header length`);
  }
  const headerLenBig = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (headerLenBig > BigInt(bytes.length - 8)) {
    throw new CheckpointError(
      `header length ${headerLenBig} runs past the end of the file (${bytes.length - 8} bytes follow the length); ` +
        'the file is truncated or not safetensors',
    );
  }
  const headerLen = Number(headerLenBig);
  if (headerLen > MAX_HEADER_BYTES)
    throw new CheckpointError(`header length ${headerLen} exceeds ${MAX_HEADER_BYTES} bytes`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    throw new CheckpointError(`header is not valid UTF-8 JSON: ${(e as Error).message}`);
  }
  if (!isRecord(header)) throw new CheckpointError('header must be a JSON object');

  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const spans: { name: string; begin: number; end: number }[] = [];
  const parsed: { name: string; dtype: string; shape: number[]; begin: number }[] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === METADATA_KEY) {
      if (!isRecord(entry)) throw new CheckpointError(`${METADATA_KEY} must be an object of strings`);
      for (const [k, v] of Object.entries(entry)) {
        if (typeof v !== 'string')
          throw new CheckpointError(`${METADATA_KEY}.${k} must be a string, got ${JSON.stringify(v)}`);
        metadata[k] = v;
      }
      continue;
    }
    if (!isRecord(entry)) throw new CheckpointError(`tensor ${name}: header entry must be an object`);
    const { dtype, shape, data_offsets: offs } = entry;
    if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES)) {
      throw new CheckpointError(
        `tensor ${name}: unsupported dtype ${JSON.stringify(dtype)}; supported: ${Object.keys(DTYPE_BYTES).join(', ')}`,
      );
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new CheckpointError(`tensor ${name}: shape ${JSON.stringify(shape)} must be a list of whole numbers >= 0`);
    }
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isInteger(o) && o >= 0)) {
      throw new CheckpointError(`tensor ${name}: data_offsets ${JSON.stringify(offs)} must be [begin, end]`);
    }
    const [begin, end] = offs as [number, number];
    if (begin > end || end > dataLen) {
      throw new CheckpointError(
        `tensor ${name}: data_offsets [${begin}, ${end}] out of range for a ${dataLen}-byte data section`,
      );
    }
    const want = numel(shape as number[]) * DTYPE_BYTES[dtype];
    if (end - begin !== want) {
      throw new CheckpointError(
        `tensor ${name}: data_offsets [${begin}, ${end}] hold ${end - begin} bytes, but ${dtype} ${shapeStr(shape as number[])} needs ${want}`,
      );
    }
    spans.push({ name, begin, end });
    parsed.push({ name, dtype, shape: shape as number[], begin });
  }

  // The tensors must tile [0, dataLen) exactly.
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  for (const s of spans) {
    if (s.begin < covered) {
      throw new CheckpointError(
        `tensor ${s.name}: data_offsets [${s.begin}, ${s.end}] overlap the previous tensor (ends at ${covered})`,
      );
    }
    if (s.begin > covered) {
      throw new CheckpointError(
        `tensor ${s.name}: gap of ${s.begin - covered} bytes before data_offsets [${s.begin}, ${s.end}]`,
      );
    }
    covered = s.end;
  }
  if (covered !== dataLen) {
    throw new CheckpointError(
      `${dataLen - covered} trailing bytes after the last tensor (data ends at ${covered} of ${dataLen})`,
    );
  }

  const tensors = new Map<string, ReadTensor>();
  for (const p of parsed) {
    tensors.set(p.name, {
      shape: p.shape,
      dtype: p.dtype,
      data: decodeTensor(bytes, dataStart + p.begin, p.dtype, numel(p.shape)),
    });
  }
  return { tensors, metadata };
}

// ---------------------------------------------------------------------------------------------------------------
// Model checkpoints

/** The `format` metadata of a model checkpoint written here. */
export const MODEL_FORMAT = 'webgpu-lab/1';
/** The `format` metadata of an optimizer-state file written here. */
export const OPTIMIZER_FORMAT = 'webgpu-lab-optimizer/1';

/**
 * nanoGPT's GPTConfig fields (model.py), exactly: the `config` metadata, so that
 * `GPTConfig(**json.loads(metadata["config"]))` works in nanoGPT as it is.
 */
export interface GPTConfigJson {
  vocab_size: number;
  block_size: number;
  n_layer: number;
  n_head: number;
  n_embd: number;
  bias: boolean;
  dropout: number;
}

/** This lab's two extensions of GPTConfig: the `lab_config` metadata. */
export interface LabConfigJson {
  attention: AttentionMode;
  extra_heads: number;
}

/** The `config` metadata of a checkpoint (also written into ONNX metadata_props). */
export function configToJson(cfg: ModelConfig): GPTConfigJson {
  return {
    vocab_size: cfg.vocabSize,
    block_size: cfg.blockSize,
    n_layer: cfg.nLayer,
    n_head: cfg.nHead,
    n_embd: cfg.nEmbd,
    bias: true,
    dropout: 0,
  };
}

/** The `lab_config` metadata: attention mode and extra heads (absent = nanoGPT's causal model without heads). */
export function labConfigToJson(cfg: ModelConfig): LabConfigJson {
  return { attention: cfg.attention, extra_heads: cfg.extraHeads };
}

function parseJsonObject(text: string, key: string): Record<string, unknown> {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(`metadata "${key}" is not valid JSON: ${(e as Error).message}`);
  }
  if (!isRecord(j)) throw new CheckpointError(`metadata "${key}" must be a JSON object`);
  return j;
}

function configFromJson(text: string, labText: string | undefined): ModelConfig {
  const j = parseJsonObject(text, 'config');
  const lab = labText === undefined ? {} : parseJsonObject(labText, 'lab_config');
  if (j.bias === false)
    throw new CheckpointError("config has bias=false; this lab's model always has biases (bias=True)");
  const cfg = {
    vocabSize: j.vocab_size,
    blockSize: j.block_size,
    nLayer: j.n_layer,
    nHead: j.n_head,
    nEmbd: j.n_embd,
    attention: lab.attention ?? 'causal',
    extraHeads: lab.extra_heads ?? 0,
  } as ModelConfig;
  return checkedConfig(cfg, 'config in checkpoint');
}

function checkedConfig(cfg: ModelConfig, where: string): ModelConfig {
  try {
    return validateModelConfig(cfg);
  } catch (e) {
    if (e instanceof ConfigError) throw new CheckpointError(`${where}: ${e.message}`);
    throw e;
  }
}

/** Metadata of a model checkpoint; fields are absent for a plain nanoGPT checkpoint. */
export interface ModelMeta {
  format?: string;
  objective?: string;
  step?: number;
  task?: unknown;
  vocab?: string[];
  /** All metadata strings as stored. */
  raw: Record<string, string>;
}

/**
 * A model checkpoint. Metadata strings: `format` ("webgpu-lab/1") and `objective` are plain strings; `config`
 * (nanoGPT GPTConfig fields + `attention`, `extra_heads`), `step`, `task` and `vocab` are JSON.
 */
export function exportModel(
  cfg: ModelConfig,
  params: Float32Array,
  meta: { objective: string; step: number; task: unknown; vocab: string[] },
): Uint8Array {
  const table = paramTable(cfg);
  if (params.length !== table.total) {
    throw new CheckpointError(`params hold ${params.length} floats, the table for this config needs ${table.total}`);
  }
  const tensors: NamedTensor[] = [];
  for (const s of table.specs) {
    tensors.push({ name: s.name, shape: s.shape, data: params.subarray(s.offset, s.offset + s.size) });
    if (s.name === 'transformer.ln_f.bias') {
      // nanoGPT's state_dict order: transformer.*, then the tied lm_head.weight.
      const wte = table.get('transformer.wte.weight');
      tensors.push({
        name: 'lm_head.weight',
        shape: wte.shape,
        data: params.subarray(wte.offset, wte.offset + wte.size),
      });
    }
  }
  return writeSafetensors(tensors, {
    format: MODEL_FORMAT,
    config: JSON.stringify(configToJson(cfg)),
    lab_config: JSON.stringify(labConfigToJson(cfg)),
    objective: meta.objective,
    step: JSON.stringify(meta.step),
    task: JSON.stringify(meta.task ?? null),
    vocab: JSON.stringify(meta.vocab),
  });
}

/** Describe every field where two configs differ, or return '' when they match. */
function configDiff(found: ModelConfig, expected: ModelConfig): string {
  const keys: (keyof ModelConfig)[] = ['vocabSize', 'blockSize', 'nLayer', 'nHead', 'nEmbd', 'attention', 'extraHeads'];
  return keys
    .filter((k) => found[k] !== expected[k])
    .map((k) => `${k} is ${JSON.stringify(found[k])} in the checkpoint, expected ${JSON.stringify(expected[k])}`)
    .join('; ');
}

/** Infer a config from a plain nanoGPT state dict's shapes; n_head is not visible in shapes and must be given. */
function inferConfig(
  tensors: Map<string, ReadTensor>,
  overrides: ImportOverrides,
  expected?: ModelConfig,
): ModelConfig {
  const need = (name: string): ReadTensor => {
    const t = tensors.get(name);
    if (!t)
      throw new CheckpointError(
        `missing tensor ${name} (needed to infer the config: the file has no "config" metadata)`,
      );
    if (t.shape.length !== 2)
      throw new CheckpointError(`tensor ${name}: expected a 2-D shape, found ${shapeStr(t.shape)}`);
    return t;
  };
  const wte = need('transformer.wte.weight');
  const wpe = need('transformer.wpe.weight');
  const count = (re: RegExp): number => {
    const ids = new Set<number>();
    for (const name of tensors.keys()) {
      const m = re.exec(name);
      if (m) ids.add(Number(m[1]));
    }
    return ids.size;
  };
  const nHead = overrides.nHead ?? expected?.nHead;
  if (nHead === undefined) {
    throw new CheckpointError(
      'the checkpoint has no "config" metadata and n_head cannot be inferred from shapes; pass nHead',
    );
  }
  const cfg: ModelConfig = {
    vocabSize: wte.shape[0],
    blockSize: wpe.shape[0],
    nLayer: count(/^transformer\.h\.(\d+)\./),
    nHead,
    nEmbd: wte.shape[1],
    attention: overrides.attention ?? expected?.attention ?? 'causal',
    extraHeads: count(/^mtp_heads\.(\d+)\./),
  };
  return checkedConfig(cfg, 'config inferred from tensor shapes');
}

export interface ImportOverrides {
  /** Needed for a plain nanoGPT checkpoint (no "config" metadata): heads are not visible in tensor shapes. */
  nHead?: number;
  /** For a plain checkpoint; nanoGPT's GPT is causal. */
  attention?: AttentionMode;
}

/** nanoGPT's causal-mask buffer (`attn.bias`) and HF GPT-2's `attn.masked_bias` are buffers, not parameters. */
const IGNORED_BUFFER = /\.attn\.(bias|masked_bias)$/;

/**
 * Read a model checkpoint into a flat buffer laid out by paramTable. The config comes from the `config` metadata,
 * or is inferred from shapes for a plain nanoGPT state dict. With `expected`, a config that differs is an error.
 */
export function importModel(
  bytes: Uint8Array,
  expected?: ModelConfig,
  overrides: ImportOverrides = {},
): { cfg: ModelConfig; params: Float32Array; meta: ModelMeta } {
  const { tensors, metadata } = readSafetensors(bytes);
  const cfg =
    metadata.config !== undefined ? configFromJson(metadata.config, metadata.lab_config) : inferConfig(tensors, overrides, expected);
  if (expected) {
    const diff = configDiff(cfg, expected);
    if (diff) throw new CheckpointError(`checkpoint config does not match the expected model: ${diff}`);
  }
  const table = paramTable(cfg);
  const params = new Float32Array(table.total);
  const known = new Set<string>(['lm_head.weight']);
  for (const s of table.specs) {
    known.add(s.name);
    const t = tensors.get(s.name);
    if (!t) throw new CheckpointError(`missing tensor ${s.name} (expected shape ${shapeStr(s.shape)})`);
    if (t.shape.length !== s.shape.length || t.shape.some((d, i) => d !== s.shape[i])) {
      throw new CheckpointError(`tensor ${s.name}: expected shape ${shapeStr(s.shape)}, found ${shapeStr(t.shape)}`);
    }
    params.set(t.data, s.offset);
  }
  checkTiedHead(tensors.get('lm_head.weight'), tensors.get('transformer.wte.weight')!);
  for (const name of tensors.keys()) {
    if (!known.has(name) && !IGNORED_BUFFER.test(name)) {
      throw new CheckpointError(`unexpected tensor ${name}: not part of the model described by the checkpoint config`);
    }
  }
  return { cfg, params, meta: parseMeta(metadata) };
}

/** lm_head.weight, when present, must equal wte: the lab's model ties them and has nowhere to keep another copy. */
function checkTiedHead(head: ReadTensor | undefined, wte: ReadTensor): void {
  if (!head) return;
  if (head.shape.length !== 2 || head.shape[0] !== wte.shape[0] || head.shape[1] !== wte.shape[1]) {
    throw new CheckpointError(
      `tensor lm_head.weight: expected shape ${shapeStr(wte.shape)} (tied to wte), found ${shapeStr(head.shape)}`,
    );
  }
  for (let i = 0; i < head.data.length; i++) {
    if (head.data[i] !== wte.data[i] && !(Number.isNaN(head.data[i]) && Number.isNaN(wte.data[i]))) {
      throw new CheckpointError(
        `tensor lm_head.weight differs from transformer.wte.weight at element ${i}; this model ties them (untied heads are not supported)`,
      );
    }
  }
}

function parseJsonField(metadata: Record<string, string>, key: string): unknown {
  const text = metadata[key];
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(`metadata "${key}" is not valid JSON: ${(e as Error).message}`);
  }
}

function parseMeta(metadata: Record<string, string>): ModelMeta {
  const meta: ModelMeta = { raw: { ...metadata } };
  if (metadata.format !== undefined) meta.format = metadata.format;
  if (metadata.objective !== undefined) meta.objective = metadata.objective;
  const step = parseJsonField(metadata, 'step');
  if (step !== undefined) {
    if (typeof step !== 'number' || !Number.isInteger(step))
      throw new CheckpointError(`metadata "step" must be a whole number, got ${metadata.step}`);
    meta.step = step;
  }
  const task = parseJsonField(metadata, 'task');
  if (task !== undefined) meta.task = task;
  const vocab = parseJsonField(metadata, 'vocab');
  if (vocab !== undefined) {
    if (!Array.isArray(vocab) || !vocab.every((s) => typeof s === 'string')) {
      throw new CheckpointError('metadata "vocab" must be a JSON list of strings');
    }
    meta.vocab = vocab;
  }
  return meta;
}

// ---------------------------------------------------------------------------------------------------------------
// Optimizer state
//
// A separate safetensors file, so a model checkpoint stays small and loads in nanoGPT as is. Keys:
//   adam.m.<param name>   AdamW first moment of that parameter, same shape as the parameter
//   adam.v.<param name>   AdamW second moment
// for every spec of paramTable(cfg) (the tied lm_head has none). Metadata strings:
//   format      "webgpu-lab-optimizer/1"
//   config      the model config JSON, as in a model checkpoint (checked on import)
//   step        optimizer steps taken (JSON number)
//   rng_state   the data/initialisation generator's state words (JSON list of numbers)
//   data_cursor position in the data stream, when the trainer keeps one (JSON number)
//   extra       anything else the trainer wants back (JSON object)

export interface OptimizerState {
  step: number;
  rngState: number[];
  dataCursor?: number;
  extra?: Record<string, unknown>;
}

export function exportOptimizer(cfg: ModelConfig, m: Float32Array, v: Float32Array, state: OptimizerState): Uint8Array {
  const table = paramTable(cfg);
  for (const [label, a] of [
    ['m', m],
    ['v', v],
  ] as const) {
    if (a.length !== table.total) {
      throw new CheckpointError(
        `adam.${label} holds ${a.length} floats, the table for this config needs ${table.total}`,
      );
    }
  }
  const tensors: NamedTensor[] = [];
  for (const [label, a] of [
    ['m', m],
    ['v', v],
  ] as const) {
    for (const s of table.specs)
      tensors.push({ name: `adam.${label}.${s.name}`, shape: s.shape, data: a.subarray(s.offset, s.offset + s.size) });
  }
  const metadata: Record<string, string> = {
    format: OPTIMIZER_FORMAT,
    config: JSON.stringify(configToJson(cfg)),
    lab_config: JSON.stringify(labConfigToJson(cfg)),
    step: JSON.stringify(state.step),
    rng_state: JSON.stringify(state.rngState),
  };
  if (state.dataCursor !== undefined) metadata.data_cursor = JSON.stringify(state.dataCursor);
  if (state.extra !== undefined) metadata.extra = JSON.stringify(state.extra);
  return writeSafetensors(tensors, metadata);
}

export function importOptimizer(
  bytes: Uint8Array,
  cfg: ModelConfig,
): { m: Float32Array; v: Float32Array; state: OptimizerState } {
  const { tensors, metadata } = readSafetensors(bytes);
  if (metadata.format !== OPTIMIZER_FORMAT) {
    throw new CheckpointError(
      `not an optimizer-state file: format is ${JSON.stringify(metadata.format)}, expected "${OPTIMIZER_FORMAT}"`,
    );
  }
  if (metadata.config !== undefined) {
    const diff = configDiff(configFromJson(metadata.config, metadata.lab_config), cfg);
    if (diff) throw new CheckpointError(`optimizer state was saved for another model: ${diff}`);
  }
  const table: ParamTable = paramTable(cfg);
  const read = (label: 'm' | 'v'): Float32Array => {
    const out = new Float32Array(table.total);
    for (const s of table.specs) {
      const name = `adam.${label}.${s.name}`;
      const t = tensors.get(name);
      if (!t) throw new CheckpointError(`missing tensor ${name} (expected shape ${shapeStr(s.shape)})`);
      if (t.shape.length !== s.shape.length || t.shape.some((d, i) => d !== s.shape[i])) {
        throw new CheckpointError(`tensor ${name}: expected shape ${shapeStr(s.shape)}, found ${shapeStr(t.shape)}`);
      }
      out.set(t.data, s.offset);
    }
    return out;
  };
  const m = read('m');
  const v = read('v');
  const known = new Set(table.specs.flatMap((s) => [`adam.m.${s.name}`, `adam.v.${s.name}`]));
  for (const name of tensors.keys()) {
    if (!known.has(name)) throw new CheckpointError(`unexpected tensor ${name} in optimizer state`);
  }
  const step = parseJsonField(metadata, 'step');
  if (typeof step !== 'number' || !Number.isInteger(step) || step < 0) {
    throw new CheckpointError(`metadata "step" must be a whole number >= 0, got ${JSON.stringify(metadata.step)}`);
  }
  const rngState = parseJsonField(metadata, 'rng_state');
  if (!Array.isArray(rngState) || !rngState.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw new CheckpointError(
      `metadata "rng_state" must be a JSON list of numbers, got ${JSON.stringify(metadata.rng_state)}`,
    );
  }
  const state: OptimizerState = { step, rngState };
  const cursor = parseJsonField(metadata, 'data_cursor');
  if (cursor !== undefined) {
    if (typeof cursor !== 'number' || !Number.isFinite(cursor))
      throw new CheckpointError('metadata "data_cursor" must be a number');
    state.dataCursor = cursor;
  }
  const extra = parseJsonField(metadata, 'extra');
  if (extra !== undefined) {
    if (!isRecord(extra)) throw new CheckpointError('metadata "extra" must be a JSON object');
    state.extra = extra;
  }
  return { m, v, state };
}

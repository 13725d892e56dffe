// A model checkpoint: one safetensors file holding every tensor of paramTable(cfg) under its nanoGPT state-dict name
// and PyTorch layout, plus `lm_head.weight` as a copy of `transformer.wte.weight` (nanoGPT ties them, and its
// state_dict lists both), so nanoGPT's GPT.load_state_dict reads it directly. Architecture comes from the checkpoint,
// as in nanoGPT's resume. The optimizer state is a separate file (optimizer-file.ts) so this one stays small.
import type { ModelConfig } from '../model/config';
import { paramTable } from '../model/params';
import {
  checkpointConfigDiff,
  configFromJson,
  configToJson,
  inferConfig,
  labConfigToJson,
  parseJsonField,
  type ImportOverrides,
} from './config-json';
import {
  CheckpointError,
  readSafetensors,
  shapeStr,
  writeSafetensors,
  type NamedTensor,
  type ReadTensor,
} from './safetensors';

/** The `format` metadata of a model checkpoint written here. */
export const MODEL_FORMAT = 'webgpu-lab/1';

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
    metadata.config !== undefined
      ? configFromJson(metadata.config, metadata.lab_config)
      : inferConfig(tensors, overrides, expected);
  if (expected) {
    const diff = checkpointConfigDiff(cfg, expected);
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

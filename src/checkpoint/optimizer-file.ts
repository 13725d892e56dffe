// The optimizer state of a run, for resuming it exactly: a safetensors file beside the model checkpoint, separate so
// the model file stays small and loads in nanoGPT as is. Keys:
//   adam.m.<param name>   AdamW first moment of that parameter, same shape as the parameter
//   adam.v.<param name>   AdamW second moment
// for every spec of paramTable(cfg) (the tied lm_head has none). Metadata strings:
//   format      "webgpu-lab-optimizer/1"
//   config      the model config JSON, and lab_config, as in a model checkpoint (checked on import)
//   step        optimizer steps taken (JSON number)
//   rng_state   the data/initialisation generator's state words (JSON list of numbers)
//   data_cursor position in the data stream, when the trainer keeps one (JSON number)
//   extra       anything else the trainer wants back (JSON object)
import type { ModelConfig } from '../model/config';
import { paramTable, type ParamTable } from '../model/params';
import { checkpointConfigDiff, configFromJson, configToJson, labConfigToJson, parseJsonField } from './config-json';
import {
  CheckpointError,
  isRecord,
  readSafetensors,
  shapeStr,
  writeSafetensors,
  type NamedTensor,
} from './safetensors';

/** The `format` metadata of an optimizer-state file written here. */
export const OPTIMIZER_FORMAT = 'webgpu-lab-optimizer/1';

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
    const diff = checkpointConfigDiff(configFromJson(metadata.config, metadata.lab_config), cfg);
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

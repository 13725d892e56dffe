// The model config a checkpoint carries, as JSON in its safetensors metadata: `config` holds nanoGPT's GPTConfig
// fields exactly (so nanoGPT builds the model from it as is), `lab_config` this lab's extensions. Reading a
// config back validates it like any other; a plain nanoGPT state dict, which has no config, gets one inferred from
// its tensor shapes. Model files, optimizer files and the ONNX export all write the same JSON, so it lives here once,
// and so does the one description of how two configs differ (configDiff), which the page's checkpoint panel uses too.
import { ConfigError, validateModelConfig, type AttentionMode, type ModelConfig } from '../model/config';
import { CheckpointError, isRecord, shapeStr, type ReadTensor } from './safetensors';

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

/** This lab's extensions of GPTConfig: the `lab_config` metadata. */
export interface LabConfigJson {
  attention: AttentionMode;
  extra_heads: number;
  /** Written only for a model with the token-order head (top_head.weight), so other models' metadata is unchanged. */
  top_head?: true;
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
  return { attention: cfg.attention, extra_heads: cfg.extraHeads, ...(cfg.topHead ? { top_head: true } : {}) };
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

/** The config of a checkpoint from its `config` and `lab_config` metadata (absent lab_config: nanoGPT's model). */
export function configFromJson(text: string, labText: string | undefined): ModelConfig {
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
    ...(lab.top_head === undefined ? {} : { topHead: lab.top_head }),
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

export interface ImportOverrides {
  /** Needed for a plain nanoGPT checkpoint (no "config" metadata): heads are not visible in tensor shapes. */
  nHead?: number;
  /** For a plain checkpoint; nanoGPT's GPT is causal. */
  attention?: AttentionMode;
}

/** Infer a config from a plain nanoGPT state dict's shapes; n_head is not visible in shapes and must be given. */
export function inferConfig(
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
    ...(tensors.has('top_head.weight') ? { topHead: true } : {}),
  };
  return checkedConfig(cfg, 'config inferred from tensor shapes');
}

/** A metadata string that holds JSON, parsed; undefined when the key is absent. */
export function parseJsonField(metadata: Record<string, string>, key: string): unknown {
  const text = metadata[key];
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(`metadata "${key}" is not valid JSON: ${(e as Error).message}`);
  }
}

/**
 * Each field where two configs differ, in the order of `fields` and worded by `say` (which gets the field's name from
 * `fields` and its value in a, then in b), joined by '; '; '' when they match. Checkpoint import and the page's
 * checkpoint panel both describe a mismatch with it, each in its own words.
 */
export function configDiff(
  a: ModelConfig,
  b: ModelConfig,
  fields: readonly (readonly [keyof ModelConfig, string])[],
  say: (name: string, a: ModelConfig[keyof ModelConfig], b: ModelConfig[keyof ModelConfig]) => string,
): string {
  // An absent topHead is false: a config read back from a file and one built by the lab agree.
  const value = (c: ModelConfig, k: keyof ModelConfig) => (k === 'topHead' ? !!c.topHead : c[k]);
  return fields
    .filter(([k]) => value(a, k) !== value(b, k))
    .map(([k, name]) => say(name, value(a, k), value(b, k)))
    .join('; ');
}

/** Checkpoint import names the fields as ModelConfig does, in GPTConfig's order. */
const CHECKPOINT_FIELDS = (
  ['vocabSize', 'blockSize', 'nLayer', 'nHead', 'nEmbd', 'attention', 'extraHeads', 'topHead'] as const
).map((k) => [k, k] as const);

/** A checkpoint's config against the expected one: "nLayer is 2 in the checkpoint, expected 3; …", '' when they match. */
export function checkpointConfigDiff(found: ModelConfig, expected: ModelConfig): string {
  return configDiff(
    found,
    expected,
    CHECKPOINT_FIELDS,
    (name, f, e) => `${name} is ${JSON.stringify(f)} in the checkpoint, expected ${JSON.stringify(e)}`,
  );
}

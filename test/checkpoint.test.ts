// Checkpoint files: safetensors encoding (byte-exact against a hand-written file), validation of damaged files,
// model and optimizer round trips, plain nanoGPT state dicts, zip bundles, and — when Debian's python3-torch is
// installed — an independent PyTorch GPT (tools/nanogpt_check.py) reading our checkpoint and matching the reference.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { bundleText, makeBundle, readBundle } from '../src/checkpoint/bundle';
import { exportModel, importModel } from '../src/checkpoint/model-file';
import { exportOptimizer, importOptimizer } from '../src/checkpoint/optimizer-file';
import { CheckpointError, readSafetensors, writeSafetensors, type NamedTensor } from '../src/checkpoint/safetensors';
import type { ModelConfig } from '../src/model/config';
import { paramTable } from '../src/model/params';
import { Rng } from '../src/model/rng';
import { randomParams, referenceLogits } from './fixtures';

const CFG: ModelConfig = {
  vocabSize: 13,
  blockSize: 8,
  nLayer: 2,
  nHead: 2,
  nEmbd: 8,
  attention: 'causal',
  extraHeads: 1,
};
const META = {
  objective: 'multiTokenHeads',
  step: 1234,
  task: { name: 'pathStar', degree: 3 },
  vocab: ['a', 'b', '<eos>'],
};

/** Every tensor random (padding stays 0), so a round trip that drops or moves any value is caught. */

/** Bit patterns, so -0 vs 0 and NaN payloads count as differences. */
const bits = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length);

/** A safetensors file from a literal header string and data bytes, for building damaged files by hand. */
function rawFile(header: string, data: Uint8Array = new Uint8Array(0), headerLen?: number): Uint8Array {
  const json = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLen ?? json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** Read a file, let `edit` change its tensor list, write it back (metadata kept). */
function rewrite(bytes: Uint8Array, edit: (t: NamedTensor[]) => NamedTensor[]): Uint8Array {
  const { tensors, metadata } = readSafetensors(bytes);
  const list = [...tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data }));
  return writeSafetensors(edit(list), metadata);
}

function expectCheckpointError(f: () => unknown, message: RegExp): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a CheckpointError').toBeInstanceOf(CheckpointError);
  expect((err as Error).message).toMatch(message);
}

describe('safetensors encoding', () => {
  test('a two-tensor file matches a hand-written encoding byte for byte', () => {
    const bytes = writeSafetensors(
      [
        { name: 'a', shape: [2], data: new Float32Array([1, 2]) },
        { name: 'b', shape: [1, 2], data: new Float32Array([-0.5, 3]) },
      ],
      { k: 'v' },
    );
    const header =
      '{"__metadata__":{"k":"v"},' +
      '"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},' +
      '"b":{"dtype":"F32","shape":[1,2],"data_offsets":[8,16]}}' +
      ' '; // 135 bytes of JSON, padded with one space to 136, a multiple of 8
    const expected = new Uint8Array([
      ...[0x88, 0, 0, 0, 0, 0, 0, 0], // u64 LE 136
      ...new TextEncoder().encode(header),
      ...[0x00, 0x00, 0x80, 0x3f], // 1.0f
      ...[0x00, 0x00, 0x00, 0x40], // 2.0f
      ...[0x00, 0x00, 0x00, 0xbf], // -0.5f
      ...[0x00, 0x00, 0x40, 0x40], // 3.0f
    ]);
    expect(header.length).toBe(136);
    expect(Array.from(bytes)).toEqual(Array.from(expected));
  });

  test('read gives back shapes, dtype, data and metadata', () => {
    const data = new Float32Array([0, -0, 1e-45, -3.4e38, Infinity, NaN, 0.1, -2]);
    const { tensors, metadata } = readSafetensors(
      writeSafetensors(
        [
          { name: 'x.weight', shape: [2, 4], data },
          { name: 'empty', shape: [0, 3], data: new Float32Array(0) },
        ],
        {
          note: 'ünïcode ✓',
        },
      ),
    );
    expect(metadata).toEqual({ note: 'ünïcode ✓' });
    expect(tensors.get('x.weight')!.shape).toEqual([2, 4]);
    expect(tensors.get('x.weight')!.dtype).toBe('F32');
    expect(Array.from(bits(tensors.get('x.weight')!.data))).toEqual(Array.from(bits(data)));
    expect(tensors.get('empty')!.shape).toEqual([0, 3]);
  });

  test('F16 and BF16 tensors are converted to float32 exactly', () => {
    // F16: 1.0 = 0x3c00, -2.0 = 0xc000, 2^-24 (smallest subnormal) = 0x0001, 65504 = 0x7bff.
    // BF16: 1.0 = 0x3f80, -0.5 = 0xbf00, 3.0 = 0x4040, 1.5 = 0x3fc0.
    const u16 = (xs: number[]): Uint8Array => {
      const b = new Uint8Array(2 * xs.length);
      xs.forEach((x, i) => new DataView(b.buffer).setUint16(2 * i, x, true));
      return b;
    };
    const data = new Uint8Array([...u16([0x3c00, 0xc000, 0x0001, 0x7bff]), ...u16([0x3f80, 0xbf00, 0x4040, 0x3fc0])]);
    const header =
      '{"h":{"dtype":"F16","shape":[4],"data_offsets":[0,8]},"b":{"dtype":"BF16","shape":[2,2],"data_offsets":[8,16]}}';
    const { tensors } = readSafetensors(rawFile(header, data));
    expect(Array.from(tensors.get('h')!.data)).toEqual([1, -2, 2 ** -24, 65504]);
    expect(Array.from(tensors.get('b')!.data)).toEqual([1, -0.5, 3, 1.5]);
    expect(tensors.get('b')!.dtype).toBe('BF16');
  });
});

describe('damaged safetensors files are refused with a CheckpointError that says why', () => {
  const good = writeSafetensors([{ name: 'w', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) }], {});
  const f32 = (n: number): Uint8Array => new Uint8Array(4 * n);

  test('truncated before the header length', () => {
    expectCheckpointError(() => readSafetensors(good.subarray(0, 5)), /truncated file: 5 bytes/);
  });
  test('truncated inside the data', () => {
    expectCheckpointError(
      () => readSafetensors(good.subarray(0, good.length - 4)),
      /tensor w: data_offsets \[0, 16\] out of range for a 12-byte data section/,
    );
  });
  test('header length beyond the file', () => {
    const bad = good.slice();
    new DataView(bad.buffer).setBigUint64(0, 1n << 40n, true);
    expectCheckpointError(() => readSafetensors(bad), /header length 1099511627776 runs past the end of the file/);
  });
  test('header that is not JSON', () => {
    expectCheckpointError(() => readSafetensors(rawFile('{"w": {dtype', f32(0))), /header is not valid UTF-8 JSON/);
    expectCheckpointError(() => readSafetensors(rawFile('[1,2]')), /header must be a JSON object/);
  });
  test('offsets that do not match shape and dtype', () => {
    const h = '{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}}';
    expectCheckpointError(
      () => readSafetensors(rawFile(h, f32(3))),
      /tensor w: data_offsets \[0, 12\] hold 12 bytes, but F32 \[2, 2\] needs 16/,
    );
  });
  test('overlapping tensors', () => {
    const h =
      '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}';
    expectCheckpointError(
      () => readSafetensors(rawFile(h, f32(3))),
      /tensor b: data_offsets \[4, 12\] overlap the previous tensor/,
    );
  });
  test('a gap between tensors', () => {
    const h =
      '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}';
    expectCheckpointError(() => readSafetensors(rawFile(h, f32(3))), /tensor b: gap of 4 bytes/);
  });
  test('trailing garbage after the last tensor', () => {
    const h = '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
    expectCheckpointError(() => readSafetensors(rawFile(h, f32(2))), /4 trailing bytes after the last tensor/);
  });
  test('an unsupported dtype', () => {
    const h = '{"ids":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}';
    expectCheckpointError(
      () => readSafetensors(rawFile(h, f32(2))),
      /tensor ids: unsupported dtype "I64"; supported: F32, F16, BF16/,
    );
  });
  test('metadata that is not strings', () => {
    expectCheckpointError(
      () => readSafetensors(rawFile('{"__metadata__":{"step":3}}')),
      /__metadata__.step must be a string/,
    );
  });
});

describe('model checkpoints', () => {
  const params = randomParams(CFG, 7);
  const bytes = exportModel(CFG, params, META);

  test('round trip is bit-identical, with config and metadata', () => {
    const got = importModel(bytes, CFG);
    expect(got.cfg).toEqual(CFG);
    expect(got.params.length).toBe(params.length);
    const a = bits(params);
    const b = bits(got.params);
    const firstDiff = a.findIndex((x, i) => x !== b[i]);
    expect(firstDiff, `first differing float at ${firstDiff}`).toBe(-1);
    expect(got.meta).toMatchObject({
      format: 'webgpu-lab/1',
      objective: META.objective,
      step: 1234,
      task: META.task,
      vocab: META.vocab,
    });
  });

  test('the file is a nanoGPT state dict: table names, tied lm_head, config metadata', () => {
    const { tensors, metadata } = readSafetensors(bytes);
    const names = paramTable(CFG).specs.map((s) => s.name);
    expect([...tensors.keys()].sort()).toEqual([...names, 'lm_head.weight'].sort());
    expect(tensors.get('lm_head.weight')!.data).toEqual(tensors.get('transformer.wte.weight')!.data);
    expect(tensors.get('transformer.h.1.attn.c_attn.weight')!.shape).toEqual([24, 8]);
    expect(tensors.has('mtp_heads.0.mlp.c_proj.bias')).toBe(true);
    // `config` holds nanoGPT's GPTConfig fields only, so GPTConfig(**config) accepts it unchanged.
    expect(JSON.parse(metadata.config)).toEqual({
      vocab_size: 13,
      block_size: 8,
      n_layer: 2,
      n_head: 2,
      n_embd: 8,
      bias: true,
      dropout: 0,
    });
    expect(JSON.parse(metadata.lab_config)).toEqual({ attention: 'causal', extra_heads: 1 });
  });

  test('a missing tensor is named', () => {
    const bad = rewrite(bytes, (ts) => ts.filter((t) => t.name !== 'transformer.h.1.mlp.c_fc.bias'));
    expectCheckpointError(
      () => importModel(bad),
      /missing tensor transformer\.h\.1\.mlp\.c_fc\.bias \(expected shape \[32\]\)/,
    );
  });

  test('a wrong shape names the tensor, expected and found shapes', () => {
    const bad = rewrite(bytes, (ts) =>
      ts.map((t) => (t.name === 'transformer.h.0.attn.c_proj.weight' ? { ...t, shape: [4, 16] } : t)),
    );
    expectCheckpointError(
      () => importModel(bad),
      /tensor transformer\.h\.0\.attn\.c_proj\.weight: expected shape \[8, 8\], found \[4, 16\]/,
    );
  });

  test('a config that differs from the expected model lists every difference', () => {
    expectCheckpointError(
      () => importModel(bytes, { ...CFG, nLayer: 3, attention: 'bidirectional' }),
      /checkpoint config does not match the expected model: nLayer is 2 in the checkpoint, expected 3; attention is "causal" in the checkpoint, expected "bidirectional"/,
    );
  });

  test('an invalid config in the metadata is refused', () => {
    const { tensors, metadata } = readSafetensors(bytes);
    const cfgJson = { ...JSON.parse(metadata.config), n_head: 3 };
    const bad = writeSafetensors(
      [...tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data })),
      { ...metadata, config: JSON.stringify(cfgJson) },
    );
    expectCheckpointError(() => importModel(bad), /config in checkpoint: nEmbd: must be a multiple of nHead \(3\)/);
  });

  test('an lm_head.weight that is not tied to wte is refused', () => {
    const bad = rewrite(bytes, (ts) =>
      ts.map((t) => (t.name === 'lm_head.weight' ? { ...t, data: t.data.map((x, i) => (i === 5 ? x + 1 : x)) } : t)),
    );
    expectCheckpointError(() => importModel(bad), /lm_head\.weight differs from transformer\.wte\.weight at element 5/);
  });

  test('an unexpected tensor is refused', () => {
    const bad = rewrite(bytes, (ts) => [
      ...ts,
      { name: 'transformer.h.2.ln_1.weight', shape: [8], data: new Float32Array(8) },
    ]);
    expectCheckpointError(() => importModel(bad), /unexpected tensor transformer\.h\.2\.ln_1\.weight/);
  });

  test('a plain nanoGPT state dict (no metadata, attn.bias mask buffers) imports with nHead given', () => {
    const plainCfg: ModelConfig = { ...CFG, extraHeads: 0 };
    const p = randomParams(plainCfg, 11);
    const { tensors } = readSafetensors(exportModel(plainCfg, p, META));
    const list = [...tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data }));
    for (let i = 0; i < plainCfg.nLayer; i++) {
      // nanoGPT registers torch.tril(ones(T, T)).view(1, 1, T, T) as attn.bias when flash attention is unavailable.
      const mask = new Float32Array(64).map((_, j) => (j % 8 <= Math.floor(j / 8) ? 1 : 0));
      list.push({ name: `transformer.h.${i}.attn.bias`, shape: [1, 1, 8, 8], data: mask });
    }
    const plain = writeSafetensors(list, {});
    expectCheckpointError(() => importModel(plain), /n_head cannot be inferred from shapes; pass nHead/);
    const got = importModel(plain, undefined, { nHead: 2 });
    expect(got.cfg).toEqual(plainCfg);
    expect(Array.from(bits(got.params))).toEqual(Array.from(bits(p)));
    expect(got.meta).toEqual({ raw: {} });
    // With an expected config, its nHead is used.
    expect(importModel(plain, plainCfg).cfg).toEqual(plainCfg);
  });
});

describe('a model with the token-order head', () => {
  const topCfg: ModelConfig = { ...CFG, extraHeads: 0, topHead: true };
  const params = randomParams(topCfg, 13);
  const bytes = exportModel(topCfg, params, { ...META, objective: 'top' });

  test('round trip: top_head.weight (V,C) in the file, top_head in lab_config, both read back', () => {
    const got = importModel(bytes, topCfg);
    expect(got.cfg).toEqual(topCfg);
    expect(Array.from(bits(got.params))).toEqual(Array.from(bits(params)));
    const { tensors, metadata } = readSafetensors(bytes);
    expect(tensors.get('top_head.weight')!.shape).toEqual([13, 8]);
    expect(JSON.parse(metadata.lab_config)).toEqual({ attention: 'causal', extra_heads: 0, top_head: true });
    // A model without the head keeps the metadata it always had, and the two are told apart.
    expectCheckpointError(
      () => importModel(bytes, { ...topCfg, topHead: undefined }),
      /topHead is true in the checkpoint, expected false/,
    );
    // From a plain state dict, the head is seen in the tensors.
    const list = [...tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data }));
    expect(importModel(writeSafetensors(list, {}), undefined, { nHead: 2 }).cfg).toEqual(topCfg);
    // Its optimizer state too.
    const m = randomParams(topCfg, 14);
    const opt = importOptimizer(exportOptimizer(topCfg, m, m, { step: 3, rngState: [1] }), topCfg);
    expect(Array.from(bits(opt.m))).toEqual(Array.from(bits(m)));
  });
});

describe('optimizer state', () => {
  const table = paramTable(CFG);
  const m = randomParams(CFG, 21);
  const v = randomParams(CFG, 22).map(Math.abs);
  const state = { step: 57, rngState: [123456789, 42], dataCursor: 9001, extra: { lrScale: 0.5 } };

  test('round trip is bit-identical and keeps step, RNG state, cursor and extras', () => {
    const bytes = exportOptimizer(CFG, m, v, state);
    const got = importOptimizer(bytes, CFG);
    expect(Array.from(bits(got.m))).toEqual(Array.from(bits(m)));
    expect(Array.from(bits(got.v))).toEqual(Array.from(bits(v)));
    expect(got.state).toEqual(state);
    const { tensors } = readSafetensors(bytes);
    expect(tensors.size).toBe(2 * table.specs.length);
    expect(tensors.get('adam.m.transformer.wte.weight')!.shape).toEqual([13, 8]);
    expect(tensors.get('adam.v.mtp_heads.0.ln_2.bias')!.shape).toEqual([8]);
  });

  test('optional fields may be absent', () => {
    const got = importOptimizer(exportOptimizer(CFG, m, v, { step: 0, rngState: [1] }), CFG);
    expect(got.state).toEqual({ step: 0, rngState: [1] });
  });

  test('state saved for another model, or a model file, is refused', () => {
    const bytes = exportOptimizer(CFG, m, v, state);
    expectCheckpointError(
      () => importOptimizer(bytes, { ...CFG, nEmbd: 16 }),
      /optimizer state was saved for another model: nEmbd is 8 in the checkpoint, expected 16/,
    );
    expectCheckpointError(
      () => importOptimizer(exportModel(CFG, m, META), CFG),
      /not an optimizer-state file: format is "webgpu-lab\/1"/,
    );
    const missing = rewrite(bytes, (ts) => ts.filter((t) => t.name !== 'adam.v.transformer.ln_f.weight'));
    expectCheckpointError(() => importOptimizer(missing, CFG), /missing tensor adam\.v\.transformer\.ln_f\.weight/);
  });
});

describe('bundles', () => {
  test('round trip keeps every file byte for byte, and the same files give the same zip', () => {
    const model = exportModel(CFG, randomParams(CFG, 3), META);
    const files = [
      { name: 'model.safetensors', data: model },
      { name: 'run.json', data: JSON.stringify({ objective: 'teacherForcing', seed: 1 }) },
      { name: 'README.md', data: '# run ✓\n' },
    ];
    const zip = makeBundle(files);
    const back = readBundle(zip);
    expect([...back.keys()].sort()).toEqual(['README.md', 'model.safetensors', 'run.json']);
    expect(Array.from(back.get('model.safetensors')!)).toEqual(Array.from(model));
    expect(JSON.parse(bundleText(back, 'run.json'))).toEqual({ objective: 'teacherForcing', seed: 1 });
    expect(bundleText(back, 'README.md')).toBe('# run ✓\n');
    expect(Array.from(makeBundle(files))).toEqual(Array.from(zip));
    expect(importModel(back.get('model.safetensors')!).cfg).toEqual(CFG);
  });

  test('bad bundles and names are refused', () => {
    expectCheckpointError(() => readBundle(new Uint8Array([1, 2, 3, 4, 5])), /not a readable zip bundle/);
    expectCheckpointError(() => makeBundle([{ name: '../x', data: 'x' }]), /must be a relative path/);
    expectCheckpointError(
      () =>
        makeBundle([
          { name: 'a', data: 'x' },
          { name: 'a', data: 'y' },
        ]),
      /bundle entry a is listed twice/,
    );
    expectCheckpointError(
      () => bundleText(readBundle(makeBundle([{ name: 'a', data: 'x' }])), 'b'),
      /bundle has no file b; it holds a/,
    );
  });
});

// An independent PyTorch GPT (tools/nanogpt_check.py) reads our checkpoint. It runs in float64 on the same float32
// weights as the float64 reference, so the only differences are summation order and libm: |a-b| <= 1e-9 is ample
// (observed ~1e-15) and far below what a wrong layout, a transposed weight or a missing mask would cause (~1e-1).
const PYTHON = '/usr/bin/python3';
const torchProbe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
const torchMissing =
  torchProbe.status !== 0
    ? `${PYTHON} cannot import torch (apt-get install python3-torch): ${(torchProbe.stderr || String(torchProbe.error)).trim().split('\n').pop()}`
    : '';
// Outside CI a machine without PyTorch skips this check; in CI (.ci/run sets CI) PyTorch is installed, so it must run.
if (torchMissing && !process.env['CI']) console.warn(`skipping the PyTorch nanoGPT check: ${torchMissing}`);

describe.skipIf(torchMissing !== '' && !process.env['CI'])('PyTorch nanoGPT reads the checkpoint', () => {
  const cases: ModelConfig[] = [
    { ...CFG, extraHeads: 0 },
    { ...CFG, attention: 'bidirectional', extraHeads: 2 },
    { ...CFG, extraHeads: 0, topHead: true },
  ];
  const name = (c: ModelConfig) =>
    `${c.attention} attention, ${c.extraHeads} extra heads${c.topHead ? ', the token-order head' : ''}`;
  test.each(cases.map((c) => [name(c), c] as const))('%s: logits match the reference', (_name, cfg) => {
    const params = randomParams(cfg, 5);
    const n = 2;
    const T = 6; // shorter than blockSize, so position slicing matters
    const rng = new Rng(99);
    const tokens = Int32Array.from({ length: n * T }, () => rng.int(cfg.vocabSize));
    const ref = referenceLogits(cfg, params, tokens, n, T);

    const dir = mkdtempSync(join(tmpdir(), 'nanogpt-check-'));
    try {
      writeFileSync(join(dir, 'model.safetensors'), exportModel(cfg, params, META));
      writeFileSync(
        join(dir, 'ids.json'),
        JSON.stringify([0, 1].map((b) => Array.from(tokens.subarray(b * T, (b + 1) * T)))),
      );
      const run = spawnSync(
        PYTHON,
        ['tools/nanogpt_check.py', join(dir, 'model.safetensors'), join(dir, 'ids.json'), join(dir, 'out.json')],
        {
          encoding: 'utf8',
        },
      );
      expect(run.status, `nanogpt_check.py failed:\n${run.stderr}`).toBe(0);
      const out = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8')) as { shape: number[]; logits: number[] };
      expect(out.shape).toEqual([1 + cfg.extraHeads + (cfg.topHead ? 1 : 0), n, T, cfg.vocabSize]);
      let worst = 0;
      let worstAt = -1;
      for (let i = 0; i < ref.length; i++) {
        const d = Math.abs(out.logits[i] - ref[i]);
        if (!(d <= worst)) [worst, worstAt] = [d, i];
      }
      console.log(
        `torch float64 vs reference (${cfg.attention}, ${cfg.extraHeads} extra heads): max |a-b| = ${worst.toExponential(2)}`,
      );
      expect(
        worst,
        `largest difference at ${worstAt}: torch ${out.logits[worstAt]} vs reference ${ref[worstAt]}`,
      ).toBeLessThanOrEqual(1e-9);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

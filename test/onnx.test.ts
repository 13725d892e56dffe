// ONNX export: the exported graph runs in onnxruntime-node and matches the float64 reference, and passes ONNX's own
// checker (full_check, which includes strict shape inference) through Debian's python3-onnx.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, test } from 'vitest';
import { exportOnnx } from '../src/checkpoint/onnx';
import type { ModelConfig } from '../src/model/config';
import { Rng } from '../src/model/rng';
import { randomParams, referenceLogits } from './fixtures';

const BASE: ModelConfig = {
  vocabSize: 17,
  blockSize: 8,
  nLayer: 2,
  nHead: 4,
  nEmbd: 16,
  attention: 'causal',
  extraHeads: 0,
};
const CASES: ModelConfig[] = [
  BASE,
  { ...BASE, attention: 'bidirectional' },
  { ...BASE, extraHeads: 2 },
  { ...BASE, attention: 'bidirectional', extraHeads: 2 },
  { ...BASE, topHead: true },
];
const label = (c: ModelConfig): string =>
  `${c.attention}, ${c.extraHeads} extra heads${c.topHead ? ', the token-order head' : ''}`;

/** Every tensor random (LayerNorm gains around 1), scaled so logits are O(1) and every path matters. */

/**
 * Logits (H,n,T,V) from onnxruntime: head 0 is `logits`, head k is `logits_head{k}`; then, with the token-order
 * head, its `logits_top` (n,T,V).
 */
async function ortLogits(
  session: ort.InferenceSession,
  cfg: ModelConfig,
  tokens: Int32Array,
  n: number,
  T: number,
): Promise<Float32Array> {
  const ids = new ort.Tensor(
    'int64',
    BigInt64Array.from(tokens, (t) => BigInt(t)),
    [n, T],
  );
  const out = await session.run({ input_ids: ids });
  const H = 1 + cfg.extraHeads;
  const names = Array.from({ length: H }, (_, k) => (k === 0 ? 'logits' : `logits_head${k}`));
  if (cfg.topHead) names.push('logits_top');
  const all = new Float32Array(names.length * n * T * cfg.vocabSize);
  for (const [k, name] of names.entries()) {
    const t = out[name]!;
    expect(t.dims).toEqual([n, T, cfg.vocabSize]);
    all.set(t.data as Float32Array, k * n * T * cfg.vocabSize);
  }
  return all;
}

describe('ONNX export runs in onnxruntime-node and matches the float64 reference', () => {
  // Tolerance |a-b| <= 1e-4: onnxruntime computes in float32 (unit roundoff 6e-8); through two blocks of width 16
  // with O(1) activations the accumulated error is ~1e-6, while a wrong mask, head split, transpose or missing
  // LayerNorm moves logits by ~1e-1.
  const ATOL = 1e-4;

  test.each(CASES.map((c) => [label(c), c] as const))('%s', async (_name, cfg) => {
    const params = randomParams(cfg, 42);
    const session = await ort.InferenceSession.create(exportOnnx(cfg, params));
    const rng = new Rng(7);
    let worst = 0;
    // Full length and shorter sequences: the position table and the mask are sliced to the input's length.
    for (const [n, T] of [
      [3, cfg.blockSize],
      [2, 5],
      [1, 1],
    ]) {
      const tokens = Int32Array.from({ length: n * T }, () => rng.int(cfg.vocabSize));
      const ref = referenceLogits(cfg, params, tokens, n, T);
      const got = await ortLogits(session, cfg, tokens, n, T);
      let at = -1;
      let max = 0;
      for (let i = 0; i < ref.length; i++) {
        const d = Math.abs(got[i] - ref[i]);
        if (!(d <= max)) [max, at] = [d, i];
      }
      if (!(max <= ATOL)) {
        const first = Array.from({ length: 5 }, (_, i) => `${got[i].toFixed(6)} vs ${ref[i].toFixed(6)}`).join(', ');
        expect.fail(
          `n=${n} T=${T}: largest |a-b| = ${max} at ${at} (onnx ${got[at]}, reference ${ref[at]}); first values: ${first}`,
        );
      }
      worst = Math.max(worst, max);
    }
    console.log(`ONNX vs reference (${label(cfg)}): max |a-b| = ${worst.toExponential(2)}`);
  });

  test('the graph declares the expected inputs and outputs', async () => {
    const cfg = { ...BASE, extraHeads: 2 };
    const session = await ort.InferenceSession.create(exportOnnx(cfg, randomParams(cfg, 1)));
    expect(session.inputNames).toEqual(['input_ids']);
    expect(session.outputNames).toEqual(['logits', 'logits_head1', 'logits_head2']);
  });
});

// ONNX's checker, through Debian's python3-onnx (the pyenv python3 on PATH does not have it).
const PYTHON = '/usr/bin/python3';
const onnxProbe = spawnSync(PYTHON, ['-c', 'import onnx'], { encoding: 'utf8' });
const onnxMissing =
  onnxProbe.status !== 0
    ? `${PYTHON} cannot import onnx (apt-get install python3-onnx): ${(onnxProbe.stderr || String(onnxProbe.error)).trim().split('\n').pop()}`
    : '';
// Outside CI a machine without python3-onnx skips the checker; in CI (.ci/run sets CI) it must run.
if (onnxMissing && !process.env['CI']) console.warn(`skipping the ONNX checker: ${onnxMissing}`);

describe.skipIf(onnxMissing !== '' && !process.env['CI'])('ONNX checker (full_check)', () => {
  test.each(CASES.map((c) => [label(c), c] as const))('%s', (_name, cfg) => {
    const dir = mkdtempSync(join(tmpdir(), 'onnx-check-'));
    try {
      const file = join(dir, 'model.onnx');
      writeFileSync(file, exportOnnx(cfg, randomParams(cfg, 3)));
      const script =
        'import onnx, sys; m = onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True); ' +
        'print(m.opset_import[0].version, [o.name for o in m.graph.output])';
      const run = spawnSync(PYTHON, ['-c', script, file], { encoding: 'utf8' });
      expect(run.status, `onnx.checker rejected the model:\n${run.stderr}`).toBe(0);
      const heads = Array.from({ length: cfg.extraHeads }, (_, k) => `'logits_head${k + 1}'`);
      if (cfg.topHead) heads.push("'logits_top'");
      expect(run.stdout.trim()).toBe(`17 [${["'logits'", ...heads].join(', ')}]`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

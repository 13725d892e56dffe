// A model trained by the GPU engine leaves the lab intact: its ONNX export in onnxruntime-node and its safetensors
// in an independent PyTorch GPT with nanoGPT's structure (tools/nanogpt_check.py) give the lab's own logits.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, test } from 'vitest';
import { filesToLaneState, laneToFiles } from '../../src/checkpoint/lane-files';
import { nodeGpu } from '../../src/engine/node-gpu';
import type { ExperimentSpec } from '../../src/lab/api';
import { Lab } from '../../src/lab/lab';
import { DEFAULT_TRAIN } from '../../src/model/config';
import { compare, presetVariantCache } from './helpers';

const spec: ExperimentSpec = {
  task: { kind: 'path-star', degree: 2, pathLength: 3, nodes: 12, trainSize: 0, testSize: 16 },
  objectives: [
    { kind: 'mtp', heads: 2 },
    { kind: 'diffusion', decodeSteps: 3, variant: 'mdlm' },
  ],
  model: { nLayer: 2, nEmbd: 16, nHead: 2 },
  train: { ...DEFAULT_TRAIN, batchSize: 8, steps: 5, lr: 1e-2 },
  evalEvery: 100,
  evalExamples: 8,
};

const torchAvailable = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;

describe('export of GPU-trained models', () => {
  test('ONNX (onnxruntime-node) and PyTorch logits match the lab forward pass within 1e-4', async () => {
    const lab = new Lab({ gpu: nodeGpu, variantCache: await presetVariantCache() });
    await lab.run(spec, () => {});
    const dir = mkdtempSync(join(tmpdir(), 'lab-export-'));
    const run = (await lab.runInfo())!;
    for (const { lane } of run.results) {
      const state = await lab.snapshot(lane);
      const files = laneToFiles(state, spec, run.vocab);
      const n = 4;
      const T = state.config.blockSize;
      const tokens = Int32Array.from({ length: n * T }, (_, i) => (i * 7 + 3) % state.config.vocabSize);
      const { logits: labLogits, H, V } = await lab.laneForward(lane, tokens, n);

      const session = await ort.InferenceSession.create(files.onnx);
      const out = await session.run({ input_ids: new ort.Tensor('int64', BigInt64Array.from(tokens, BigInt), [n, T]) });
      const onnx = new Float32Array(H * n * T * V);
      for (let h = 0; h < H; h++)
        onnx.set(out[h === 0 ? 'logits' : `logits_head${h}`]!.data as Float32Array, h * n * T * V);
      // Both sides are float32 over the same weights; they differ only in summation order: ~1e-6.
      compare(`${state.objective}: ONNX vs lab`, onnx, labLogits, 1e-4, 0);

      // The files round-trip to the same state.
      const back = filesToLaneState(files.model, files.optimizer);
      expect(back.state.params).toEqual(state.params);
      expect(back.state.adamV).toEqual(state.adamV);

      // Outside CI a machine without PyTorch skips the comparison; in CI (.ci/run sets CI) it must run, and fail.
      if (!torchAvailable && !process.env['CI']) {
        console.log('skipped the PyTorch comparison: /usr/bin/python3 has no torch (apt-get install python3-torch)');
        continue;
      }
      const model = join(dir, `${state.objective}.safetensors`);
      writeFileSync(model, files.model);
      const ids = join(dir, 'ids.json');
      writeFileSync(
        ids,
        JSON.stringify(Array.from({ length: n }, (_, b) => Array.from(tokens.subarray(b * T, (b + 1) * T)))),
      );
      const outFile = join(dir, 'out.json');
      const r = spawnSync('/usr/bin/python3', ['tools/nanogpt_check.py', model, ids, outFile, '--dtype', 'float32'], {
        encoding: 'utf8',
      });
      expect(r.status, r.stderr).toBe(0);
      const torchOut = JSON.parse(readFileSync(outFile, 'utf8')) as { shape: number[]; logits: number[] };
      expect(torchOut.shape).toEqual([H, n, T, V]);
      compare(`${state.objective}: PyTorch vs lab`, torchOut.logits, labLogits, 1e-4, 0);
    }
  });
});

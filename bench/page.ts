// The benchmark page: trains the same GPT with TensorFlow.js (webgpu backend, bench/tfjs-gpt.ts) and with the lab's
// GpuModel, on the same batch, alternating between the two so that both see the same machine load. Driven by
// bench/browser.ts through window.runBench.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { acquireGpu } from '../src/engine/gpu';
import { chooseMatmulVariant } from '../src/engine/matmul-variants';
import type { BrowserBenchResult, BrowserPlan, BrowserSizeResult } from './browser';
import { B, benchBatch, LR, modelConfig, SEED, spread, T, TRAIN } from './common';
import { TfGpt } from './tfjs-gpt';
import { labModel, timeLabSteps } from './train';

declare global {
  interface Window {
    runBench(plans: BrowserPlan[]): Promise<BrowserBenchResult>;
  }
}

async function tfSteps(
  model: TfGpt,
  tokens: tf.Tensor2D,
  targets: tf.Tensor1D,
  steps: number,
): Promise<{ tokensPerSecond: number; loss: number }> {
  const t0 = performance.now();
  let loss = NaN;
  for (let i = 0; i < steps; i++) loss = await model.step(tokens, targets, LR, TRAIN);
  return { tokensPerSecond: (steps * B * T) / ((performance.now() - t0) / 1000), loss };
}

window.runBench = async (plans: BrowserPlan[]): Promise<BrowserBenchResult> => {
  const ctx = await acquireGpu(navigator.gpu);
  const variant = (await chooseMatmulVariant(ctx.device, ctx.adapterInfo)).variant;
  if (!(await tf.setBackend('webgpu'))) throw new Error('TF.js could not start its webgpu backend');
  await tf.ready();
  const tfInfo = (tf.backend() as unknown as { adapterInfo?: { vendor?: string; architecture?: string } }).adapterInfo;
  const { tokens: tok, targets: tgt } = benchBatch();
  const tokens = tf.tensor2d(tok, [B, T], 'int32');
  const targets = tf.tensor1d(tgt, 'int32');
  const sizes: BrowserSizeResult[] = [];
  for (const plan of plans) {
    const s = plan.size;
    const lab = labModel(ctx.device, s, variant);
    const tfModel = new TfGpt(modelConfig(s), SEED);
    // Warm-up: pipeline and shader compilation, first touch of memory.
    let t = await timeLabSteps(lab.model, lab.batch, 1);
    console.log(`${s.name}: lab warm-up step ${((B * T) / t.tokensPerSecond).toFixed(1)} s, loss ${t.loss.toFixed(4)}`);
    let u = { tokensPerSecond: NaN, loss: NaN };
    if (plan.tfWarmup) {
      u = await tfSteps(tfModel, tokens, targets, 1);
      console.log(
        `${s.name}: TF.js warm-up step ${((B * T) / u.tokensPerSecond).toFixed(1)} s, loss ${u.loss.toFixed(4)}`,
      );
    } else {
      console.log(`${s.name}: no TF.js warm-up step; its first timed step includes shader compilation`);
    }
    const labRates: number[] = [];
    const tfRates: number[] = [];
    for (let r = 0; r < plan.rounds; r++) {
      t = await timeLabSteps(lab.model, lab.batch, plan.labSteps);
      labRates.push(t.tokensPerSecond);
      u = await tfSteps(tfModel, tokens, targets, plan.tfSteps);
      tfRates.push(u.tokensPerSecond);
      console.log(
        `${s.name} round ${r + 1}/${plan.rounds}: lab ${t.tokensPerSecond.toFixed(1)} tok/s, TF.js ${u.tokensPerSecond.toFixed(1)} tok/s`,
      );
    }
    const labS = spread(labRates);
    const tfS = spread(tfRates);
    sizes.push({
      size: s.name,
      lab: labS,
      tfjs: tfS,
      ratio: labS.median / tfS.median,
      labLoss: t.loss,
      tfLoss: u.loss,
      plan: { rounds: plan.rounds, labSteps: plan.labSteps, tfSteps: plan.tfSteps, tfWarmup: plan.tfWarmup },
    });
    lab.model.destroy();
    tfModel.dispose();
  }
  tokens.dispose();
  targets.dispose();
  return {
    userAgent: navigator.userAgent,
    labAdapter: `${ctx.adapterInfo.vendor} / ${ctx.adapterInfo.architecture}`,
    tfAdapter: tfInfo ? `${tfInfo.vendor ?? '?'} / ${tfInfo.architecture ?? '?'}` : 'unknown',
    matmulVariant: variant.name,
    sizes,
  };
};

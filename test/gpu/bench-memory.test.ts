// The benchmark's memory check must be able to fail: the tracker sees every buffer created and every byte still
// held, and a training run of the real model adds neither.
import { expect, test } from 'vitest';
import { benchMemory, trackBuffers } from '../../bench/train';
import { presetMatmulVariant } from '../../src/engine/matmul-variants';
import { testGpu } from './helpers';

test('trackBuffers counts buffers and the bytes still held, until each is destroyed', async () => {
  const { device, errors } = await testGpu();
  const tracker = trackBuffers(device);
  try {
    const a = device.createBuffer({ size: 1024, usage: GPUBufferUsage.STORAGE });
    const b = device.createBuffer({ size: 256, usage: GPUBufferUsage.UNIFORM });
    expect([tracker.count(), tracker.liveBytes()]).toEqual([2, 1280]);
    a.destroy();
    a.destroy(); // a second destroy frees nothing more
    expect([tracker.count(), tracker.liveBytes()]).toEqual([2, 256]);
    b.destroy();
    expect(tracker.liveBytes()).toBe(0);
  } finally {
    tracker.restore();
  }
  // Restored: buffers made afterwards are not counted.
  device.createBuffer({ size: 64, usage: GPUBufferUsage.STORAGE }).destroy();
  expect(tracker.count()).toBe(2);
  expect(errors).toEqual([]);
});

test('benchMemory: 120 steps of a small model create nothing and add no bytes; a leak fails the check', async () => {
  const { device, adapterInfo, errors } = await testGpu();
  const size = { name: '1/32/2', nLayer: 1, nEmbd: 32, nHead: 2 };
  const matmul = presetMatmulVariant(adapterInfo);
  const clean = await benchMemory(device, size, matmul, 120, () => {});
  expect(clean).toMatchObject({ steps: 120, buffersCreatedDuringSteps: 0, bytesAddedDuringSteps: 0, ok: true });
  expect(clean.bytesAtConstruction).toBeGreaterThanOrEqual(clean.planBytes);

  // A leak during the steps: one buffer made while the check runs (its log line comes after the last step, before
  // the counts are taken).
  let leaked: GPUBuffer | null = null;
  const leaky = await benchMemory(device, size, matmul, 100, () => {
    leaked ??= device.createBuffer({ size: 4096, usage: GPUBufferUsage.STORAGE });
  });
  expect(leaked).not.toBeNull();
  expect(leaky.ok).toBe(false);
  expect([leaky.buffersCreatedDuringSteps, leaky.bytesAddedDuringSteps]).toEqual([1, 4096]);
  leaked!.destroy();
  expect(errors).toEqual([]);
});

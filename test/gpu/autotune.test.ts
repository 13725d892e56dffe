// The kernel choices per adapter (src/engine/autotune.ts): timed once, kept as one cache entry per adapter, read back
// by the next run; an entry from another matmul variant, one that does not read, or a cache that fails only cost the
// timing. The choosers themselves (what is timed, what is known) are tested beside their kernels: matmul.test.ts,
// kernels.test.ts, activations-f16.test.ts.
import { expect, test } from 'vitest';
import { isLavapipe, isSwiftShader, type VariantCache } from '../../src/engine/adapter';
import { kernelCacheKey, readKernelEntry, tuneKernels } from '../../src/engine/autotune';
import { testGpu } from './helpers';

const probes = {
  matmul: { rows: 64, width: 16, repeats: 1 },
  reduction: { rows: 100, width: 40, vocab: 11, repeats: 1 },
  activations: { rows: 64, width: 16, repeats: 1 },
};

/** A cache that shows what was written. */
class SeenCache implements VariantCache {
  readonly map = new Map<string, string>();
  async get(key: string) {
    return this.map.get(key);
  }
  async set(key: string, value: string) {
    this.map.set(key, value);
  }
}

test('entries read back: names kept, anything else ignored', () => {
  expect(readKernelEntry(undefined)).toEqual({});
  expect(readKernelEntry('{not json')).toEqual({});
  expect(readKernelEntry('"vec4-reg8x8"')).toEqual({});
  expect(readKernelEntry('{"matmul":"a","reduction":7,"activations":{"matmul":"a"}}')).toEqual({ matmul: 'a' });
  const whole = { matmul: 'a', reduction: 'b', activations: { matmul: 'a', storage: 'f16' } };
  expect(readKernelEntry(JSON.stringify(whole))).toEqual(whole);
});

test('one entry per adapter: timed once, then read back; what changed is timed again', async () => {
  const { device, adapterInfo: own, errors } = await testGpu();
  const cache = new SeenCache();
  if (isSwiftShader(own!) || isLavapipe(own!)) {
    // Nothing to time on these adapters (every choice known or unavailable): nothing written.
    const known = await tuneKernels(device, own, { cache, probes });
    expect([known.matmul, known.reduction, known.activations].map((c) => c.source)).not.toContain('timed');
    expect(cache.map.size).toBe(0);
  }
  // SwiftShader stops there; lavapipe goes on under an adapter identity the code does not know, timing on this
  // device as on a GPU it does not know.
  if (isSwiftShader(own!)) return;
  const adapterInfo = isLavapipe(own!)
    ? { vendor: 'test-vendor', architecture: 'software', description: 'an unknown CPU adapter' }
    : own;
  const first = await tuneKernels(device, adapterInfo, { cache, probes });
  const key = kernelCacheKey(adapterInfo);
  expect([...cache.map.keys()]).toEqual([key]);
  expect(readKernelEntry(cache.map.get(key))).toEqual({
    matmul: first.matmul.variant.name,
    reduction: first.reduction.variant.name,
    activations: { matmul: first.matmul.variant.name, storage: first.activations.storage },
  });

  const second = await tuneKernels(device, adapterInfo, { cache, probes });
  expect([second.matmul.variant, second.reduction.variant, second.activations.storage]).toEqual([
    first.matmul.variant,
    first.reduction.variant,
    first.activations.storage,
  ]);
  for (const c of [second.matmul, second.reduction, second.activations]) expect(c.source).not.toBe('timed');
  expect(cache.map.size).toBe(1);

  // The activations' storage timed on another matmul variant: it is timed again on this one, the rest read.
  const entry = readKernelEntry(cache.map.get(key));
  cache.map.set(key, JSON.stringify({ ...entry, activations: { matmul: 'another-variant', storage: 'f16' } }));
  const third = await tuneKernels(device, adapterInfo, { cache, probes });
  expect(third.matmul.source).not.toBe('timed');
  if (first.activations.source === 'timed') expect(third.activations.source).toBe('timed');

  // An entry that does not read, and a cache that fails: timed as the first time, nothing thrown.
  cache.map.set(key, '{not json');
  const fourth = await tuneKernels(device, adapterInfo, { cache, probes });
  expect([fourth.matmul.source, fourth.reduction.source, fourth.activations.source]).toEqual([
    first.matmul.source,
    first.reduction.source,
    first.activations.source,
  ]);
  const broken: VariantCache = {
    get: () => Promise.reject(new Error('storage blocked')),
    set: () => Promise.reject(new Error('quota')),
  };
  const fifth = await tuneKernels(device, adapterInfo, { cache: broken, probes });
  expect(fifth.matmul.source).toBe(first.matmul.source);
  expect(errors).toEqual([]);
});

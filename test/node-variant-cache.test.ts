// The command line's disk cache of the matmul variant per adapter: kept between runs, and a file that cannot be read
// or written costs only the timing, never the run.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { defaultCacheFile, FileVariantCache } from '../src/engine/node-variant-cache';

describe('FileVariantCache', () => {
  test('a choice written by one run is read by the next', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'lab-cache-')), 'sub', 'kernel-choices.json');
    await new FileVariantCache(file).set('adapter A', 'vec4-reg8x8');
    await new FileVariantCache(file).set('adapter B', 'tiled64');
    const next = new FileVariantCache(file);
    expect(await next.get('adapter A')).toBe('vec4-reg8x8');
    expect(await next.get('adapter B')).toBe('tiled64');
    expect(await next.get('adapter C')).toBeUndefined();
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ 'adapter A': 'vec4-reg8x8', 'adapter B': 'tiled64' });
  });

  test('a missing or corrupt file reads as empty; an unwritable one rejects (the caller ignores it)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-cache-'));
    expect(await new FileVariantCache(join(dir, 'none.json')).get('x')).toBeUndefined();
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{not json');
    expect(await new FileVariantCache(bad).get('x')).toBeUndefined();
    writeFileSync(bad, '[1,2]');
    expect(await new FileVariantCache(bad).get('x')).toBeUndefined();
    const locked = join(dir, 'locked');
    writeFileSync(locked, ''); // a file where the cache's folder should be
    await expect(new FileVariantCache(join(locked, 'm.json')).set('x', 'y')).rejects.toThrow();
  });

  test('the file lives in LAB_CACHE_DIR, else XDG_CACHE_HOME, else ~/.cache', () => {
    expect(defaultCacheFile({ LAB_CACHE_DIR: '/c' })).toBe('/c/kernel-choices.json');
    expect(defaultCacheFile({ XDG_CACHE_HOME: '/x' })).toBe('/x/webgpu-training-lab/kernel-choices.json');
    expect(defaultCacheFile({})).toMatch(/\.cache\/webgpu-training-lab\/kernel-choices\.json$/);
  });
});

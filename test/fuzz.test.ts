// Fuzz-style robustness: random and malformed values thrown at every parser a user's input reaches — the
// experiment spec checker, the URL reader, the command line, the custom dataset loader and the checkpoint reader.
// Every call must end in a result or one of the lab's own errors with a message, never a TypeError or a hang.
import { describe, expect, test } from 'vitest';
import { parseCommandLine, UsageError } from '../src/cli/options';
import { exportModel, importModel } from '../src/checkpoint/model-file';
import { CheckpointError, readSafetensors } from '../src/checkpoint/safetensors';
import type { ExperimentSpec } from '../src/lab/api';
import { checkSpec, DEFAULT_LIMITS } from '../src/spec/check';
import { ConfigError, DEFAULT_TRAIN } from '../src/model/config';
import { initParams } from '../src/model/params';
import { Rng } from '../src/model/rng';
import { makeTask, TaskSpecError } from '../src/tasks';
import { specFromQuery, specToQuery } from '../src/ui/setup/url-state';

const LIMITS = {
  maxStorageBufferBindingSize: 128 * 2 ** 20,
  maxBufferSize: 256 * 2 ** 20,
  maxStorageBuffersPerShaderStage: 8,
};
const rng = new Rng(2024);
const ITER = 300;

/** Values a careless or hostile input might contain. */
function wild(depth = 0): unknown {
  const pick = rng.int(14);
  switch (pick) {
    case 0:
      return rng.int(100);
    case 1:
      return -rng.int(1000);
    case 2:
      return rng.next() * 1e6;
    case 3:
      return NaN;
    case 4:
      return Infinity;
    case 5:
      return '';
    case 6:
      return String.fromCharCode(...Array.from({ length: rng.int(12) }, () => rng.int(0x3000)));
    case 7:
      return null;
    case 8:
      return undefined;
    case 9:
      return true;
    case 10:
      return depth < 2 ? Array.from({ length: rng.int(4) }, () => wild(depth + 1)) : [];
    case 11:
      return depth < 2 ? { kind: wild(depth + 1), heads: wild(depth + 1) } : {};
    case 12:
      return 1e308;
    default:
      return 0.5;
  }
}

const validSpec = (): ExperimentSpec => ({
  task: { kind: 'path-star', degree: 3, pathLength: 3, nodes: 30, trainSize: 0, testSize: 50 },
  objectives: [{ kind: 'ntp' }, { kind: 'mtp', heads: 2 }, { kind: 'diffusion', decodeSteps: 4, variant: 'mdlm' }],
  model: { nLayer: 2, nEmbd: 64, nHead: 2 },
  train: { ...DEFAULT_TRAIN },
  evalEvery: 50,
  evalExamples: 50,
});

/** Replace one leaf of a valid spec (or the whole of a part) with a wild value. */
function mutate(spec: ExperimentSpec): unknown {
  const s = JSON.parse(JSON.stringify(spec)) as Record<string, Record<string, unknown>>;
  const parts = ['task', 'objectives', 'model', 'train', 'evalEvery', 'evalExamples'];
  const part = parts[rng.int(parts.length)]!;
  if (rng.next() < 0.15 || typeof s[part] !== 'object' || s[part] === null) {
    s[part] = wild() as Record<string, unknown>;
    return s;
  }
  const obj = s[part]!;
  const keys = Object.keys(obj);
  const key = keys[rng.int(keys.length)]!;
  if (Array.isArray(obj) && obj[Number(key)] && typeof obj[Number(key)] === 'object') {
    const o = obj[Number(key)] as Record<string, unknown>;
    const k = Object.keys(o)[rng.int(Object.keys(o).length)]!;
    o[k] = wild();
  } else {
    obj[key] = wild();
  }
  return s;
}

describe('fuzz', () => {
  test('checkSpec returns field-level issues for any malformed spec, never throws', () => {
    expect(checkSpec(validSpec(), LIMITS)).toEqual([]);
    let refused = 0;
    for (let i = 0; i < ITER; i++) {
      const bad = mutate(validSpec());
      const issues = checkSpec(bad as ExperimentSpec, LIMITS);
      expect(Array.isArray(issues)).toBe(true);
      for (const issue of issues) {
        expect(typeof issue.field).toBe('string');
        expect(issue.message.length).toBeGreaterThan(5);
      }
      if (issues.length) refused++;
    }
    expect(refused).toBeGreaterThan(ITER / 3);
    for (const junk of [null, 3, 'x', [], {}, { task: null }])
      expect(checkSpec(junk as unknown as ExperimentSpec, LIMITS).length).toBeGreaterThan(0);
  });

  test('URL query: any string gives a usable spec plus the problems found; a spec survives the round trip', () => {
    for (let i = 0; i < ITER; i++) {
      const params = new URLSearchParams(specToQuery(validSpec()));
      const keys = [...params.keys()];
      for (let j = 0; j < 3; j++)
        params.set(rng.next() < 0.8 ? keys[rng.int(keys.length)]! : String(wild()), String(wild()));
      const { spec, problems } = specFromQuery(rng.next() < 0.1 ? String(wild()) : params.toString());
      expect(Array.isArray(problems)).toBe(true);
      expect(
        checkSpec(spec, LIMITS).filter(
          (p) => !p.field.startsWith('task') && !p.field.startsWith('model') && !p.field.startsWith('train'),
        ),
      ).toEqual([]);
    }
    const back = specFromQuery(specToQuery(validSpec()));
    expect(back.problems).toEqual([]);
    expect(back.spec.objectives).toEqual(validSpec().objectives);
  });

  test('command line: random argv ends in a parse or a UsageError', () => {
    const words = [
      'train',
      'compare',
      'export',
      '--steps',
      '--lr',
      '--preset',
      '--objective',
      '--objectives',
      '--json',
      '--bogus',
      '-x',
      '--',
      '--help',
      '--degree',
      '--reversed=1',
      '1',
      '-1',
      'abc',
      '1e9',
      '',
    ];
    for (let i = 0; i < ITER; i++) {
      const argv = Array.from({ length: rng.int(6) }, () =>
        rng.next() < 0.8 ? words[rng.int(words.length)]! : String(wild()),
      );
      try {
        parseCommandLine(argv);
      } catch (e) {
        expect(e).toBeInstanceOf(UsageError);
        expect((e as Error).message.length).toBeGreaterThan(5);
      }
    }
  });

  test('custom dataset: random text ends in a task or a TaskSpecError naming the problem', () => {
    const pieces = [
      'ab\tc',
      'x => y',
      '\t',
      ' => ',
      '\n',
      '\u0001',
      '🙂',
      'a'.repeat(300),
      '12+3\t15',
      '',
      '=>',
      'ok\tfine',
    ];
    let accepted = 0;
    for (let i = 0; i < ITER; i++) {
      const text = Array.from({ length: rng.int(30) }, () => pieces[rng.int(pieces.length)]!).join(
        rng.next() < 0.5 ? '\n' : '',
      );
      try {
        const task = makeTask({ kind: 'custom', text, testFraction: rng.next() < 0.9 ? 0.2 : (wild() as number) }, 1);
        expect(task.test.length).toBeGreaterThan(0);
        accepted++;
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        expect(e).toBeInstanceOf(TaskSpecError);
      }
    }
    expect(accepted).toBeGreaterThan(0);
  });

  test('checkpoint reader: random bytes and corrupted files end in a CheckpointError', () => {
    const cfg = {
      vocabSize: 7,
      blockSize: 4,
      nLayer: 1,
      nHead: 1,
      nEmbd: 4,
      attention: 'causal' as const,
      extraHeads: 0,
    };
    const good = exportModel(cfg, initParams(cfg, 1), { objective: 'ntp', step: 1, task: null, vocab: [] });
    expect(importModel(good).cfg).toEqual(cfg);
    for (let i = 0; i < ITER; i++) {
      let bytes: Uint8Array;
      if (rng.next() < 0.3) bytes = Uint8Array.from({ length: rng.int(64) }, () => rng.int(256));
      else {
        bytes = good.slice(0, rng.next() < 0.3 ? rng.int(good.length) : good.length);
        for (let j = 0; j < 1 + rng.int(4); j++)
          if (bytes.length) bytes[rng.int(Math.min(bytes.length, 400))] = rng.int(256);
      }
      try {
        readSafetensors(bytes);
        importModel(bytes);
      } catch (e) {
        expect(e).toBeInstanceOf(CheckpointError);
      }
    }
  });
});

describe('link versions', () => {
  test('a link without v (version 1) keeps its meaning: mtpHeads counted extra heads, and runs decayed the lr', () => {
    const { spec, problems } = specFromQuery(
      '?task=path-star&degree=2&pathLength=4&nodes=12&objectives=ntp,mtp&mtpHeads=2&steps=100',
    );
    expect(problems).toEqual([]);
    expect(spec.objectives).toContainEqual({ kind: 'mtp', heads: 3 });
    expect(spec.train.schedule).toBe('cosine');
  });

  test('a version 2 link says heads in all and its schedule, and round-trips', () => {
    const { spec, problems } = specFromQuery('?v=2&task=path-star&objectives=ntp,mtp&mtpHeads=2&schedule=constant');
    expect(problems).toEqual([]);
    expect(spec.objectives).toContainEqual({ kind: 'mtp', heads: 2 });
    expect(spec.train.schedule).toBe('constant');
    expect(specFromQuery(specToQuery(spec)).spec).toEqual(spec);
    expect(specToQuery(spec)).toMatch(/^v=2&/);
  });

  test('token order prediction travels in the link and passes the spec check', () => {
    const { spec, problems } = specFromQuery('?v=2&task=path-star&degree=2&pathLength=4&nodes=12&objectives=ntp,top');
    expect(problems).toEqual([]);
    expect(spec.objectives).toEqual([{ kind: 'ntp' }, { kind: 'top' }]);
    expect(specFromQuery(specToQuery(spec)).spec).toEqual(spec);
    expect(checkSpec(spec, { ...DEFAULT_LIMITS })).toEqual([]);
  });

  test("the objectives' variants travel in the link: MLM-U diffusion and Gloeckle's heads; a bad one is reported", () => {
    const q = '?v=2&task=path-star&objectives=mtp,diffusion&mtpHeads=3&mtpLayout=gloeckle&diffusionVariant=mlmu';
    const { spec, problems } = specFromQuery(q);
    expect(problems).toEqual([]);
    expect(spec.objectives).toContainEqual({ kind: 'mtp', heads: 3, layout: 'gloeckle' });
    expect(spec.objectives).toContainEqual(expect.objectContaining({ kind: 'diffusion', variant: 'mlmu' }));
    expect(specFromQuery(specToQuery(spec)).spec).toEqual(spec);
    const bad = specFromQuery('?v=2&task=path-star&objectives=mtp&mtpLayout=stacked&diffusionVariant=bert');
    expect(bad.problems.map((p) => p.param)).toEqual(['mtpLayout', 'diffusionVariant']);
    expect(bad.problems[0]!.message).toMatch(/mtpLayout="stacked" is not gloeckle/);
    expect(bad.spec.objectives).toEqual([{ kind: 'mtp', heads: 4 }]);
  });

  test('a bad schedule or version is reported and replaced, the rest kept', () => {
    const { spec, problems } = specFromQuery('?v=7&task=path-star&nodes=12&schedule=linear');
    expect(problems.map((p) => p.param)).toEqual(['v', 'schedule']);
    expect(problems[1]!.message).toMatch(/schedule="linear" is not constant or cosine/);
    expect(spec.task).toMatchObject({ nodes: 12 });
  });
});

// The command line in-process: help, every kind of bad input (clear message, exit code 2, no stack trace), and a
// train → checkpoint → resume → export round trip on a tiny model.
import { mkdtempSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import { experimentSpec, main, parseSeeds } from '../src/cli/commands';
import { summarise } from '../src/lab/seeds';
import { helpText, OPTIONS, parseCommandLine } from '../src/cli/options';
import { DEFAULT_EXPERIMENT, EXPERIMENT_PRESETS } from '../src/lab/experiments';
import type { LaneResult } from '../src/lab/api';
import { presetCommandLineChoices } from './gpu/helpers';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  return { out, err };
}

afterEach(() => vi.restoreAllMocks());
// The commands' kernel choices read from a cache of presets instead of timed (gpu/helpers.ts).
beforeAll(presetCommandLineChoices);

describe('command line: usage and bad input', () => {
  test('--help documents every option and command', async () => {
    const { out } = capture();
    expect(await main(['--help'])).toBe(0);
    const text = out.join('\n');
    for (const name of Object.keys(OPTIONS)) expect(text).toContain(`--${name}`);
    for (const c of ['train', 'compare', 'export']) expect(text).toContain(c);
    expect(helpText()).toContain('npm run lab -- compare');
  });

  test.each([
    [['train', '--bogus'], /unknown option '--bogus'/],
    [['train', '--steps', 'abc'], /--steps must be a number, got 'abc'/],
    [['train', '--steps', '1.5'], /--steps must be a whole number/],
    [['train', '--steps', '0'], /--steps must be between 1 and/],
    [['train', '--lr=-1'], /--lr must be between/],
    [['train', '--lr', '-1'], /'--lr' argument is ambiguous[\s\S]*--lr=-XYZ/],
    [['train', '--preset', 'huge'], /--preset must be one of tiny, small, medium/],
    [['fly'], /unknown command 'fly'/],
    [['train', 'extra'], /unexpected argument 'extra'/],
    [['train', '--json', 'x.json'], /--json is for compare, evaluate, not train/],
    [['train', '--objective', 'ntp,reverse'], /--objective takes one objective/],
    [['compare', '--objectives', 'ntp,warp'], /--objectives: .*warp/],
    [['compare', '--seeds', '3-1'], /--seeds: the range '3-1' runs backwards/],
    [['compare', '--seeds', '1,x'], /--seeds: 'x' is not a seed/],
    [['compare', '--seeds', '1,2', '--seed', '4'], /--seed or --seeds, not both/],
    [['train', '--seeds', '1,2'], /--seeds is for compare, export-experiment, not train/],
    [['compare', '--schedule', 'linear'], /--schedule must be one of constant, cosine/],
    [['compare', '--experiment', 'nope'], /--experiment must be one of clever-hans/],
    [['compare', '--objectives', 'mtp:1'], /--objectives: .*from 2 to 17/],
    [['export-experiment'], /export-experiment needs --out DIR/],
    [['export-experiment', '--out', '/tmp/x', '--nodes', '5'], /task\.nodes: must be at least/],
    [['export-experiment', '--out', '/tmp/x', '--seeds', '2-1'], /--seeds: the range '2-1' runs backwards/],
    [['evaluate'], /evaluate needs --checkpoint/],
    [['evaluate', '--checkpoint', '/nonexistent/lane0-ntp.safetensors'], /--checkpoint: no such file or folder/],
    [['evaluate', '--checkpoint', '/tmp'], /holds no laneN-OBJECTIVE\.safetensors files/],
    [['train', '--degree', '5', '--path-length', '5', '--nodes', '10'], /task\.nodes: .*/],
    [['train', '--width', '66', '--heads', '4'], /model\.nEmbd: .*multiple/],
    [['train', '--task', 'custom'], /--task custom needs --data FILE/],
    [['train', '--task', 'custom', '--data', '/nonexistent/file.txt'], /--data: no such file/],
    [['train', '--resume', '/nonexistent.safetensors'], /--resume: no such file/],
    [['export', '--checkpoint', '/nonexistent.safetensors', '--out', '/tmp'], /--checkpoint: no such file/],
  ])('%j is refused with a clear message', async (argv, message) => {
    const { err } = capture();
    expect(await main(argv)).toBe(2);
    expect(err.join('\n')).toMatch(message);
    expect(err.join('\n')).not.toMatch(/\n\s+at /); // no stack trace
  });

  test('without options, compare runs the default experiment; options override it field by field', () => {
    const spec = experimentSpec(parseCommandLine(['compare']).values, 'compare');
    expect(spec).toEqual(DEFAULT_EXPERIMENT);
    const s2 = experimentSpec(
      parseCommandLine(['compare', '--nodes', '20', '--steps', '300', '--schedule', 'cosine']).values,
      'compare',
    );
    expect(s2.task).toEqual({ ...DEFAULT_EXPERIMENT.task, nodes: 20 });
    expect(s2.train).toEqual({ ...DEFAULT_EXPERIMENT.train, steps: 300, schedule: 'cosine' });
    expect(s2.model).toEqual(DEFAULT_EXPERIMENT.model);
    const add = experimentSpec(parseCommandLine(['compare', '--task', 'addition', '--digits', '2']).values, 'compare');
    expect(add.task).toMatchObject({ kind: 'addition', digits: 2, reversed: false });
    for (const p of EXPERIMENT_PRESETS) {
      expect(experimentSpec(parseCommandLine(['compare', '--experiment', p.id]).values, 'compare')).toEqual(p.spec);
    }
    expect(helpText()).toContain('Without options, compare runs the default experiment: path-star G(2,5,10)');
  });

  test('--seeds takes lists and ranges', () => {
    expect(parseSeeds('1,2,3')).toEqual([1, 2, 3]);
    expect(parseSeeds('1-3, 7,2')).toEqual([1, 2, 3, 7]);
    expect(parseSeeds('1..4')).toEqual([1, 2, 3, 4]);
    expect(() => parseSeeds('0-5000')).toThrow(/more than 1000 seeds/);
  });

  test('the summary over seeds gives mean, spread and how many reached 90%', () => {
    const lane = (exactMatch: number, tf: number[], step: number | null) =>
      ({
        lane: 0,
        objective: 'ntp',
        exactMatch,
        decisionTokenAccuracy: exactMatch,
        perPosition: { teacherForced: tf, freeRunning: tf },
        heldOutLoss: 0.5,
        timeTo90: step === null ? null : { step, flops: 1, seconds: 1 },
      }) as unknown as LaneResult;
    const s = summarise(
      [
        { seed: 1, results: [lane(0.5, [1, 0.5, 1], null)] },
        { seed: 2, results: [lane(0.9, [1, 0.9, 0.96], 400)] },
        { seed: 3, results: [lane(0.7, [1, 0.7, 0.98], 300)] },
      ],
      2,
    )[0]!;
    expect(s.exactMatch.mean).toBeCloseTo(0.7, 12);
    expect(s.exactMatch.sd).toBeCloseTo(0.2, 12);
    expect([s.exactMatch.min, s.exactMatch.max]).toEqual([0.5, 0.9]);
    expect(s.afterDecisionTeacherForced!.values).toEqual([1, 0.96, 0.98]);
    expect(s.reached90).toEqual({ count: 2, steps: [null, 400, 300] });
  });

  test('a corrupt checkpoint file is refused with the reason', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-cli-'));
    const file = join(dir, 'bad.safetensors');
    writeFileSync(file, Buffer.from([1, 2, 3]));
    const { err } = capture();
    expect(await main(['export', '--checkpoint', file, '--out', dir])).toBe(2);
    expect(err.join('\n')).toMatch(/truncated/);
  });

  test('an empty custom dataset is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-cli-'));
    const file = join(dir, 'pairs.txt');
    writeFileSync(file, '\n\n');
    const { err } = capture();
    expect(await main(['train', '--task', 'custom', '--data', file])).toBe(2);
    expect(err.join('\n')).toMatch(/task\.text/);
  });
});

describe('command line: train, checkpoint, resume, export', () => {
  const tiny = [
    '--layers',
    '1',
    '--width',
    '16',
    '--heads',
    '2',
    '--batch-size',
    '8',
    '--degree',
    '2',
    '--nodes',
    '12',
    '--test-size',
    '20',
    '--eval-examples',
    '10',
    '--eval-every',
    '100',
    '--log-every',
    '2',
  ];

  test('progress lines, --out files, exact resume, and export to ONNX', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-cli-'));
    let c = capture();
    expect(await main(['train', ...tiny, '--steps', '6', '--seed', '3', '--lr', '0.003'])).toBe(0);
    const fullLines = c.out.filter((l) => l.startsWith('step '));
    expect(fullLines).toHaveLength(3);
    expect(fullLines[0]).toMatch(/^step 2 loss \d+\.\d{4} tok\/s \d+$/);
    vi.restoreAllMocks();

    c = capture();
    expect(
      await main(['train', ...tiny, '--steps', '6', '--stop-at', '4', '--seed', '3', '--lr', '0.003', '--out', dir]),
    ).toBe(0);
    const model = join(dir, 'lane0-ntp.safetensors');
    expect(existsSync(model)).toBe(true);
    expect(existsSync(join(dir, 'lane0-ntp.optimizer.safetensors'))).toBe(true);
    expect(existsSync(join(dir, 'lane0-ntp.onnx'))).toBe(true);
    const firstHalf = c.out.filter((l) => l.startsWith('step '));
    vi.restoreAllMocks();

    c = capture();
    expect(await main(['train', '--resume', model, '--steps', '6', '--log-every', '2'])).toBe(0);
    expect(c.out.join('\n')).toContain('resuming ntp from step 4');
    const secondHalf = c.out.filter((l) => l.startsWith('step '));
    // Same losses as the uninterrupted run (tokens/s differ, so compare the loss part of each line).
    const loss = (l: string) => l.replace(/ tok\/s \d+$/, '');
    expect([...firstHalf, ...secondHalf].map(loss)).toEqual(fullLines.map(loss));
    vi.restoreAllMocks();

    const outDir = join(dir, 'export');
    c = capture();
    expect(await main(['export', '--checkpoint', model, '--format', 'onnx', '--out', outDir])).toBe(0);
    expect(readFileSync(join(outDir, 'lane0-ntp.onnx')).length).toBeGreaterThan(1000);
  });

  test('compare over two seeds writes each run and the summary as JSON, and prints both tables', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-cli-'));
    const json = join(dir, 'results.json');
    const c = capture();
    expect(
      await main([
        'compare',
        ...tiny,
        '--objectives',
        'ntp,teacherless',
        '--steps',
        '4',
        '--seeds',
        '1,2',
        '--json',
        json,
      ]),
    ).toBe(0);
    const out = JSON.parse(readFileSync(json, 'utf8'));
    expect(out.seeds).toEqual([1, 2]);
    expect(out.runs.map((r: { seed: number }) => r.seed)).toEqual([1, 2]);
    for (const run of out.runs) {
      expect(run.results.map((r: { objective: string }) => r.objective)).toEqual(['ntp', 'teacherless']);
      for (const r of run.results) {
        for (const k of [
          'objective',
          'exactMatch',
          'exactMatchInterval',
          'validWrongFraction',
          'decisionTokenAccuracy',
          'heldOutLoss',
          'timeTo90',
          'steps',
          'flops',
          'seconds',
        ])
          expect(r).toHaveProperty(k);
        expect(r.examples).toBe(10);
        expect(r.exactMatchInterval[0]).toBeLessThanOrEqual(r.exactMatch);
        expect(r.exactMatchInterval[1]).toBeGreaterThanOrEqual(r.exactMatch);
        expect(r.perPosition.teacherForced).toHaveLength(5);
        expect(r.perPosition.freeRunning).toHaveLength(5);
      }
    }
    expect(out.summary.map((s: { objective: string }) => s.objective)).toEqual(['ntp', 'teacherless']);
    expect(out.summary[0].exactMatch.values).toHaveLength(2);
    const text = c.out.join('\n');
    expect(text).toMatch(/objective\s+exact\s+95% interval\s+valid-wrong\s+decision/);
    expect(text).toContain('over seeds 1, 2:');
    expect(text).toMatch(/reached 90%/);
    // One run over both seeds (one after another on this CPU adapter): each line names its seed.
    expect(text).toMatch(/^seed 2 ntp\s+eval step 4: exact/m);
    expect(text).toMatch(/^2 seeds, [\d.]+ s wall in all$/m);
    expect(out.wallSeconds).toBeGreaterThan(0);
    expect(out.runs[0].results[0]).not.toHaveProperty('seed');

    // The same experiment over more seeds into the same file, as over several sittings: the seeds it holds are
    // kept as they were, only the new one runs, and the summary covers all three.
    const again = capture();
    const args = ['compare', ...tiny, '--objectives', 'ntp,teacherless', '--steps', '4', '--json', json];
    expect(await main([...args, '--seeds', '1-3'])).toBe(0);
    const text3 = again.out.join('\n');
    expect(text3).toContain(`${json} holds seeds 1, 2 of this experiment: running seed 3 and adding it`);
    expect(text3).not.toMatch(/^seed 1 ntp\s+eval step/m);
    expect(text3).toMatch(/^seed 3 ntp\s+eval step 4: exact/m);
    const out3 = JSON.parse(readFileSync(json, 'utf8'));
    expect(out3.seeds).toEqual([1, 2, 3]);
    expect(out3.runs.slice(0, 2)).toEqual(out.runs);
    expect(out3.summary[0].exactMatch.values).toHaveLength(3);
    expect(existsSync(`${json}.partial`)).toBe(false);
    // Nothing left to run: the tables come from the file, which stays as it was.
    const before = readFileSync(json, 'utf8');
    const held = capture();
    expect(await main([...args, '--seeds', '2,3'])).toBe(0);
    expect(held.out.join('\n')).toContain('already holds seeds 1, 2, 3 of this experiment: nothing to run');
    expect(readFileSync(json, 'utf8')).toBe(before);
    // Another experiment, or a file that is not a results file, is refused before anything runs, and kept.
    const other = capture();
    expect(await main(['compare', ...tiny, '--objectives', 'ntp,teacherless', '--steps', '5', '--json', json])).toBe(2);
    expect(other.err.join('\n')).toMatch(/holds another experiment's runs \(train\.steps \(4 there, 5 here\), /);
    expect(other.out.join('\n')).not.toContain('adapter:');
    expect(readFileSync(json, 'utf8')).toBe(before);
    const notes = join(dir, 'notes.json');
    writeFileSync(notes, '{"my": "notes"}');
    const refused = capture();
    expect(await main([...args.slice(0, -1), notes])).toBe(2);
    expect(refused.err.join('\n')).toMatch(/'.*notes\.json' exists and is not a results file of compare/);
    expect(readFileSync(notes, 'utf8')).toBe('{"my": "notes"}');
  });
});

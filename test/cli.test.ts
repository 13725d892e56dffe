// The command line in-process: help, every kind of bad input (clear message, exit code 2, no stack trace), and a
// train → checkpoint → resume → export round trip on a tiny model.
import { mkdtempSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { main } from '../src/cli/commands';
import { helpText, OPTIONS } from '../src/cli/options';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  return { out, err };
}

afterEach(() => vi.restoreAllMocks());

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
    [['train', '--json', 'x.json'], /--json is for compare, not train/],
    [['train', '--objective', 'ntp,reverse'], /--objective takes one objective/],
    [['compare', '--objectives', 'ntp,warp'], /--objectives: .*warp/],
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
  const tiny = ['--layers', '1', '--width', '16', '--heads', '2', '--batch-size', '8', '--degree', '2', '--nodes', '12', '--test-size', '20', '--eval-examples', '10', '--eval-every', '100', '--log-every', '2'];

  test('progress lines, --out files, exact resume, and export to ONNX', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-cli-'));
    let c = capture();
    expect(await main(['train', ...tiny, '--steps', '6', '--seed', '3', '--lr', '0.003'])).toBe(0);
    const fullLines = c.out.filter((l) => l.startsWith('step '));
    expect(fullLines).toHaveLength(3);
    expect(fullLines[0]).toMatch(/^step 2 loss \d+\.\d{4} tok\/s \d+$/);
    vi.restoreAllMocks();

    c = capture();
    expect(await main(['train', ...tiny, '--steps', '6', '--stop-at', '4', '--seed', '3', '--lr', '0.003', '--out', dir])).toBe(0);
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

  test('compare writes JSON with one entry per objective', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-cli-'));
    const json = join(dir, 'results.json');
    capture();
    expect(await main(['compare', ...tiny, '--objectives', 'ntp,teacherless', '--steps', '4', '--json', json])).toBe(0);
    const results = JSON.parse(readFileSync(json, 'utf8'));
    expect(results.map((r: { objective: string }) => r.objective)).toEqual(['ntp', 'teacherless']);
    for (const r of results) {
      for (const k of ['objective', 'exactMatch', 'decisionTokenAccuracy', 'steps', 'flops', 'seconds']) expect(r).toHaveProperty(k);
      expect(r.perPosition.teacherForced).toHaveLength(3);
      expect(r.perPosition.freeRunning).toHaveLength(3);
    }
  });
});

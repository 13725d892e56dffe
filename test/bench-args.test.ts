// The benchmark's command line: defaults, every option, and clear refusals of bad values.
import { describe, expect, test } from 'vitest';
import { parseArgs, UsageError } from '../bench/args';
import { DEFAULT_SIZES } from '../bench/common';

describe('npm run bench options', () => {
  test('defaults: three sizes, 3 runs, the 1,000-step memory check, both halves', () => {
    const a = parseArgs([]);
    expect(a.sizes).toEqual(DEFAULT_SIZES);
    expect([a.runs, a.steps, a.memorySteps, a.node, a.kernels, a.browser, a.allVariants, a.json]).toEqual([
      3,
      null,
      1000,
      true,
      true,
      true,
      false,
      null,
    ]);
  });

  test('every option', () => {
    const a = parseArgs([
      '--',
      '--sizes',
      'tiny,4/128/4',
      '--runs',
      '5',
      '--steps',
      '2',
      '--memory-steps',
      '0',
      '--json',
      'out.json',
      '--no-kernels',
      '--no-browser',
      '--variants',
      '--tf-warmup',
    ]);
    expect(a.sizes.map((s) => s.name)).toEqual(['2/64/2', '4/128/4']);
    expect([a.runs, a.steps, a.memorySteps, a.json, a.kernels, a.browser, a.allVariants, a.tfWarmup]).toEqual([
      5,
      2,
      0,
      'out.json',
      false,
      false,
      true,
      true,
    ]);
    expect(parseArgs(['--no-node']).node).toBe(false);
    const c = parseArgs(['--time-to-contrast', '--seed', '3', '--no-pytorch', '--json', 't.json']);
    expect([c.timeToContrast, c.seed, c.pytorch, c.json]).toEqual([true, 3, false, 't.json']);
    expect([parseArgs([]).timeToContrast, parseArgs([]).seed, parseArgs([]).pytorch]).toEqual([false, 1, true]);
    expect(parseArgs([]).squares).toEqual([512]);
    expect(parseArgs(['--square', '512,4096']).squares).toEqual([512, 4096]);
    expect(parseArgs([]).lanes).toEqual([1, 2, 5]);
    expect(parseArgs(['--lanes', '1,3']).lanes).toEqual([1, 3]);
    expect(parseArgs(['--lanes', '0']).lanes).toEqual([]);
    expect(parseArgs([]).matmulVariant).toBeNull();
    expect(parseArgs(['--matmul-variant', 'vec4-reg8x8+tn']).matmulVariant).toBe('vec4-reg8x8+tn');
    expect(parseArgs([]).activations).toBeNull();
    expect(parseArgs(['--activations', 'f16']).activations).toBe('f16');
    expect(parseArgs(['--activations', 'f32']).activations).toBe('f32');
    expect([parseArgs([]).stackLanes, parseArgs(['--stack-lanes', 'on']).stackLanes]).toEqual([null, true]);
    expect(parseArgs(['--stack-lanes', 'off']).stackLanes).toBe(false);
  });

  test.each([
    [['--runs', '0'], '--runs must be a whole number >= 1, got "0"'],
    [['--runs', '2.5'], '--runs must be a whole number >= 1'],
    [['--steps'], '--steps needs a value'],
    [['--memory-steps', '-1'], '--memory-steps must be a whole number (0 skips the check), got "-1"'],
    [['--sizes', '2/64'], '--sizes: "2/64" is not n_layer/n_embd/n_head'],
    [['--sizes', '2/66/4'], 'n_embd 66 must be a multiple of 4 and of n_head 4'],
    [['--fast'], 'unknown argument "--fast"'],
    [['--time-to-contrast', '--seed', 'x'], '--seed must be a whole number, got "x"'],
    [['--square', '512,big'], '--square must be whole numbers from 1 to 8192, comma-separated, got "512,big"'],
    [['--square', '0'], '--square must be whole numbers from 1 to 8192'],
    [['--lanes', '1,0'], '--lanes must be lane counts from 1 to 16, comma-separated, or 0 to skip, got "1,0"'],
    [['--lanes', 'all'], '--lanes must be lane counts from 1 to 16'],
    [['--matmul-variant', 'fast'], '--matmul-variant must be one of vec4-reg16x16, vec4-reg8x8,'],
    [['--matmul-variant'], '--matmul-variant needs a value'],
    [['--activations', 'bf16'], '--activations must be f32 or f16; got "bf16"'],
    [['--activations'], '--activations needs a value'],
    [['--stack-lanes', 'yes'], '--stack-lanes must be on or off; got "yes"'],
  ])('%j is refused: %s', (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(UsageError);
    expect(() => parseArgs(argv)).toThrow(message);
  });

  test('--help is a UsageError without a message (usage, exit 0)', () => {
    expect(() => parseArgs(['--help'])).toThrow(UsageError);
    try {
      parseArgs(['-h']);
    } catch (e) {
      expect((e as Error).message).toBe('');
    }
  });
});

// The exported PyTorch package (python/labtorch) against the lab: the same seed must give the same examples, in the
// same order, and the same first batch for every objective, bit for bit. It runs where PyTorch is installed, and in
// CI (where .ci/setup installs it) a missing PyTorch is a failure, not a skip.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import type { ExperimentSpec, TaskSpec } from '../src/lab/api';
import { ALL_OBJECTIVES, DEFAULT_EXPERIMENT } from '../src/lab/experiments';
import { dataSeed, objectiveSeed } from '../src/lab/lane';
import { Rng } from '../src/model/rng';
import type { ForwardFn } from '../src/model/batch';
import { initParams, paramTable, tensorView } from '../src/model/params';
import { refGradNorm, refLossAndGrads } from '../src/model/reference';
import { laneModelConfig, makeObjective } from '../src/objectives';
import type { ObjectiveSpec } from '../src/spec/types';
import { makeTask } from '../src/tasks';
import type { Example } from '../src/tasks/types';
import { describeTorch, parity, PYTHON } from './python-helpers';

const pairs = (es: Example[]) => es.map((e) => [e.prompt, e.target]);

const TASKS: [string, TaskSpec][] = [
  ['path-star, the default G(2,5,10), fresh graphs', DEFAULT_EXPERIMENT.task],
  [
    'path-star G(3,4,20), a fixed training set of 300',
    { kind: 'path-star', degree: 3, pathLength: 4, nodes: 20, trainSize: 300, testSize: 200 },
  ],
  [
    'addition, 3 digits, reversed, fresh sums',
    { kind: 'addition', digits: 3, reversed: true, trainSize: 0, testSize: 300 },
  ],
  [
    'addition, 2 digits, a fixed training set',
    { kind: 'addition', digits: 2, reversed: false, trainSize: 500, testSize: 100 },
  ],
  [
    'custom pairs (with a repeated prompt, $ in the text, and a => line)',
    {
      kind: 'custom',
      text: 'ab\tba\nabc\tcba\nab\tbb\n$x => x$\nxyz\tzyx\nq\tqq\nhello\tolleh\nzz\tz\n',
      testFraction: 0.3,
    },
  ],
];

describeTorch('PyTorch export: the same data as the lab', () => {
  test.each(TASKS)('%s: the test set and the first 1,000 training examples', (_, taskSpec) => {
    const seed = 7;
    const spec: ExperimentSpec = {
      ...DEFAULT_EXPERIMENT,
      task: taskSpec,
      train: { ...DEFAULT_EXPERIMENT.train, seed },
    };
    const task = makeTask(taskSpec, seed);
    const rng = new Rng(dataSeed(seed));
    const train: Example[] = [];
    while (train.length < 1000) train.push(...task.sampleTrain(rng, spec.train.batchSize));
    const py = parity<{ vocab: string[]; test: number[][][]; train: number[][][] }>('data', {
      spec,
      seed,
      train: 1000,
    });
    expect(py.vocab).toEqual(task.vocab);
    expect(py.test).toEqual(pairs(task.test));
    expect(py.train).toEqual(pairs(train.slice(0, 1000)));
  });

  test('the first batch of every objective: inputs, targets and loss weights', () => {
    const seed = 3;
    const objectives = [
      ...ALL_OBJECTIVES,
      { kind: 'mtp' as const, heads: 2 },
      { kind: 'diffusion' as const, decodeSteps: 5, variant: 'hkunlp' as const },
      { kind: 'diffusion' as const, decodeSteps: 5, variant: 'mlmu' as const },
      { kind: 'mtp' as const, heads: 3, layout: 'gloeckle' as const },
      { kind: 'top' as const },
    ];
    const spec: ExperimentSpec = {
      ...DEFAULT_EXPERIMENT,
      objectives,
      train: { ...DEFAULT_EXPERIMENT.train, seed, batchSize: 32 },
    };
    const task = makeTask(spec.task, seed);
    const first = task.sampleTrain(new Rng(dataSeed(seed)), spec.train.batchSize);
    type PyBatch = {
      tokens: number[];
      targets: number[];
      weights: number[];
      top?: { probs: number[]; weights: number[] };
    };
    const py = parity<{ batches: PyBatch[] }>('data', {
      spec,
      seed,
      train: 0,
    });
    expect(py.batches).toHaveLength(objectives.length);
    for (const [i, o] of objectives.entries()) {
      const batch = makeObjective(o).makeBatch(task, first, new Rng(objectiveSeed(seed)));
      const p = py.batches[i]!;
      const kind = JSON.stringify(o);
      expect(p.tokens, kind).toEqual(Array.from(batch.tokens));
      expect(p.targets, kind).toEqual(Array.from(batch.targets));
      // Weights are float32 on both sides, computed from the same doubles: equal to the bit.
      expect(p.weights, kind).toEqual(Array.from(batch.weights));
      // The token-order head's soft targets: float32 from the same doubles summed in the same order.
      expect(p.top?.probs, kind).toEqual(batch.top && Array.from(batch.top.probs));
      expect(p.top?.weights, kind).toEqual(batch.top && Array.from(batch.top.weights));
    }
    expect(py.batches.at(-1)!.top!.probs.some((q) => q > 0 && q < 1)).toBe(true);
  });

  test('the first loss and gradient at the initial weights: the float64 reference and PyTorch agree', () => {
    const seed = 5;
    const objectives: ObjectiveSpec[] = [{ kind: 'ntp' }, { kind: 'top' }, { kind: 'mtp', heads: 2 }];
    const spec: ExperimentSpec = {
      ...DEFAULT_EXPERIMENT,
      objectives,
      model: { nLayer: 1, nEmbd: 16, nHead: 2 },
      train: { ...DEFAULT_EXPERIMENT.train, seed, batchSize: 8 },
    };
    const task = makeTask(spec.task, seed);
    const first = task.sampleTrain(new Rng(dataSeed(seed)), spec.train.batchSize);
    const py = parity<{ objective: string; loss: number; gradNorms: Record<string, number> }[]>('loss', {
      spec,
      seed,
    });
    for (const [i, o] of objectives.entries()) {
      const objective = makeObjective(o);
      const cfg = laneModelConfig(task, objective, spec.model);
      const table = paramTable(cfg);
      const batch = objective.makeBatch(task, first, new Rng(objectiveSeed(seed)));
      const { loss, grads } = refLossAndGrads(cfg, Float64Array.from(initParams(cfg, seed, table)), batch);
      const norm = (name: string) => refGradNorm(tensorView(grads, table, name));
      // The initial weights agree to float32 rounding (init_lab), so the losses agree far closer than TOP's share.
      expect(py[i]!.objective).toBe(o.kind);
      expect(Math.abs(py[i]!.loss - loss), o.kind).toBeLessThan(1e-5);
      for (const s of table.specs) expect(py[i]!.gradNorms[s.name], `${o.kind} ${s.name}`).toBeCloseTo(norm(s.name), 5);
    }
    // TOP's ListNet is added to the next-token loss: the two lanes share every weight but the TOP head.
    expect(py[1]!.loss - py[0]!.loss).toBeGreaterThan(1);
    expect(Object.keys(py[1]!.gradNorms)).toContain('top_head.weight');
  });
});

describeTorch('PyTorch export: evaluation', () => {
  test("HKUNLP's re-masking decoder: the lab's choices, pass for pass, on a scripted model", async () => {
    // The scripted model of test/objectives.test.ts ("hkunlp decodes as HKUNLP's top-k decoder"), written again in
    // parity.py: a confidently wrong first token that only re-masking corrects.
    const examples = [
      { prompt: [0, 1, 2], target: [3, 4, 5] },
      { prompt: [1, 1, 0], target: [5, 0, 2] },
    ];
    const task = { ...makeTask(DEFAULT_EXPERIMENT.task, 1), promptLength: 3, targetLength: 3 };
    const { mask } = task.special;
    const V = task.vocab.length;
    const fwd: ForwardFn = (tokens, n, T) => {
      const logits = new Float32Array(n * T * V);
      for (let b = 0; b < n; b++) {
        const row = Array.from(tokens.subarray(b * T, (b + 1) * T));
        const truth = examples.find((e) => e.prompt.join() === row.slice(0, 3).join())!.target;
        for (let i = 0; i < 3; i++) {
          const tok = row[3 + i]!;
          const allMasked = row.slice(3).every((t) => t === mask);
          const [token, margin] =
            tok === mask
              ? i === 0 && allMasked
                ? [0, 9]
                : [truth[i]!, 1 + i]
              : tok === truth[i]
                ? [truth[i]!, 10]
                : [truth[i]!, 0.1];
          logits[(b * T + 3 + i) * V + token] = margin;
        }
        for (let p = 0; p < T; p++) logits[(b * T + p) * V + mask] = 100;
      }
      return Promise.resolve(logits);
    };
    for (const K of [2, 4, 7]) {
      const lab = await makeObjective({ kind: 'diffusion', decodeSteps: K, variant: 'hkunlp' }).decode(
        task,
        examples,
        fwd,
      );
      const py = parity<{ predictions: number[][]; commitStep: number[][] }>('remask', {
        vocab: V,
        mask,
        decodeSteps: K,
        examples: examples.map((e) => [e.prompt, e.target]),
      });
      expect(py, `K=${K}`).toEqual({ predictions: lab.predictions, commitStep: lab.commitStep });
    }
  });

  test('greedy decoding with the teacher-forced argmaxes: the same predictions as without, in fewer passes', () => {
    // As the lab's (test/gpu/decode.test.ts): freshly initialised models, the test set as given (only the first
    // pass, which sees the prompt alone, is sure to be skipped), then with every target set to the model's own
    // decoding (every argmax from teacher forcing, no pass of its own).
    const spec: ExperimentSpec = {
      ...DEFAULT_EXPERIMENT,
      objectives: [{ kind: 'ntp' }, { kind: 'reverse' }, { kind: 'mtp', heads: 2 }, { kind: 'teacherless' }],
      train: { ...DEFAULT_EXPERIMENT.train, batchSize: 16 },
    };
    type Pass = { plain: number[][]; hinted: number[][]; passes: number };
    const py = parity<{ objective: string; given: Pass; own: Pass; ownCount: number }[]>('decode', { spec, seed: 2 });
    const L = makeTask(spec.task, 2).targetLength;
    expect(py.map((r) => r.objective)).toEqual(['ntp', 'reverse', 'mtp', 'teacherless']);
    for (const r of py) {
      expect(r.given.hinted, r.objective).toEqual(r.given.plain);
      expect(r.own.hinted, r.objective).toEqual(r.own.plain);
      expect(r.ownCount, r.objective).toBeGreaterThan(8);
      if (r.objective === 'teacherless') {
        // One parallel pass either way: nothing to take from teacher forcing.
        expect([r.given.passes, r.own.passes]).toEqual([1, 1]);
        continue;
      }
      expect(r.given.passes, r.objective).toBeLessThan(L);
      expect(r.own.passes, r.objective).toBe(0);
    }
  });
});

/** `python ARGS` in `dir`, with the package from this repository on the path. */
function python(dir: string, args: string[]) {
  return spawnSync(PYTHON, args, {
    cwd: dir,
    env: { ...process.env, PYTHONPATH: join(process.cwd(), 'python') },
    encoding: 'utf8',
  });
}

/** `python -m labtorch ARGS` in `dir`. */
const labtorch = (dir: string, args: string[]) => python(dir, ['-m', 'labtorch', ...args]);

describeTorch('PyTorch export: seeds and sweeps', () => {
  test('--seeds and a sweep file: one run per entry and seed, results per entry with the summary over seeds', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-sweep-'));
    const spec: ExperimentSpec = {
      ...DEFAULT_EXPERIMENT,
      task: { kind: 'path-star', degree: 2, pathLength: 4, nodes: 10, trainSize: 0, testSize: 40 },
      model: { nLayer: 1, nEmbd: 16, nHead: 2 },
      train: { ...DEFAULT_EXPERIMENT.train, steps: 4, batchSize: 8 },
      evalEvery: 2,
      evalExamples: 20,
    };
    writeFileSync(join(dir, 'experiment.json'), JSON.stringify({ spec, seeds: [1] }));
    writeFileSync(join(dir, 'sweep.json'), JSON.stringify([{ name: 'w16' }, { name: 'w32', model: { nEmbd: 32 } }]));
    const r = labtorch(dir, ['experiment.json', '--out', 'runs', '--seeds', '3..4', '--sweep', 'sweep.json']);
    expect(r.status, r.stderr).toBe(0);
    for (const [name, width] of [
      ['w16', 16],
      ['w32', 32],
    ] as const) {
      const out = JSON.parse(readFileSync(join(dir, 'runs', name, 'results.json'), 'utf8'));
      expect(out.spec.model.nEmbd).toBe(width);
      expect(out.seeds).toEqual([3, 4]);
      expect(out.runs.map((x: { seed: number }) => x.seed)).toEqual([3, 4]);
      expect(out.summary.map((s: { objective: string }) => s.objective)).toEqual(['ntp', 'reverse']);
      expect(out.summary[0].exactMatch.values).toHaveLength(2);
      expect(existsSync(join(dir, 'runs', name, 'seed-4', 'lane1-reverse.optimizer.safetensors'))).toBe(true);
    }
    // A bad seed list is refused with a message, not a stack trace.
    const bad = labtorch(dir, ['experiment.json', '--out', 'runs', '--seeds', '5..2']);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/--seeds: '5\.\.2' is not a seed or a range/);

    // Run again over more seeds: the finished ones are kept, only seed 5 trains, results cover all three.
    const before = readFileSync(join(dir, 'runs', 'w16', 'seed-3.json'), 'utf8');
    const again = labtorch(dir, ['experiment.json', '--out', 'runs', '--seeds', '3..5', '--sweep', 'sweep.json']);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/seed 3: already trained/);
    expect(again.stdout).not.toMatch(/seed 5: already trained/);
    expect(readFileSync(join(dir, 'runs', 'w16', 'seed-3.json'), 'utf8')).toBe(before);
    const all = JSON.parse(readFileSync(join(dir, 'runs', 'w16', 'results.json'), 'utf8'));
    expect(all.runs.map((x: { seed: number }) => x.seed)).toEqual([3, 4, 5]);
    // Another budget is another run: nothing is reused.
    const longer = labtorch(dir, ['experiment.json', '--out', 'runs', '--seeds', '3', '--steps', '6']);
    expect(longer.status, longer.stderr).toBe(0);
    expect(longer.stdout).not.toMatch(/already trained/);
  });

  test('--stack: every seed trains as it would alone (weights and moments to float rounding, the same losses)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-stack-'));
    const spec: ExperimentSpec = {
      ...DEFAULT_EXPERIMENT,
      task: { kind: 'path-star', degree: 2, pathLength: 4, nodes: 10, trainSize: 0, testSize: 40 },
      objectives: [
        { kind: 'ntp' },
        { kind: 'mtp', heads: 2 },
        { kind: 'diffusion', decodeSteps: 4, variant: 'mlmu' },
        { kind: 'top' },
      ],
      model: { nLayer: 1, nEmbd: 16, nHead: 2 },
      train: { ...DEFAULT_EXPERIMENT.train, steps: 6, batchSize: 8 },
      evalEvery: 3,
      evalExamples: 20,
    };
    writeFileSync(join(dir, 'experiment.json'), JSON.stringify({ spec, seeds: [1] }));
    for (const args of [[], ['--stack']]) {
      const r = labtorch(dir, [
        'experiment.json',
        '--out',
        args.length ? 'stacked' : 'alone',
        '--seeds',
        '1,2',
        ...args,
      ]);
      expect(r.status, r.stderr).toBe(0);
    }
    const read = (run: string) => JSON.parse(readFileSync(join(dir, run, 'results.json'), 'utf8'));
    const [alone, stacked] = [read('alone'), read('stacked')];
    expect(stacked.seeds).toEqual([1, 2]);
    for (const [i, run] of alone.runs.entries()) {
      for (const [j, lane] of run.results.entries()) {
        const other = stacked.runs[i].results[j];
        expect(other.steps).toBe(6);
        expect(other.finalLoss).toBeCloseTo(lane.finalLoss, 5);
        expect(other.heldOutLoss).toBeCloseTo(lane.heldOutLoss, 4);
        expect(other.history.evals).toHaveLength(2);
      }
    }
    // Every tensor of every lane's model and optimizer file, stacked against alone.
    const compare = python(dir, [
      '-c',
      `import glob, os, sys
from labtorch.checkpoint import read_safetensors
worst = 0.0
files = sorted(glob.glob("alone/seed-*/*.safetensors"))
assert len(files) == 16, files
for f in files:
    a, _ = read_safetensors(f)
    b, _ = read_safetensors(f.replace("alone", "stacked", 1))
    worst = max([worst] + [(a[k] - b[k]).abs().max().item() for k in a])
print(worst)`,
    ]);
    expect(compare.status, compare.stderr).toBe(0);
    // Six AdamW steps from the same start: a batched matmul sums in another order, nothing more (measured 1e-7).
    expect(Number(compare.stdout)).toBeLessThan(1e-5);
    // The frontier table reads the runs back: one row per objective, over both seeds, with the probes' columns.
    const table = python(dir, ['-m', 'labtorch.frontier', 'stacked', '--markdown']);
    expect(table.status, table.stderr).toBe(0);
    const rows = table.stdout.trim().split('\n').slice(2);
    expect(rows.map((r) => r.split(' | ')[5])).toEqual(['ntp', 'mtp:2', 'diffusion:mlmu', 'top']);
    for (const r of rows) expect(r).toMatch(/\| \d\/2/); // reached 90%: of 2 seeds
    // Seeds that ran different step counts (one stopped early, or continued) show the range in the steps column.
    const mixed = python(dir, [
      '-c',
      `import json, os
os.makedirs("mixed", exist_ok=True)
for seed in (1, 2):
    r = json.load(open(f"stacked/seed-{seed}.json"))
    for lane in r["results"]:
        lane["steps"] = 3000 if seed == 1 else 16000
    json.dump(r, open(f"mixed/seed-{seed}.json", "w"))`,
    ]);
    expect(mixed.status, mixed.stderr).toBe(0);
    const mixedTable = python(dir, ['-m', 'labtorch.frontier', 'mixed', '--markdown']);
    expect(mixedTable.status, mixedTable.stderr).toBe(0);
    const mixedRows = mixedTable.stdout.trim().split('\n').slice(2);
    expect(mixedRows.map((r) => r.split(' | ')[3])).toEqual(Array(4).fill('3000–16000'));
    const missing = python(dir, ['-m', 'labtorch.frontier', 'nothing-here']);
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toMatch(/no seed-S.json below it/);
    // --resume goes on with the seed its checkpoints were trained with, whatever seeds the experiment file lists.
    const lanes = ['lane0-ntp', 'lane1-mtp', 'lane2-diffusion', 'lane3-top'].map(
      (l) => `alone/seed-2/${l}.safetensors`,
    );
    const resumed = labtorch(dir, ['experiment.json', '--out', 'resumed', '--steps', '8', '--resume', ...lanes]);
    expect(resumed.status, resumed.stderr).toBe(0);
    const run = JSON.parse(readFileSync(join(dir, 'resumed', 'seed-2.json'), 'utf8'));
    expect(run.results[0].steps).toBe(8);
    expect(existsSync(join(dir, 'resumed', 'seed-1.json'))).toBe(false);
    const wrongSeed = labtorch(dir, ['experiment.json', '--out', 'r2', '--seeds', '1', '--resume', ...lanes]);
    expect(wrongSeed.status).not.toBe(0);
    expect(wrongSeed.stderr).toMatch(/trained with seed 2, not --seeds 1/);
    const refused = labtorch(dir, ['experiment.json', '--out', 'x', '--stack', '--until-contrast']);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/--stack trains whole runs from the start/);
  });
});

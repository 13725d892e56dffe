// The command line's commands (`npm run lab -- <command>`; entry in lab.ts): the lab headless in Node over Dawn,
// through the same Lab interface the page uses.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CheckpointError, exportModel, importModel } from '../checkpoint/safetensors';
import { exportOnnx } from '../checkpoint/onnx';
import { filesToLaneState, laneFileStem, laneToFiles } from '../checkpoint/lane-files';
import { nodeGpu } from '../engine/node-gpu';
import type { ExperimentSpec, LabEvent, LaneResult, LaneState, TaskSpec } from '../lab/api';
import { Lab } from '../lab/lab';
import { DEFAULT_TRAIN, MODEL_PRESETS, type ModelPresetName } from '../model/config';
import { parseObjectives } from '../objectives';
import { helpText, parseCommandLine, UsageError, type Parsed } from './options';

type Values = Parsed['values'];
const num = (v: Values, k: keyof Values): number => v[k] as number;
const str = (v: Values, k: keyof Values): string => v[k] as string;

function taskSpec(v: Values): TaskSpec {
  switch (str(v, 'task')) {
    case 'addition':
      return { kind: 'addition', digits: num(v, 'digits'), reversed: !!v.reversed, trainSize: num(v, 'train-size'), testSize: num(v, 'test-size') };
    case 'custom': {
      const file = v.data as string | undefined;
      if (!file) throw new UsageError('--task custom needs --data FILE (one `prompt<TAB>target` pair a line)');
      if (!existsSync(file)) throw new UsageError(`--data: no such file '${file}'`);
      return { kind: 'custom', text: readFileSync(file, 'utf8'), testFraction: num(v, 'test-fraction') };
    }
    default:
      return {
        kind: 'path-star',
        degree: num(v, 'degree'),
        pathLength: num(v, 'path-length'),
        nodes: num(v, 'nodes'),
        trainSize: num(v, 'train-size'),
        testSize: num(v, 'test-size'),
      };
  }
}

export function experimentSpec(v: Values, command: string): ExperimentSpec {
  const preset = MODEL_PRESETS[str(v, 'preset') as ModelPresetName];
  let objectives;
  try {
    objectives = parseObjectives(command === 'train' ? str(v, 'objective') : str(v, 'objectives'));
  } catch (e) {
    throw new UsageError(`--${command === 'train' ? 'objective' : 'objectives'}: ${(e as Error).message}`);
  }
  if (command === 'train' && objectives.length !== 1) throw new UsageError('--objective takes one objective; use compare for several');
  return {
    task: taskSpec(v),
    objectives,
    model: {
      nLayer: (v.layers as number | undefined) ?? preset.nLayer,
      nEmbd: (v.width as number | undefined) ?? preset.nEmbd,
      nHead: (v.heads as number | undefined) ?? preset.nHead,
    },
    train: {
      ...DEFAULT_TRAIN,
      steps: num(v, 'steps'),
      batchSize: num(v, 'batch-size'),
      lr: num(v, 'lr'),
      warmupSteps: Math.min(num(v, 'warmup'), num(v, 'steps')),
      weightDecay: num(v, 'weight-decay'),
      gradClip: num(v, 'grad-clip'),
      seed: num(v, 'seed'),
    },
    evalEvery: num(v, 'eval-every'),
    evalExamples: num(v, 'eval-examples'),
  };
}

const fmtPct = (x: number | null): string => (x === null ? '   -' : `${(100 * x).toFixed(1)}%`);
const fmtPositions = (xs: number[]): string => `[${xs.map((x) => x.toFixed(2)).join(' ')}]`;

function printTable(results: LaneResult[]): void {
  const head = ['objective', 'exact', 'decision', 'teacher-forced per position', 'free-running per position', 'steps', 'GFLOP', 'seconds'];
  const rows = results.map((r) => [
    r.objective,
    fmtPct(r.exactMatch),
    fmtPct(r.decisionTokenAccuracy),
    fmtPositions(r.perPosition.teacherForced),
    fmtPositions(r.perPosition.freeRunning),
    String(r.steps),
    (r.flops / 1e9).toFixed(1),
    r.seconds.toFixed(1),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log(line(head));
  for (const r of rows) console.log(line(r));
}

function writeLaneFiles(dir: string, state: LaneState, spec: ExperimentSpec, vocab: string[]): void {
  mkdirSync(dir, { recursive: true });
  const files = laneToFiles(state, spec, vocab);
  const stem = join(dir, laneFileStem(state));
  writeFileSync(`${stem}.safetensors`, files.model);
  writeFileSync(`${stem}.optimizer.safetensors`, files.optimizer);
  writeFileSync(`${stem}.onnx`, files.onnx);
  console.log(`wrote ${stem}.safetensors, ${stem}.optimizer.safetensors, ${stem}.onnx (step ${state.step})`);
}

function readResume(file: string): { state: LaneState; spec: ExperimentSpec } {
  if (!existsSync(file)) throw new UsageError(`--resume: no such file '${file}'`);
  const optimizerFile = file.replace(/\.safetensors$/, '') + '.optimizer.safetensors';
  if (!existsSync(optimizerFile)) {
    throw new UsageError(`--resume: the optimizer state '${optimizerFile}' is missing (it is written beside the model by --out)`);
  }
  return filesToLaneState(new Uint8Array(readFileSync(file)), new Uint8Array(readFileSync(optimizerFile)));
}

async function runExperiment(parsed: Parsed): Promise<void> {
  const v = parsed.values;
  let spec = experimentSpec(v, parsed.command);
  let resume: LaneState[] | undefined;
  if (parsed.command === 'train' && v.resume) {
    const r = readResume(str(v, 'resume'));
    // Architecture, task and objective come from the checkpoint (as nanoGPT's resume); the step budget from here.
    spec = { ...r.spec, train: { ...r.spec.train, steps: num(v, 'steps') } };
    if (r.state.step >= spec.train.steps) throw new UsageError(`--resume: the checkpoint is at step ${r.state.step}; --steps ${spec.train.steps} leaves nothing to do`);
    resume = [{ ...r.state, lane: 0 }];
    console.log(`resuming ${r.state.objective} from step ${r.state.step}`);
  }
  const lab = new Lab({ gpu: nodeGpu });
  const issues = await lab.check(spec);
  if (issues.length > 0) throw new UsageError(issues.map((i) => `${i.field}: ${i.message}`).join('\n'));
  const adapter = await lab.adapter();
  console.log(`adapter: ${adapter.vendor} ${adapter.architecture} ${adapter.description}`.trim());
  const logEvery = num(v, 'log-every');
  const multi = spec.objectives.length > 1;
  const onEvent = (e: LabEvent) => {
    if (e.type === 'step' && (e.metrics.step % logEvery === 0 || e.metrics.step === spec.train.steps)) {
      const m = e.metrics;
      console.log(`${multi ? `${m.objective.padEnd(11)} ` : ''}step ${m.step} loss ${m.loss.toFixed(4)} tok/s ${Math.round(m.tokensPerSecond)}`);
    } else if (e.type === 'eval') {
      const m = e.metrics;
      console.log(
        `${multi ? `${m.objective.padEnd(11)} ` : ''}eval step ${m.step}: exact ${fmtPct(m.exactMatch)} decision ${fmtPct(m.decisionTokenAccuracy)} ` +
          `teacher-forced ${fmtPositions(m.perPosition.teacherForced)} free-running ${fmtPositions(m.perPosition.freeRunning)}`,
      );
    } else if (e.type === 'log') {
      console.log(e.message);
    } else if (e.type === 'state' && e.state === 'error' && e.message) {
      console.error(`error: ${e.message}`);
    }
  };
  const t0 = performance.now();
  const stopAt = v['stop-at'] as number | undefined;
  const results = await lab.run(spec, onEvent, { resume, ...(stopAt ? { stopAtStep: stopAt } : {}) });
  console.log(`\n${lab.currentTask?.name}, model ${spec.model.nLayer}/${spec.model.nEmbd}/${spec.model.nHead}, ${spec.train.steps} steps, batch ${spec.train.batchSize}, seed ${spec.train.seed}, ${((performance.now() - t0) / 1000).toFixed(1)} s wall`);
  printTable(results);
  if (v.json) {
    const json = results.map((r) => ({ ...r, spec }));
    writeFileSync(str(v, 'json'), JSON.stringify(json, null, 2));
    console.log(`wrote ${v.json}`);
  }
  if (v.out) {
    for (let i = 0; i < results.length; i++) writeLaneFiles(str(v, 'out'), await lab.snapshot(i), spec, lab.currentTask!.vocab);
  }
  if (results.some((r) => lab.currentLanes[r.lane]?.failure)) process.exitCode = 1;
}

function exportCommand(v: Values): void {
  const file = v.checkpoint as string | undefined;
  if (!file) throw new UsageError('export needs --checkpoint FILE');
  if (!v.out) throw new UsageError('export needs --out DIR');
  if (!existsSync(file)) throw new UsageError(`--checkpoint: no such file '${file}'`);
  const { cfg, params, meta } = importModel(new Uint8Array(readFileSync(file)));
  mkdirSync(str(v, 'out'), { recursive: true });
  const stem = join(str(v, 'out'), basename(file).replace(/\.safetensors$/, ''));
  const target = v.format === 'onnx' ? `${stem}.onnx` : `${stem}.safetensors`;
  if (target === file) throw new UsageError(`--out would overwrite the checkpoint itself ('${file}'); choose another folder than ${dirname(file)}`);
  const data =
    v.format === 'onnx'
      ? exportOnnx(cfg, params, { producer: 'webgpu-training-lab' })
      : exportModel(cfg, params, { objective: meta.objective ?? 'unknown', step: meta.step ?? 0, task: meta.task ?? null, vocab: meta.vocab ?? [] });
  writeFileSync(target, data);
  console.log(`wrote ${target}`);
}

export async function main(argv: string[]): Promise<number> {
  try {
    const parsed = parseCommandLine(argv);
    if (parsed.command === 'help' || parsed.values.help) {
      console.log(helpText());
      return 0;
    }
    if (parsed.command === 'export') exportCommand(parsed.values);
    else await runExperiment(parsed);
    return Number(process.exitCode ?? 0);
  } catch (e) {
    if (e instanceof UsageError || e instanceof CheckpointError) {
      console.error(`lab: ${e.message}`);
      return 2;
    }
    console.error(`lab: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

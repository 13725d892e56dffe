// The command line's commands (`npm run lab -- <command>`; entry in lab.ts): the lab headless in Node over Dawn,
// through the same Lab interface the page uses.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { exportModel, importModel } from '../checkpoint/model-file';
import { CheckpointError } from '../checkpoint/safetensors';
import { exportOnnx } from '../checkpoint/onnx';
import { filesToLaneState } from '../checkpoint/lane-files';
import { nodeGpu } from '../engine/node-gpu';
import { FileVariantCache } from '../engine/node-variant-cache';
import type { ExperimentSpec, LabEvent, LaneResult, LaneState } from '../lab/api';
import { Lab } from '../lab/lab';
import { checkSpec, NO_LIMITS } from '../spec/check';
import { scaleProject } from '../lab/scale';
import { copyPositionOf, resultsBySeed, summarise } from '../lab/seeds';
import { helpText, parseCommandLine, UsageError, type Parsed } from './options';
import { fmtInterval, fmtPct, fmtPositions, kernelsText, printProbes, printSummary, printTable } from './print';
import { checkKeptAdapter, readKeptRuns, writeResultsFile, type SeedRun } from './results-file';
import { experimentSpec, num, opt, parseSeeds, str } from './spec-options';

export { experimentSpec, parseSeeds } from './spec-options';

type Values = Parsed['values'];
/** A lane of the lab's last run as its three files in `dir` (LabApi.exportLane: the page's download, on disk). */
async function writeLaneFiles(dir: string, lab: Lab, lane: LaneResult): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const files = await lab.exportLane(lane.lane);
  const stem = join(dir, files.stem);
  writeFileSync(`${stem}.safetensors`, files.model);
  writeFileSync(`${stem}.optimizer.safetensors`, files.optimizer);
  writeFileSync(`${stem}.onnx`, files.onnx);
  console.log(`wrote ${stem}.safetensors, ${stem}.optimizer.safetensors, ${stem}.onnx (step ${lane.steps})`);
}

function readResume(file: string): { state: LaneState; spec: ExperimentSpec } {
  if (!existsSync(file)) throw new UsageError(`--resume: no such file '${file}'`);
  const optimizerFile = file.replace(/\.safetensors$/, '') + '.optimizer.safetensors';
  if (!existsSync(optimizerFile)) {
    throw new UsageError(
      `--resume: the optimizer state '${optimizerFile}' is missing (it is written beside the model by --out)`,
    );
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
    spec = { ...r.spec, train: { ...r.spec.train, steps: opt(v, 'steps') ?? r.spec.train.steps } };
    if (r.state.step >= spec.train.steps)
      throw new UsageError(
        `--resume: the checkpoint is at step ${r.state.step}; --steps ${spec.train.steps} leaves nothing to do`,
      );
    resume = [{ ...r.state, lane: 0 }];
    console.log(`resuming ${r.state.objective} from step ${r.state.step}`);
  }
  if (v.seeds !== undefined && v.seed !== undefined) throw new UsageError('give --seed or --seeds, not both');
  const seeds = v.seeds !== undefined ? parseSeeds(str(v, 'seeds')) : [spec.train.seed];
  if (seeds.length > 1 && v.out)
    throw new UsageError("--out writes one run's checkpoints; with several --seeds, run each seed on its own");
  const json = v.json ? str(v, 'json') : undefined;
  // The seeds the --json file already holds for this experiment are kept, not run again (results-file.ts).
  const prior = json ? readKeptRuns(json, spec) : null;
  const lab = new Lab({ gpu: nodeGpu, variantCache: new FileVariantCache() });
  const issues = await lab.check(spec);
  if (issues.length > 0) throw new UsageError(issues.map((i) => `${i.field}: ${i.message}`).join('\n'));
  const adapter = await lab.adapter();
  const adapterName = `${adapter.vendor} ${adapter.architecture} ${adapter.description}`.trim();
  console.log(`adapter: ${adapterName}${kernelsText(adapter)}`);
  if (prior && json) checkKeptAdapter(json, prior, adapterName);
  // A seed stopped early (--stop-at) or ended by a failure is run again.
  const finished = (r: SeedRun) => r.results.every((x) => x.steps >= spec.train.steps && !x.failure);
  const runs: SeedRun[] = prior ? [...prior.runs] : [];
  const todo = seeds.filter((s) => !runs.some((r) => r.seed === s && finished(r)));
  if (prior && json) {
    const kept = runs.filter(finished);
    const held = kept.map((r) => r.seed).join(', ');
    const again = runs.filter((r) => !finished(r) && todo.includes(r.seed)).map((r) => r.seed);
    if (again.length > 0)
      console.log(
        `${json}: seed${again.length > 1 ? 's' : ''} ${again.join(', ')} did not finish there; running again`,
      );
    if (kept.length > 0)
      console.log(
        todo.length === 0
          ? `${json} already holds seed${kept.length > 1 ? 's' : ''} ${held} of this experiment: nothing to run (move it away to run again)`
          : `${json} holds seed${kept.length > 1 ? 's' : ''} ${held} of this experiment: running seed${todo.length > 1 ? 's' : ''} ${todo.join(', ')} and adding ${todo.length > 1 ? 'them' : 'it'}`,
      );
  }
  const logEvery = num(v, 'log-every');
  const multi = spec.objectives.length > 1;
  const over = seeds.length > 1 || runs.length > 0;
  let failed = false;
  const onEvent = (e: LabEvent) => {
    if (e.type === 'step' && (e.metrics.step % logEvery === 0 || e.metrics.step === spec.train.steps)) {
      const m = e.metrics;
      console.log(
        `${over ? `seed ${m.seed} ` : ''}${multi ? `${m.objective.padEnd(11)} ` : ''}step ${m.step} loss ${m.loss.toFixed(4)} tok/s ${Math.round(m.tokensPerSecond)}`,
      );
    } else if (e.type === 'eval') {
      const m = e.metrics;
      console.log(
        `${over ? `seed ${m.seed} ` : ''}${multi ? `${m.objective.padEnd(11)} ` : ''}eval step ${m.step}: exact ${fmtPct(m.exactMatch)} (${fmtInterval(m.exactMatchInterval)}) decision ${fmtPct(m.decisionTokenAccuracy)} ` +
          `teacher-forced ${fmtPositions(m.perPosition.teacherForced)} free-running ${fmtPositions(m.perPosition.freeRunning)} held-out CE ${m.heldOutLoss.toFixed(3)}`,
      );
    } else if (e.type === 'log') {
      console.log(e.message);
    } else if (e.type === 'state' && e.state === 'error' && e.message) {
      console.error(`error: ${e.message}`);
    }
  };
  const stopAt = opt(v, 'stop-at');
  let wallOver = prior?.wallSeconds ?? 0;
  // The file's seeds: the ones asked for in their order, then any other the file held before.
  const ordered = () =>
    [...seeds, ...runs.map((r) => r.seed).filter((s) => !seeds.includes(s))]
      .map((s) => runs.find((r) => r.seed === s))
      .filter((r): r is SeedRun => r !== undefined);
  const save = () => {
    if (!json || runs.length === 0) return;
    const held = ordered();
    writeResultsFile(json, {
      spec,
      adapter: adapterName,
      seeds: held.map((r) => r.seed),
      ...(over ? { wallSeconds: wallOver } : {}),
      runs: held,
      summary: summarise(held, copyPositionOf(spec.task)),
    });
  };
  // Several seeds on an adapter that does not stack lanes (a CPU adapter) run one after another anyway: one run
  // each here, so that the file is written after every seed and an interrupted run keeps the seeds it finished.
  // Where the Lab stacks lanes (a GPU), one run over them all, every seed's lanes in the same dispatches.
  const groups = !over ? [todo] : adapter.stacksLanes ? (todo.length > 0 ? [todo] : []) : todo.map((s) => [s]);
  for (const group of groups) {
    const t0 = performance.now();
    const all = await lab.run(spec, onEvent, {
      ...(over ? { seeds: group } : { resume }),
      ...(stopAt ? { stopAtStep: stopAt } : {}),
    });
    const wall = (performance.now() - t0) / 1000;
    wallOver += wall;
    const info = (await lab.runInfo())!;
    const done = over ? resultsBySeed(all, group) : [{ seed: group[0]!, results: all }];
    for (const { seed, results } of done) {
      const alone = group.length === 1;
      const run: SeedRun = { seed, results, ...(alone ? { wallSeconds: wall } : {}) };
      const at = runs.findIndex((r) => r.seed === seed);
      if (at >= 0) runs[at] = run;
      else runs.push(run);
      console.log(
        `\n${info.taskName}, model ${spec.model.nLayer}/${spec.model.nEmbd}/${spec.model.nHead}, ${spec.train.steps} steps, batch ${spec.train.batchSize}, seed ${seed}${alone ? `, ${wall.toFixed(1)} s wall` : ''}`,
      );
      printTable(results);
      printProbes(results);
      console.log('');
      if (results.some((r) => r.failure)) failed = true;
      if (v.out) {
        for (const r of results) await writeLaneFiles(str(v, 'out'), lab, r);
      }
    }
    save();
    if (failed || done.length < group.length) break;
  }
  if (todo.length === 0 && runs.length > 0) {
    for (const { seed, results } of ordered()) {
      console.log(`\nseed ${seed} (from ${json}):`);
      printTable(results);
    }
  }
  if (over && groups.length > 0) console.log(`${runs.length} seeds, ${wallOver.toFixed(1)} s wall in all`);
  if (runs.length > 1) {
    const held = ordered();
    const summary = summarise(held, copyPositionOf(spec.task));
    console.log(`over seeds ${held.map((r) => r.seed).join(', ')}:`);
    printSummary(summary);
    printProbes(summary.map((s) => ({ objective: `${s.objective} (mean)`, probes: s.probes })));
  }
  if (json && groups.length > 0 && runs.length > 0) console.log(`wrote ${json}`);
  if (failed) process.exitCode = 1;
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
  if (target === file)
    throw new UsageError(
      `--out would overwrite the checkpoint itself ('${file}'); choose another folder than ${dirname(file)}`,
    );
  const data =
    v.format === 'onnx'
      ? exportOnnx(cfg, params, { producer: 'webgpu-training-lab' })
      : exportModel(cfg, params, {
          objective: meta.objective ?? 'unknown',
          step: meta.step ?? 0,
          task: meta.task ?? null,
          vocab: meta.vocab ?? [],
        });
  writeFileSync(target, data);
  console.log(`wrote ${target}`);
}

/** `export-experiment`: the experiment (same options as compare) as a PyTorch project in --out. */
function exportExperimentCommand(v: Values): void {
  if (!v.out) throw new UsageError('export-experiment needs --out DIR (the folder to write the PyTorch project into)');
  const spec = experimentSpec(v, 'compare');
  const issues = checkSpec(spec, NO_LIMITS);
  if (issues.length > 0) throw new UsageError(issues.map((i) => `${i.field}: ${i.message}`).join('\n'));
  const seeds = v.seeds !== undefined ? parseSeeds(str(v, 'seeds')) : [spec.train.seed];
  const dir = str(v, 'out');
  for (const f of scaleProject(spec, seeds)) {
    const path = join(dir, f.name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, f.text);
  }
  console.log(`wrote the PyTorch project to ${dir}/ (experiment.json, README.md, labtorch/). Run it with:`);
  console.log(`  cd ${dir} && torchrun --standalone --nproc_per_node=gpu -m labtorch experiment.json --out runs/`);
  console.log(`  (or on the CPU: python3 -m labtorch experiment.json --out runs/)`);
}

/** The lane model files an `evaluate --checkpoint` names: files, or every laneN-*.safetensors of a folder. */
function checkpointFiles(arg: string): string[] {
  const files: string[] = [];
  for (const item of arg
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    if (!existsSync(item)) throw new UsageError(`--checkpoint: no such file or folder '${item}'`);
    if (statSync(item).isDirectory()) {
      const lanes = readdirSync(item)
        .map((f) => /^lane(\d+)-.*(?<!\.optimizer)\.safetensors$/.exec(f))
        .filter((m): m is RegExpExecArray => m !== null)
        .sort((a, b) => Number(a[1]) - Number(b[1]));
      if (lanes.length === 0)
        throw new UsageError(`--checkpoint: the folder '${item}' holds no laneN-OBJECTIVE.safetensors files`);
      files.push(...lanes.map((m) => join(item, m[0])));
    } else files.push(item);
  }
  if (files.length === 0)
    throw new UsageError('evaluate needs --checkpoint FILE[,FILE…] or a folder of lane checkpoints');
  return files;
}

/**
 * `evaluate`: lane checkpoints (written by the lab or by the PyTorch export) evaluated by this engine on their
 * experiment's test set: the experiment comes from the optimizer files beside them; nothing is trained.
 */
async function evaluateCommand(v: Values): Promise<void> {
  if (!v.checkpoint)
    throw new UsageError(
      'evaluate needs --checkpoint FILE[,FILE…] or a folder of lane checkpoints (laneN-OBJECTIVE.safetensors)',
    );
  const files = checkpointFiles(str(v, 'checkpoint'));
  const lanes = files.map((file) => {
    const optimizer = file.replace(/\.safetensors$/, '') + '.optimizer.safetensors';
    if (!existsSync(optimizer))
      throw new UsageError(`--checkpoint: '${optimizer}' is missing; it holds the experiment the lane was trained in`);
    return { file, ...filesToLaneState(new Uint8Array(readFileSync(file)), new Uint8Array(readFileSync(optimizer))) };
  });
  const base = lanes[0]!.spec;
  const same = (a: ExperimentSpec, b: ExperimentSpec) =>
    JSON.stringify({ ...a, objectives: [] }) === JSON.stringify({ ...b, objectives: [] });
  const other = lanes.find((l) => !same(l.spec, base));
  if (other)
    throw new UsageError(
      `--checkpoint: ${other.file} comes from another experiment than ${lanes[0]!.file}; evaluate them one at a time`,
    );
  const spec: ExperimentSpec = {
    ...base,
    objectives: lanes.map((l) => l.state.objectiveSpec),
    evalExamples: opt(v, 'eval-examples') ?? base.evalExamples,
  };
  const lab = new Lab({ gpu: nodeGpu, variantCache: new FileVariantCache() });
  const issues = await lab.check(spec);
  if (issues.length > 0) throw new UsageError(issues.map((i) => `${i.field}: ${i.message}`).join('\n'));
  const adapter = await lab.adapter();
  console.log(
    `adapter: ${`${adapter.vendor} ${adapter.architecture} ${adapter.description}`.trim()}${kernelsText(adapter)}`,
  );
  for (const l of lanes) console.log(`${l.file}: ${l.state.objective} at step ${l.state.step}`);
  const results = await lab.run(spec, () => undefined, {
    stopAtStep: 0,
    initialParams: lanes.map((l) => l.state.params),
  });
  // Evaluation only: report each lane at the step its weights were trained to. When it first reached 90% is its
  // training run's to say (this one evaluation, at "step 0", would claim it took no time).
  const shown = results.map((r, i) => ({
    ...r,
    steps: lanes[i]!.state.step,
    flops: 0,
    seconds: lanes[i]!.state.seconds ?? 0,
    timeTo90: null,
  }));
  console.log(`\n${(await lab.runInfo())?.taskName}, seed ${spec.train.seed}, ${spec.evalExamples} test examples`);
  printTable(shown, true);
  printProbes(shown);
  if (v.json) {
    writeFileSync(str(v, 'json'), JSON.stringify({ spec, files, results: shown }, null, 2));
    console.log(`wrote ${v.json}`);
  }
}

export async function main(argv: string[]): Promise<number> {
  try {
    const parsed = parseCommandLine(argv);
    if (parsed.command === 'help' || parsed.values.help) {
      console.log(helpText());
      return 0;
    }
    if (parsed.command === 'export') exportCommand(parsed.values);
    else if (parsed.command === 'export-experiment') exportExperimentCommand(parsed.values);
    else if (parsed.command === 'evaluate') await evaluateCommand(parsed.values);
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
